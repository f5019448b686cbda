//! The batch submitter against the real L1 devnet served over JSON-RPC (with `NativeRollup`
//! deployed): blocks sealed by the block producer are posted and verified; a stuck transaction
//! is replaced with higher fees; a batch L1 refuses halts posting with the reason and is never
//! sent again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::Sealed;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::Address;
use nrd_chain::{MemoryState, StoredBlock, build_block};
use nrd_derivation::{DaMode, SequencingConfig, block_inputs};
use nrd_execute_client::{ExecutionWitness, record_block};
use nrd_l1_watcher::{L1Client, L1ClientConfig};
use nrd_node::{BlockL1Info, L1View, L2Chain, L2Node};
use nrd_rpc::{RpcLimits, RunningServer, serve_beacon, serve_l1};
use nrd_sequencer::{BlockProducer, Mempool, SequencerError, Submitter, SubmitterConfig};
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
    let rollup = Rollup::new(&[]);
    let devnet = rollup.l1.devnet.clone();
    let rpc = serve_l1(devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
    let beacon = serve_beacon(devnet, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
    let client =
        L1Client::new(L1ClientConfig::new(format!("http://{}", rpc.addr)).with_beacon(format!("http://{beacon}")))
            .unwrap();
    let chain = Arc::new(L2Chain::open(rollup.l2.genesis.clone(), Arc::new(RedbStore::in_memory().unwrap())).unwrap());
    let node = Arc::new(L2Node::new(chain.clone(), None, 1));
    let view = Arc::new(Mutex::new(L1View { head: rollup.l1.head_ref(), ..Default::default() }));
    Setup { rollup, _rpc: rpc, client, chain, node, view }
}

fn submitter(s: &Setup, mode: DaMode, resubmit_after: Duration) -> Submitter {
    Submitter::new(
        s.node.clone(),
        s.client.clone(),
        SubmitterConfig {
            rollup: s.rollup.address,
            key: s.rollup.sequencer(),
            l1_chain_id: 900,
            mode,
            max_blocks: 4,
            max_l2_gas: 15_000_000,
            poll: Duration::from_millis(20),
            resubmit_after,
        },
    )
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
fn append_unverifiable(s: &Setup) {
    let parent: Sealed<_> = s.chain.head_sealed();
    let l1 = s.rollup.l1.head_ref();
    let config = SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) };
    let inputs = block_inputs(&parent, &[], vec![], parent.timestamp + 1, l1, &config).unwrap();
    let anchor = inputs.attributes.anchor.clone();
    let ancestors = s.chain.ancestors();
    let head = MemoryState::clone(&s.chain.head_state());
    let built = build_block(s.chain.spec(), &parent, inputs.attributes, vec![], &mut head.clone(), &ancestors).unwrap();
    let mut state = head;
    let (imported, _) = record_block(s.chain.spec(), &built.block, &anchor, &mut state, &ancestors).unwrap();
    let stored = StoredBlock::new(built.block, built.senders, imported.executed.receipts.clone());
    let info = BlockL1Info { l1_anchor: l1.number, messages: vec![], anchor };
    s.chain.append(stored, info, Some(ExecutionWitness::default()), &imported.executed.changes, state).unwrap();
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
    let mut sealed = 0;
    while sealed < 2 {
        if producer.seal().unwrap().is_some() {
            sealed += 1;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
async fn a_batch_l1_refuses_halts_posting_and_is_never_resent() {
    // Blob mode: the transaction is sent (blobs cannot be simulated) and reverts on L1.
    let s = setup().await;
    append_unverifiable(&s);
    let mut blob = submitter(&s, DaMode::Blob, Duration::from_secs(60));
    blob.step().await.unwrap();
    s.rollup.l1.devnet.seal().unwrap();
    match blob.step().await {
        Err(SequencerError::Refused { reason, .. }) => assert!(reason.contains("reverted"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sequencer_nonce(&s).await, 1);
    // Running, a submitter halts on a refusal, records it, and sends nothing more; a submitter
    // started later over the same chain (a restart) starts halted.
    let run = |s: &Setup| {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(submitter(s, DaMode::Blob, Duration::from_secs(60)).run(async move {
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
        assert!(status.halted.as_deref().is_some_and(|r| r.contains("reverted")), "round {round}: {status:?}");
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
    let mut calldata = submitter(&s, DaMode::Calldata, Duration::from_secs(60));
    match calldata.step().await {
        Err(SequencerError::Refused { reason, .. }) => assert!(reason.contains("ExecuteFailed"), "{reason}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(sequencer_nonce(&s).await, 0, "nothing was sent");
}
