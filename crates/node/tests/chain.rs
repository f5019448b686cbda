//! The L2 chain on its own, without L1 or processes: importing derived blocks, refusing
//! forged ones without changing anything, rewinding for an L1 reorg and taking another branch,
//! and reopening from the store after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, B256, Bytes, U256};
use nrd_derivation::{L1BlockRef, PostedBlock};
use nrd_node::{L2Chain, L2Node, NodeError};
use nrd_storage::{ChainStore, RedbStore};
use nrd_testkit::{ETH, L2, l2_key};
use std::sync::Arc;

/// The L1 block an L2 block is anchored to (made up: the chain checks the hash it is given).
fn l1(number: u64) -> L1BlockRef {
    L1BlockRef { number, hash: B256::with_last_byte(number as u8 + 1), timestamp: 1_000 + 12 * number }
}

/// A sequencer's L2 and `n` blocks of one transfer each, anchored to L1 blocks 1..=n.
fn blocks(n: u64) -> (L2, Vec<PostedBlock>) {
    let alice = l2_key("alice");
    let mut l2 = L2::new(&[(alice.address(), U256::from(100 * ETH))]);
    let posted = (0..n)
        .map(|i| {
            let tx = l2.tx(&alice, i, Address::with_last_byte(0xb0), U256::from(ETH), Bytes::new());
            l2.build(&[], vec![tx], l1(i + 1))
        })
        .collect();
    (l2, posted)
}

fn open(l2: &L2, store: Arc<dyn ChainStore>) -> L2Chain {
    L2Chain::open(l2.genesis.clone(), store).unwrap()
}

fn memory() -> Arc<dyn ChainStore> {
    Arc::new(RedbStore::in_memory().unwrap())
}

fn import_all(chain: &L2Chain, posted: &[PostedBlock]) {
    for block in posted {
        chain.import(block, l1(block.l1_anchor).hash).unwrap();
    }
}

#[test]
fn imports_derived_blocks_and_indexes_them() {
    let (l2, posted) = blocks(3);
    let chain = open(&l2, memory());
    let mut heads = chain.subscribe();
    import_all(&chain, &posted);
    assert_eq!(chain.head().number(), 3);
    assert_eq!(chain.head().hash, l2.head().hash(), "the follower's chain is the sequencer's");
    assert_eq!(chain.head().header().state_root, l2.head().state_root);
    for (i, block) in posted.iter().enumerate() {
        let stored = chain.block(i as u64 + 1).unwrap();
        assert_eq!(stored.hash, block.block.header.hash_slow());
        assert_eq!(chain.block_by_hash(stored.hash).unwrap().number(), i as u64 + 1);
        let tx = stored.tx_hashes[0];
        assert_eq!(chain.transaction(tx).map(|(b, index)| (b.number(), index)), Some((i as u64 + 1, 0)));
        assert_eq!(chain.l1_info(i as u64 + 1).unwrap().l1_anchor, i as u64 + 1);
        assert_eq!(heads.try_recv().unwrap().number(), i as u64 + 1, "subscribers see each head");
    }
    assert!(chain.block(4).is_none());
}

#[test]
fn forged_blocks_are_refused_and_change_nothing() {
    let (l2, posted) = blocks(2);
    let chain = open(&l2, memory());
    chain.import(&posted[0], l1(1).hash).unwrap();
    let before = (chain.head().hash, chain.head().header().state_root);

    // A block that does not build on the head.
    let e = chain.import(&posted[0], l1(1).hash).unwrap_err();
    assert!(matches!(e, NodeError::Block(_) | NodeError::NotOnHead { .. }), "{e}");
    // The right block, with an L1 hash that is not its anchor's (prevRandao must equal it).
    let e = chain.import(&posted[1], B256::repeat_byte(0xee)).unwrap_err();
    assert!(matches!(e, NodeError::HeaderRule(_)), "{e}");
    // A post-state root that the execution does not produce.
    let mut forged = posted[1].clone();
    forged.block.header.state_root = B256::repeat_byte(0x55);
    let e = chain.import(&forged, l1(2).hash).unwrap_err();
    assert!(matches!(e, NodeError::Block(_)), "{e}");
    // More gas declared than used.
    let mut forged = posted[1].clone();
    forged.block.header.gas_used += 1;
    assert!(chain.import(&forged, l1(2).hash).is_err());

    assert_eq!((chain.head().hash, chain.head().header().state_root), before, "nothing changed");
    chain.import(&posted[1], l1(2).hash).unwrap();
    assert_eq!(chain.head().number(), 2);
}

#[test]
fn rewinds_for_a_reorg_and_takes_the_other_branch() {
    let (l2, posted) = blocks(3);
    let chain = open(&l2, memory());
    import_all(&chain, &posted);
    chain.set_safe(3);
    chain.set_finalized(2);
    let dropped_tx = chain.block(3).unwrap().tx_hashes[0];

    let dropped = chain.rewind(1).unwrap();
    assert_eq!(dropped.iter().map(|b| b.number()).collect::<Vec<_>>(), vec![2, 3], "oldest first");
    assert_eq!(chain.head().number(), 1);
    assert_eq!((chain.safe(), chain.finalized()), (1, 1), "safe and finalized move back with the head");
    assert!(chain.transaction(dropped_tx).is_none(), "dropped transactions are no longer indexed");
    assert!(chain.block_by_hash(dropped[0].hash).is_none());
    assert_eq!(chain.rewind(5).unwrap().len(), 0, "rewinding ahead of the head is a no-op");

    // Another branch from block 1: a different transfer anchored elsewhere.
    let mut other = L2::new(&[(l2_key("alice").address(), U256::from(100 * ETH))]);
    let alice = l2_key("alice");
    let first = other.build(
        &[],
        vec![other.tx(&alice, 0, Address::with_last_byte(0xb0), U256::from(ETH), Bytes::new())],
        l1(1),
    );
    assert_eq!(first.block.header.hash_slow(), posted[0].block.header.hash_slow(), "same block 1");
    let tx = other.tx(&alice, 1, Address::with_last_byte(0xc0), U256::from(2 * ETH), Bytes::new());
    let branch = other.build(&[], vec![tx], l1(2));
    chain.import(&branch, l1(2).hash).unwrap();
    assert_eq!(chain.head().hash, other.head().hash());
    assert_ne!(chain.head().hash, posted[1].block.header.hash_slow());
}

#[test]
fn reopens_from_its_store_after_a_restart() {
    let (l2, posted) = blocks(3);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    {
        let chain = open(&l2, Arc::new(RedbStore::open(&path).unwrap()));
        import_all(&chain, &posted[..2]);
        chain.set_safe(2);
    }
    let chain = open(&l2, Arc::new(RedbStore::open(&path).unwrap()));
    assert_eq!(chain.head().number(), 2);
    assert_eq!(chain.safe(), 0, "the safe head is learned from L1 again, never trusted from disk");
    assert_eq!(chain.head().hash, posted[1].block.header.hash_slow());
    assert!(chain.transaction(chain.block(1).unwrap().tx_hashes[0]).is_some());
    // And carries on from there.
    chain.import(&posted[2], l1(3).hash).unwrap();
    assert_eq!(chain.head().header().state_root, l2.head().state_root);

    // A store of another genesis is refused, not silently reused.
    let other = L2::new(&[(Address::with_last_byte(1), U256::from(1))]);
    drop(chain);
    let e = L2Chain::open(other.genesis, Arc::new(RedbStore::open(&path).unwrap())).unwrap_err();
    assert!(matches!(e, NodeError::GenesisMismatch), "{e}");
}

/// A genesis of generated accounts larger than one load batch: written to the store in batches,
/// its root checked against the streamed root of the header, recognised on a restart by its
/// fingerprint (and recomputed when the fingerprint is gone), refused for another seed.
#[test]
fn a_generated_genesis_loads_in_batches_and_is_recognised_on_restart() {
    use nrd_chain::StateProvider;
    use nrd_derivation::{L2Genesis, SyntheticAccounts};
    let synthetic = SyntheticAccounts { count: 150_001, balance: U256::from(3), seed: B256::repeat_byte(9) };
    let genesis = L2Genesis::new(901, 30_000_000, &[]).with_synthetic(Some(synthetic));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    let root = {
        let chain = L2Chain::open(genesis.clone(), Arc::new(RedbStore::open(&path).unwrap())).unwrap();
        let mut state = chain.head_state().unwrap();
        for i in [0, 77_777, 150_000] {
            assert_eq!(state.account(synthetic.address(i)).unwrap().unwrap().balance, U256::from(3));
        }
        assert_eq!(state.account(synthetic.address(150_001)).unwrap(), None);
        assert_eq!(chain.head().header().state_root, genesis.state_root());
        chain.head().header().state_root
    };
    let reopen = |genesis: &L2Genesis| L2Chain::open(genesis.clone(), Arc::new(RedbStore::open(&path).unwrap()));
    assert_eq!(reopen(&genesis).unwrap().head_state().unwrap().root(), root);
    // Without the fingerprint the root is recomputed and still matches.
    RedbStore::open(&path).unwrap().put_meta("genesis_fingerprint", b"gone").unwrap();
    assert_eq!(reopen(&genesis).unwrap().head().header().state_root, root);
    let other = genesis.with_synthetic(Some(SyntheticAccounts { seed: B256::repeat_byte(8), ..synthetic }));
    assert!(matches!(reopen(&other).unwrap_err(), NodeError::GenesisMismatch));
}

#[test]
fn the_node_reports_its_heads_from_the_chain() {
    let (l2, posted) = blocks(3);
    let chain = Arc::new(open(&l2, memory()));
    import_all(&chain, &posted);
    chain.set_safe(2);
    chain.set_finalized(5); // never past the safe head
    let node = L2Node::new(chain, None, 1);
    // What the follower records is kept; the heads always come from the chain.
    node.update_status(|s| {
        s.l1_head = 9;
        s.unsafe_head = 100;
    });
    let status = node.status();
    assert_eq!(
        (status.l1_head, status.unsafe_head, status.safe_head, status.finalized_head, status.l1_anchor),
        (9, 3, 2, 2, 3)
    );
    assert_eq!(node.rewind(1).unwrap(), 2, "two blocks dropped");
    let status = node.status();
    assert_eq!((status.unsafe_head, status.safe_head, status.finalized_head, status.l1_anchor), (1, 1, 1, 1));
}
