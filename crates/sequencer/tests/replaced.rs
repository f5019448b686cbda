//! A sequencer whose blocks were not posted yet, when someone else advances the rollup (the
//! forced-inclusion window passed): L1 decides. The sequencer drops its unposted blocks, its
//! transactions go back to the pool, it imports what L1 holds and goes on sequencing on top —
//! instead of stopping, as a "diverged" node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_eips::Encodable2718;
use alloy_primitives::{Address, Bytes, U256};
use nrd_derivation::{DaMode, SequencingConfig};
use nrd_node::{Follower, FollowerConfig, L2Chain, L2Node, TxSink};
use nrd_sequencer::{BlockProducer, Mempool};
use nrd_storage::RedbStore;
use nrd_testkit::{ETH, Rollup, WINDOW, l2_key};
use std::{sync::Arc, time::Duration};

#[tokio::test(flavor = "multi_thread")]
async fn a_sequencer_replaced_by_another_proposer_follows_l1_and_keeps_its_transactions() {
    let user = l2_key("replaced sequencer user");
    let mut rollup = Rollup::new(&[(user.address(), U256::from(100 * ETH))]);
    let (_rpc, client) = common::serve(&rollup).await;

    // The sequencer's node: its own L2 chain and pool.
    let chain = Arc::new(L2Chain::open(rollup.l2.genesis.clone(), Arc::new(RedbStore::in_memory().unwrap())).unwrap());
    let pool = Arc::new(Mempool::new(chain.clone(), Default::default(), vec![]));
    let node = Arc::new(L2Node::new(chain.clone(), Some(pool.clone() as Arc<dyn TxSink>), 1));
    let follower = Follower::new(
        node.clone(),
        client,
        rollup.address,
        FollowerConfig {
            start_block: 0,
            confirmations: 0,
            poll_interval: Duration::from_millis(50),
            ws_url: None,
            import: false,
        },
    );
    let producer = BlockProducer::new(
        chain.clone(),
        pool.clone(),
        follower.view(),
        SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::repeat_byte(0xfe) },
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let following = tokio::spawn(follower.run(async {
        stopped.await.ok();
    }));

    // The sequencer seals block 1 with the user's transfer, and never posts it.
    let transfer = rollup.l2.tx(&user, 0, Address::repeat_byte(0x77), U256::from(1), Bytes::new());
    let hash = pool.submit(&transfer.encoded_2718()).unwrap();
    let ours = loop {
        if let Some(block) = producer.seal().unwrap() {
            break block;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(ours.tx_hashes, [hash]);

    // The window passes; someone else posts another block 1 (empty).
    rollup.l1.increase_time(WINDOW + 60);
    let theirs = rollup.build(false, vec![]);
    let proposer = rollup.l1.key(7);
    assert!(rollup.advance(&proposer, std::slice::from_ref(&theirs), DaMode::Calldata).success);
    let theirs_hash = theirs.block.header.hash_slow();
    assert_ne!(theirs_hash, ours.hash);

    // The sequencer follows L1: block 1 is theirs, verified (safe), and the transfer is pending again.
    for _ in 0..200 {
        if chain.block(1).is_some_and(|b| b.hash == theirs_hash) {
            break;
        }
        assert!(!following.is_finished(), "the sequencer's L1 loop stopped: {:?}", following.await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(chain.block(1).map(|b| b.hash), Some(theirs_hash));
    assert_eq!(chain.safe(), 1);
    assert!(pool.pooled(hash).is_some(), "the dropped block's transaction is back in the pool");

    // And it sequences on top: the transfer lands in block 2.
    let next = loop {
        if let Some(block) = producer.seal().unwrap() {
            break block;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!((next.number(), next.header().parent_hash), (2, theirs_hash));
    assert_eq!(next.tx_hashes, [hash]);
    stop.send(()).unwrap();
    following.await.unwrap().unwrap();
}
