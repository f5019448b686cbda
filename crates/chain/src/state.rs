//! World state: the account trie with per-account storage tries, the changes a block makes,
//! and the state store seam ([`StateProvider`] to read, [`StateCommitter`] to apply).

use crate::{
    StoreFault,
    trie::{FullyRevealed, NodeObserver, NodeResolver, Observed, ProofNodes, Trie, TrieError},
};
use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256,
    map::{B256Map, HashMap},
};
use alloy_rlp::{Decodable, Encodable};
use alloy_trie::{EMPTY_ROOT_HASH, TrieAccount};
use revm::database::BundleState;

/// Errors reading or writing state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    /// A trie operation failed (a witness node is missing or malformed).
    #[error(transparent)]
    Trie(#[from] TrieError),
    /// Bytecode with this hash is needed and unknown.
    #[error("bytecode {0} is needed but missing")]
    MissingCode(B256),
    /// The hash of an ancestor block is needed and unknown.
    #[error("hash of block {0} is needed but unknown")]
    MissingBlockHash(u64),
    /// A trie leaf does not decode as an account or storage value.
    #[error("malformed {what} leaf: {source}")]
    MalformedLeaf {
        /// `account` or `storage`.
        what: &'static str,
        /// The decoder's complaint.
        #[source]
        source: alloy_rlp::Error,
    },
    /// The store holding the state failed to read (I/O, a corrupt record).
    #[error("state store: {0}")]
    Store(#[source] StoreFault),
}

impl crate::Classify for StateError {
    fn severity(&self) -> crate::Severity {
        match self {
            Self::Store(fault) => fault.severity(),
            Self::Trie(e) => e.severity(),
            // State in memory or in a witness: what is missing or malformed stays so.
            Self::MissingCode(_) | Self::MissingBlockHash(_) | Self::MalformedLeaf { .. } => crate::Severity::Critical,
        }
    }
}

impl revm::database::DBErrorMarker for StateError {}

/// Result alias for state operations.
pub type StateResult<T> = Result<T, StateError>;

/// An account as the state trie stores it, without its storage root.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountState {
    /// Transaction count / contract creation count.
    pub nonce: u64,
    /// Balance in wei.
    pub balance: U256,
    /// Keccak of the account's bytecode.
    pub code_hash: B256,
}

impl Default for AccountState {
    /// The empty account: what a never-touched address holds.
    fn default() -> Self {
        Self { nonce: 0, balance: U256::ZERO, code_hash: KECCAK256_EMPTY }
    }
}

impl AccountState {
    /// Empty in the sense of EIP-161.
    pub fn is_empty(&self) -> bool {
        self.nonce == 0 && self.balance.is_zero() && self.code_hash == KECCAK256_EMPTY
    }
}

/// What a block did to one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountChange {
    /// The account.
    pub address: Address,
    /// The account after the block; `None` when it was deleted.
    pub info: Option<AccountState>,
    /// Whether the account's storage was cleared before `storage` applies.
    pub wiped: bool,
    /// Storage slots written, with their values after the block (zero deletes).
    pub storage: Vec<(U256, U256)>,
}

/// Every state change of a block, in a canonical order (accounts and slots sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateChanges {
    /// Changed accounts, sorted by address.
    pub accounts: Vec<AccountChange>,
    /// Bytecode deployed by the block.
    pub codes: Vec<(B256, Bytes)>,
}

impl StateChanges {
    /// The changes that create genesis accounts on an empty state, in the canonical order; an
    /// address given twice keeps its first account.
    pub fn from_alloc(alloc: impl IntoIterator<Item = (Address, GenesisAccount)>) -> Self {
        let mut changes = Self::default();
        for (address, account) in alloc {
            let code_hash = if account.code.is_empty() {
                KECCAK256_EMPTY
            } else {
                let hash = keccak256(&account.code);
                changes.codes.push((hash, account.code));
                hash
            };
            let mut storage: Vec<(U256, U256)> = account.storage.into_iter().collect();
            storage.sort_unstable();
            changes.accounts.push(AccountChange {
                address,
                // Genesis keeps empty accounts: EIP-161 only removes accounts a block touches.
                info: Some(AccountState { nonce: account.nonce, balance: account.balance, code_hash }),
                wiped: false,
                storage,
            });
        }
        changes.accounts.sort_by_key(|a| a.address);
        changes.accounts.dedup_by_key(|a| a.address);
        changes
    }

    /// Extracts the changes from revm's bundle after `merge_transitions`.
    pub fn from_bundle(bundle: &BundleState) -> Self {
        let mut accounts: Vec<AccountChange> = bundle
            .state
            .iter()
            .filter(|(_, acc)| acc.is_info_changed() || acc.was_destroyed() || !acc.storage.is_empty())
            .map(|(address, acc)| {
                let mut storage: Vec<(U256, U256)> = acc
                    .storage
                    .iter()
                    .filter(|(_, slot)| acc.was_destroyed() || slot.is_changed())
                    .map(|(k, slot)| (*k, slot.present_value))
                    .collect();
                storage.sort_unstable();
                let info = acc
                    .info
                    .as_ref()
                    .map(|i| AccountState { nonce: i.nonce, balance: i.balance, code_hash: i.code_hash })
                    .filter(|i| !i.is_empty());
                AccountChange { address: *address, info, wiped: acc.was_destroyed(), storage }
            })
            .collect();
        accounts.sort_unstable_by_key(|a| a.address);
        let mut codes: Vec<(B256, Bytes)> =
            bundle.contracts.iter().map(|(hash, code)| (*hash, code.original_bytes())).collect();
        codes.sort_unstable_by_key(|(hash, _)| *hash);
        Self { accounts, codes }
    }
}

/// Reads state. Methods take `&mut self` because sparse implementations reveal nodes as they go.
pub trait StateProvider {
    /// The account at `address`, if it exists.
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>>;
    /// The value of a storage slot (zero when unset).
    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256>;
    /// Bytecode by hash.
    fn code(&mut self, hash: B256) -> StateResult<Bytes>;
}

/// Applies a block's changes and yields the new state root.
pub trait StateCommitter {
    /// Applies `changes`; returns the new state root and what is needed to undo them.
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)>;
    /// Restores the state before the `commit` that returned `undo`.
    fn revert(&mut self, undo: Undo);
}

/// An account's Merkle proof with proofs of some of its slots (`eth_getProof`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountProof {
    /// The account's trie entry (`None`: absent, the proof shows it).
    pub account: Option<TrieAccount>,
    /// Nodes from the state root to the account, root first.
    pub account_proof: Vec<Bytes>,
    /// Per slot asked: its value and the nodes from the storage root to it.
    pub storage: Vec<(U256, Vec<Bytes>)>,
}

/// A state kept as a Merkle-Patricia trie whose operations can be observed: the witness
/// recorder and `eth_getProof` run on it, over the node's state or any view of it.
pub trait TrieState: StateProvider + StateCommitter {
    /// The account's trie entry; `observer` sees every trie node on the way.
    fn observe_account(
        &mut self,
        address: Address,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<Option<TrieAccount>>;

    /// A slot's value; `observer` sees every node on its path in the account's storage trie
    /// (not the account trie: observe the account for that).
    fn observe_storage(&mut self, address: Address, slot: U256, observer: &mut dyn NodeObserver) -> StateResult<U256>;

    /// [`StateCommitter::commit`], with `observer` seeing every committed node the update
    /// passes through (removals fold in siblings: they are seen too).
    fn commit_observed(&mut self, changes: &StateChanges, observer: &mut dyn NodeObserver)
    -> StateResult<(B256, Undo)>;

    /// The proof of an account and of `slots` against the current root.
    fn proof(&mut self, address: Address, slots: &[U256]) -> StateResult<AccountProof> {
        let mut nodes = ProofNodes::default();
        let account = self.observe_account(address, &mut nodes)?;
        let mut storage = Vec::with_capacity(slots.len());
        for slot in slots {
            let mut path = ProofNodes::default();
            let value = self.observe_storage(address, *slot, &mut path)?;
            storage.push((value, path.0));
        }
        Ok(AccountProof { account, account_proof: nodes.0, storage })
    }
}

/// Previous contents of everything a commit changed, newest last.
#[derive(Debug, Default)]
pub struct Undo {
    entries: Vec<UndoEntry>,
    codes: Vec<B256>,
}

#[derive(Debug)]
struct UndoEntry {
    hashed: B256,
    leaf: Option<Vec<u8>>,
    /// The whole storage trie, for wiped or deleted accounts.
    storage_trie: Option<Trie>,
    slots: Vec<(B256, Option<Vec<u8>>)>,
}

/// The account trie and the storage tries of the accounts it holds.
///
/// Fully revealed, it is a node's state; blinded (built with [`StateTrie::from_root`]) and fed
/// by a resolver, it is the verifier's sparse state. Both run the same code.
#[derive(Debug, Clone, Default)]
pub struct StateTrie {
    accounts: Trie,
    storages: B256Map<Trie>,
}

fn decode_account(raw: &[u8]) -> StateResult<TrieAccount> {
    TrieAccount::decode(&mut &raw[..]).map_err(|e| StateError::MalformedLeaf { what: "account", source: e })
}

fn encode_value(value: U256) -> Vec<u8> {
    let mut out = Vec::with_capacity(33);
    value.encode(&mut out);
    out
}

impl StateTrie {
    /// A state known only by its root; nodes come from the resolver passed to each call.
    pub fn from_root(root: B256) -> Self {
        Self { accounts: Trie::from_root(root), storages: B256Map::default() }
    }

    /// The account trie entry of `address`.
    pub fn trie_account(&mut self, address: Address, r: &mut impl NodeResolver) -> StateResult<Option<TrieAccount>> {
        self.accounts.get(keccak256(address).as_slice(), r)?.map(|raw| decode_account(&raw)).transpose()
    }

    /// The account at `address`.
    pub fn account(&mut self, address: Address, r: &mut impl NodeResolver) -> StateResult<Option<AccountState>> {
        Ok(self.trie_account(address, r)?.map(|a| AccountState {
            nonce: a.nonce,
            balance: a.balance,
            code_hash: a.code_hash,
        }))
    }

    fn storage_trie(&mut self, address: Address, r: &mut impl NodeResolver) -> StateResult<&mut Trie> {
        let hashed = keccak256(address);
        if !self.storages.contains_key(&hashed) {
            let root = self.trie_account(address, r)?.map_or(EMPTY_ROOT_HASH, |a| a.storage_root);
            self.storages.insert(hashed, Trie::from_root(root));
        }
        Ok(self.storages.get_mut(&hashed).expect("inserted above"))
    }

    /// The value of a storage slot.
    pub fn storage(&mut self, address: Address, slot: U256, r: &mut impl NodeResolver) -> StateResult<U256> {
        let key = keccak256(B256::from(slot));
        match self.storage_trie(address, r)?.get(key.as_slice(), r)? {
            None => Ok(U256::ZERO),
            Some(raw) => {
                U256::decode(&mut &raw[..]).map_err(|e| StateError::MalformedLeaf { what: "storage", source: e })
            }
        }
    }

    /// Reveals the whole storage trie of `address` (before a commit drops it whole).
    pub fn reveal_storage(&mut self, address: Address, r: &mut impl NodeResolver) -> StateResult<()> {
        Ok(self.storage_trie(address, &mut *r)?.reveal_all(r)?)
    }

    /// Every revealed node a store keeps by hash, of the account trie and of every storage trie
    /// in memory (see [`Trie::revealed_nodes`]).
    pub fn revealed_nodes(&mut self) -> Vec<(B256, Vec<u8>)> {
        let mut out = Vec::new();
        self.accounts.revealed_nodes(&mut out);
        for trie in self.storages.values_mut() {
            trie.revealed_nodes(&mut out);
        }
        out
    }

    /// The storage root of `address` (empty root for unknown accounts).
    pub fn storage_root(&mut self, address: Address, r: &mut impl NodeResolver) -> StateResult<B256> {
        Ok(self.storage_trie(address, r)?.root())
    }

    /// Applies `changes` and returns the new root.
    ///
    /// The order of trie operations is part of the witness format (a removal may need a sibling
    /// revealed): accounts in address order; within a trie, writes before removals, each sorted.
    pub fn apply(&mut self, changes: &StateChanges, r: &mut impl NodeResolver) -> StateResult<(B256, Undo)> {
        let mut undo = Undo::default();
        let mut account_writes = Vec::new();
        let mut account_removals = Vec::new();
        for change in &changes.accounts {
            let hashed = keccak256(change.address);
            let mut entry = UndoEntry { hashed, leaf: None, storage_trie: None, slots: Vec::new() };
            match &change.info {
                None => {
                    // An account without a loaded storage trie has empty storage (full state)
                    // or storage nobody reads again (witness state).
                    self.storages.entry(hashed).or_default();
                    entry.storage_trie = self.storages.remove(&hashed);
                    account_removals.push(undo.entries.len());
                }
                Some(info) => {
                    if change.wiped {
                        self.storage_trie(change.address, r)?;
                        entry.storage_trie = self.storages.insert(hashed, Trie::new());
                    }
                    let trie = self.storage_trie(change.address, r)?;
                    let (writes, removals): (Vec<_>, Vec<_>) =
                        change.storage.iter().partition(|(_, value)| !value.is_zero());
                    for &(slot, value) in writes {
                        let key = keccak256(B256::from(slot));
                        let old = trie.get(key.as_slice(), r)?;
                        trie.insert(key.as_slice(), encode_value(value), r)?;
                        if entry.storage_trie.is_none() {
                            entry.slots.push((key, old));
                        }
                    }
                    for &(slot, _) in removals {
                        let key = keccak256(B256::from(slot));
                        let old = trie.get(key.as_slice(), r)?;
                        trie.remove(key.as_slice(), r)?;
                        if entry.storage_trie.is_none() {
                            entry.slots.push((key, old));
                        }
                    }
                    let storage_root = trie.root();
                    let account = TrieAccount {
                        nonce: info.nonce,
                        balance: info.balance,
                        storage_root,
                        code_hash: info.code_hash,
                    };
                    let mut leaf = Vec::with_capacity(110);
                    account.encode(&mut leaf);
                    account_writes.push((undo.entries.len(), leaf));
                }
            }
            undo.entries.push(entry);
        }
        // Account leaves: writes first, then removals (see above).
        for (i, leaf) in account_writes {
            let entry = &mut undo.entries[i];
            entry.leaf = self.accounts.get(entry.hashed.as_slice(), r)?;
            self.accounts.insert(entry.hashed.as_slice(), leaf, r)?;
        }
        for i in account_removals {
            let entry = &mut undo.entries[i];
            entry.leaf = self.accounts.get(entry.hashed.as_slice(), r)?;
            self.accounts.remove(entry.hashed.as_slice(), r)?;
        }
        Ok((self.accounts.root(), undo))
    }

    /// Undoes an [`StateTrie::apply`] on a fully revealed trie.
    pub fn revert(&mut self, undo: Undo) {
        let r = &mut FullyRevealed;
        for entry in undo.entries.into_iter().rev() {
            let result = match entry.leaf {
                Some(leaf) => self.accounts.insert(entry.hashed.as_slice(), leaf, r),
                None => self.accounts.remove(entry.hashed.as_slice(), r).map(|_| ()),
            };
            debug_assert!(result.is_ok(), "revert of a fully revealed trie cannot miss nodes");
            if let Some(trie) = entry.storage_trie {
                self.storages.insert(entry.hashed, trie);
            } else if let Some(trie) = self.storages.get_mut(&entry.hashed) {
                for (key, old) in entry.slots.into_iter().rev() {
                    let _ = trie.insert(key.as_slice(), old.unwrap_or_default(), r);
                }
                trie.root();
            }
        }
        self.accounts.root();
    }

    /// The state root.
    pub fn root(&mut self) -> B256 {
        self.accounts.root()
    }
}

/// Read-only access to a [`MemoryState`] (many readers can share one state).
#[derive(Debug, Clone, Copy)]
pub struct StateRef<'a>(pub &'a MemoryState);

impl StateProvider for StateRef<'_> {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        self.0
            .trie
            .accounts
            .get_ref(keccak256(address).as_slice())?
            .map(decode_account)
            .transpose()
            .map(|a| a.map(|a| AccountState { nonce: a.nonce, balance: a.balance, code_hash: a.code_hash }))
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        let Some(trie) = self.0.trie.storages.get(&keccak256(address)) else { return Ok(U256::ZERO) };
        match trie.get_ref(keccak256(B256::from(slot)).as_slice())? {
            None => Ok(U256::ZERO),
            Some(mut raw) => {
                U256::decode(&mut raw).map_err(|e| StateError::MalformedLeaf { what: "storage", source: e })
            }
        }
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if hash == KECCAK256_EMPTY {
            return Ok(Bytes::new());
        }
        self.0.codes.get(&hash).cloned().ok_or(StateError::MissingCode(hash))
    }
}

/// A kept [`MemoryState`] shared with its keeper: reads go to it directly, and the first change
/// (or proof, which needs the trie mutably) works on a private copy.
#[derive(Debug, Clone)]
pub struct SharedState(pub std::sync::Arc<MemoryState>);

impl SharedState {
    fn own(&mut self) -> &mut MemoryState {
        std::sync::Arc::make_mut(&mut self.0)
    }
}

impl StateProvider for SharedState {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        StateRef(&self.0).account(address)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        StateRef(&self.0).storage(address, slot)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        StateRef(&self.0).code(hash)
    }
}

impl StateCommitter for SharedState {
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)> {
        self.own().commit(changes)
    }

    fn revert(&mut self, undo: Undo) {
        self.own().revert(undo);
    }
}

impl TrieState for SharedState {
    fn observe_account(
        &mut self,
        address: Address,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<Option<TrieAccount>> {
        self.own().observe_account(address, observer)
    }

    fn observe_storage(&mut self, address: Address, slot: U256, observer: &mut dyn NodeObserver) -> StateResult<U256> {
        self.own().observe_storage(address, slot, observer)
    }

    fn commit_observed(
        &mut self,
        changes: &StateChanges,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<(B256, Undo)> {
        TrieState::commit_observed(self.own(), changes, observer)
    }
}

/// An in-memory state store: a fully revealed [`StateTrie`] plus bytecode.
///
/// `clone` is cheap: trie nodes are shared copy-on-write, so it costs a reference count per
/// storage trie and per code, and each copy later pays only for the paths it changes.
#[derive(Debug, Clone, Default)]
pub struct MemoryState {
    trie: StateTrie,
    codes: B256Map<Bytes>,
}

/// A genesis account allocation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GenesisAccount {
    /// Nonce.
    pub nonce: u64,
    /// Balance.
    pub balance: U256,
    /// Bytecode.
    pub code: Bytes,
    /// Storage.
    pub storage: HashMap<U256, U256>,
}

impl MemoryState {
    /// A state holding `alloc`.
    pub fn from_alloc<'a>(alloc: impl IntoIterator<Item = (&'a Address, &'a GenesisAccount)>) -> Self {
        let mut state = Self::default();
        let changes = StateChanges::from_alloc(alloc.into_iter().map(|(a, acc)| (*a, acc.clone())));
        state.commit(&changes).expect("a fully revealed trie never misses nodes");
        state
    }

    /// The state root.
    pub fn root(&mut self) -> B256 {
        self.trie.root()
    }

    /// The underlying trie (for proofs and witness recording).
    pub fn trie_mut(&mut self) -> &mut StateTrie {
        &mut self.trie
    }

    /// Applies changes, letting `r` observe every committed node the update touches.
    pub fn commit_observed(&mut self, changes: &StateChanges, r: &mut impl NodeResolver) -> StateResult<(B256, Undo)> {
        let (root, mut undo) = self.trie.apply(changes, r)?;
        for (hash, code) in &changes.codes {
            if self.codes.insert(*hash, code.clone()).is_none() {
                undo.codes.push(*hash);
            }
        }
        Ok((root, undo))
    }
}

impl StateProvider for MemoryState {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        self.trie.account(address, &mut FullyRevealed)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        self.trie.storage(address, slot, &mut FullyRevealed)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if hash == KECCAK256_EMPTY {
            return Ok(Bytes::new());
        }
        self.codes.get(&hash).cloned().ok_or(StateError::MissingCode(hash))
    }
}

impl TrieState for MemoryState {
    fn observe_account(
        &mut self,
        address: Address,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<Option<TrieAccount>> {
        self.trie.root();
        self.trie.trie_account(address, &mut Observed { inner: FullyRevealed, observer: Some(observer) })
    }

    fn observe_storage(&mut self, address: Address, slot: U256, observer: &mut dyn NodeObserver) -> StateResult<U256> {
        self.trie.root();
        self.trie.storage_root(address, &mut FullyRevealed)?;
        self.trie.storage(address, slot, &mut Observed { inner: FullyRevealed, observer: Some(observer) })
    }

    fn commit_observed(
        &mut self,
        changes: &StateChanges,
        observer: &mut dyn NodeObserver,
    ) -> StateResult<(B256, Undo)> {
        Self::commit_observed(self, changes, &mut Observed { inner: FullyRevealed, observer: Some(observer) })
    }
}

impl StateCommitter for MemoryState {
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)> {
        self.commit_observed(changes, &mut FullyRevealed)
    }

    fn revert(&mut self, undo: Undo) {
        for hash in &undo.codes {
            self.codes.remove(hash);
        }
        self.trie.revert(undo);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn acc(balance: u64, storage: &[(u64, u64)]) -> GenesisAccount {
        GenesisAccount {
            balance: U256::from(balance),
            nonce: 1,
            code: Bytes::from_static(&[0x00]),
            storage: storage.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect(),
        }
    }

    /// Updates, slot deletions, wiped storage and deleted accounts all revert to the same root,
    /// and reading after the revert sees the old values.
    #[test]
    fn commit_then_revert_restores_state() {
        let a = Address::with_last_byte(1);
        let b = Address::with_last_byte(2);
        let c = Address::with_last_byte(3);
        let alloc = [(a, acc(10, &[(1, 1), (2, 2)])), (b, acc(20, &[(5, 5)])), (c, acc(30, &[(7, 7), (8, 8)]))];
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(k, v)| (k, v)));
        let before = state.root();
        let info =
            |balance: u64| Some(AccountState { nonce: 2, balance: U256::from(balance), code_hash: keccak256([0x00]) });
        let changes = StateChanges {
            accounts: vec![
                AccountChange {
                    address: a,
                    info: info(11),
                    wiped: false,
                    storage: vec![(U256::from(1), U256::ZERO), (U256::from(3), U256::from(3))],
                },
                AccountChange { address: b, info: None, wiped: true, storage: vec![] },
                AccountChange {
                    address: c,
                    info: info(31),
                    wiped: true,
                    storage: vec![(U256::from(9), U256::from(9))],
                },
                AccountChange { address: Address::with_last_byte(4), info: info(1), wiped: false, storage: vec![] },
            ],
            codes: vec![(keccak256([0x01]), Bytes::from_static(&[0x01]))],
        };
        let (after, undo) = state.commit(&changes).unwrap();
        assert_ne!(after, before);
        assert_eq!(state.storage(a, U256::from(1)).unwrap(), U256::ZERO);
        assert_eq!(state.storage(c, U256::from(7)).unwrap(), U256::ZERO);
        assert_eq!(state.account(b).unwrap(), None);
        state.revert(undo);
        assert_eq!(state.root(), before);
        assert_eq!(state.storage(a, U256::from(1)).unwrap(), U256::from(1));
        assert_eq!(state.storage(c, U256::from(7)).unwrap(), U256::from(7));
        assert_eq!(state.storage(c, U256::from(9)).unwrap(), U256::ZERO);
        assert_eq!(state.account(b).unwrap().unwrap().balance, U256::from(20));
        assert_eq!(state.account(Address::with_last_byte(4)).unwrap(), None);
        assert_eq!(state.code(keccak256([0x01])), Err(StateError::MissingCode(keccak256([0x01]))));
        // And the same commit again reaches the same root.
        assert_eq!(state.commit(&changes).unwrap().0, after);
    }

    fn hash_builder_root(leaves: impl IntoIterator<Item = (B256, Vec<u8>)>) -> B256 {
        let mut sorted: Vec<_> = leaves.into_iter().collect();
        sorted.sort_unstable_by_key(|(k, _)| *k);
        let mut hb = alloy_trie::HashBuilder::default();
        for (k, v) in sorted {
            hb.add_leaf(alloy_trie::Nibbles::unpack(k), &v);
        }
        hb.root()
    }

    proptest::proptest! {
        /// The state root equals the one alloy-trie's HashBuilder computes from the same
        /// accounts and storage, built from scratch.
        #[test]
        fn state_root_matches_alloy_trie(
            accounts in proptest::collection::btree_map(
                proptest::prelude::any::<[u8; 20]>(),
                (0u64..1000, proptest::collection::btree_map(0u64..50, 1u64..1000, 0..8)),
                1..40,
            )
        ) {
            let alloc: Vec<(Address, GenesisAccount)> = accounts
                .iter()
                .map(|(a, (balance, storage))| {
                    let storage = storage.iter().map(|(k, v)| (U256::from(*k), U256::from(*v))).collect();
                    (Address::from(*a), GenesisAccount { balance: U256::from(*balance), storage, ..Default::default() })
                })
                .collect();
            let mut state = MemoryState::from_alloc(alloc.iter().map(|(k, v)| (k, v)));
            let expected = hash_builder_root(alloc.iter().map(|(address, g)| {
                let storage_root = hash_builder_root(
                    g.storage.iter().map(|(k, v)| (keccak256(B256::from(*k)), encode_value(*v))),
                );
                let account = TrieAccount { nonce: g.nonce, balance: g.balance, storage_root, code_hash: KECCAK256_EMPTY };
                let mut leaf = Vec::new();
                account.encode(&mut leaf);
                (keccak256(address), leaf)
            }));
            proptest::prop_assert_eq!(state.root(), expected);
        }
    }
}
