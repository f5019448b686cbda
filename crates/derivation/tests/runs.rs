//! `NativeRollup.advanceRun` (docs/protocol.md §8.4): a run of L2 blocks verified by one EXECUTE
//! call, on the in-process L1 devnet with the real contract and precompile. A run settles like
//! its blocks one by one (head, messages, events, a follower's decoding), a withdrawal from inside
//! it is claimed against its last block, and every way to forge one is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolEvent};
use nrd_bridge::{
    L2_TO_L1_MESSAGE_PASSER, L2ToL1MessagePasser, NativeRollup, NativeRollup::NativeRollupErrors as E, Withdrawal,
    withdrawal_hash, withdrawal_slot,
};
use nrd_derivation::{DaMode, PostedBlock, decode_advance, encode_advance_run};
use nrd_execute_client::RunTrace;
use nrd_testkit::{ETH, Rollup, WITHDRAWAL_DELAY, l2_key};

fn eth(n: u128) -> U256 {
    U256::from(n * ETH)
}

struct Setup {
    r: Rollup,
    /// Block 1 applies two deposits, block 2 initiates a withdrawal, block 3 moves ETH.
    blocks: Vec<PostedBlock>,
    withdrawal: Withdrawal,
}

fn setup() -> Setup {
    let user = l2_key("run user");
    let mut r = Rollup::new(&[(user.address(), eth(10))]);
    let depositor = r.l1.key(2);
    for i in 1..=2u8 {
        let call = NativeRollup::depositCall { to: Address::repeat_byte(i), gasLimit: 100_000, data: Bytes::new() };
        assert!(r.send(&depositor, eth(1), call).success);
    }
    let target = Address::repeat_byte(0x44);
    let withdraw = L2ToL1MessagePasser::initiateWithdrawalCall { target, data: Bytes::new() }.abi_encode().into();
    let b1 = r.build(true, vec![r.l2.tx(&user, 0, Address::repeat_byte(0x55), eth(1), Bytes::new())]);
    let b2 = r.build(false, vec![r.l2.tx(&user, 1, L2_TO_L1_MESSAGE_PASSER, eth(2), withdraw)]);
    let b3 = r.build(false, vec![r.l2.tx(&user, 2, Address::repeat_byte(0x66), eth(1), Bytes::new())]);
    assert_eq!(b1.messages.len(), 2);
    r.l1.increase_time(10);
    let withdrawal =
        Withdrawal { nonce: U256::ZERO, sender: user.address(), target, value: eth(2), data: Bytes::new() };
    Setup { r, blocks: vec![b1, b2, b3], withdrawal }
}

/// The `advanceRun` call for `blocks` (their run witness) in `mode`, decoded.
fn run_call(r: &Rollup, blocks: &[PostedBlock], mode: DaMode) -> NativeRollup::advanceRunCall {
    let witness = r.l2.run_witness(blocks);
    NativeRollup::advanceRunCall::abi_decode(&encode_advance_run(blocks, &witness, mode).unwrap().calldata).unwrap()
}

/// The contract's verdict on `call` from the sequencer.
fn verdict(r: &Rollup, call: NativeRollup::advanceRunCall) -> Result<(), E> {
    r.try_call(r.sequencer().address(), call).map(|_| ())
}

fn run_trace(call: &NativeRollup::advanceRunCall) -> RunTrace {
    match nrd_execute_client::AnyTrace::decode(&call.trace).unwrap() {
        nrd_execute_client::AnyTrace::Run(run) => run,
        other => panic!("not a run: {other:?}"),
    }
}

#[test]
fn a_run_settles_its_blocks_and_a_withdrawal_inside_it_is_claimed_against_its_end() {
    for mode in [DaMode::Blob, DaMode::Calldata] {
        let Setup { mut r, blocks, withdrawal, .. } = setup();
        let seq = r.sequencer();
        let witness = r.l2.run_witness(&blocks);
        let tx = encode_advance_run(&blocks, &witness, mode).unwrap();
        let outcome = r.advance_run(&seq, &blocks, mode);
        assert!(outcome.success, "{mode}: the run is accepted");

        // The head is the last block; the messages of block 1 are consumed; one event per block.
        assert_eq!(r.view(NativeRollup::headNumberCall {}), 3);
        assert_eq!(r.view(NativeRollup::headHashCall {}), blocks[2].block.header.hash_slow());
        assert_eq!(r.view(NativeRollup::consumedCall {}), 2);
        let advanced: Vec<u64> = outcome
            .logs
            .iter()
            .filter_map(|l| NativeRollup::BlockAdvanced::decode_log(l).ok())
            .map(|e| e.data.number)
            .collect();
        assert_eq!(advanced, [1, 2, 3]);
        // One state root per run: the last block's.
        assert_eq!(r.view(NativeRollup::stateRootsCall(3)), blocks[2].block.header.state_root);
        assert_eq!(r.view(NativeRollup::stateRootsCall(2)), B256::ZERO);
        assert_eq!(r.view(NativeRollup::stateRootsCall(1)), B256::ZERO);

        // A follower reads the same blocks back from the call (and its blobs).
        let sidecar = tx.sidecar.clone();
        let lookup = |h: &B256| {
            let s = sidecar.as_ref()?;
            s.versioned_hashes().position(|v| v == *h).map(|i| s.blobs[i])
        };
        let decoded = decode_advance(&tx.calldata, &lookup).unwrap();
        assert_eq!(decoded.len(), 3);
        for (got, posted) in decoded.iter().zip(&blocks) {
            assert_eq!(got.block, posted.block);
            assert_eq!((got.l1_anchor, &got.messages), (posted.l1_anchor, &posted.messages));
        }

        // The withdrawal of block 2 is proven against block 3's root (its state keeps it).
        let slot = withdrawal_slot(withdrawal_hash(&withdrawal));
        let mut state = r.l2.states[3].clone();
        let proof =
            nrd_chain::TrieState::proof(&mut state, L2_TO_L1_MESSAGE_PASSER, &[U256::from_be_bytes(slot.0)]).unwrap();
        let claim = |l2_block: u64| NativeRollup::claimWithdrawalCall {
            w: withdrawal.clone(),
            l2Block: l2_block,
            accountProof: proof.account_proof.clone(),
            storageProof: proof.storage[0].1.clone(),
        };
        r.l1.increase_time(WITHDRAWAL_DELAY + 60);
        let claimer = r.l1.key(8);
        assert!(matches!(r.try_call(claimer.address(), claim(2)), Err(E::UnknownStateRoot(_))));
        assert!(r.send(&claimer, U256::ZERO, claim(3)).success, "{mode}: claimed against the run's end");
        assert!(matches!(r.try_call(claimer.address(), claim(3)), Err(E::AlreadyClaimed(_))));
    }
}

#[test]
fn every_forged_run_is_refused() {
    let Setup { r, blocks, .. } = setup();
    let good = run_call(&r, &blocks, DaMode::Calldata);
    assert_eq!(verdict(&r, good.clone()), Ok(()));

    // The trace holds a block the call does not commit, or lacks one it commits.
    let fewer = NativeRollup::advanceRunCall { blocks: good.blocks[..2].to_vec(), ..good.clone() };
    assert!(matches!(verdict(&r, fewer), Err(E::MissingMessages(_)) | Err(E::MalformedTrace(_))));
    let mut longer_trace = run_trace(&good);
    longer_trace.blocks.push(blocks[2].block.clone());
    let extra = NativeRollup::advanceRunCall { trace: longer_trace.encode(), ..good.clone() };
    assert!(matches!(verdict(&r, extra), Err(E::MalformedTrace(_))));
    let mut more = good.clone();
    more.blocks.push(NativeRollup::RunBlock { l1Anchor: good.blocks[2].l1Anchor, messageCount: 0 });
    assert!(matches!(verdict(&r, more), Err(E::MalformedTrace(_))));

    // A version-0x00 trace, an empty run.
    let single = nrd_execute_client::Trace {
        block: blocks[0].block.clone(),
        witness: blocks[0].witness.clone(),
        blob_refs: vec![],
        batch_index: 0,
    };
    let v0 = NativeRollup::advanceRunCall { trace: single.encode(), ..good.clone() };
    assert!(matches!(verdict(&r, v0), Err(E::MalformedTrace(_))));
    let empty = NativeRollup::advanceRunCall { blocks: vec![], ..good.clone() };
    assert!(matches!(verdict(&r, empty), Err(E::EmptyBatch(_))));

    // Blocks out of order inside the run: the contract's parent rule catches it.
    let mut swapped = run_trace(&good);
    swapped.blocks.swap(1, 2);
    let call = NativeRollup::advanceRunCall { trace: swapped.encode(), ..good.clone() };
    assert!(matches!(verdict(&r, call), Err(E::WrongParent(e)) if e.number == 3));

    // L1 anchors going back between blocks of the run.
    let mut back = good.clone();
    back.blocks[2].l1Anchor = back.blocks[1].l1Anchor - 1;
    assert!(matches!(verdict(&r, back), Err(E::BadL1Anchor(_)) | Err(E::WrongL1Hash(_))));

    // Messages: block 1's moved to block 2 (the anchors EXECUTE sees then differ from what the
    // blocks executed), one withheld, one too many.
    let mut moved = good.clone();
    moved.blocks[0].messageCount = 0;
    moved.blocks[1].messageCount = 2;
    assert!(matches!(verdict(&r, moved), Err(E::ExecuteFailed(_))));
    let withheld = NativeRollup::advanceRunCall { messages: good.messages[..1].to_vec(), ..good.clone() };
    assert!(matches!(verdict(&r, withheld), Err(E::MissingMessages(_))));
    let mut unused = good.clone();
    unused.messages.push(good.messages[0].clone());
    assert!(matches!(verdict(&r, unused), Err(E::UnusedMessages(_))));

    // The witness short of one node: EXECUTE refuses the run.
    let mut short = run_trace(&good);
    short.witness.state.pop();
    let call = NativeRollup::advanceRunCall { trace: short.encode(), ..good.clone() };
    assert!(matches!(verdict(&r, call), Err(E::ExecuteFailed(_))));

    // The last block claims another post-state (its hash changes with it, the chain stays linked).
    let mut forged = run_trace(&good);
    forged.blocks[2].header.state_root = B256::repeat_byte(0x77);
    let call = NativeRollup::advanceRunCall { trace: forged.encode(), ..good };
    assert!(matches!(verdict(&r, call), Err(E::ExecuteFailed(e)) if e.number == 3));

    // A middle block with a header the rollup forbids (another gas limit; a valid Ethereum
    // block otherwise).
    let (b1, b2) = (blocks[0].clone(), blocks[1].clone());
    let forged_gas = {
        // Rebuild block 2 on block 1 with a gas limit 1,000 below the genesis one.
        let mut l2 = r.l2.clone();
        l2.state = l2.states[1].clone();
        l2.headers.truncate(2);
        l2.states.truncate(2);
        let tx = b2.block.body.transactions.clone();
        let (posted, state) = l2.propose(&[], tx, r.l1.block_ref(b2.l1_anchor), |a| a.gas_limit -= 1_000);
        l2.state = state;
        l2.headers.push(alloy_consensus::Sealed::new(posted.block.header.clone()));
        l2.states.push(l2.state.clone());
        let witness = l2.run_witness(&[b1.clone(), posted.clone()]);
        encode_advance_run(&[b1, posted], &witness, DaMode::Calldata).unwrap()
    };
    let call = NativeRollup::advanceRunCall::abi_decode(&forged_gas.calldata).unwrap();
    assert!(matches!(verdict(&r, call), Err(E::WrongGasLimit(e)) if e.number == 2));
}

#[test]
fn the_sequencer_alone_may_post_a_run_until_it_is_silent() {
    let Setup { r, blocks, .. } = setup();
    let call = run_call(&r, &blocks, DaMode::Calldata);
    let anyone = r.l1.key(5);
    assert!(matches!(r.try_call(anyone.address(), call), Err(E::NotSequencer(_))));
}

/// Blob mode posts a run as trace version 0x02: calldata keeps the headers, the blobs hold the
/// transactions and the run's witness (batch version 0x02). The witness in the blobs is checked
/// as one in calldata is: short of a node, with one too many, or missing, the
/// call fails and the head stays; a version 0x01 trace does not borrow a batch's witness.
#[test]
fn a_runs_witness_in_blobs_is_checked_like_one_in_calldata() {
    use alloy_eips::eip4844::{BlobTransactionSidecar, env_settings::EnvKzgSettings};
    use nrd_execute_client::{
        AnyTrace, BlobRunTrace, Compression, ExecutionWitness, encode_batch, encode_witness_batch, payload_to_blobs,
    };

    let Setup { mut r, blocks, .. } = setup();
    let seq = r.sequencer();
    let witness = r.l2.run_witness(&blocks);
    let good = run_call(&r, &blocks, DaMode::Blob);
    let calldata_run = run_call(&r, &blocks, DaMode::Calldata);
    let Ok(AnyTrace::BlobRun(trace)) = AnyTrace::decode(&good.trace) else { panic!("blob mode posts version 0x02") };
    assert!(trace.blocks.iter().all(|b| b.body.transactions.is_empty()));
    // Only the headers stay in calldata: a fraction of the version 0x01 trace.
    assert!(good.trace.len() * 3 < calldata_run.trace.len(), "{} vs {}", good.trace.len(), calldata_run.trace.len());

    let txs: Vec<_> = blocks.iter().map(|b| b.block.body.transactions.clone()).collect();
    let post = |r: &mut Rollup, payload: Vec<u8>, version: u8| {
        let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
            payload_to_blobs(&payload),
            EnvKzgSettings::Default.get(),
        )
        .unwrap();
        let refs: Vec<B256> = sidecar.versioned_hashes().collect();
        let mut call = good.clone();
        call.trace = if version == 2 {
            BlobRunTrace { blob_refs: refs, ..trace.clone() }.encode()
        } else {
            RunTrace {
                blocks: trace.blocks.clone(),
                witness: ExecutionWitness::default(),
                blob_refs: refs,
                first_batch_index: 0,
            }
            .encode()
        };
        r.l1.send_blobs(&seq, r.address, call.abi_encode().into(), sidecar)
    };
    let mut short = witness.clone();
    short.state.remove(1);
    let mut padded = witness.clone();
    padded.state.push(Bytes::from_static(&[0xc2, 0x01, 0x02]));
    let forged: Vec<(&str, Vec<u8>, u8)> = vec![
        ("a node short", encode_witness_batch(&txs, &short), 2),
        ("a node too many", encode_witness_batch(&txs, &padded), 2),
        ("no witness in the batch", encode_batch(&txs, Compression::Brotli), 2),
        ("version 0x01 with an empty witness", encode_witness_batch(&txs, &witness), 1),
    ];
    for (what, payload, version) in forged {
        assert!(!post(&mut r, payload, version).success, "{what}: refused");
        assert_eq!(r.view(NativeRollup::headNumberCall {}), 0, "{what}: the head stays");
    }
    assert!(post(&mut r, encode_witness_batch(&txs, &witness), 2).success);
    assert_eq!(r.view(NativeRollup::headNumberCall {}), 3);
}
