//! Issue 12, item 0, end to end: an L2 whose state is large (100,000 funded accounts) and whose
//! blocks are full of transfers to fresh addresses — each carrying a long state proof in the
//! witness, which travels in calldata at the EIP-7623 floor of 40 L1 gas per byte. A full block
//! (1,400 transfers) then needs more L1 gas than one `advance` may use (30M): before the fix the
//! sequencer sealed such blocks anyway and its submitter retried the same unpostable batch
//! forever while the safe head stood still, so this test timed out. Now the producer cuts every
//! block to what one `advance` carries, and every sealed block is verified on L1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_eips::Encodable2718;
use alloy_primitives::{Address, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::{DaMode, PostedBlock, SequencingConfig};
use nrd_node::{L1View, L2Chain, L2Node, TxSink};
use nrd_sequencer::{AdvanceLimits, BlockProducer, DEFAULT_MAX_FEE, Mempool, Submitter, SubmitterConfig, advance_cost};
use nrd_storage::RedbStore;
use nrd_testkit::{ETH, Rollup, l2_key};
use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

const ACCOUNTS: u64 = 100_000;
const SENDERS: usize = 10;
const TRANSFERS: usize = 3_000;

#[tokio::test(flavor = "multi_thread")]
async fn with_a_large_state_and_full_blocks_the_safe_head_keeps_up() {
    let keys: Vec<PrivateKeySigner> = (0..SENDERS).map(|i| l2_key(&format!("large state sender {i}"))).collect();
    let mut alloc: Vec<(Address, U256)> = keys.iter().map(|k| (k.address(), U256::from(1000 * ETH))).collect();
    alloc.extend((0..ACCOUNTS).map(|i| (Address::from_word(keccak256(i.to_be_bytes())), U256::from(1))));
    let rollup = Rollup::new(&alloc);
    let devnet = rollup.l1.devnet.clone();
    let (_rpc, client) = common::serve(&rollup).await;
    let chain = Arc::new(L2Chain::open(rollup.l2.genesis.clone(), Arc::new(RedbStore::in_memory().unwrap())).unwrap());
    let node = Arc::new(L2Node::new(chain.clone(), None, 1));
    let view = Arc::new(Mutex::new(L1View { head: rollup.l1.head_ref(), ..Default::default() }));
    let pool = Arc::new(Mempool::new(chain.clone(), Default::default(), vec![]));
    let limits = AdvanceLimits::default();
    let producer = BlockProducer::new(
        chain.clone(),
        pool.clone(),
        view,
        SequencingConfig { gas_limit: chain.head().header().gas_limit, fee_recipient: Address::repeat_byte(0xfe) },
    )
    .with_limits(limits, DaMode::Blob);
    let submitter = Submitter::new(
        node.clone(),
        client,
        SubmitterConfig {
            rollup: rollup.address,
            key: rollup.sequencer(),
            l1_chain_id: 900,
            mode: DaMode::Blob,
            runs: true,
            max_blocks: 8,
            max_l2_gas: 15_000_000,
            limits,
            max_fee_per_gas: DEFAULT_MAX_FEE,
            max_fee_per_blob_gas: DEFAULT_MAX_FEE,
            poll: Duration::from_millis(100),
            resubmit_after: Duration::from_secs(60),
            max_delay: Duration::ZERO,
            max_in_flight: 1,
        },
    );
    // The transfers wait in the pool before the first block: blocks are as full as L2 gas allows.
    for i in 0..TRANSFERS {
        let key = &keys[i % SENDERS];
        let to = Address::from_word(keccak256(format!("large state fresh {i}")));
        let tx = rollup.l2.tx(key, (i / SENDERS) as u64, to, U256::from(1), Bytes::new());
        pool.submit(&tx.encoded_2718()).unwrap();
    }

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let sequencing = tokio::spawn(producer.run(Duration::from_secs(1), wait(stopped.clone())));
    let posting = tokio::spawn(submitter.run(wait(stopped.clone())));
    let l1 = devnet.clone();
    let sealing = tokio::spawn(async move {
        while !*stopped.borrow() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let l1 = l1.clone();
            tokio::task::spawn_blocking(move || l1.seal().unwrap()).await.unwrap();
        }
    });

    // Every transfer sealed, every sealed block verified on L1 (generous bound for a debug build).
    let started = Instant::now();
    let included = || (1..=chain.head().number()).map(|n| chain.block(n).unwrap().tx_hashes.len()).sum::<usize>();
    while !(included() == TRANSFERS && chain.safe() == chain.head().number()) {
        assert!(
            started.elapsed() < Duration::from_secs(900),
            "safe head {} behind head {} ({} of {TRANSFERS} transfers sealed; halted: {:?})",
            chain.safe(),
            chain.head().number(),
            included(),
            node.status().halted
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let head = chain.head().number();
    let _ = stop.send(true);
    for task in [sequencing, posting, sealing] {
        task.await.unwrap();
    }
    let posted: u64 = rollup.view(nrd_bridge::NativeRollup::headNumberCall {});
    assert!(posted >= head, "L1 holds {posted}, the node sealed {head}");
    assert_eq!(node.status().halted, None);
    // Blocks were cut below what L2 gas allows (about 1,400 transfers), and each fits one advance.
    let mut largest = 0;
    for number in 1..=head {
        let record = chain.store().block(number).unwrap().unwrap();
        let txs = record.stored.tx_hashes.len();
        largest = largest.max(txs);
        eprintln!("block {number}: {txs} transfers");
        if let Some(witness) = record.witness {
            let block = PostedBlock {
                block: record.stored.block.clone(),
                witness,
                l1_anchor: record.l1_anchor,
                messages: record.messages,
            };
            let (_, cost) = advance_cost(&[block], DaMode::Blob).unwrap();
            assert_eq!(cost.check(&limits), Ok(()), "block {number}: {cost:?}");
        }
    }
    assert!(largest < 1_300, "no block was cut ({largest} transfers): the state is too small to need it");
}
