//! The trust model, attacked (docs/security.md): each test is an attack a proposer, a user or
//! anyone calling EXECUTE could make, on the in-process L1 devnet with `NativeRollup` and real
//! EXECUTE. Each fails on code without the rule it checks.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alloy_consensus::{TxEip1559, TxEip4844, TxEnvelope};
use alloy_eips::eip4895::Withdrawal as BeaconWithdrawal;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolEvent, SolInterface, SolValue};
use nrd_bridge::{
    Action, L1_MESSAGE_INBOX, L1Alias, L1MessageInbox, L2_BRIDGE, L2_GOVERNANCE, L2Bridge, L2Governance,
    L2ToL1MessagePasser, MAX_DELAY, NativeRollup, NativeRollup::NativeRollupErrors as E, alias_of,
};
use nrd_chain::{BlockAttributes, StateRef};
use nrd_derivation::{DaMode, PostedBlock, check_header_rules, encode_advance};
use nrd_execute_client::{EXECUTE_ADDRESS, encode_execute_input};
use nrd_test_utils::sign;
use nrd_testkit::{ETH, L2_CHAIN_ID, Rollup, TIMELOCK, WINDOW, WITHDRAWAL_DELAY, l2_key};

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

/// Builds the next L2 block like the sequencer (all pending messages, anchored to L1's head),
/// then lets `tamper` change its inputs before it is built and recorded: what a proposer could
/// do. The L2 chain is left as it was.
fn tampered(r: &Rollup, txs: Vec<TxEnvelope>, tamper: impl FnOnce(&mut BlockAttributes)) -> PostedBlock {
    r.l2.propose(&r.pending(), txs, r.l1.head_ref(), tamper).0
}

/// The contract's verdict on posting `blocks` from the sequencer, decoded.
fn verdict(r: &Rollup, blocks: &[PostedBlock]) -> Result<(), E> {
    let call =
        NativeRollup::advanceCall::abi_decode(&encode_advance(blocks, DaMode::Calldata).unwrap().calldata).unwrap();
    r.try_call(r.sequencer().address(), call).map(|_| ())
}

/// EXECUTE called directly (not through the rollup) with `block`'s trace on the rollup's head.
fn direct_execute(r: &Rollup, posted: &PostedBlock) -> Result<Bytes, Bytes> {
    let anchor =
        nrd_derivation::anchor_calldata(posted.l1_anchor, r.l1.block_ref(posted.l1_anchor).hash, &posted.messages);
    let trace = nrd_execute_client::Trace {
        block: posted.block.clone(),
        witness: posted.witness.clone(),
        blob_refs: vec![],
        batch_index: 0,
    }
    .encode();
    let input = encode_execute_input(
        r.view(NativeRollup::headStateRootCall {}),
        posted.block.header.state_root,
        posted.execute_gas(),
        &anchor,
        &trace,
    );
    r.l1.call(r.l1.key(9).address(), EXECUTE_ADDRESS, U256::ZERO, input)
}

#[test]
fn a_proposer_cannot_mint_through_the_withdrawals_list() {
    let mut r = Rollup::new(&[]);
    let attacker = Address::repeat_byte(0xa7);
    // Someone deposited: that is what the attacker wants to take.
    let depositor = r.l1.key(2);
    assert!(
        r.send(&depositor, eth(5), NativeRollup::depositCall { to: attacker, gasLimit: 100_000, data: Bytes::new() })
            .success
    );

    // Block N credits 2^64-1 gwei to the attacker through an EIP-4895 withdrawal.
    let minting = tampered(&r, vec![], |a| {
        a.withdrawals =
            Some(vec![BeaconWithdrawal { index: 0, validator_index: 0, address: attacker, amount: u64::MAX }]);
    });
    // It is a valid Ethereum block: EXECUTE alone accepts it (L1's rules credit withdrawals) ...
    assert_eq!(direct_execute(&r, &minting).unwrap(), U256::from(1).to_be_bytes::<32>().to_vec());
    // ... but not the rollup, whose L2 has no beacon chain.
    match verdict(&r, std::slice::from_ref(&minting)) {
        Err(E::WithdrawalsNotEmpty(e)) => assert_eq!(e.number, 1),
        other => panic!("expected WithdrawalsNotEmpty, got {other:?}"),
    }
    assert!(!r.advance(&r.sequencer(), std::slice::from_ref(&minting), DaMode::Blob).success);
    // A follower refuses it by the same rule.
    let l1_hash = r.l1.block_ref(minting.l1_anchor).hash;
    assert!(matches!(
        check_header_rules(&minting.block, l1_hash, r.l2.genesis.gas_limit()),
        Err(nrd_derivation::HeaderRuleError::Withdrawals { number: 1 })
    ));
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 0);
}

#[test]
fn randomness_beacon_root_and_gas_limit_are_the_rollups() {
    let r = Rollup::new(&[]);
    let l1_hash = r.l1.head_ref().hash;
    type Tamper = Box<dyn FnOnce(&mut BlockAttributes)>;
    let cases: Vec<(&str, Tamper)> = vec![
        ("prevRandao", Box::new(|a: &mut BlockAttributes| a.prev_randao = B256::repeat_byte(7))),
        ("beacon root", Box::new(|a: &mut BlockAttributes| a.parent_beacon_block_root = Some(B256::repeat_byte(7)))),
        ("gas limit", Box::new(|a: &mut BlockAttributes| a.gas_limit += 1000)),
    ];
    for (field, tamper) in cases {
        let block = tampered(&r, vec![], tamper);
        // Valid under Ethereum's rules (EXECUTE accepts), refused by the rollup and a follower.
        assert!(direct_execute(&r, &block).is_ok(), "{field}: EXECUTE alone accepts it");
        let refused = verdict(&r, std::slice::from_ref(&block));
        match field {
            "gas limit" => assert!(matches!(refused, Err(E::WrongGasLimit(_))), "{field}: {refused:?}"),
            _ => assert!(matches!(refused, Err(E::WrongL1Hash(_))), "{field}: {refused:?}"),
        }
        assert!(check_header_rules(&block.block, l1_hash, r.l2.genesis.gas_limit()).is_err(), "{field}");
    }
    // The untampered block passes all of them.
    let honest = tampered(&r, vec![], |_| {});
    assert!(check_header_rules(&honest.block, l1_hash, r.l2.genesis.gas_limit()).is_ok());
    assert_eq!(verdict(&r, &[honest]), Ok(()));
}

#[test]
fn an_l2_blob_transaction_is_refused_by_the_blob_gas_rule() {
    let user = l2_key("blob sender");
    let r = Rollup::new(&[(user.address(), eth(10))]);
    let tx = TxEip4844 {
        chain_id: L2_CHAIN_ID,
        nonce: 0,
        gas_limit: 100_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: Address::repeat_byte(0x55),
        value: U256::ZERO,
        access_list: Default::default(),
        // A KZG versioned hash (version byte 0x01) of data no one ever published.
        blob_versioned_hashes: vec![{
            let mut hash = B256::repeat_byte(0x22);
            hash.0[0] = 0x01;
            hash
        }],
        max_fee_per_blob_gas: 1_000,
        input: Bytes::new(),
    };
    let block = tampered(&r, vec![sign(&user, tx)], |_| {});
    assert_eq!(block.block.header.blob_gas_used, Some(131_072));
    assert!(matches!(verdict(&r, &[block]), Err(E::BlobGasNotZero(_))));
}

/// A contract that forwards its calldata to `to` and bubbles the result up.
fn forwarder(to: Address) -> Vec<u8> {
    let mut runtime = vec![0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73];
    runtime.extend_from_slice(to.as_slice());
    runtime.extend_from_slice(&[0x5a, 0xf1, 0x3d, 0x5f, 0x5f, 0x3e, 0x60, 0x2a, 0x57, 0x3d, 0x5f, 0xfd]);
    runtime.extend_from_slice(&[0x5b, 0x3d, 0x5f, 0xf3]);
    let mut init = vec![0x60, runtime.len() as u8, 0x80, 0x60, 0x09, 0x5f, 0x39, 0x5f, 0xf3];
    init.extend_from_slice(&runtime);
    init
}

#[test]
fn an_advance_through_a_wrapper_contract_is_refused() {
    let mut r = Rollup::new(&[]);
    let seq = r.sequencer();
    let nonce = r.l1.devnet.pending_nonce(seq.address()).unwrap();
    assert!(r.l1.send(&seq, TxKind::Create, U256::ZERO, forwarder(r.address).into()).success);
    let wrapper = seq.address().create(nonce);

    let block = r.build(false, vec![]);
    let calldata = encode_advance(std::slice::from_ref(&block), DaMode::Calldata).unwrap().calldata;
    // Through the wrapper the sequencer's advance would be invisible to followers that read
    // L1 transactions: L1 refuses it.
    let err = r.l1.call(seq.address(), wrapper, U256::ZERO, calldata.clone()).unwrap_err();
    match E::abi_decode(&err).unwrap() {
        E::NotDirectCall(e) => assert_eq!(e.caller, wrapper),
        other => panic!("expected NotDirectCall, got {other:?}"),
    }
    assert!(!r.l1.send(&seq, TxKind::Call(wrapper), U256::ZERO, calldata).success);
    // The same for a run (`advanceRun`).
    let witness = r.l2.run_witness(std::slice::from_ref(&block));
    let run = nrd_derivation::encode_advance_run(std::slice::from_ref(&block), &witness, DaMode::Calldata).unwrap();
    let err = r.l1.call(seq.address(), wrapper, U256::ZERO, run.calldata.clone()).unwrap_err();
    assert!(matches!(E::abi_decode(&err).unwrap(), E::NotDirectCall(e) if e.caller == wrapper));
    assert!(!r.l1.send(&seq, TxKind::Call(wrapper), U256::ZERO, run.calldata).success);
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 0);
    // Sent straight to the rollup it goes through.
    assert!(r.advance(&seq, &[block], DaMode::Calldata).success);
}

/// Deploys an L2 contract whose runtime is `runtime` from `key` (nonce `nonce`); returns a
/// creation transaction and the address.
fn l2_deploy(key: &PrivateKeySigner, nonce: u64, runtime: &[u8]) -> (TxEnvelope, Address) {
    let mut init =
        vec![0x61, (runtime.len() >> 8) as u8, runtime.len() as u8, 0x80, 0x60, 0x0a, 0x5f, 0x39, 0x5f, 0xf3];
    init.extend_from_slice(runtime);
    let tx = TxEip1559 {
        chain_id: L2_CHAIN_ID,
        nonce,
        gas_limit: 1_000_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Create,
        value: U256::ZERO,
        input: init.into(),
        access_list: Default::default(),
    };
    (sign(key, tx), key.address().create(nonce))
}

#[test]
fn return_bombs_and_data_heavy_messages_do_not_stop_the_rollup() {
    let deployer = l2_key("bomb deployer");
    let mut r = Rollup::new(&[(deployer.address(), eth(10))]);
    let seq = r.sequencer();
    // An L2 contract that returns 1.5 MB of zeros (4.4M gas of memory).
    let (tx, bomb) = l2_deploy(&deployer, 0, &[0x62, 0x17, 0x00, 0x00, 0x5f, 0xf3]);
    let b = r.build(false, vec![tx]);
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);

    // Three 5M-gas messages to it fit one block's budget: the anchor must not run out of gas
    // copying what the bomb returns.
    let sender = r.l1.key(3);
    for _ in 0..3 {
        let call =
            NativeRollup::sendMessageCall { to: bomb, value: U256::ZERO, gasLimit: 5_000_000, data: Bytes::new() };
        assert!(r.send(&sender, U256::ZERO, call).success);
    }
    // Ninety messages of 16 KiB (1.5 MB, more calldata than one L1 block can carry): the data
    // costs gas against the budget, so they spread over blocks, each of which one L1 block
    // carries with room to spare.
    let heavy = Bytes::from(vec![0xab; nrd_bridge::MAX_MESSAGE_DATA]);
    for _ in 0..90 {
        let call = NativeRollup::sendMessageCall {
            to: Address::repeat_byte(0x66),
            value: U256::ZERO,
            gasLimit: 21_000,
            data: heavy.clone(),
        };
        assert!(r.send(&sender, U256::ZERO, call).success);
    }
    let half_an_l1_block = r.l1.devnet.head().header().gas_limit / 2;
    let mut blocks = 0;
    while r.applied < r.queue.len() {
        let b = r.build(true, vec![]);
        assert!(!b.messages.is_empty(), "every block applies messages while some wait");
        let out = r.advance(&seq, std::slice::from_ref(&b), DaMode::Calldata);
        assert!(out.success, "block {} with {} messages", b.block.header.number, b.messages.len());
        assert!(out.gas_used < half_an_l1_block, "an advance of one full block: {} L1 gas", out.gas_used);
        blocks += 1;
        assert!(blocks < 30);
    }
    assert_eq!(r.view(NativeRollup::consumedCall {}), 93);
    assert!(blocks >= 10, "the budget spread the data over blocks ({blocks})");
    // Forced inclusion stays satisfiable: nothing is overdue, and the next advance passes.
    r.l1.increase_time(WINDOW + 60);
    let b = r.build(true, vec![]);
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
}

fn schedule(r: &mut Rollup, action: Action, payload: Bytes) -> NativeRollup::executeCall {
    let owner = r.owner();
    let out = r.send(&owner, U256::ZERO, NativeRollup::scheduleCall { action: action as u8, payload: payload.clone() });
    let nonce = out.logs.iter().find_map(|l| NativeRollup::ActionScheduled::decode_log(l).ok()).unwrap().nonce;
    NativeRollup::executeCall { action: action as u8, payload, nonce }
}

#[test]
fn governance_cannot_set_delays_that_trap_users_or_overflow() {
    let mut r = Rollup::new(&[]);
    let owner = r.owner().address();
    let u64_payload = |v: u64| -> Bytes { v.abi_encode().into() };
    let cases = [
        // Beyond the ceiling (overflows of lastAdvanceAt + window and postedAt + delay).
        (Action::SetForcedInclusionWindow, u64::MAX, "DelayOutOfRange"),
        (Action::SetWithdrawalDelay, MAX_DELAY + 1, "DelayOutOfRange"),
        (Action::SetTimelockDelay, u64::MAX, "DelayOutOfRange"),
        // The timelock below withdrawal delay + window: users could not leave in time.
        (Action::SetTimelockDelay, WINDOW + WITHDRAWAL_DELAY - 1, "TimelockTooShort"),
        (Action::SetWithdrawalDelay, TIMELOCK - WINDOW + 1, "TimelockTooShort"),
        (Action::SetForcedInclusionWindow, TIMELOCK - WITHDRAWAL_DELAY + 1, "TimelockTooShort"),
    ];
    let calls: Vec<_> = cases.iter().map(|(a, v, _)| schedule(&mut r, *a, u64_payload(*v))).collect();
    r.l1.increase_time(TIMELOCK + 60);
    for (call, (action, value, expected)) in calls.into_iter().zip(cases) {
        let refused = r.try_call(owner, call);
        let name = match &refused {
            Err(E::DelayOutOfRange(_)) => "DelayOutOfRange",
            Err(E::TimelockTooShort(_)) => "TimelockTooShort",
            other => panic!("{action:?}({value}): expected {expected}, got {other:?}"),
        };
        assert_eq!(name, expected, "{action:?}({value})");
    }
    // Within the bounds a change goes through.
    let ok = schedule(&mut r, Action::SetWithdrawalDelay, u64_payload(TIMELOCK - WINDOW));
    r.l1.increase_time(TIMELOCK + 60);
    assert!(r.send(&r.owner(), U256::ZERO, ok).success);
    assert_eq!(r.view(NativeRollup::withdrawalDelayCall {}), TIMELOCK - WINDOW);
}

#[test]
fn a_deployment_with_a_short_timelock_is_refused() {
    let r = Rollup::new(&[]);
    let genesis = r.l2.head();
    let args = (
        r.l1.key(1).address(),
        r.l1.key(0).address(),
        genesis.state_root,
        genesis.hash(),
        WINDOW,
        WITHDRAWAL_DELAY,
        WINDOW + WITHDRAWAL_DELAY - 1,
        r.l2.genesis.gas_limit(),
    )
        .abi_encode_params();
    let mut code = NativeRollup::BYTECODE.to_vec();
    code.extend_from_slice(&args);
    assert!(!r.l1.send(&r.l1.key(1), TxKind::Create, U256::ZERO, code.into()).success);
}

#[test]
fn a_withdrawal_delay_change_does_not_move_pending_withdrawals() {
    let mut r = Rollup::new(&[]);
    let seq = r.sequencer();
    let b = r.build(false, vec![]);
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
    let posted_at = r.view(NativeRollup::stateRootPostedAtCall { l2Block: 1 });
    assert_eq!(r.view(NativeRollup::withdrawableAtCall { l2Block: 1 }), posted_at + WITHDRAWAL_DELAY);

    // The owner raises the delay to the most the timelock allows.
    let longer = TIMELOCK - WINDOW;
    let call = schedule(&mut r, Action::SetWithdrawalDelay, longer.abi_encode().into());
    r.l1.increase_time(TIMELOCK + 60);
    assert!(r.send(&r.owner(), U256::ZERO, call).success);
    // Block 1's withdrawals keep their time; a block posted now gets the new delay.
    assert_eq!(r.view(NativeRollup::withdrawableAtCall { l2Block: 1 }), posted_at + WITHDRAWAL_DELAY);
    let b = r.build(false, vec![]);
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
    let posted_2 = r.view(NativeRollup::stateRootPostedAtCall { l2Block: 2 });
    assert_eq!(r.view(NativeRollup::withdrawableAtCall { l2Block: 2 }), posted_2 + longer);
}

#[test]
fn l1_checks_of_time_and_anchor_hold() {
    let mut r = Rollup::new(&[]);
    // FutureBlock: an L2 timestamp after the L1 block that posts it.
    let now = r.l1.head_ref().timestamp;
    let future = tampered(&r, vec![], |a| a.timestamp = now + 3600);
    assert!(matches!(verdict(&r, &[future]), Err(E::FutureBlock(_))), "future");

    // BadL1Anchor: the anchor must be a past L1 block within 256, and never go back.
    let head = r.l1.head_ref().number;
    let mut at_head = r.build(false, vec![]);
    at_head.l1_anchor = head + 1;
    assert!(matches!(verdict(&r, std::slice::from_ref(&at_head)), Err(E::BadL1Anchor(_))), "future anchor");
    for _ in 0..260 {
        r.l1.devnet.seal().unwrap();
    }
    let mut stale = at_head;
    stale.l1_anchor = head;
    assert!(matches!(verdict(&r, &[stale]), Err(E::BadL1Anchor(_))), "anchor older than 256 blocks");
}

/// Runs `data` as an L2 call from `from` to `to` on the rollup's current L2 state; the revert
/// data when it reverts.
fn l2_call(r: &Rollup, from: Address, to: Address, value: U256, data: Bytes) -> Result<Bytes, Bytes> {
    let header = r.l2.head().inner().clone();
    let hashes: alloy_primitives::map::HashMap<u64, B256> = r.l2.headers.iter().map(|h| (h.number, h.hash())).collect();
    let tx = revm::context::TxEnv {
        caller: from,
        gas_limit: 1_000_000,
        kind: TxKind::Call(to),
        value,
        data,
        chain_id: Some(L2_CHAIN_ID),
        ..Default::default()
    };
    let out = nrd_chain::simulate(&r.l2.spec, &header, tx, &mut StateRef(&r.l2.state), &hashes).unwrap();
    match out.result {
        revm::context::result::ExecutionResult::Success { output, .. } => Ok(output.into_data()),
        revm::context::result::ExecutionResult::Revert { output, .. } => Err(output),
        other => Err(Bytes::from(format!("{other:?}").into_bytes())),
    }
}

#[test]
fn l2_predeploys_refuse_callers_other_than_the_protocol() {
    let user = l2_key("predeploy prober");
    let mut r = Rollup::new(&[(user.address(), eth(10))]);
    // A deposit makes an alias exist on L2.
    let depositor = r.l1.key(2);
    assert!(
        r.send(
            &depositor,
            eth(1),
            NativeRollup::depositCall { to: user.address(), gasLimit: 100_000, data: Bytes::new() }
        )
        .success
    );
    let b = r.build(true, vec![]);
    assert!(r.advance(&r.sequencer(), &[b], DaMode::Calldata).success);
    let alias = alias_of(depositor.address());
    let me = user.address();

    let anchor = L1MessageInbox::anchorCall { number: 99, hash: B256::ZERO, messages: vec![] }.abi_encode();
    let err = l2_call(&r, me, L1_MESSAGE_INBOX, U256::ZERO, anchor.into()).unwrap_err();
    assert_eq!(err, L1MessageInbox::NotSystem { caller: me }.abi_encode(), "inbox.anchor");

    let mint = L2Bridge::mintCall { to: me, amount: eth(1_000) }.abi_encode();
    assert_eq!(l2_call(&r, me, L2_BRIDGE, U256::ZERO, mint.into()).unwrap_err(), L2Bridge::OnlyInbox {}.abi_encode());

    let err = l2_call(&r, me, L2_BRIDGE, eth(1), Bytes::new()).unwrap_err();
    assert_eq!(err, L2Bridge::OnlyMessagePasser {}.abi_encode(), "ETH into the bridge");

    let set = L2Governance::setParameterCall { key: keccak256("l2.gasLimit"), value: U256::from(1) }.abi_encode();
    assert_eq!(
        l2_call(&r, me, L2_GOVERNANCE, U256::ZERO, set.into()).unwrap_err(),
        L2Governance::OnlyInbox {}.abi_encode()
    );

    let forward = L1Alias::forwardCall { to: me, value: U256::ZERO, gasLimit: U256::from(100_000), data: Bytes::new() }
        .abi_encode();
    assert_eq!(l2_call(&r, me, alias, U256::ZERO, forward.into()).unwrap_err(), L1Alias::OnlyInbox {}.abi_encode());

    // The withdrawal path is open to anyone (the control case).
    let withdraw = L2ToL1MessagePasser::initiateWithdrawalCall { target: me, data: Bytes::new() }.abi_encode();
    assert!(l2_call(&r, me, nrd_bridge::L2_TO_L1_MESSAGE_PASSER, eth(1), withdraw.into()).is_ok());
}

#[test]
fn a_message_target_gets_its_whole_gas_limit() {
    let deployer = l2_key("gas probe deployer");
    let mut r = Rollup::new(&[(deployer.address(), eth(10))]);
    let seq = r.sequencer();
    // if gas() >= 4,999,990 (all of its 5,000,000 but the GAS opcode) { sstore(0, sload(0) + 1) }
    let probe_code = [
        0x5a, 0x62, 0x4c, 0x4b, 0x36, 0x11, 0x60, 0x11, 0x57, 0x5f, 0x54, 0x60, 0x01, 0x01, 0x5f, 0x55, 0x00, 0x5b,
        0x00,
    ];
    let (tx, probe) = l2_deploy(&deployer, 0, &probe_code);
    let b = r.build(false, vec![tx]);
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
    // Three 5M-gas deposits from new L1 senders (each deploys its alias and mints first) in one
    // block: the anchor's gas is exactly what the contract pays for (no 30M cushion any more),
    // yet each target must see its whole gas limit despite the 64ths each call on the way keeps
    // back (EIP-150): the overhead and the inbox's 64/63 check cover them.
    for i in 2..5 {
        let key = r.l1.key(i);
        let call = NativeRollup::depositCall { to: probe, gasLimit: 5_000_000, data: Bytes::new() };
        assert!(r.send(&key, U256::from(1), call).success);
    }
    let b = r.build(true, vec![]);
    assert_eq!(b.messages.len(), 3);
    assert_eq!(r.l2.storage(probe, U256::ZERO), U256::from(3), "each call got its whole gas limit");
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
}
