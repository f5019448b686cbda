//! The store on a real redb file: chains built by the chain engine, reopened from disk, rewound,
//! corrupted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Header, Sealed, TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, map::HashMap};
use alloy_signer_local::PrivateKeySigner;
use nrd_bridge::L1Message;
use nrd_chain::{
    BlockAttributes, ChainSpec, Classify, GenesisAccount, LayeredState, MemoryState, Severity, StateChanges,
    StateCommitter, StateError, StateProvider, StateSource, StoredBlock, TrieState, TrieUpdate, build_block,
};
use nrd_execute_client::{Ancestors, record_block};
use nrd_storage::{ChainStore, CheckpointReader, L2Block, RedbStore, StoreError, StoreOptions};
use proptest::prelude::*;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use revm::primitives::hardfork::SpecId;
use std::{path::Path, sync::Arc};

const CHAIN_ID: u64 = 901;
/// `sstore(calldata[0], calldata[32])`.
const SETTER: Address = address!("0x00000000000000000000000000000000000005e7");
const SETTER_CODE: [u8; 8] = [0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00];
/// An empty account with storage: the first 0-value call to it deletes it (EIP-161) with its storage.
const EMPTY_WITH_STORAGE: Address = address!("0x00000000000000000000000000000000000e3e3e");

/// What a test transaction does.
#[derive(Debug, Clone)]
enum Op {
    /// Sends wei to one of a few addresses (0 wei to a fresh one touches without creating).
    Transfer(u8, u64),
    /// `SETTER.sstore(slot, value)`; value 0 clears.
    Set(u8, u8),
    /// A 0-value call to `EMPTY_WITH_STORAGE`.
    Touch,
    /// Deploys a SETTER-like contract whose code ends in the given byte.
    Deploy(u8),
    /// Creates a contract that self-destructs in its constructor.
    CreateDestroy,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0u8..6, 0u64..3).prop_map(|(to, v)| Op::Transfer(to, v)),
        (0u8..4, 0u8..3).prop_map(|(s, v)| Op::Set(s, v)),
        Just(Op::Touch),
        (0u8..3).prop_map(Op::Deploy),
        Just(Op::CreateDestroy),
    ]
}

/// A chain built by the real engine, with the header and state at every height.
struct Chain {
    spec: ChainSpec,
    key: PrivateKeySigner,
    alloc: Vec<(Address, GenesisAccount)>,
    genesis: StoredBlock,
    heights: Vec<(Sealed<Header>, MemoryState)>,
}

impl Chain {
    fn new() -> Self {
        let key = nrd_test_utils::key("nrd storage test");
        let spec = ChainSpec::post_merge(CHAIN_ID, SpecId::CANCUN, None);
        let alloc = vec![
            (key.address(), GenesisAccount { balance: U256::from(10u128.pow(21)), ..Default::default() }),
            (Address::with_last_byte(0x51), GenesisAccount { balance: U256::from(7), ..Default::default() }),
            (
                SETTER,
                GenesisAccount {
                    code: Bytes::from_static(&SETTER_CODE),
                    storage: [(U256::from(1), U256::from(11)), (U256::from(2), U256::from(22))].into_iter().collect(),
                    ..Default::default()
                },
            ),
            (
                EMPTY_WITH_STORAGE,
                GenesisAccount {
                    storage: [(U256::from(9), U256::from(99))].into_iter().collect(),
                    ..Default::default()
                },
            ),
        ];
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let header = spec.genesis_header(state.root(), 30_000_000, 1);
        let genesis = StoredBlock::new(
            alloy_consensus::Block::new(header.clone(), alloy_consensus::BlockBody::default()),
            vec![],
            vec![],
        );
        Self { spec, key, alloc, genesis, heights: vec![(Sealed::new(header), state)] }
    }

    fn head(&self) -> u64 {
        self.heights.len() as u64 - 1
    }

    fn root(&self, number: u64) -> B256 {
        self.heights[number as usize].0.state_root
    }

    fn tx(&self, nonce: u64, to: TxKind, value: u64, input: Vec<u8>) -> Recovered<TxEnvelope> {
        let tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 200_000,
            max_fee_per_gas: 20_000_000_000,
            max_priority_fee_per_gas: 1,
            to,
            value: U256::from(value),
            input: input.into(),
            access_list: Default::default(),
        };
        nrd_test_utils::sign_recovered(&self.key, tx)
    }

    /// Builds the head's child from `ops` (the block's `salt` varies its timestamp), pushes it,
    /// and returns it as the store keeps it, with its changes.
    fn build(&mut self, ops: &[Op], salt: u64, with_witness: bool) -> (L2Block, StateChanges) {
        let (parent, state) = self.heights.last().unwrap().clone();
        let mut state = state;
        let mut nonce = state.account(self.key.address()).unwrap().map_or(0, |a| a.nonce);
        let txs = ops
            .iter()
            .map(|op| {
                let tx = match op {
                    Op::Transfer(to, value) => {
                        self.tx(nonce, TxKind::Call(Address::with_last_byte(0x50 + to)), *value, vec![])
                    }
                    Op::Set(slot, value) => {
                        let input = [U256::from(*slot).to_be_bytes::<32>(), U256::from(*value).to_be_bytes::<32>()];
                        self.tx(nonce, TxKind::Call(SETTER), 0, input.concat())
                    }
                    Op::Touch => self.tx(nonce, TxKind::Call(EMPTY_WITH_STORAGE), 0, vec![]),
                    Op::Deploy(tag) => {
                        let mut init = vec![0x60, 0x09, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x09, 0x60, 0x00, 0xf3];
                        init.extend_from_slice(&SETTER_CODE);
                        init.push(*tag);
                        self.tx(nonce, TxKind::Create, 0, init)
                    }
                    Op::CreateDestroy => self.tx(nonce, TxKind::Create, 1, vec![0x33, 0xff]),
                };
                nonce += 1;
                tx
            })
            .collect();
        let hashes: HashMap<u64, B256> = self.heights.iter().map(|(h, _)| (h.number, h.hash())).collect();
        let attrs =
            BlockAttributes { timestamp: parent.timestamp + 12 + salt, gas_limit: 30_000_000, ..Default::default() };
        let pre = state.clone();
        let built = build_block(&self.spec, &parent, attrs, txs, &mut state, &hashes).unwrap();
        assert!(built.rejected.is_empty(), "{:?}", built.rejected);
        assert_eq!(state.root(), built.block.header.state_root);
        let witness = with_witness.then(|| {
            let mut pre = pre;
            record_block(&self.spec, &built.block, &[], &mut pre, &Ancestors::parent_only(parent.clone())).unwrap().1
        });
        let number = built.block.header.number;
        let changes = built.executed.changes.clone();
        let stored = StoredBlock::new(built.block, built.senders, built.executed.receipts);
        self.heights.push((Sealed::new(stored.header().clone()), state));
        let block = L2Block {
            stored: Arc::new(stored),
            anchor: Bytes::from(number.to_be_bytes().to_vec()),
            l1_anchor: 100 + number,
            messages: (0..number % 3).map(|i| message(number * 10 + i)).collect(),
            witness,
        };
        (block, changes)
    }

    fn rewind(&mut self, number: u64) {
        self.heights.truncate(number as usize + 1);
    }
}

fn message(index: u64) -> L1Message {
    L1Message {
        kind: 0,
        from: Address::with_last_byte(1),
        to: Address::with_last_byte(2),
        mint: U256::from(index * 1000),
        value: U256::from(index),
        gasLimit: 100_000,
        index,
        enqueuedAt: 1_700_000_000 + index,
        data: Bytes::from(vec![index as u8; 5]),
    }
}

/// The chain of the reopen tests: every kind of state change, witnesses on some blocks.
fn sample_ops() -> Vec<Vec<Op>> {
    vec![
        vec![Op::Transfer(0, 5), Op::Set(1, 0), Op::Set(3, 7)],
        vec![Op::Touch, Op::Deploy(1), Op::Transfer(2, 0)],
        vec![Op::Set(2, 5), Op::CreateDestroy, Op::Deploy(1)],
        vec![],
        vec![Op::Set(3, 0), Op::Transfer(1, 2), Op::Deploy(2)],
    ]
}

fn open(path: &Path) -> RedbStore {
    RedbStore::open(path).unwrap()
}

/// The store's state at `number` (the head with `None`), as the node reads it.
fn state_at(store: &RedbStore, number: Option<u64>) -> Option<LayeredState<Box<dyn StateSource + Send>>> {
    store.state_at(number).unwrap().map(|(_, source)| LayeredState::new(source))
}

/// The root of the store's head state.
fn head_root(store: &RedbStore) -> B256 {
    state_at(store, None).unwrap().root()
}

/// Appends `block` with the trie update its changes make on the store's head state, as the
/// node does.
fn append(store: &RedbStore, block: &L2Block, changes: &StateChanges) -> Result<(), StoreError> {
    let update = match state_at(store, None) {
        Some(mut state) => {
            state.commit(changes).unwrap();
            state.trie_update()
        }
        None => TrieUpdate::default(),
    };
    store.append(block, changes, &update)
}

/// Every address the test chains touch: the sender, the setter, the recipients and whatever
/// the sender deployed.
fn addresses(chain: &Chain) -> Vec<Address> {
    let mut out = vec![chain.key.address(), SETTER, EMPTY_WITH_STORAGE];
    out.extend((0x50..0x57).map(Address::with_last_byte));
    out.extend((0..40).map(|nonce| chain.key.address().create(nonce)));
    out
}

/// The store's state at `number` reads and proves exactly what the model's state at that
/// height does (the proofs come from the stored trie nodes).
fn assert_state(store: &RedbStore, number: Option<u64>, chain: &Chain) {
    let height = number.unwrap_or(chain.head());
    let mut got = state_at(store, number).unwrap_or_else(|| panic!("state {height} readable"));
    let mut want = chain.heights[height as usize].1.clone();
    assert_eq!(got.root(), chain.root(height));
    for address in addresses(chain) {
        assert_eq!(got.account(address).unwrap(), want.account(address).unwrap(), "{address} at {height}");
        let slots: Vec<U256> = (0..5u64).map(U256::from).chain([U256::from(9), U256::from(40)]).collect();
        for slot in &slots {
            assert_eq!(got.storage(address, *slot).unwrap(), want.storage(address, *slot).unwrap());
        }
        assert_eq!(got.proof(address, &slots).unwrap(), want.proof(address, &slots).unwrap(), "{address} at {height}");
    }
}

/// The nodes with a reference in the store's trie table, with their counts.
fn stored_nodes(path: &Path) -> (HashMap<B256, u32>, usize) {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_read().unwrap();
    let def: TableDefinition<'_, [u8; 32], &[u8]> = TableDefinition::new("trie_nodes");
    let table = txn.open_table(def).unwrap();
    let mut live = HashMap::default();
    let mut rows = 0;
    for entry in table.iter().unwrap() {
        let (hash, row) = entry.unwrap();
        let refs = u32::from_be_bytes(row.value()[..4].try_into().unwrap());
        rows += 1;
        if refs > 0 {
            live.insert(B256::from(hash.value()), refs);
        }
    }
    (live, rows)
}

/// The model state's nodes, counted by position.
fn model_nodes(state: &MemoryState) -> HashMap<B256, u32> {
    let mut state = state.clone();
    let mut counts = HashMap::default();
    for (hash, _) in state.trie_mut().revealed_nodes() {
        *counts.entry(hash).or_insert(0) += 1;
    }
    counts
}

/// Genesis plus the sample blocks, appended to a fresh store at `path`; returns the chain and blocks.
fn sample_store(path: &Path) -> (Chain, Vec<L2Block>) {
    sample_store_with(path, StoreOptions::default())
}

fn sample_store_with(path: &Path, options: StoreOptions) -> (Chain, Vec<L2Block>) {
    let mut chain = Chain::new();
    let store = RedbStore::open_with(path, options).unwrap();
    store.init_genesis(&chain.genesis, &chain.alloc).unwrap();
    let mut blocks = Vec::new();
    for (i, ops) in sample_ops().iter().enumerate() {
        let (block, changes) = chain.build(ops, 0, i >= 2);
        append(&store, &block, &changes).unwrap();
        blocks.push(block);
    }
    (chain, blocks)
}

fn assert_same_block(got: &L2Block, want: &L2Block) {
    assert_eq!(got.hash(), want.hash());
    assert_eq!(got.stored.block, want.stored.block);
    assert_eq!(got.stored.senders, want.stored.senders);
    assert_eq!(got.stored.receipts, want.stored.receipts);
    assert_eq!(got.stored.tx_hashes, want.stored.tx_hashes);
    assert_eq!(got.anchor, want.anchor);
    assert_eq!(got.l1_anchor, want.l1_anchor);
    assert_eq!(got.messages, want.messages);
    assert_eq!(got.witness, want.witness);
}

#[test]
fn reopened_store_has_blocks_receipts_index_and_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/dir/l2.redb");
    let (chain, blocks) = sample_store(&path);

    let store = open(&path);
    assert_eq!(store.head().unwrap(), Some(chain.head()));
    let genesis = store.block(0).unwrap().unwrap();
    assert_eq!(genesis.hash(), chain.genesis.hash);
    assert!(genesis.anchor.is_empty() && genesis.messages.is_empty() && genesis.witness.is_none());
    for want in &blocks {
        let number = want.number();
        let got = store.block(number).unwrap().unwrap();
        assert_same_block(&got, want);
        assert_eq!(store.block_hash(number).unwrap(), Some(want.hash()));
        assert_eq!(store.block_number(want.hash()).unwrap(), Some(number));
        for (i, hash) in want.stored.tx_hashes.iter().enumerate() {
            assert_eq!(store.transaction(*hash).unwrap(), Some((number, i)));
        }
    }
    assert!(store.block(chain.head() + 1).unwrap().is_none());
    assert_eq!(store.block_number(B256::repeat_byte(7)).unwrap(), None);
    assert_eq!(store.transaction(B256::repeat_byte(7)).unwrap(), None);

    // The head state and every earlier one (all inside the default window) read from disk.
    for number in 0..=chain.head() {
        assert_state(&store, Some(number), &chain);
    }
    assert_state(&store, None, &chain);
    assert!(state_at(&store, Some(chain.head() + 1)).is_none());
    // The deleted empty account lost its storage with it.
    let mut state = state_at(&store, None).unwrap();
    assert_eq!(state.account(EMPTY_WITH_STORAGE).unwrap(), None);
    assert_eq!(state.storage(EMPTY_WITH_STORAGE, U256::from(9)).unwrap(), U256::ZERO);
    // The stored nodes with a reference are exactly the head state's, counted by position.
    drop((state, store));
    assert_eq!(stored_nodes(&path).0, model_nodes(&chain.heights.last().unwrap().1));
}

#[test]
fn rewind_restores_the_earlier_state_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let (mut chain, blocks) = sample_store(&path);

    for target in [4, 1] {
        open(&path).rewind(target).unwrap();
        let reopened = open(&path);
        assert_eq!(reopened.head().unwrap(), Some(target));
        assert_state(&reopened, Some(target), &chain);
        for gone in &blocks[target as usize..] {
            assert!(reopened.block(gone.number()).unwrap().is_none());
            assert_eq!(reopened.block_hash(gone.number()).unwrap(), None);
            assert_eq!(reopened.block_number(gone.hash()).unwrap(), None);
            for hash in &gone.stored.tx_hashes {
                assert_eq!(reopened.transaction(*hash).unwrap(), None);
            }
        }
        assert_same_block(&reopened.block(target).unwrap().unwrap(), &blocks[target as usize - 1]);
    }
    let store = open(&path);
    // Rewinding to the head changes nothing; above it is an error.
    store.rewind(1).unwrap();
    assert!(matches!(store.rewind(2), Err(StoreError::RewindAhead { target: 2, head: 1 })));

    // A different block 2 on the rewound chain, then back to genesis.
    chain.rewind(1);
    let (other, changes) = chain.build(&[Op::Set(0, 1), Op::Transfer(3, 1)], 5, true);
    assert_ne!(other.hash(), blocks[1].hash());
    append(&store, &other, &changes).unwrap();
    assert_eq!(head_root(&store), chain.root(2));
    assert_eq!(store.transaction(other.stored.tx_hashes[0]).unwrap(), Some((2, 0)));
    store.rewind(0).unwrap();
    assert_eq!(store.head().unwrap(), Some(0));
    assert_eq!(head_root(&store), chain.root(0));
}

#[test]
fn witnesses_are_pruned_up_to_a_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let (_, blocks) = sample_store(&path);
    let store = open(&path);
    assert!(store.block(3).unwrap().unwrap().witness.is_some());
    store.prune_witnesses(3).unwrap();
    for b in &blocks {
        let got = store.block(b.number()).unwrap().unwrap();
        if b.number() <= 3 {
            assert!(got.witness.is_none());
        } else {
            assert_eq!(got.witness, b.witness);
        }
    }
}

#[test]
fn append_only_takes_the_heads_child() {
    let store = RedbStore::in_memory().unwrap();
    let mut chain = Chain::new();
    let (b1, c1) = chain.build(&[Op::Transfer(0, 1)], 0, false);
    assert!(matches!(append(&store, &b1, &c1), Err(StoreError::NoGenesis)));
    store.init_genesis(&chain.genesis, &chain.alloc).unwrap();
    let (b2, c2) = chain.build(&[Op::Transfer(0, 1)], 0, false);
    assert!(matches!(append(&store, &b2, &c2), Err(StoreError::NotNext { number: 2, head: 0 })));
    append(&store, &b1, &c1).unwrap();

    // Block 2 of another chain: right number, wrong parent.
    let mut other = Chain::new();
    other.build(&[], 3, false);
    let (o2, oc2) = other.build(&[], 0, false);
    assert!(matches!(append(&store, &o2, &oc2), Err(StoreError::WrongParent { number: 2, .. })));

    // A block whose parts contradict its body.
    let mut forged = (*b2.stored).clone();
    forged.hash = B256::repeat_byte(1);
    let forged = L2Block { stored: Arc::new(forged), ..b2.clone() };
    assert!(matches!(append(&store, &forged, &c2), Err(StoreError::InconsistentBlock { number: 2, .. })));
    let mut forged = (*b2.stored).clone();
    forged.receipts.clear();
    let forged = L2Block { stored: Arc::new(forged), ..b2.clone() };
    assert!(matches!(append(&store, &forged, &c2), Err(StoreError::InconsistentBlock { number: 2, .. })));

    // Nothing of the refused appends was written.
    assert_eq!(store.head().unwrap(), Some(1));
    assert_eq!(head_root(&store), chain.root(1));
    append(&store, &b2, &c2).unwrap();
    assert_eq!(head_root(&store), chain.root(2));
}

/// Sample blocks plus six more that rewrite storage and balances, so old states differ.
fn longer_store(path: &Path, options: StoreOptions) -> Chain {
    let (mut chain, _) = sample_store_with(path, options);
    let store = RedbStore::open_with(path, options).unwrap();
    for i in 0..6u8 {
        let (block, changes) =
            chain.build(&[Op::Set(i % 4, i + 1), Op::Transfer(i % 6, 1), Op::Deploy(i % 3)], 0, false);
        append(&store, &block, &changes).unwrap();
    }
    chain
}

#[test]
fn pruning_keeps_the_window_and_deletes_every_other_node() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let mut chain = longer_store(&path, StoreOptions::default());
    assert_eq!(chain.head(), 11);
    let store = open(&path);
    assert_eq!(store.history_from().unwrap(), 0);
    assert!(store.prune_history(8).unwrap() > 0);
    assert_eq!(store.history_from().unwrap(), 8);
    // Pruning again to the same block, or to an earlier one, does nothing.
    assert_eq!(store.prune_history(8).unwrap(), 0);
    assert_eq!(store.prune_history(3).unwrap(), 0);
    for number in 0..8 {
        assert!(state_at(&store, Some(number)).is_none(), "state {number} was pruned");
    }
    for number in 8..=11 {
        assert_state(&store, Some(number), &chain);
    }
    // Exactly the nodes of the kept states remain.
    drop(store);
    let union: std::collections::HashSet<B256> =
        (8..=11).flat_map(|n| model_nodes(&chain.heights[n].1).into_keys()).collect();
    let (live, rows) = stored_nodes(&path);
    assert_eq!(live, model_nodes(&chain.heights[11].1));
    assert_eq!(rows, union.len());

    // A rewind below the window is refused and changes nothing; one inside it works.
    let store = open(&path);
    assert!(matches!(store.rewind(7), Err(StoreError::RewindPruned { target: 7, history_from: 8 })));
    assert_eq!(store.head().unwrap(), Some(11));
    assert_state(&store, None, &chain);
    store.rewind(9).unwrap();
    chain.rewind(9);
    assert_state(&store, None, &chain);
    assert_state(&store, Some(8), &chain);
    // Once the window has passed everything the rewind dropped, only the head's nodes remain.
    assert!(store.prune_history(9).unwrap() > 0);
    drop(store);
    let (live, rows) = stored_nodes(&path);
    assert_eq!(live, model_nodes(&chain.heights[9].1));
    assert_eq!(rows, live.len());

    // The chain goes on from the rewound head.
    let store = open(&path);
    let (block, changes) = chain.build(&[Op::Set(0, 9), Op::Touch], 7, false);
    append(&store, &block, &changes).unwrap();
    assert_state(&store, None, &chain);
    assert_state(&store, Some(9), &chain);
}

/// Bodies go only where states went: headers, hashes and numbers stay; bodies, receipts, the
/// transaction index and witnesses go; rewinds inside the state window still work.
#[test]
fn pruning_bodies_keeps_headers_and_never_passes_the_state_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let mut chain = longer_store(&path, StoreOptions::default());
    let store = open(&path);
    let blocks: Vec<L2Block> = (0..=11).map(|n| store.block(n).unwrap().unwrap()).collect();
    // No state pruned yet: no body may go.
    assert_eq!(store.prune_bodies(10).unwrap(), 0);
    assert_eq!(store.bodies_from().unwrap(), 0);
    store.prune_history(6).unwrap();
    // Asked for 10, pruned up to the state window's start.
    assert_eq!(store.prune_bodies(10).unwrap(), 6);
    assert_eq!(store.bodies_from().unwrap(), 6);
    assert_eq!(store.prune_bodies(10).unwrap(), 0);
    drop(store);
    let store = open(&path);
    for block in &blocks {
        let n = block.number();
        assert_eq!(store.header(n).unwrap().as_ref(), Some(block.stored.header()), "header {n}");
        assert_eq!(store.block_hash(n).unwrap(), Some(block.hash()));
        assert_eq!(store.block_number(block.hash()).unwrap(), Some(n));
        let kept = store.block(n).unwrap();
        assert_eq!(kept.is_some(), n >= 6, "body {n}");
        for hash in &block.stored.tx_hashes {
            assert_eq!(store.transaction(*hash).unwrap().is_some(), n >= 6, "tx of block {n}");
        }
    }
    assert_eq!(store.first_block().unwrap(), 0);
    store.rewind(7).unwrap();
    chain.rewind(7);
    assert_state(&store, None, &chain);
    let (block, changes) = chain.build(&[Op::Set(1, 1)], 3, false);
    append(&store, &block, &changes).unwrap();
    assert_state(&store, None, &chain);

    // An archive store prunes nothing.
    let archive = StoreOptions { archive: true, ..StoreOptions::default() };
    let path = dir.path().join("archive.redb");
    longer_store(&path, archive);
    let store = RedbStore::open_with(&path, archive).unwrap();
    assert_eq!(store.prune_bodies(10).unwrap(), 0);
    assert!(store.block(1).unwrap().is_some());
}

/// A checkpoint of every block of a chain whose blocks create, change, wipe and delete accounts
/// and storage loads into a new store with exactly that block's state, headers back to its
/// ancestors and nothing before; the new store goes on from it.
#[test]
fn checkpoints_of_every_block_load_the_state_of_that_block() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let chain = longer_store(&path, StoreOptions::default());
    let store = open(&path);
    for number in 0..=chain.head() {
        let mut file = Vec::new();
        let summary = store.export_checkpoint(Some(number), &mut file).unwrap();
        assert_eq!(summary.number, number);
        assert_eq!(summary.state_root, chain.root(number));
        let reader = CheckpointReader::open(&file[..]).unwrap();
        assert_eq!(reader.head().number(), number);
        assert_eq!(reader.head().ancestors.len() as u64, number);
        let fresh = RedbStore::open(dir.path().join(format!("from-{number}.redb"))).unwrap();
        let loaded = fresh.import_checkpoint(reader).unwrap();
        assert_eq!(loaded, summary);
        assert_eq!(fresh.head().unwrap(), Some(number));
        assert_eq!(
            (fresh.history_from().unwrap(), fresh.bodies_from().unwrap(), fresh.first_block().unwrap()),
            (number, number, number)
        );
        assert_state(&fresh, Some(number), &chain);
        assert_same_block(
            &fresh.block(number).unwrap().unwrap(),
            &L2Block { witness: None, ..store.block(number).unwrap().unwrap() },
        );
        assert_eq!(fresh.block_info(number).unwrap(), store.block_info(number).unwrap());
        for n in 0..number {
            assert_eq!(fresh.header(n).unwrap(), store.header(n).unwrap());
            assert!(fresh.block(n).unwrap().is_none() && fresh.block_info(n).unwrap().is_none());
            assert!(state_at(&fresh, Some(n)).is_none());
        }
        if number > 0 {
            assert!(matches!(fresh.rewind(number - 1), Err(StoreError::RewindPruned { .. })));
        }
        // A second import is refused: the store is not empty.
        let again = CheckpointReader::open(&file[..]).unwrap();
        assert!(matches!(fresh.import_checkpoint(again), Err(nrd_storage::CheckpointError::NotEmpty { .. })));
    }
    // The store started from block 9 goes on like the original.
    let mut model = longer_store(&dir.path().join("model.redb"), StoreOptions::default());
    model.rewind(9);
    let fresh = RedbStore::open(dir.path().join("from-9.redb")).unwrap();
    for salt in 0..3 {
        let (block, changes) = model.build(&[Op::Set(2, 9), Op::Touch, Op::Deploy(salt as u8)], salt + 20, false);
        append(&fresh, &block, &changes).unwrap();
        assert_state(&fresh, None, &model);
    }
    fresh.rewind(10).unwrap();
    model.rewind(10);
    assert_state(&fresh, None, &model);
    // A block outside the state window cannot be exported.
    store.prune_history(8).unwrap();
    assert!(matches!(
        store.export_checkpoint(Some(7), &mut Vec::new()),
        Err(nrd_storage::CheckpointError::Unavailable { number: 7, .. })
    ));
}

#[test]
fn an_archive_store_keeps_every_state() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let archive = StoreOptions { archive: true, ..StoreOptions::default() };
    let chain = longer_store(&path, archive);
    let store = RedbStore::open_with(&path, archive).unwrap();
    assert_eq!(store.prune_history(10).unwrap(), 0);
    assert_eq!(store.history_from().unwrap(), 0);
    for number in 0..=chain.head() {
        assert_state(&store, Some(number), &chain);
    }
    store.rewind(1).unwrap();
}

/// Decision: `init_genesis` on a store with the same genesis is a no-op (a restart), with another
/// genesis an error (a data directory of another chain).
#[test]
fn init_genesis_is_idempotent_and_refuses_another_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let (chain, _) = sample_store(&path);
    let store = open(&path);
    store.init_genesis(&chain.genesis, &chain.alloc).unwrap();
    assert_eq!(store.head().unwrap(), Some(chain.head()));
    assert_eq!(head_root(&store), chain.root(chain.head()));

    let mut other = chain.genesis.clone();
    other.block.header.timestamp += 1;
    other.hash = other.block.header.hash_slow();
    let err = store.init_genesis(&other, &chain.alloc).unwrap_err();
    assert!(
        matches!(err, StoreError::GenesisMismatch { stored, given } if stored == chain.genesis.hash && given == other.hash)
    );

    // An allocation that is not the header's state.
    let fresh = RedbStore::in_memory().unwrap();
    let err = fresh.init_genesis(&chain.genesis, &chain.alloc[1..]).unwrap_err();
    assert!(matches!(err, StoreError::InconsistentBlock { number: 0, .. }));
    assert_eq!(fresh.head().unwrap(), None);
    fresh.init_genesis(&chain.genesis, &chain.alloc).unwrap();
    assert_eq!(head_root(&fresh), chain.root(0));
}

#[test]
fn meta_and_pool_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let store = open(&path);
    assert_eq!(store.meta("submitted").unwrap(), None);
    assert!(store.load_pool().unwrap().is_empty());
    store.put_meta("submitted", &7u64.to_be_bytes()).unwrap();
    store.put_meta("l1_cursor", b"abc").unwrap();
    store.put_meta("l1_cursor", b"abcd").unwrap();
    let pool: Vec<(u64, Bytes)> = (0..3u8).map(|i| (u64::from(i) * 2, Bytes::from(vec![0x02, i, i]))).collect();
    store.update_pool(&pool, &[]).unwrap();
    drop(store);

    let store = open(&path);
    assert_eq!(store.meta("submitted").unwrap(), Some(7u64.to_be_bytes().to_vec()));
    assert_eq!(store.meta("l1_cursor").unwrap(), Some(b"abcd".to_vec()));
    assert_eq!(store.load_pool().unwrap(), pool);
    // Transactions are added and removed one by one; positions keep the order.
    let later = (1, Bytes::from_static(&[0x02, 9]));
    store.update_pool(std::slice::from_ref(&later), &[0, 4]).unwrap();
    assert_eq!(store.load_pool().unwrap(), vec![later, pool[1].clone()]);
    // Removing what is not there is not an error (a restart may have dropped it already).
    store.update_pool(&[], &[1, 2, 99]).unwrap();
    assert!(store.load_pool().unwrap().is_empty());
}

/// Writes `value` at `key` of a table straight through redb, with the store closed.
fn tamper<K: redb::Key + 'static>(path: &Path, table: &str, key: K::SelfType<'_>, value: &[u8]) {
    let db = redb::Database::open(path).unwrap();
    let txn = db.begin_write().unwrap();
    {
        let def: TableDefinition<'_, K, &[u8]> = TableDefinition::new(table);
        txn.open_table(def).unwrap().insert(key, value).unwrap();
    }
    txn.commit().unwrap();
}

fn is_corrupt<T: std::fmt::Debug>(r: Result<T, StoreError>) -> bool {
    match r {
        Err(StoreError::Corrupt { what, reason }) => {
            eprintln!("corrupt {what}: {reason}");
            true
        }
        other => {
            eprintln!("not a corruption error: {other:?}");
            false
        }
    }
}

#[test]
fn corrupt_values_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("l2.redb");
    let (chain, blocks) = sample_store(&path);
    let garbage = [0xde, 0xad, 0xbe, 0xef, 0x01];

    tamper::<u64>(&path, "blocks", 2, &garbage);
    let store = open(&path);
    assert!(is_corrupt(store.block(2)));
    assert!(store.block(1).unwrap().is_some());
    drop(store);

    // A valid record of another block under this number.
    let db = redb::Database::open(&path).unwrap();
    let record = {
        let txn = db.begin_read().unwrap();
        let def: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("blocks");
        txn.open_table(def).unwrap().get(1).unwrap().unwrap().value().to_vec()
    };
    drop(db);
    tamper::<u64>(&path, "blocks", 3, &record);
    assert!(is_corrupt(open(&path).block(3)));

    tamper::<u64>(&path, "witnesses", 4, &garbage);
    assert!(is_corrupt(open(&path).block(4)));

    tamper::<[u8; 32]>(&path, "transactions", blocks[0].stored.tx_hashes[0].0, &garbage);
    assert!(is_corrupt(open(&path).transaction(blocks[0].stored.tx_hashes[0])));

    tamper::<u64>(&path, "canonical", 5, &garbage);
    let store = open(&path);
    assert!(is_corrupt(store.head()));
    assert!(is_corrupt(store.block_hash(5)));
    drop(store);
    tamper::<u64>(&path, "canonical", 5, blocks[4].hash().as_slice());

    tamper::<u64>(&path, "undo", 5, &garbage);
    let store = open(&path);
    assert!(is_corrupt(store.rewind(4)));
    // The failed rewind left everything in place.
    assert_eq!(store.head().unwrap(), Some(5));
    assert_eq!(head_root(&store), chain.root(5));
    drop(store);

    // Flat state: a stored zero slot, an undecodable account.
    let mut slot_key = [0u8; 52];
    slot_key[..20].copy_from_slice(SETTER.as_slice());
    slot_key[51] = 40;
    tamper::<[u8; 52]>(&path, "storage", slot_key, &[0u8; 32]);
    assert!(is_state_corrupt(state_at(&open(&path), None).unwrap().storage(SETTER, U256::from(40))));
    tamper::<[u8; 20]>(&path, "accounts", chain.key.address().0.0, &garbage);
    assert!(is_state_corrupt(state_at(&open(&path), None).unwrap().account(chain.key.address())));

    // A trie node whose bytes are not its hash: every read through the trie (an older state,
    // a proof) is refused, not answered from the forged node.
    let root = chain.root(4);
    let mut row = vec![0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0];
    row.extend_from_slice(&[0xc2, 0x80, 0x80]);
    tamper::<[u8; 32]>(&path, "trie_nodes", root.0, &row);
    let store = open(&path);
    assert!(is_state_corrupt(state_at(&store, Some(4)).unwrap().account(SETTER)));
    // The head state still reads its flat tables, and the stored head root is not the forged node's.
    assert_eq!(head_root(&store), chain.root(5));
}

/// A state read that failed on a corrupt store: a typed, critical error.
fn is_state_corrupt<T: std::fmt::Debug>(r: Result<T, StateError>) -> bool {
    match r {
        Err(e @ (StateError::Store(_) | StateError::Trie(nrd_chain::TrieError::Store { .. }))) => {
            eprintln!("corrupt state: {e}");
            e.severity() == Severity::Critical
        }
        other => {
            eprintln!("not a store error: {other:?}");
            false
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Random appends and rewinds against a model of the roots at each height.
    #[test]
    fn rewind_matches_a_model_of_roots(
        steps in prop::collection::vec(
            prop_oneof![
                3 => prop::collection::vec(op(), 0..5).prop_map(Ok),
                1 => (0u64..4).prop_map(Err),
            ],
            1..14,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("l2.redb");
        let store = open(&path);
        let mut chain = Chain::new();
        store.init_genesis(&chain.genesis, &chain.alloc).unwrap();
        for (i, step) in steps.into_iter().enumerate() {
            match step {
                Ok(ops) => {
                    let (block, changes) = chain.build(&ops, i as u64, false);
                    append(&store, &block, &changes).unwrap();
                }
                Err(depth) => {
                    let target = chain.head().saturating_sub(depth);
                    store.rewind(target).unwrap();
                    chain.rewind(target);
                }
            }
            prop_assert_eq!(store.head().unwrap(), Some(chain.head()));
            prop_assert_eq!(store.block_hash(chain.head()).unwrap(), Some(chain.heights.last().unwrap().0.hash()));
            prop_assert_eq!(head_root(&store), chain.root(chain.head()));
        }
        // Every state of the chain reads from disk; the referenced nodes are the head's, exactly.
        for number in 0..=chain.head() {
            assert_state(&store, Some(number), &chain);
        }
        drop(store);
        prop_assert_eq!(stored_nodes(&path).0, model_nodes(&chain.heights.last().unwrap().1));
    }
}

#[test]
fn an_emptied_store_file_is_refused_not_started_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chain.redb");
    drop(open(&path));
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(0).unwrap();
    let err = RedbStore::open(&path).unwrap_err();
    assert!(
        matches!(&err, StoreError::File { path: p, source } if p == &path
            && matches!(**source, StoreError::Corrupt { ref reason, .. } if matches!(**reason, nrd_storage::Corruption::Empty))),
        "{err:?}"
    );
    assert!(err.to_string().contains("chain.redb") && err.to_string().contains("empty"), "{err}");
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "the file is left as it was");
    // Where no file is, a store is created.
    std::fs::remove_file(&path).unwrap();
    assert_eq!(open(&path).head().unwrap(), None);
}
