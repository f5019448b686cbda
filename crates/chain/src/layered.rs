//! [`LayeredState`]: a block's state as a thin layer over a store, so that executing and
//! committing a block costs what the block touches, not what the chain holds.
//!
//! Reads go to the layer's own changes first, then to the [`StateSource`] (the store's flat
//! tables at one snapshot, or its trie at an older root). A commit reveals the paths it
//! changes from the source's trie nodes, updates them in memory and yields the new root; the
//! [`TrieUpdate`] then says which nodes the store must add and which the new state no longer
//! references. Nothing else of the state is ever loaded.

use crate::{
    AccountState, StateChanges, StateCommitter, StateError, StateProvider, StateResult, StateTrie, TrieError,
    state::{TrieState, Undo},
    trie::{NodeObserver, NodeResolver, Observed},
};
use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, U256,
    map::{AddressMap, B256Map, HashMap},
};
use alloy_trie::TrieAccount;

/// Where a [`LayeredState`] reads what it has not changed itself.
pub trait StateSource {
    /// The state root the source holds.
    fn root(&self) -> B256;

    /// Whether [`StateSource::account`] and [`StateSource::storage`] answer (a flat state at
    /// exactly [`StateSource::root`]); otherwise the layer reads through the trie.
    fn has_flat(&self) -> bool;

    /// The account at `address` in the flat state.
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>>;

    /// A slot's value in the flat state (zero when unset).
    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256>;

    /// Bytecode by hash.
    fn code(&mut self, hash: B256) -> StateResult<Bytes>;

    /// The RLP of the trie node whose hash is `hash`.
    fn node(&mut self, hash: &B256) -> Result<Bytes, TrieError>;
}

impl<S: StateSource + ?Sized> StateSource for Box<S> {
    fn root(&self) -> B256 {
        (**self).root()
    }

    fn has_flat(&self) -> bool {
        (**self).has_flat()
    }

    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        (**self).account(address)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        (**self).storage(address, slot)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        (**self).code(hash)
    }

    fn node(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        (**self).node(hash)
    }
}

/// A [`crate::MemoryState`] seen as a [`StateSource`]: its flat reads, its codes and every trie
/// node by hash (indexed once, when made). For tests and tools that record witnesses over an
/// in-memory state the way a node records them over its store.
#[derive(Debug, Clone)]
pub struct MemorySource {
    state: crate::MemoryState,
    nodes: B256Map<Bytes>,
    root: B256,
}

impl MemorySource {
    /// Indexes `state`'s trie nodes.
    pub fn new(mut state: crate::MemoryState) -> Self {
        let root = state.root();
        let nodes = state.trie_mut().revealed_nodes().into_iter().map(|(hash, node)| (hash, node.into())).collect();
        Self { state, nodes, root }
    }
}

impl StateSource for MemorySource {
    fn root(&self) -> B256 {
        self.root
    }

    fn has_flat(&self) -> bool {
        true
    }

    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        self.state.account(address)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        self.state.storage(address, slot)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        self.state.code(hash)
    }

    fn node(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        self.nodes.get(hash).cloned().ok_or(TrieError::MissingNode(*hash))
    }
}

/// What a commit did to the trie nodes a store keeps by hash.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrieUpdate {
    /// The new state root.
    pub root: B256,
    /// Nodes the new state references that the source's did not, once per reference.
    pub created: Vec<(B256, Bytes)>,
    /// Nodes the source's state referenced that the new one does not, once per reference.
    pub dropped: Vec<B256>,
}

/// The layer's own changes.
#[derive(Debug, Clone, Default)]
struct Overlay {
    accounts: AddressMap<Option<AccountState>>,
    /// Accounts whose storage was cleared (deleted or wiped): unset slots read zero.
    cleared: AddressMap<()>,
    storage: AddressMap<HashMap<U256, U256>>,
    codes: B256Map<Bytes>,
}

struct Checkpoint {
    trie: StateTrie,
    overlay: Overlay,
    resolved: usize,
}

/// Reveals nodes from the source and counts every one it reveals.
struct SourceResolver<'a, S> {
    source: &'a mut S,
    resolved: &'a mut Vec<B256>,
}

impl<S: StateSource> NodeResolver for SourceResolver<'_, S> {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        let node = self.source.node(hash)?;
        self.resolved.push(*hash);
        Ok(node)
    }
}

/// A state layered on a [`StateSource`]: see the module documentation.
pub struct LayeredState<S> {
    source: S,
    trie: StateTrie,
    overlay: Overlay,
    /// Every node revealed from the source, once per position.
    resolved: Vec<B256>,
    checkpoint: Option<Box<Checkpoint>>,
}

impl<S> std::fmt::Debug for LayeredState<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayeredState")
            .field("changed_accounts", &self.overlay.accounts.len())
            .field("revealed", &self.resolved.len())
            .finish_non_exhaustive()
    }
}

impl<S: StateSource> LayeredState<S> {
    /// A layer without changes over `source`.
    pub fn new(source: S) -> Self {
        let trie = StateTrie::from_root(source.root());
        Self { source, trie, overlay: Overlay::default(), resolved: Vec::new(), checkpoint: None }
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The current state root (the source's until a commit).
    pub fn root(&mut self) -> B256 {
        self.trie.root()
    }

    fn resolver(&mut self) -> (&mut StateTrie, SourceResolver<'_, S>) {
        (&mut self.trie, SourceResolver { source: &mut self.source, resolved: &mut self.resolved })
    }

    /// What the commits so far did to the stored trie: the nodes to add and the nodes no
    /// longer referenced, each as often as it is (no longer) referenced.
    pub fn trie_update(&mut self) -> TrieUpdate {
        let root = self.trie.root();
        let mut count: B256Map<(i64, Option<Vec<u8>>)> = B256Map::default();
        for (hash, encoding) in self.trie.revealed_nodes() {
            let entry = count.entry(hash).or_default();
            entry.0 += 1;
            entry.1.get_or_insert(encoding);
        }
        for hash in &self.resolved {
            count.entry(*hash).or_default().0 -= 1;
        }
        let mut update = TrieUpdate { root, ..TrieUpdate::default() };
        for (hash, (n, encoding)) in count {
            if n > 0 {
                let encoding: Bytes = encoding.unwrap_or_default().into();
                for _ in 0..n {
                    update.created.push((hash, encoding.clone()));
                }
            }
            for _ in n..0 {
                update.dropped.push(hash);
            }
        }
        update.created.sort_unstable_by_key(|(hash, _)| *hash);
        update.dropped.sort_unstable();
        update
    }

    fn apply_overlay(&mut self, changes: &StateChanges) {
        let overlay = &mut self.overlay;
        for change in &changes.accounts {
            if change.info.is_none() || change.wiped {
                overlay.cleared.insert(change.address, ());
                overlay.storage.remove(&change.address);
            }
            if change.info.is_some() {
                let slots = overlay.storage.entry(change.address).or_default();
                slots.extend(change.storage.iter().copied());
            }
            overlay.accounts.insert(change.address, change.info);
        }
        for (hash, code) in &changes.codes {
            overlay.codes.insert(*hash, code.clone());
        }
    }

    fn commit_with(
        &mut self,
        changes: &StateChanges,
        observer: Option<&mut dyn NodeObserver>,
    ) -> StateResult<(B256, Undo)> {
        self.checkpoint = Some(Box::new(Checkpoint {
            trie: self.trie.clone(),
            overlay: self.overlay.clone(),
            resolved: self.resolved.len(),
        }));
        // A storage trie dropped whole (deleted or wiped account) is revealed first, unobserved,
        // so every node it loses is counted; the witness does not need them.
        for change in changes.accounts.iter().filter(|c| c.info.is_none() || c.wiped) {
            let (trie, mut r) = self.resolver();
            trie.reveal_storage(change.address, &mut r)?;
        }
        let (trie, r) = self.resolver();
        let mut r = Observed { inner: r, observer };
        let (root, undo) = trie.apply(changes, &mut r)?;
        self.apply_overlay(changes);
        Ok((root, undo))
    }
}

impl<S: StateSource> StateProvider for LayeredState<S> {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        if let Some(account) = self.overlay.accounts.get(&address) {
            return Ok(*account);
        }
        if self.source.has_flat() {
            return self.source.account(address);
        }
        let (trie, mut r) = self.resolver();
        trie.account(address, &mut r)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        if let Some(value) = self.overlay.storage.get(&address).and_then(|slots| slots.get(&slot)) {
            return Ok(*value);
        }
        if self.overlay.cleared.contains_key(&address) || matches!(self.overlay.accounts.get(&address), Some(None)) {
            return Ok(U256::ZERO);
        }
        if self.source.has_flat() {
            return self.source.storage(address, slot);
        }
        let (trie, mut r) = self.resolver();
        trie.storage(address, slot, &mut r)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if hash == KECCAK256_EMPTY {
            return Ok(Bytes::new());
        }
        if let Some(code) = self.overlay.codes.get(&hash) {
            return Ok(code.clone());
        }
        self.source.code(hash)
    }
}

impl<S: StateSource> StateCommitter for LayeredState<S> {
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)> {
        self.commit_with(changes, None)
    }

    /// Restores the state before the last commit (only the last one can be reverted).
    fn revert(&mut self, _undo: Undo) {
        if let Some(checkpoint) = self.checkpoint.take() {
            self.trie = checkpoint.trie;
            self.overlay = checkpoint.overlay;
            self.resolved.truncate(checkpoint.resolved);
        }
    }
}

impl<S: StateSource> TrieState for LayeredState<S> {
    fn observe_account(
        &mut self,
        address: Address,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<Option<TrieAccount>> {
        self.trie.root();
        let (trie, r) = self.resolver();
        trie.trie_account(address, &mut Observed { inner: r, observer: Some(observer) })
    }

    fn observe_storage(&mut self, address: Address, slot: U256, observer: &mut dyn NodeObserver) -> StateResult<U256> {
        self.trie.root();
        let (trie, mut r) = self.resolver();
        // The account's storage trie is found unobserved; only its own path is seen.
        trie.storage_root(address, &mut r)?;
        let mut storage_r = Observed { inner: r, observer: Some(observer) };
        trie.storage(address, slot, &mut storage_r)
    }

    fn commit_observed(
        &mut self,
        changes: &StateChanges,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<(B256, Undo)> {
        self.commit_with(changes, Some(observer))
    }
}

/// A [`StateError`] from a store's failure.
pub fn store_fault(source: impl std::error::Error + Send + Sync + 'static, severity: crate::Severity) -> StateError {
    StateError::Store(crate::StoreFault::new(source, severity))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AccountChange, GenesisAccount, MemoryState, StateRef};
    use proptest::prelude::*;

    /// A source over a fully revealed state: its nodes by hash, with a reference count.
    struct CountedSource {
        state: MemoryState,
        nodes: B256Map<(Bytes, i64)>,
        root: B256,
        flat: bool,
    }

    fn node_counts(state: &mut MemoryState) -> B256Map<(Bytes, i64)> {
        let mut nodes: B256Map<(Bytes, i64)> = B256Map::default();
        for (hash, enc) in state.trie_mut().revealed_nodes() {
            nodes.entry(hash).or_insert_with(|| (enc.into(), 0)).1 += 1;
        }
        nodes
    }

    impl CountedSource {
        fn new(mut state: MemoryState, flat: bool) -> Self {
            let root = state.root();
            let nodes = node_counts(&mut state);
            Self { state, nodes, root, flat }
        }
    }

    impl StateSource for CountedSource {
        fn root(&self) -> B256 {
            self.root
        }
        fn has_flat(&self) -> bool {
            self.flat
        }
        fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
            StateRef(&self.state).account(address)
        }
        fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
            StateRef(&self.state).storage(address, slot)
        }
        fn code(&mut self, hash: B256) -> StateResult<Bytes> {
            StateRef(&self.state).code(hash)
        }
        fn node(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
            self.nodes.get(hash).map(|(n, _)| n.clone()).ok_or(TrieError::MissingNode(*hash))
        }
    }

    fn addr(i: u8) -> Address {
        Address::with_last_byte(i)
    }

    /// Slot → value, both small.
    type Slots = Vec<(u8, u8)>;

    fn genesis(accounts: &[(u8, u64, Slots)]) -> MemoryState {
        let alloc: Vec<(Address, GenesisAccount)> = accounts
            .iter()
            .map(|(a, balance, slots)| {
                let storage = slots.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect();
                (addr(*a), GenesisAccount { balance: U256::from(*balance), nonce: 1, storage, ..Default::default() })
            })
            .collect();
        MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)))
    }

    /// `(address, kind, slots)`: kind 0 updates, 1 deletes, 2 wipes and re-creates.
    fn changes(spec: &[(u8, u8, Slots)]) -> StateChanges {
        let mut accounts: Vec<AccountChange> = spec
            .iter()
            .map(|(a, kind, slots)| AccountChange {
                address: addr(*a),
                info: (*kind != 1).then(|| AccountState {
                    nonce: 2,
                    balance: U256::from(*a as u64 * 7 + 1),
                    code_hash: KECCAK256_EMPTY,
                }),
                wiped: *kind == 2,
                storage: if *kind == 1 {
                    vec![]
                } else {
                    let mut s: Vec<(U256, U256)> =
                        slots.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect();
                    s.sort_unstable();
                    s.dedup_by_key(|(k, _)| *k);
                    s
                },
            })
            .collect();
        accounts.sort_unstable_by_key(|a| a.address);
        accounts.dedup_by_key(|a| a.address);
        StateChanges { accounts, codes: vec![] }
    }

    fn reads_agree(layer: &mut LayeredState<CountedSource>, full: &mut MemoryState) {
        for a in 0..24u8 {
            assert_eq!(layer.account(addr(a)).unwrap(), full.account(addr(a)).unwrap(), "account {a}");
            for k in 0..8u8 {
                let slot = U256::from(k);
                assert_eq!(layer.storage(addr(a), slot).unwrap(), full.storage(addr(a), slot).unwrap(), "{a}/{k}");
            }
        }
    }

    proptest! {
        /// A layer over the stored nodes reaches the full state's root, reads what it reads,
        /// and its trie update turns the stored node set (with reference counts) into exactly
        /// the new state's, through the flat path and the trie path alike.
        #[test]
        fn layer_matches_the_full_state_and_its_update_is_exact(
            initial in proptest::collection::vec((0u8..24, 1u64..100, proptest::collection::vec((0u8..8, 1u8..4), 0..5)), 1..16),
            blocks in proptest::collection::vec(
                proptest::collection::vec((0u8..24, 0u8..3, proptest::collection::vec((0u8..8, 0u8..4), 0..5)), 1..10),
                1..4,
            ),
            flat in any::<bool>(),
        ) {
            let mut full = genesis(&initial);
            let mut stored = node_counts(&mut full);
            for block in &blocks {
                let changes = changes(block);
                let mut layer = LayeredState::new(CountedSource { nodes: stored.clone(), ..CountedSource::new(full.clone(), flat) });
                let (root, _) = layer.commit(&changes).unwrap();
                let (expected, _) = full.commit(&changes).unwrap();
                prop_assert_eq!(root, expected);
                reads_agree(&mut layer, &mut full);
                let update = layer.trie_update();
                prop_assert_eq!(update.root, expected);
                for (hash, enc) in update.created {
                    stored.entry(hash).or_insert_with(|| (enc, 0)).1 += 1;
                }
                for hash in update.dropped {
                    let entry = stored.get_mut(&hash).expect("a dropped node was stored");
                    entry.1 -= 1;
                    prop_assert!(entry.1 >= 0);
                }
                stored.retain(|_, (_, n)| *n > 0);
                let want = node_counts(&mut full);
                prop_assert_eq!(stored.len(), want.len());
                for (hash, (_, n)) in &want {
                    prop_assert_eq!(stored.get(hash).map(|(_, n)| *n), Some(*n));
                }
            }
        }
    }

    /// A failed block's commit is reverted: root, reads and the trie update are as before it.
    #[test]
    fn revert_restores_the_layer() {
        let full = genesis(&[(1, 10, vec![(1, 1)]), (2, 20, vec![(2, 2)]), (3, 30, vec![])]);
        let mut layer = LayeredState::new(CountedSource::new(full.clone(), true));
        let before = layer.root();
        let first = changes(&[(1, 0, vec![(1, 3)])]);
        let (after_first, _) = layer.commit(&first).unwrap();
        let (_, undo) = layer.commit(&changes(&[(2, 1, vec![]), (5, 0, vec![(4, 4)])])).unwrap();
        layer.revert(undo);
        assert_eq!(layer.root(), after_first);
        assert_eq!(layer.account(addr(2)).unwrap().unwrap().balance, U256::from(20));
        assert_eq!(layer.storage(addr(2), U256::from(2)).unwrap(), U256::from(2));
        assert_eq!(layer.account(addr(5)).unwrap(), None);
        let mut only_first = LayeredState::new(CountedSource::new(full, true));
        only_first.commit(&first).unwrap();
        assert_eq!(layer.trie_update(), only_first.trie_update());
        assert_ne!(before, after_first);
    }

    /// A node the source hands back under the wrong hash is refused, never trusted.
    #[test]
    fn a_forged_node_is_refused() {
        let full = genesis(&[(1, 10, vec![(1, 1)]), (2, 20, vec![])]);
        let mut source = CountedSource::new(full, false);
        let root = source.root;
        let forged = source.nodes.values().find(|(n, _)| keccak256_of(n) != root).unwrap().0.clone();
        source.nodes.get_mut(&root).unwrap().0 = forged;
        let mut layer = LayeredState::new(source);
        assert_eq!(layer.account(addr(1)), Err(StateError::Trie(TrieError::MissingNode(root))));
    }

    fn keccak256_of(bytes: &[u8]) -> B256 {
        alloy_primitives::keccak256(bytes)
    }
}
