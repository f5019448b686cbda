//! The batch submitter against the real L1 devnet served over JSON-RPC (with `NativeRollup`
//! deployed): blocks sealed by the block producer are posted and verified; a stuck transaction
//! is replaced with higher fees; a batch L1 proves invalid halts posting with the typed reason
//! and is never sent again until an operator clears the refusal; a batch refused for a
//! temporary reason (someone took the L1 block's EXECUTE capacity first) is retried; batches
//! and blocks are cut by the cost model so every one can be posted. A restarted submitter waits
//! for the advance its previous run left in L1's pool instead of posting the same blocks again;
//! a transaction the pool acknowledged is on disk before the answer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{Sealed, TxEip1559, TxEnvelope};
use alloy_eips::{BlockNumberOrTag, Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{StoredBlock, build_block};
use nrd_derivation::{DaMode, L1BlockRef, PostedBlock, SequencingConfig, anchor_calldata, block_inputs};
use nrd_execute_client::{EXECUTE_ADDRESS, ExecutionWitness, Trace, encode_execute_input, record_block};
use nrd_l1_client::L1Client;
use nrd_node::TxSink;
use nrd_node::{BlockL1Info, L1View, L2Chain, L2Node};
use nrd_rpc::RunningServer;
use nrd_sequencer::{
    AdvanceLimits, BlockProducer, DEFAULT_MAX_FEE, Mempool, RecordedRefusal, Refusal, SequencerError, Submitter,
    SubmitterConfig, advance_cost, advance_run_cost, clear_refusal,
};
use nrd_storage::L2Block;
use nrd_storage::RedbStore;
use nrd_testkit::Rollup;
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

struct Setup {
    rollup: Rollup,
    _rpc: RunningServer,
    client: L1Client,
    chain: Arc<L2Chain>,
    node: Arc<L2Node>,
    view: Arc<Mutex<L1View>>,
}

async fn setup() -> Setup {
    setup_with(Rollup::new(&[])).await
}

async fn setup_with(rollup: Rollup) -> Setup {
    let (rpc, client) = common::serve(&rollup).await;
    let chain = Arc::new(L2Chain::open(rollup.l2.genesis.clone(), Arc::new(RedbStore::in_memory().unwrap())).unwrap());
    let node = Arc::new(L2Node::new(chain.clone(), None, 1));
    let view = Arc::new(Mutex::new(L1View { head: rollup.l1.head_ref(), ..Default::default() }));
    Setup { rollup, _rpc: rpc, client, chain, node, view }
}

/// A submitter posting runs (`advanceRun`, the default).
fn submitter(s: &Setup, mode: DaMode, resubmit_after: Duration) -> Submitter {
    submitter_configured(s, mode, AdvanceLimits::default(), resubmit_after, true)
}

/// A submitter posting each block with its stored witness (`advance`, `post_runs = false`).
fn per_block_submitter(s: &Setup, mode: DaMode, resubmit_after: Duration) -> Submitter {
    submitter_configured(s, mode, AdvanceLimits::default(), resubmit_after, false)
}

fn submitter_configured(
    s: &Setup,
    mode: DaMode,
    limits: AdvanceLimits,
    resubmit_after: Duration,
    runs: bool,
) -> Submitter {
    Submitter::new(s.node.clone(), s.client.clone(), config_for(s, mode, limits, resubmit_after, runs))
}

fn config_for(s: &Setup, mode: DaMode, limits: AdvanceLimits, resubmit_after: Duration, runs: bool) -> SubmitterConfig {
    SubmitterConfig {
        rollup: s.rollup.address,
        key: s.rollup.sequencer(),
        l1_chain_id: 900,
        mode,
        runs,
        max_blocks: 4,
        max_l2_gas: 15_000_000,
        limits,
        max_fee_per_gas: DEFAULT_MAX_FEE,
        max_fee_per_blob_gas: DEFAULT_MAX_FEE,
        poll: Duration::from_millis(20),
        resubmit_after,
        max_delay: Duration::ZERO,
        max_in_flight: 1,
    }
}

fn producer(s: &Setup) -> BlockProducer {
    let pool = Arc::new(Mempool::new(s.chain.clone(), Default::default(), vec![]));
    BlockProducer::new(
        s.chain.clone(),
        pool,
        s.view.clone(),
        SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) },
    )
}

/// Appends a block whose witness is empty: its trace cannot verify on L1.
/// Appends the next block (no transactions), built with its inputs' anchor changed by
/// `tamper_anchor`, stored with `witness` (`None`: the block's own).
fn append_block(s: &Setup, tamper_anchor: impl FnOnce(&mut Vec<u8>), witness: Option<ExecutionWitness>) {
    let parent: Sealed<_> = s.chain.head_sealed();
    let l1 = s.rollup.l1.head_ref();
    let config = SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) };
    let mut inputs = block_inputs(&parent, &[], vec![], parent.timestamp + 1, l1, &config).unwrap();
    let mut anchor = inputs.attributes.anchor.to_vec();
    tamper_anchor(&mut anchor);
    inputs.attributes.anchor = anchor.into();
    let anchor = inputs.attributes.anchor.clone();
    let ancestors = s.chain.ancestors();
    let mut scratch = s.chain.head_state().unwrap();
    let built = build_block(s.chain.spec(), &parent, inputs.attributes, vec![], &mut scratch, &ancestors).unwrap();
    let mut state = s.chain.head_state().unwrap();
    let (imported, own) = record_block(s.chain.spec(), &built.block, &anchor, &mut state, &ancestors).unwrap();
    let stored = StoredBlock::new(built.block, built.senders, imported.executed.receipts.clone());
    let info = BlockL1Info { l1_anchor: l1.number, messages: vec![], anchor };
    let witness = witness.unwrap_or(own);
    s.chain.append(stored, info, Some(witness), &imported.executed.changes, &mut state).unwrap();
}

/// Appends the next block with an empty stored witness: EXECUTE refuses it when it is posted
/// block by block.
fn append_unverifiable(s: &Setup) {
    append_block(s, |_| {}, Some(ExecutionWitness::default()));
}

async fn sequencer_nonce(s: &Setup) -> u64 {
    s.client.nonce(s.rollup.sequencer().address(), BlockNumberOrTag::Latest).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sealed_blocks_are_posted_and_a_stuck_transaction_is_replaced() {
    let s = setup().await;
    let producer = producer(&s);
    // Block timestamps are whole seconds that never run ahead of the clock: two blocks take
    // up to two seconds.
    seal_one(&producer).await;
    seal_one(&producer).await;
    let mut submitter = submitter(&s, DaMode::Blob, Duration::from_millis(100));
    submitter.step().await.unwrap(); // posts blocks 1..=2; L1 does not seal yet
    let first = s.rollup.l1.devnet.pool_len();
    assert_eq!(first, 1);
    tokio::time::sleep(Duration::from_millis(150)).await;
    submitter.step().await.unwrap(); // stuck: replaced with doubled fees (same nonce)
    assert_eq!(s.rollup.l1.devnet.pool_len(), 1, "the replacement took the original's place");
    s.rollup.l1.devnet.seal().unwrap();
    submitter.step().await.unwrap(); // receipt: verified
    assert_eq!(s.chain.safe(), 2);
    assert_eq!(sequencer_nonce(&s).await, 1);
    let head: u64 = s.rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert_eq!(head, 2);
    // Nothing left to post.
    submitter.step().await.unwrap();
    assert_eq!(s.rollup.l1.devnet.pool_len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_submitter_waits_for_the_advance_its_last_run_left_pending() {
    let s = setup().await;
    let producer = producer(&s);
    seal_one(&producer).await;
    seal_one(&producer).await;
    let mut before = submitter(&s, DaMode::Blob, Duration::from_secs(60));
    before.step().await.unwrap(); // posts blocks 1..=2; L1 does not seal yet
    assert_eq!(s.rollup.l1.devnet.pool_len(), 1);
    // The process dies (kill -9) with its advance in L1's pool; a new one starts.
    drop(before);
    let mut after = submitter(&s, DaMode::Blob, Duration::from_secs(60));
    after.step().await.unwrap();
    assert_eq!(s.rollup.l1.devnet.pool_len(), 1, "nothing sent while the earlier advance is pending");
    assert!(!after.in_flight());
    s.rollup.l1.devnet.seal().unwrap();
    after.step().await.unwrap(); // the rollup's head is 2: nothing left to post
    assert_eq!(s.rollup.l1.devnet.pool_len(), 0);
    assert_eq!(s.chain.safe(), 2);
    assert_eq!(sequencer_nonce(&s).await, 1, "one advance, and it succeeded");
    let head: u64 = s.rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert_eq!(head, 2);
}

/// The wait for an earlier pending transaction of the key is bounded: one that is not an
/// advance (an operator's transfer with the same key, or anything that stays pending) delays
/// posting by at most `resubmit_after`, then the advance goes behind it and lands.
#[tokio::test(flavor = "multi_thread")]
async fn a_pending_transaction_of_the_key_delays_posting_only_for_a_while() {
    let s = setup().await;
    let producer = producer(&s);
    seal_one(&producer).await;
    let devnet = &s.rollup.l1.devnet;
    let key = s.rollup.sequencer();
    let transfer = TxEip1559 {
        chain_id: 900,
        nonce: devnet.pending_nonce(key.address()).unwrap(),
        gas_limit: 21_000,
        max_fee_per_gas: 1_000_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(Address::with_last_byte(0x77)),
        value: U256::from(1),
        input: Bytes::new(),
        access_list: Default::default(),
    };
    devnet.submit_raw(&nrd_test_utils::raw(&nrd_test_utils::sign(&key, transfer))).unwrap();
    let resubmit_after = Duration::from_millis(300);
    // Calldata: L1 pools keep one kind of transaction per sender, so a blob advance could not
    // sit behind a pending transfer at all.
    let mut submitter = submitter(&s, DaMode::Calldata, resubmit_after);
    submitter.step().await.unwrap();
    assert_eq!(devnet.pool_len(), 1, "waiting behind the pending transfer");
    assert!(!submitter.in_flight());
    tokio::time::sleep(resubmit_after + Duration::from_millis(50)).await;
    submitter.step().await.unwrap();
    assert_eq!(devnet.pool_len(), 2, "posted behind it once the wait is over");
    assert!(submitter.in_flight());
    devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), 1);
    let head: u64 = s.rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert_eq!(head, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_acknowledged_transaction_is_on_disk_before_the_answer() {
    let keys = l2_keys(2);
    let s = setup_funded(&keys).await;
    let pool = Mempool::new(s.chain.clone(), Default::default(), vec![]);
    for raw in transfers(&s, &keys, 6) {
        pool.submit(&raw).unwrap();
    }
    // A crash now (no block sealed, no `save`): the next run's pool has every one of them.
    drop(pool);
    let restarted = Mempool::new(s.chain, Default::default(), vec![]);
    assert_eq!(restarted.len(), 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_saved_pool_follows_replacements_inclusions_and_restarts() {
    let keys = l2_keys(1);
    let s = setup_funded(&keys).await;
    // A nonce gap of at most 2: restoring out of nonce order would refuse transactions.
    let limits = nrd_txpool::PoolLimits { max_nonce_gap: 2, ..Default::default() };
    let pool = Mempool::new(s.chain.clone(), limits, vec![]);
    let sent = transfers(&s, &keys, 4);
    for raw in &sent {
        pool.submit(raw).unwrap();
    }
    // Nonce 0 replaced by a better-paying one: stored after nonce 3, the old one removed.
    let replacement = nrd_test_utils::sign(
        &keys[0],
        TxEip1559 {
            chain_id: nrd_testkit::L2_CHAIN_ID,
            nonce: 0,
            gas_limit: 21_000,
            max_fee_per_gas: 20_000_000_000,
            max_priority_fee_per_gas: 10,
            to: TxKind::Call(Address::repeat_byte(0x77)),
            value: U256::from(2),
            ..Default::default()
        },
    );
    let replacement_hash = pool.submit(&replacement.encoded_2718()).unwrap();
    let stored = s.chain.store().load_pool().unwrap();
    assert_eq!(stored.len(), 4, "the replaced transaction is removed from the store");
    assert_eq!(stored.last().unwrap().1, Bytes::from(replacement.encoded_2718()));
    drop(pool);

    let restarted = Arc::new(Mempool::new(s.chain.clone(), limits, vec![]));
    assert_eq!(restarted.len(), 4, "restored by nonce, whatever the stored order");
    assert!(restarted.pooled(replacement_hash).is_some());
    // A block includes them; the next write removes them from the store.
    let producer = BlockProducer::new(
        s.chain.clone(),
        restarted.clone(),
        s.view.clone(),
        SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) },
    );
    let block = seal_one(&producer).await;
    assert_eq!(block.tx_hashes.len(), 4);
    restarted.save();
    assert!(s.chain.store().load_pool().unwrap().is_empty());
    drop(producer);
    drop(restarted);
    assert_eq!(Mempool::new(s.chain.clone(), limits, vec![]).len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_l1_refuses_halts_posting_and_is_never_resent() {
    // Blob mode: the transaction is sent (blobs cannot be simulated) and reverts on L1.
    let s = setup().await;
    append_unverifiable(&s);
    let mut blob = per_block_submitter(&s, DaMode::Blob, Duration::from_secs(60));
    blob.step().await.unwrap();
    s.rollup.l1.devnet.seal().unwrap();
    match blob.step().await {
        Err(SequencerError::Refused { refusal: Refusal::InvalidBlock { number: 1, .. }, .. }) => {}
        other => panic!("expected an invalid-block refusal, got {other:?}"),
    }
    assert_eq!(sequencer_nonce(&s).await, 1);
    // Running, a submitter halts on a refusal, records it, and sends nothing more; a submitter
    // started later over the same chain (a restart) starts halted.
    let run = |s: &Setup| {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(per_block_submitter(s, DaMode::Blob, Duration::from_secs(60)).run(async move {
            let _ = stopped.await;
        }));
        (stop, task)
    };
    for round in 0..2 {
        let (stop, task) = run(&s);
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            s.rollup.l1.devnet.seal().unwrap();
        }
        let status = s.node.status();
        assert!(status.halted.as_deref().is_some_and(|r| r.starts_with("invalid_block:")), "round {round}: {status:?}");
        let _ = stop.send(());
        task.await.unwrap();
        assert_eq!(
            sequencer_nonce(&s).await,
            2,
            "round {round}: one more attempt after the first refusal, never again"
        );
    }
    assert_eq!(s.chain.safe(), 0);

    // Calldata mode: L1's simulation refuses it before anything is sent, with the contract's reason.
    let s = setup().await;
    append_unverifiable(&s);
    let mut calldata = per_block_submitter(&s, DaMode::Calldata, Duration::from_secs(60));
    match calldata.step().await {
        Err(SequencerError::Refused { refusal: Refusal::InvalidBlock { number: 1, .. }, .. }) => {}
        other => panic!("expected an invalid-block refusal, got {other:?}"),
    }
    assert_eq!(sequencer_nonce(&s).await, 0, "nothing was sent");
}

// ---- helpers for the tests below -------------------------------------------------------------

fn l2_keys(n: usize) -> Vec<PrivateKeySigner> {
    (0..n).map(|i| nrd_testkit::l2_key(&format!("submitter sender {i}"))).collect()
}

fn alloc(keys: &[PrivateKeySigner]) -> Vec<(Address, U256)> {
    keys.iter().map(|k| (k.address(), U256::from(1000 * nrd_testkit::ETH))).collect()
}

async fn setup_funded(keys: &[PrivateKeySigner]) -> Setup {
    setup_with(Rollup::new(&alloc(keys))).await
}

fn fresh(i: usize) -> Address {
    Address::from_word(keccak256(format!("fresh recipient {i}")))
}

/// `count` transfers to fresh addresses from `keys`, round robin, signed for the rollup's L2.
fn transfers(s: &Setup, keys: &[PrivateKeySigner], count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let key = &keys[i % keys.len()];
            let nonce = (i / keys.len()) as u64;
            s.rollup.l2.tx(key, nonce, fresh(i), U256::from(1), Bytes::new()).encoded_2718()
        })
        .collect()
}

/// A producer over `pool` whose blocks each fit what one posting within `limits` carries.
fn bounded_producer(s: &Setup, pool: &Arc<Mempool>, limits: AdvanceLimits, mode: DaMode) -> BlockProducer {
    BlockProducer::new(
        s.chain.clone(),
        pool.clone(),
        s.view.clone(),
        SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) },
    )
    .with_limits(limits, mode)
}

fn producer_with_pool(s: &Setup) -> (BlockProducer, Arc<Mempool>) {
    let pool = Arc::new(Mempool::new(s.chain.clone(), Default::default(), vec![]));
    let producer = BlockProducer::new(
        s.chain.clone(),
        pool.clone(),
        s.view.clone(),
        SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) },
    );
    (producer, pool)
}

/// Seals one block (timestamps are whole seconds that never run ahead of the clock).
async fn seal_one(producer: &BlockProducer) -> Arc<StoredBlock> {
    loop {
        if let Some(block) = producer.seal().unwrap() {
            return block;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Blocks `first..=last` from the store, as the submitter posts them.
fn posted(s: &Setup, first: u64, last: u64) -> Vec<PostedBlock> {
    (first..=last)
        .map(|n| {
            let record = s.chain.store().block(n).unwrap().unwrap();
            PostedBlock {
                block: record.stored.block.clone(),
                witness: record.witness.unwrap(),
                l1_anchor: record.l1_anchor,
                messages: record.messages,
            }
        })
        .collect()
}

fn submitter_with(s: &Setup, mode: DaMode, limits: AdvanceLimits) -> Submitter {
    submitter_configured(s, mode, limits, Duration::from_secs(60), true)
}

/// Runs `submitter` while sealing L1 blocks until `done` holds (60 s at most).
async fn run_until(s: &Setup, submitter: Submitter, done: impl Fn(&Setup) -> bool) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(submitter.run(async move {
        let _ = stopped.await;
    }));
    for _ in 0..600 {
        if done(s) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        s.rollup.l1.devnet.seal().unwrap();
    }
    let _ = stop.send(());
    task.await.unwrap();
}

// ---- EXECUTE capacity taken by a front-runner: retried, never fatal ----------------------------

/// A direct EXECUTE call anyone can make: a genuine trace of a block of `txs` transfers on a
/// chain of its own (EXECUTE is stateless: the roots only have to match the trace), declaring
/// that block's gas. Returns the call's input and the gas it declares.
fn execute_call_of_a_real_block(keys: &[PrivateKeySigner], txs: usize) -> (Bytes, u64) {
    let mut l2 = nrd_testkit::L2::new(&alloc(keys));
    let pre = l2.head().state_root;
    let txs = (0..txs)
        .map(|i| {
            let key = &keys[i % keys.len()];
            l2.tx(key, (i / keys.len()) as u64, fresh(1_000_000 + i), U256::from(1), Bytes::new())
        })
        .collect();
    let l1 = L1BlockRef { number: 1, hash: B256::repeat_byte(0x11), timestamp: 0 };
    let block = l2.build(&[], txs, l1);
    let anchor = anchor_calldata(l1.number, l1.hash, &[]);
    let declared = block.execute_gas();
    let post = block.block.header.state_root;
    let trace = Trace { block: block.block, witness: block.witness, blob_refs: vec![], batch_index: 0 };
    (encode_execute_input(pre, post, declared, &anchor, &trace.encode()), declared)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_front_run_that_takes_the_execute_capacity_is_retried_in_a_later_l1_block() {
    let keys = l2_keys(10);
    let s = setup_funded(&keys).await;
    let (producer, pool) = producer_with_pool(&s);
    // Our block: 700 transfers, 14.7M L2 gas.
    for raw in transfers(&s, &keys, 700) {
        pool.submit(&raw).unwrap();
    }
    let ours = seal_one(&producer).await;
    assert_eq!(ours.tx_hashes.len(), 700);
    let our_gas = posted(&s, 1, 1)[0].execute_gas();
    // The attacker's: 800 transfers, 16.8M — together above EXECUTE's 30M per L1 block.
    let (input, declared) = execute_call_of_a_real_block(&keys, 800);
    assert!(declared + our_gas > AdvanceLimits::default().max_execute_gas);

    let mut submitter = submitter(&s, DaMode::Blob, Duration::from_secs(60));
    submitter.step().await.unwrap(); // our advance waits in L1's pool
    // In the same L1 block, before it (a higher tip), the direct EXECUTE call.
    let attacker = s.rollup.l1.key(3);
    let devnet = &s.rollup.l1.devnet;
    let tx = TxEip1559 {
        chain_id: 900,
        nonce: devnet.pending_nonce(attacker.address()).unwrap(),
        gas_limit: 20_000_000,
        max_fee_per_gas: 1_000_000_000_000,
        max_priority_fee_per_gas: 500_000_000_000,
        to: TxKind::Call(EXECUTE_ADDRESS),
        value: U256::ZERO,
        input,
        access_list: Default::default(),
    };
    let attack = devnet.submit_raw(&nrd_test_utils::raw(&nrd_test_utils::sign(&attacker, tx))).unwrap();
    let block = devnet.seal().unwrap();
    assert_eq!(block.tx_hashes.first(), Some(&attack), "the EXECUTE call runs first");
    assert_eq!(block.tx_hashes.len(), 2, "both in one L1 block");
    let statuses: Vec<bool> = block.receipts.iter().map(|r| r.status()).collect();
    assert_eq!(statuses, [true, false], "the EXECUTE call succeeds, the advance reverts");

    // The submitter names the cause and does not halt.
    match submitter.step().await {
        Err(SequencerError::Refused { refusal: Refusal::ExecuteCapacity { used, requested, .. }, .. }) => {
            assert_eq!((used, requested), (declared, our_gas));
        }
        other => panic!("expected an EXECUTE capacity refusal, got {other:?}"),
    }
    assert_eq!(s.node.status().halted, None);
    // It waits for the next L1 block, then posts the same block again, and it lands.
    submitter.step().await.unwrap();
    assert_eq!(devnet.pool_len(), 0, "nothing sent in the same L1 block");
    devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(devnet.pool_len(), 1, "posted again");
    devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), 1);
    let head: u64 = s.rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert_eq!(head, 1);
    // Nothing was recorded: a restart does not start halted.
    assert_eq!(RecordedRefusal::load(s.chain.store().as_ref()).unwrap(), None);
    let restarted = submitter_with(&s, DaMode::Blob, AdvanceLimits::default());
    assert_eq!(restarted.halted(), None);
}

// ---- an invalid block of our own: typed halt, recorded, cleared once fixed ------------------

#[tokio::test(flavor = "multi_thread")]
async fn an_invalid_own_block_halts_until_fixed_and_the_refusal_is_cleared() {
    let keys = l2_keys(2);
    let s = setup_funded(&keys).await;
    // Block 1, built and recorded with its genuine witness, stored with a tampered one.
    let txs: Vec<_> = transfers(&s, &keys, 20)
        .iter()
        .map(|raw| {
            let tx = TxEnvelope::decode_2718(&mut raw.as_slice()).unwrap();
            let signer = alloy_consensus::transaction::SignerRecoverable::recover_signer(&tx).unwrap();
            alloy_consensus::transaction::Recovered::new_unchecked(tx, signer)
        })
        .collect();
    let parent: Sealed<_> = s.chain.head_sealed();
    let l1 = s.rollup.l1.head_ref();
    let config = SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) };
    let inputs = block_inputs(&parent, &[], txs, parent.timestamp + 1, l1, &config).unwrap();
    let anchor = inputs.attributes.anchor.clone();
    let ancestors = s.chain.ancestors();
    let mut scratch = s.chain.head_state().unwrap();
    let built =
        build_block(s.chain.spec(), &parent, inputs.attributes, inputs.transactions, &mut scratch, &ancestors).unwrap();
    let mut state = s.chain.head_state().unwrap();
    let (imported, genuine) = record_block(s.chain.spec(), &built.block, &anchor, &mut state, &ancestors).unwrap();
    let stored = StoredBlock::new(built.block, built.senders, imported.executed.receipts.clone());
    let info = BlockL1Info { l1_anchor: l1.number, messages: vec![], anchor: anchor.clone() };
    let changes = imported.executed.changes.clone();
    let update = state.trie_update();
    let stored = s.chain.append(stored, info, Some(ExecutionWitness::default()), &changes, &mut state).unwrap();

    // L1 proves it invalid: the submitter halts with the typed reason and records it.
    run_until(&s, per_block_submitter(&s, DaMode::Blob, Duration::from_secs(60)), |s| s.node.status().halted.is_some())
        .await;
    let halted = s.node.status().halted.unwrap();
    assert!(halted.starts_with("invalid_block: "), "{halted}");
    let recorded = RecordedRefusal::load(s.chain.store().as_ref()).unwrap().unwrap();
    assert_eq!((recorded.number, recorded.hash), (1, stored.hash));
    assert_eq!(s.chain.safe(), 0);
    // The operator fixes the cause: the genuine witness back in the store (same block).
    s.chain.store().rewind(0).unwrap();
    let record = L2Block { stored, anchor, l1_anchor: l1.number, messages: vec![], witness: Some(genuine) };
    s.chain.store().append(&record, &changes, &update).unwrap();
    // A restart still stops on the recorded refusal: the same block is never sent again blindly…
    assert!(per_block_submitter(&s, DaMode::Blob, Duration::from_secs(60)).halted().is_some());
    // …until the refusal is cleared.
    let cleared = clear_refusal(s.chain.store().as_ref()).unwrap();
    assert_eq!(cleared, Some(recorded));
    assert_eq!(RecordedRefusal::load(s.chain.store().as_ref()).unwrap(), None);
    let resumed = per_block_submitter(&s, DaMode::Blob, Duration::from_secs(60));
    assert_eq!(resumed.halted(), None);
    s.node.update_status(|status| status.halted = None);
    run_until(&s, resumed, |s| s.chain.safe() == 1).await;
    assert_eq!(s.chain.safe(), 1, "posted and verified once fixed and cleared");
    assert_eq!(s.node.status().halted, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_l1_refuses_halts_posting_and_is_recorded() {
    // A run's witness is recorded from the state, so a stored block L1 refuses must be wrong in
    // itself: here it executed its anchor with another L1 hash than the contract builds (the
    // header's own fields are right), so EXECUTE reaches another state root.
    let s = setup().await;
    // Inside the l1Hash word of anchor(l1Number, l1Hash, messages).
    append_block(&s, |anchor| anchor[40] ^= 0xff, None);

    run_until(&s, submitter(&s, DaMode::Blob, Duration::from_secs(60)), |s| s.node.status().halted.is_some()).await;
    let halted = s.node.status().halted.unwrap();
    assert!(halted.starts_with("invalid_block: "), "{halted}");
    assert!(RecordedRefusal::load(s.chain.store().as_ref()).unwrap().is_some());
    assert_eq!(s.chain.safe(), 0);
    assert_eq!(sequencer_nonce(&s).await, 1, "sent once, refused, never again");
}

// ---- batches and blocks cut by the cost model ------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn batches_are_cut_by_the_cost_model_and_an_unpostable_stored_block_halts() {
    let s = setup().await;
    let producer = producer(&s);
    for _ in 0..4 {
        seal_one(&producer).await;
    }
    // Room for two of the four blocks (calldata bytes), by the model itself (of runs, the
    // submitter's default).
    let run = |last: u64| {
        let witness = s.chain.run_witness(1, last).unwrap();
        advance_run_cost(&posted(&s, 1, last), &witness, DaMode::Blob).unwrap().1
    };
    let (two, three) = (run(2), run(3));
    assert!(two.calldata_bytes < three.calldata_bytes);
    let limits = AdvanceLimits { max_calldata_bytes: two.calldata_bytes, ..Default::default() };
    let mut submitter = submitter_with(&s, DaMode::Blob, limits);
    submitter.step().await.unwrap();
    assert_eq!(submitter.in_flight_batch().map(|(first, last, _)| (first, last)), Some((1, 2)));
    s.rollup.l1.devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), 2);

    // A stored block no advance can carry (L1 allows less than one needs): a typed halt, not a
    // retry every second forever.
    let tiny = AdvanceLimits { max_l1_gas: 100_000, ..Default::default() };
    let mut stuck = submitter_with(&s, DaMode::Blob, tiny);
    match stuck.step().await {
        Err(SequencerError::Refused { refusal: Refusal::Unpostable { number: 3, .. }, .. }) => {}
        other => panic!("expected an unpostable block, got {other:?}"),
    }
    run_until(&s, submitter_with(&s, DaMode::Blob, tiny), |s| s.node.status().halted.is_some()).await;
    let halted = s.node.status().halted.unwrap();
    assert!(halted.starts_with("unpostable: "), "{halted}");
    assert_eq!(s.rollup.l1.devnet.pool_len(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_producer_seals_only_blocks_one_advance_can_post() {
    let keys = l2_keys(5);
    let s = setup_funded(&keys).await;
    let (producer, pool) = producer_with_pool(&s);
    // An empty block's cost in calldata mode, then room for about 40 transfers more.
    let empty = seal_one(&producer).await;
    assert_eq!(empty.tx_hashes.len(), 0);
    let (_, base) = advance_cost(&posted(&s, 1, 1), DaMode::Calldata).unwrap();
    let limits = AdvanceLimits { max_calldata_bytes: base.calldata_bytes + 40 * 150, ..Default::default() };
    let producer = bounded_producer(&s, &pool, limits, DaMode::Calldata);
    for raw in transfers(&s, &keys, 300) {
        pool.submit(&raw).unwrap();
    }
    let mut included = 0;
    while included < 300 {
        let block = seal_one(&producer).await;
        let txs = block.tx_hashes.len();
        assert!(txs > 0 && txs < 300, "block {} has {txs} transactions", block.number());
        let number = block.number();
        let (_, cost) = advance_cost(&posted(&s, number, number), DaMode::Calldata).unwrap();
        assert_eq!(cost.check(&limits), Ok(()), "block {number}: {cost:?}");
        included += txs;
    }
    assert_eq!(included, 300);
    assert_eq!(pool.len(), 0);

    // A block that cannot fit even empty is refused, and nothing is stored.
    let head = s.chain.head().number();
    let too_small = AdvanceLimits { max_calldata_bytes: base.calldata_bytes / 2, ..Default::default() };
    let refusing = bounded_producer(&s, &pool, too_small, DaMode::Calldata);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    match refusing.seal() {
        Err(SequencerError::Unpostable { number, overrun }) => {
            assert_eq!(number, head + 1);
            assert_eq!(overrun.label(), "calldata");
        }
        other => panic!("expected an unpostable block, got {other:?}"),
    }
    assert_eq!(s.chain.head().number(), head);
}

/// With runs on (`[sequencer] post_runs`) in blob mode, a block alone is posted as a run of one
/// whose witness travels in the blobs: the producer bounds blocks by that, not by an `advance`
/// carrying the witness in calldata. Limits where an `advance` of the block could not carry
/// more than a few transfers' witness still let the producer seal all of them in one block.
#[tokio::test(flavor = "multi_thread")]
async fn a_producer_posting_runs_is_bound_by_the_run_not_by_a_calldata_witness() {
    let keys = l2_keys(5);
    let s = setup_funded(&keys).await;
    let (producer, pool) = producer_with_pool(&s);
    let empty = seal_one(&producer).await;
    assert_eq!(empty.tx_hashes.len(), 0);
    let (_, base) = advance_cost(&posted(&s, 1, 1), DaMode::Blob).unwrap();
    // Room for about two transfers' witness nodes in calldata.
    let limits = AdvanceLimits { max_calldata_bytes: base.calldata_bytes + 2 * 150, ..Default::default() };
    let producer_with = |runs: bool| bounded_producer(&s, &pool, limits, DaMode::Blob).with_runs(runs);
    let all = transfers(&s, &keys, 200);
    for raw in &all[..100] {
        pool.submit(raw).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let block = seal_one(&producer_with(true)).await;
    assert_eq!(block.tx_hashes.len(), 100, "the whole pool in one block");
    let number = block.number();
    let blocks = posted(&s, number, number);
    let (_, run) = advance_run_cost(&blocks, &s.chain.run_witness(number, number).unwrap(), DaMode::Blob).unwrap();
    assert_eq!(run.check(&limits), Ok(()));
    let (_, alone) = advance_cost(&blocks, DaMode::Blob).unwrap();
    assert_eq!(alone.check(&limits).map_err(|o| o.label()), Err("calldata"), "as advance it would not post");

    // Without runs the same limits cut blocks down to what an advance carries (here, with the
    // state grown by the first block's accounts, not even an empty block's witness fits).
    for raw in &all[100..] {
        pool.submit(raw).unwrap();
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let without = producer_with(false);
    loop {
        match without.seal() {
            Ok(Some(block)) => {
                assert!(block.tx_hashes.len() < 100, "{} transactions", block.tx_hashes.len());
                let number = block.number();
                let (_, cost) = advance_cost(&posted(&s, number, number), DaMode::Blob).unwrap();
                assert_eq!(cost.check(&limits), Ok(()));
                break;
            }
            Err(SequencerError::Unpostable { overrun, .. }) => {
                assert_eq!(overrun.label(), "calldata");
                break;
            }
            Ok(None) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(other) => panic!("{other:?}"),
        }
    }
}

/// `max_delay`: a batch with room for more blocks waits for them until its oldest block is that
/// old, then goes with every block sealed meanwhile; a full batch (more blocks than one batch
/// takes) goes at once, delay or not.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_waits_for_more_blocks_until_full_or_its_delay() {
    let s = setup().await;
    let producer = producer(&s);
    let mut config = config_for(&s, DaMode::Blob, AdvanceLimits::default(), Duration::from_secs(60), true);
    config.max_delay = Duration::from_secs(3);
    let mut submitter = Submitter::new(s.node.clone(), s.client.clone(), config);

    // One block, young: nothing is sent, however often the submitter looks.
    seal_one(&producer).await;
    for _ in 0..3 {
        submitter.step().await.unwrap();
        assert!(!submitter.in_flight(), "a batch with room waits");
    }
    // A second block joins it; once the first is 3 s old, both go in one batch.
    seal_one(&producer).await;
    submitter.step().await.unwrap();
    assert!(!submitter.in_flight());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let head = s.chain.head().number();
    submitter.step().await.unwrap();
    assert_eq!(submitter.in_flight_batch().map(|(first, last, _)| (first, last)), Some((1, head)));
    s.rollup.l1.devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), head);

    // Full: five more blocks than the four one batch takes (`max_blocks`) go at once, young.
    for _ in 0..5 {
        seal_one(&producer).await;
    }
    submitter.step().await.unwrap();
    let (first, last, _) = submitter.in_flight_batch().expect("a full batch goes at once");
    assert_eq!((first, last), (head + 1, head + 4));
    s.rollup.l1.devnet.seal().unwrap();
    submitter.step().await.unwrap();
    // The fifth block, alone and young again, waits.
    submitter.step().await.unwrap();
    assert!(!submitter.in_flight());
    assert_eq!(s.chain.safe(), head + 4);
}

/// `max_in_flight` 2: the next batch goes right behind the first (next nonce) before L1 mines
/// it, and both land in one L1 block. When the first reverts (a direct EXECUTE call takes the
/// L1 block's capacity first), the second, which builds on it, reverts too: the submitter names
/// the first's cause, does not halt, posts both again behind the reverted ones, and L1 ends
/// with every block once.
#[tokio::test(flavor = "multi_thread")]
async fn several_batches_in_flight_land_together_and_recover_when_the_first_reverts() {
    let keys = l2_keys(10);
    let s = setup_funded(&keys).await;
    let (producer, pool) = producer_with_pool(&s);
    let devnet = &s.rollup.l1.devnet;
    let mut config = config_for(&s, DaMode::Blob, AdvanceLimits::default(), Duration::from_secs(60), true);
    config.max_in_flight = 2;
    let mut submitter = Submitter::new(s.node.clone(), s.client.clone(), config);

    // Two batches (block 1, then block 2: together above the 15M L2 gas of one batch).
    let all = transfers(&s, &keys, 1_450);
    for raw in &all[..700] {
        pool.submit(raw).unwrap();
    }
    seal_one(&producer).await;
    for raw in &all[700..720] {
        pool.submit(raw).unwrap();
    }
    seal_one(&producer).await;
    submitter.step().await.unwrap();
    submitter.step().await.unwrap();
    let sent: Vec<(u64, u64)> = submitter.in_flight_batches().iter().map(|(f, l, _)| (*f, *l)).collect();
    assert_eq!(sent, [(1, 1), (2, 2)], "the second goes before the first is mined");
    submitter.step().await.unwrap();
    assert_eq!(devnet.pool_len(), 2, "at most two in flight");
    let block = devnet.seal().unwrap();
    assert_eq!(block.tx_hashes.len(), 2, "one L1 block verifies both");
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), 2);
    assert!(!submitter.in_flight());

    // Block 3 (680 transfers) and block 4 (50, too many to share block 3's batch); the
    // attacker's EXECUTE call runs first in the L1 block and leaves too little capacity for
    // block 3.
    for raw in &all[720..1_400] {
        pool.submit(raw).unwrap();
    }
    assert_eq!(seal_one(&producer).await.tx_hashes.len(), 680);
    for raw in &all[1_400..] {
        pool.submit(raw).unwrap();
    }
    assert_eq!(seal_one(&producer).await.tx_hashes.len(), 50);
    let head = s.chain.head().number();
    submitter.step().await.unwrap();
    submitter.step().await.unwrap();
    assert_eq!(submitter.in_flight_batches().len(), 2);
    let (input, _) = execute_call_of_a_real_block(&keys, 800);
    let attacker = s.rollup.l1.key(3);
    let tx = TxEip1559 {
        chain_id: 900,
        nonce: devnet.pending_nonce(attacker.address()).unwrap(),
        gas_limit: 20_000_000,
        max_fee_per_gas: 1_000_000_000_000,
        max_priority_fee_per_gas: 500_000_000_000,
        to: TxKind::Call(EXECUTE_ADDRESS),
        value: U256::ZERO,
        input,
        access_list: Default::default(),
    };
    devnet.submit_raw(&nrd_test_utils::raw(&nrd_test_utils::sign(&attacker, tx))).unwrap();
    let block = devnet.seal().unwrap();
    let statuses: Vec<bool> = block.receipts.iter().map(|r| r.status()).collect();
    assert_eq!(statuses, [true, false, false], "the EXECUTE call, then both advances revert");
    match submitter.step().await {
        Err(SequencerError::Refused { refusal: Refusal::ExecuteCapacity { .. }, first: 3, .. }) => {}
        other => panic!("expected an EXECUTE capacity refusal of block 3, got {other:?}"),
    }
    assert!(!submitter.in_flight(), "the batch behind the reverted one is dropped");
    assert_eq!(s.node.status().halted, None);
    // A later L1 block: both go again, and land.
    devnet.seal().unwrap();
    for _ in 0..3 {
        submitter.step().await.unwrap();
    }
    assert_eq!(devnet.pool_len(), 2, "posted again, both");
    devnet.seal().unwrap();
    submitter.step().await.unwrap();
    assert_eq!(s.chain.safe(), head);
    let posted: u64 = s.rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert_eq!(posted, head);
}
