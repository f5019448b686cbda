//! The rollup protocol end to end in process: `NativeRollup` on the L1 devnet (real EXECUTE,
//! real KZG blobs), L2 blocks built with the derivation function, posted with `advance`, and a
//! follower rebuilding the L2 from L1 data alone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use nrd_bridge::{
    Action, L2_GOVERNANCE, L2_TO_L1_MESSAGE_PASSER, L2ToL1MessagePasser, NativeRollup,
    NativeRollup::NativeRollupErrors as E, Withdrawal, alias_of, message_hash, roll, withdrawal_hash, withdrawal_slot,
};
use nrd_derivation::{DaMode, PostedBlock, anchor_calldata, decode_advance};
use nrd_testkit::{ETH, L2, Rollup, TIMELOCK, WINDOW, WITHDRAWAL_DELAY, l2_key};

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

fn deposit(r: &mut Rollup, from: usize, to: Address, amount: U256) {
    let key = r.l1.key(from);
    let out = r.send(&key, amount, NativeRollup::depositCall { to, gasLimit: 100_000, data: Bytes::new() });
    assert!(out.success, "deposit");
}

#[test]
fn queue_hash_matches_and_a_deposit_is_credited_exactly_once() {
    let mut r = Rollup::new(&[]);
    let recipient = Address::repeat_byte(0x11);
    deposit(&mut r, 2, recipient, eth(1));
    deposit(&mut r, 3, recipient, eth(2));

    // The contract's rolling hash is the Rust rule over the event-reconstructed bodies.
    let mut rolling = B256::ZERO;
    for (i, m) in r.queue.clone().iter().enumerate() {
        rolling = roll(rolling, message_hash(m));
        assert_eq!(r.view(NativeRollup::queueEntryCall { index: i as u64 }).rollingHash, rolling);
    }
    assert_eq!(r.view(NativeRollup::queueLengthCall {}), 2);

    let b1 = r.build(true, vec![]);
    assert_eq!(b1.messages.len(), 2);
    assert_eq!(r.l2.balance(recipient), eth(3));
    let seq = r.sequencer();
    let out = r.advance(&seq, std::slice::from_ref(&b1), DaMode::Calldata);
    assert!(out.success, "advance");
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 1);
    assert_eq!(r.view(NativeRollup::headStateRootCall {}), b1.block.header.state_root);
    assert_eq!(r.view(NativeRollup::headHashCall {}), b1.block.header.hash_slow());
    assert_eq!(r.view(NativeRollup::consumedCall {}), 2);
    let advanced = out.logs.iter().find_map(|l| NativeRollup::BlockAdvanced::decode_log(l).ok()).unwrap();
    assert_eq!((advanced.number, advanced.firstMessage, advanced.messageCount), (1, 0, 2));

    // The next block applies nothing again.
    let b2 = r.build(true, vec![]);
    assert!(b2.messages.is_empty());
    assert_eq!(r.l2.balance(recipient), eth(3));

    // Replaying message 0 is refused on L1 ...
    let mut replay = b2.clone();
    replay.messages = vec![r.queue[0].clone()];
    let call = nrd_derivation::encode_advance(&[replay], DaMode::Calldata).unwrap().calldata;
    let err = r.l1.call(seq.address(), r.address, U256::ZERO, call).unwrap_err();
    assert!(matches!(
        <E as alloy_sol_types::SolInterface>::abi_decode(&err).unwrap(),
        E::MessageOutOfOrder(e) if e.expected == 2 && e.given == 0
    ));
    // ... and by the L2 inbox: a block whose anchor re-applies it is invalid.
    let mut l2 = r.l2.clone();
    let parent = l2.head().clone();
    let inputs =
        nrd_derivation::block_inputs(&parent, &r.queue[..1], vec![], parent.timestamp + 1, r.l1.head_ref(), &l2.config)
            .unwrap();
    let ancestors = nrd_execute_client::Ancestors::parent_only(parent.clone());
    let err =
        nrd_chain::build_block(&l2.spec, &parent, inputs.attributes, vec![], &mut l2.state, &ancestors).unwrap_err();
    assert!(matches!(err, nrd_chain::BlockError::AnchorFailed(_)), "{err}");

    assert!(r.advance(&seq, &[b2], DaMode::Calldata).success);
    assert_eq!(r.l2.balance(recipient), eth(3));
}

#[test]
fn a_forced_transaction_runs_with_the_aliased_sender() {
    let mut r = Rollup::new(&[]);
    let user = r.l1.key(4);
    let target = Address::repeat_byte(0x77);
    let data: Bytes =
        L2ToL1MessagePasser::initiateWithdrawalCall { target, data: Bytes::from_static(b"hi") }.abi_encode().into();
    let call =
        NativeRollup::sendMessageCall { to: L2_TO_L1_MESSAGE_PASSER, value: U256::ZERO, gasLimit: 300_000, data };
    assert!(r.send(&user, U256::ZERO, call).success);
    let b = r.build(true, vec![]);
    assert_eq!(b.messages.len(), 1);
    // The passer recorded msg.sender: the alias of the L1 sender, not the sender itself.
    let aliased = Withdrawal {
        nonce: U256::ZERO,
        sender: alias_of(user.address()),
        target,
        value: U256::ZERO,
        data: Bytes::from_static(b"hi"),
    };
    assert_ne!(alias_of(user.address()), user.address());
    assert_eq!(r.l2.storage(L2_TO_L1_MESSAGE_PASSER, withdrawal_slot(withdrawal_hash(&aliased)).into()), U256::from(1));
    let unaliased = Withdrawal { sender: user.address(), ..aliased };
    assert_eq!(r.l2.storage(L2_TO_L1_MESSAGE_PASSER, withdrawal_slot(withdrawal_hash(&unaliased)).into()), U256::ZERO);
    // The alias was deployed at the address both sides compute.
    let alias = nrd_chain::StateProvider::account(&mut nrd_chain::StateRef(&r.l2.state), alias_of(user.address()));
    assert_ne!(alias.unwrap().unwrap().code_hash, alloy_primitives::KECCAK256_EMPTY);
    let seq = r.sequencer();
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);
}

#[test]
fn governance_is_timelocked_and_reaches_l2() {
    let mut r = Rollup::new(&[]);
    let owner = r.owner();
    let key = keccak256("l2.gasLimit");
    let payload: Bytes = (key, U256::from(42)).abi_encode_params().into();

    // Only the owner schedules.
    let stranger = r.l1.key(5).address();
    let call = NativeRollup::scheduleCall { action: Action::SetL2Parameter as u8, payload: payload.clone() };
    assert!(matches!(r.try_call(stranger, call.clone()), Err(E::NotOwner(_))));
    let out = r.send(&owner, U256::ZERO, call);
    let scheduled = out.logs.iter().find_map(|l| NativeRollup::ActionScheduled::decode_log(l).ok()).unwrap();
    assert!(scheduled.executableAt >= r.l1.head_ref().timestamp + TIMELOCK);
    let execute = NativeRollup::executeCall { action: Action::SetL2Parameter as u8, payload, nonce: scheduled.nonce };
    // Not before the delay.
    assert!(matches!(r.try_call(owner.address(), execute.clone()), Err(E::TimelockNotElapsed(_))));
    r.l1.increase_time(TIMELOCK + 60);
    assert!(r.send(&owner, U256::ZERO, execute.clone()).success);
    // Once only.
    assert!(matches!(r.try_call(owner.address(), execute), Err(E::NotScheduled(_))));
    assert_eq!(r.queue.len(), 1);
    assert_eq!(r.queue[0].kind, nrd_bridge::KIND_GOVERNANCE);
    assert_eq!(r.queue[0].to, L2_GOVERNANCE);

    let b = r.build(true, vec![]);
    let slot = keccak256((key, U256::ZERO).abi_encode());
    assert_eq!(r.l2.storage(L2_GOVERNANCE, slot.into()), U256::from(42));
    let seq = r.sequencer();
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);

    // Changing the sequencer goes through the same timelock.
    let next = r.l1.key(6).address();
    let payload: Bytes = next.abi_encode().into();
    let out = r.send(
        &owner,
        U256::ZERO,
        NativeRollup::scheduleCall { action: Action::SetSequencer as u8, payload: payload.clone() },
    );
    let nonce = out.logs.iter().find_map(|l| NativeRollup::ActionScheduled::decode_log(l).ok()).unwrap().nonce;
    r.l1.increase_time(TIMELOCK + 60);
    let exec = NativeRollup::executeCall { action: Action::SetSequencer as u8, payload, nonce };
    assert!(r.send(&owner, U256::ZERO, exec).success);
    assert_eq!(r.view(NativeRollup::sequencerCall {}), next);
}

#[test]
fn advance_refuses_to_skip_an_overdue_message() {
    let mut r = Rollup::new(&[]);
    let seq = r.sequencer();
    deposit(&mut r, 2, Address::repeat_byte(0x22), eth(1));

    // Within the window the sequencer may leave it for later.
    let b1 = r.build(false, vec![]);
    assert!(r.advance(&seq, &[b1], DaMode::Calldata).success);

    // Past the window it may not.
    r.l1.increase_time(WINDOW + 60);
    let saved: L2 = r.l2.clone();
    let skipping = r.build(false, vec![]);
    let call = nrd_derivation::encode_advance(std::slice::from_ref(&skipping), DaMode::Calldata).unwrap().calldata;
    let err = r.l1.call(seq.address(), r.address, U256::ZERO, call).unwrap_err();
    match <E as alloy_sol_types::SolInterface>::abi_decode(&err).unwrap() {
        E::OverdueMessage(e) => assert_eq!(e.index, 0),
        other => panic!("expected OverdueMessage, got {other:?}"),
    }
    assert!(!r.advance(&seq, &[skipping], DaMode::Calldata).success);

    // Including it goes through.
    r.l2 = saved;
    let b2 = r.build(true, vec![]);
    assert_eq!(b2.messages.len(), 1);
    assert!(r.advance(&seq, &[b2], DaMode::Calldata).success);
    assert_eq!(r.view(NativeRollup::consumedCall {}), 1);
}

#[test]
fn only_the_sequencer_advances_until_it_is_silent_past_the_window() {
    let mut r = Rollup::new(&[]);
    let anyone = r.l1.key(7);
    let b1 = r.build(false, vec![]);
    let call = nrd_derivation::encode_advance(std::slice::from_ref(&b1), DaMode::Calldata).unwrap().calldata;
    let err = r.l1.call(anyone.address(), r.address, U256::ZERO, call).unwrap_err();
    assert!(matches!(<E as alloy_sol_types::SolInterface>::abi_decode(&err).unwrap(), E::NotSequencer(_)));
    assert!(!r.advance(&anyone, std::slice::from_ref(&b1), DaMode::Calldata).success);

    r.l1.increase_time(WINDOW + 60);
    assert!(r.advance(&anyone, &[b1], DaMode::Calldata).success);
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 1);
}

#[test]
fn a_withdrawal_is_proven_and_claimed_once_after_the_delay() {
    let user = l2_key("withdrawing user");
    let mut r = Rollup::new(&[(user.address(), eth(10))]);
    let seq = r.sequencer();
    // L1 holds ETH for the rollup once someone deposits.
    deposit(&mut r, 2, Address::repeat_byte(0x33), eth(5));

    let target = Address::repeat_byte(0x44);
    let data = L2ToL1MessagePasser::initiateWithdrawalCall { target, data: Bytes::new() }.abi_encode().into();
    let tx = r.l2.tx(&user, 0, L2_TO_L1_MESSAGE_PASSER, eth(2), data);
    let b = r.build(true, vec![tx]);
    let number = b.block.header.number;
    assert!(r.advance(&seq, &[b], DaMode::Calldata).success);

    let w = Withdrawal { nonce: U256::ZERO, sender: user.address(), target, value: eth(2), data: Bytes::new() };
    let slot = withdrawal_slot(withdrawal_hash(&w));
    let mut state = r.l2.states[number as usize].clone();
    let proof =
        nrd_chain::TrieState::proof(&mut state, L2_TO_L1_MESSAGE_PASSER, &[U256::from_be_bytes(slot.0)]).unwrap();
    let (account_proof, storage_proof) = (proof.account_proof, proof.storage[0].1.clone());
    let claim = |l2_block: u64, account: Vec<Bytes>, storage: Vec<Bytes>| NativeRollup::claimWithdrawalCall {
        w: w.clone(),
        l2Block: l2_block,
        accountProof: account,
        storageProof: storage,
    };
    let claimer = r.l1.key(8);

    // Too early.
    let early = r.try_call(claimer.address(), claim(number, account_proof.clone(), storage_proof.clone()));
    assert!(matches!(early, Err(E::WithdrawalNotReady(_))), "{early:?}");
    r.l1.increase_time(WITHDRAWAL_DELAY + 60);

    // A root L1 never stored.
    let unknown = r.try_call(claimer.address(), claim(99, account_proof.clone(), storage_proof.clone()));
    assert!(matches!(unknown, Err(E::UnknownStateRoot(_))), "{unknown:?}");
    // The proof against another stored root (genesis) does not verify.
    let other = r.l1.call(
        claimer.address(),
        r.address,
        U256::ZERO,
        alloy_sol_types::SolCall::abi_encode(&claim(0, account_proof.clone(), storage_proof.clone())).into(),
    );
    assert!(other.is_err());
    // A forged proof: one byte of the storage leaf changed.
    let mut forged = storage_proof.clone();
    let last = forged.last_mut().unwrap();
    let mut bytes = last.to_vec();
    let end = bytes.len() - 1;
    bytes[end] ^= 1;
    *last = bytes.into();
    let forged_call = claim(number, account_proof.clone(), forged);
    assert!(
        r.l1.call(claimer.address(), r.address, U256::ZERO, alloy_sol_types::SolCall::abi_encode(&forged_call).into())
            .is_err()
    );
    // A proof of a withdrawal that never happened (other value).
    let fake = NativeRollup::claimWithdrawalCall {
        w: Withdrawal { value: eth(3), ..w.clone() },
        l2Block: number,
        accountProof: account_proof.clone(),
        storageProof: storage_proof.clone(),
    };
    assert!(
        r.l1.call(claimer.address(), r.address, U256::ZERO, alloy_sol_types::SolCall::abi_encode(&fake).into())
            .is_err()
    );

    // Governance pauses deposits: ETH can no longer come in, but it can always go out.
    let owner = r.owner();
    let paused: Bytes = true.abi_encode().into();
    let out = r.send(
        &owner,
        U256::ZERO,
        NativeRollup::scheduleCall { action: Action::SetDepositsPaused as u8, payload: paused.clone() },
    );
    let nonce = out.logs.iter().find_map(|l| NativeRollup::ActionScheduled::decode_log(l).ok()).unwrap().nonce;
    r.l1.increase_time(TIMELOCK + 60);
    let exec = NativeRollup::executeCall { action: Action::SetDepositsPaused as u8, payload: paused, nonce };
    assert!(r.send(&owner, U256::ZERO, exec).success);
    let depositor = r.l1.key(2).address();
    let call = NativeRollup::depositCall { to: depositor, gasLimit: 100_000, data: Bytes::new() };
    let err = r.l1.call(depositor, r.address, eth(1), call.abi_encode().into()).unwrap_err();
    assert!(matches!(<E as alloy_sol_types::SolInterface>::abi_decode(&err).unwrap(), E::DepositsPaused(_)));
    let forced =
        NativeRollup::sendMessageCall { to: depositor, value: U256::ZERO, gasLimit: 50_000, data: Bytes::new() };
    assert!(
        r.l1.call(depositor, r.address, U256::ZERO, forced.abi_encode().into()).is_ok(),
        "forced messages stay open"
    );

    let before = r.l1.balance(target);
    let out = r.send(&claimer, U256::ZERO, claim(number, account_proof.clone(), storage_proof.clone()));
    assert!(out.success);
    assert_eq!(r.l1.balance(target) - before, eth(2));
    let claimed = out.logs.iter().find_map(|l| NativeRollup::WithdrawalClaimed::decode_log(l).ok()).unwrap();
    assert_eq!(claimed.withdrawalHash, withdrawal_hash(&w));

    // Twice: no.
    let again = r.try_call(claimer.address(), claim(number, account_proof, storage_proof));
    assert!(matches!(again, Err(E::AlreadyClaimed(_))), "{again:?}");
}

#[test]
fn a_blob_batch_posts_several_blocks_and_a_follower_rebuilds_them_from_l1() {
    let alice = l2_key("alice");
    let mut r = Rollup::new(&[(alice.address(), eth(100))]);
    let seq = r.sequencer();
    deposit(&mut r, 2, Address::repeat_byte(0x55), eth(1));

    // One block in calldata mode ...
    let b1 = r.build(true, vec![r.l2.tx(&alice, 0, Address::repeat_byte(1), U256::from(1), Bytes::new())]);
    assert!(r.advance(&seq, &[b1], DaMode::Calldata).success);

    // ... then three in one blob transaction, with a deposit in the middle.
    let mut batch = Vec::new();
    let mut nonce = 1;
    for i in 0..3u8 {
        if i == 1 {
            deposit(&mut r, 3, Address::repeat_byte(0x56), eth(1));
        }
        let txs = (0..5)
            .map(|j| {
                nonce += 1;
                r.l2.tx(&alice, nonce - 1, Address::repeat_byte(10 + i * 5 + j), U256::from(1000), Bytes::new())
            })
            .collect();
        batch.push(r.build(true, txs));
    }
    let out = r.advance(&seq, &batch, DaMode::Blob);
    assert!(out.success, "blob advance");
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 4);
    assert_eq!(r.view(NativeRollup::headStateRootCall {}), r.l2.head().state_root);

    // The follower: only L1 blocks, their transactions and blobs.
    let genesis = r.l2.genesis.clone();
    let spec = genesis.spec();
    let mut state = genesis.state();
    let mut headers = vec![genesis.header(state.root())];
    let blobs = r.l1.devnet.blobs().clone();
    for n in 0..=r.l1.devnet.head().number() {
        let block = r.l1.devnet.block(n).unwrap();
        for (i, tx) in block.block.body.transactions.iter().enumerate() {
            if alloy_consensus::Transaction::to(tx) != Some(r.address) || !block.receipts[i].status() {
                continue;
            }
            let input = alloy_consensus::Transaction::input(tx);
            if !input.starts_with(&<NativeRollup::advanceCall as alloy_sol_types::SolCall>::SELECTOR) {
                continue;
            }
            let sidecars = blobs.block_sidecars(n);
            let lookup = |hash: &B256| {
                sidecars
                    .iter()
                    .find(|s| alloy_eips::eip4844::kzg_to_versioned_hash(s.commitment.as_slice()) == *hash)
                    .map(|s| *s.blob)
            };
            for PostedBlock { block, l1_anchor, messages, .. } in decode_advance(input, &lookup).unwrap() {
                let l1_hash = r.l1.devnet.block(l1_anchor).unwrap().hash;
                let anchor = anchor_calldata(l1_anchor, l1_hash, &messages);
                let ancestors = nrd_execute_client::Ancestors::new(headers.iter().rev().cloned().collect()).unwrap();
                let parent = headers.last().unwrap().clone();
                nrd_chain::import_block(&spec, &parent, &block, &anchor, &mut state, &ancestors).unwrap();
                headers.push(alloy_consensus::Sealed::new(block.header));
            }
        }
    }
    assert_eq!(headers.len(), r.l2.headers.len());
    for (ours, theirs) in headers.iter().zip(&r.l2.headers) {
        assert_eq!(ours.hash(), theirs.hash());
    }
    assert_eq!(state.root(), r.l2.head().state_root);
}
