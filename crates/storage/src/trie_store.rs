//! The state's trie on disk: nodes by hash with reference counts, per-block journals of what
//! each block added and dropped, the prune queue, and [`StoreSource`], through which a
//! [`nrd_chain::LayeredState`] reads the store.
//!
//! A node row is `refs (4) ‖ dropped_at (8) ‖ rlp`. `refs` counts the references to the node
//! from the head state (a node can sit at two positions, e.g. two identical storage tries).
//! When a block makes `refs` fall to zero the node stays (older states in the history window
//! still reference it): it is queued under that block, and deleted when the window has moved
//! past the block — unless a later block referenced it again (`refs > 0`) or dropped it again
//! (`dropped_at` moved on, and so did its turn).

use crate::{
    Corruption, StoreError, StoreResult,
    codec::{DecodeResult, Reader, Writer, decode_account, decode_slot_value},
};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use nrd_chain::{AccountState, StateError, StateResult, StateSource, TrieError, TrieUpdate, store_fault};
use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use std::sync::{Arc, Mutex};

/// Node hash → `refs (4) ‖ dropped_at (8) ‖ rlp`.
pub(crate) const TRIE_NODES: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("trie_nodes");
/// Block number → the block's [`TrieUpdate`] (created and dropped hashes), for rewinds.
pub(crate) const TRIE_JOURNAL: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("trie_journal");
/// Block number ‖ node hash → nothing: nodes whose last reference that block dropped.
pub(crate) const PRUNE_QUEUE: TableDefinition<'static, [u8; 40], ()> = TableDefinition::new("trie_prune_queue");

/// Version byte of journal records.
const JOURNAL_VERSION: u8 = 1;
/// Bytes before a node row's RLP.
const NODE_HEADER: usize = 12;

fn node_row(refs: u32, dropped_at: u64, rlp: &[u8]) -> Vec<u8> {
    let mut row = Vec::with_capacity(NODE_HEADER + rlp.len());
    row.extend_from_slice(&refs.to_be_bytes());
    row.extend_from_slice(&dropped_at.to_be_bytes());
    row.extend_from_slice(rlp);
    row
}

fn split_row(hash: &B256, row: &[u8]) -> StoreResult<(u32, u64, Vec<u8>)> {
    if row.len() <= NODE_HEADER {
        return Err(StoreError::corrupt(format!("trie node {hash}"), Corruption::Missing));
    }
    let refs = u32::from_be_bytes(row[..4].try_into().expect("4 bytes"));
    let dropped_at = u64::from_be_bytes(row[4..12].try_into().expect("8 bytes"));
    Ok((refs, dropped_at, row[NODE_HEADER..].to_vec()))
}

fn queue_key(block: u64, hash: &B256) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&block.to_be_bytes());
    key[8..].copy_from_slice(hash.as_slice());
    key
}

pub(crate) fn encode_journal(update: &TrieUpdate) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(JOURNAL_VERSION);
    w.fixed(update.root.as_slice());
    w.u64(update.created.len() as u64);
    for (hash, _) in &update.created {
        w.fixed(hash.as_slice());
    }
    w.u64(update.dropped.len() as u64);
    for hash in &update.dropped {
        w.fixed(hash.as_slice());
    }
    w.finish()
}

/// A journal: the root, the created hashes, the dropped hashes.
pub(crate) fn decode_journal(raw: &[u8]) -> DecodeResult<(B256, Vec<B256>, Vec<B256>)> {
    let mut r = Reader::new(raw);
    r.version(JOURNAL_VERSION)?;
    let root = B256::from(r.array::<32>()?);
    let mut hashes = || -> DecodeResult<Vec<B256>> {
        let n = r.count(32)?;
        (0..n).map(|_| r.array::<32>().map(B256::from)).collect()
    };
    let created = hashes()?;
    let dropped = hashes()?;
    r.end()?;
    Ok((root, created, dropped))
}

/// Adds one reference to each node (inserting new ones with their RLP).
pub(crate) fn add_refs<'a>(
    txn: &WriteTransaction,
    nodes: impl IntoIterator<Item = (B256, Option<&'a [u8]>)>,
) -> StoreResult<()> {
    let mut table = txn.open_table(TRIE_NODES)?;
    for (hash, rlp) in nodes {
        let existing = table.get(hash.0)?.map(|row| split_row(&hash, row.value())).transpose()?;
        let row = match (existing, rlp) {
            (Some((refs, dropped_at, rlp)), _) => node_row(refs.saturating_add(1), dropped_at, &rlp),
            (None, Some(rlp)) => node_row(1, 0, rlp),
            (None, None) => return Err(StoreError::corrupt(format!("trie node {hash}"), Corruption::Missing)),
        };
        table.insert(hash.0, row.as_slice())?;
    }
    Ok(())
}

/// Removes one reference from each node; those left without any are queued under `block`.
pub(crate) fn drop_refs(txn: &WriteTransaction, nodes: &[B256], block: u64, archive: bool) -> StoreResult<()> {
    let mut table = txn.open_table(TRIE_NODES)?;
    let mut queue = txn.open_table(PRUNE_QUEUE)?;
    for hash in nodes {
        let row = table.get(hash.0)?.map(|row| split_row(hash, row.value())).transpose()?;
        let Some((refs, _, rlp)) = row else {
            return Err(StoreError::corrupt(format!("trie node {hash}"), Corruption::Missing));
        };
        let refs = refs
            .checked_sub(1)
            .ok_or_else(|| StoreError::corrupt(format!("trie node {hash}"), Corruption::RefCount))?;
        table.insert(hash.0, node_row(refs, block, &rlp).as_slice())?;
        if refs == 0 && !archive {
            queue.insert(queue_key(block, hash), ())?;
        }
    }
    Ok(())
}

/// Removes one reference from each node and deletes those left without any (no state
/// history refers to them: a genesis being loaded).
pub(crate) fn release_refs(txn: &WriteTransaction, nodes: &[B256]) -> StoreResult<()> {
    let mut table = txn.open_table(TRIE_NODES)?;
    for hash in nodes {
        let row = table.get(hash.0)?.map(|row| split_row(hash, row.value())).transpose()?;
        let Some((refs, dropped_at, rlp)) = row else {
            return Err(StoreError::corrupt(format!("trie node {hash}"), Corruption::Missing));
        };
        match refs.checked_sub(1) {
            None => return Err(StoreError::corrupt(format!("trie node {hash}"), Corruption::RefCount)),
            Some(0) => {
                table.remove(hash.0)?;
            }
            Some(refs) => {
                table.insert(hash.0, node_row(refs, dropped_at, &rlp).as_slice())?;
            }
        }
    }
    Ok(())
}

/// Writes a block's trie update and its journal.
pub(crate) fn apply_update(txn: &WriteTransaction, number: u64, update: &TrieUpdate, archive: bool) -> StoreResult<()> {
    add_refs(txn, update.created.iter().map(|(hash, rlp)| (*hash, Some(rlp.as_ref()))))?;
    drop_refs(txn, &update.dropped, number, archive)?;
    txn.open_table(TRIE_JOURNAL)?.insert(number, encode_journal(update).as_slice())?;
    Ok(())
}

/// Undoes block `number`'s trie update (a rewind to `target`): what it dropped is referenced
/// again, what it created loses its reference and waits in the queue under `target`.
pub(crate) fn revert_update(txn: &WriteTransaction, number: u64, target: u64, archive: bool) -> StoreResult<()> {
    let what = || format!("trie journal of block {number}");
    let (created, dropped) = {
        let mut journal = txn.open_table(TRIE_JOURNAL)?;
        let raw = journal.remove(number)?.ok_or_else(|| StoreError::corrupt(what(), Corruption::Missing))?;
        let (_, created, dropped) = decode_journal(raw.value()).map_err(|e| StoreError::corrupt(what(), e))?;
        (created, dropped)
    };
    add_refs(txn, dropped.into_iter().map(|hash| (hash, None)))?;
    drop_refs(txn, &created, target, archive)
}

/// Deletes the nodes no state from block `keep_from` on references, and the journals of the
/// blocks before it (they can no longer be rewound). Returns the nodes deleted.
pub(crate) fn prune(txn: &WriteTransaction, keep_from: u64) -> StoreResult<u64> {
    let mut table = txn.open_table(TRIE_NODES)?;
    let mut queue = txn.open_table(PRUNE_QUEUE)?;
    let mut deleted = 0;
    // A node dropped by block b is referenced by the state after block b - 1: it may go once
    // that state has left the window, i.e. b <= keep_from.
    let hi = queue_key(keep_from, &B256::repeat_byte(0xff));
    let due: Vec<[u8; 40]> = queue.range(..=hi)?.map(|e| e.map(|(k, _)| k.value())).collect::<Result<_, _>>()?;
    for key in due {
        queue.remove(key)?;
        let block = u64::from_be_bytes(key[..8].try_into().expect("8 bytes"));
        let hash = B256::from_slice(&key[8..]);
        let row = table.get(hash.0)?.map(|row| split_row(&hash, row.value())).transpose()?;
        if let Some((0, dropped_at, _)) = row
            && dropped_at == block
        {
            table.remove(hash.0)?;
            deleted += 1;
        }
    }
    txn.open_table(TRIE_JOURNAL)?.retain_in(..keep_from, |_, _| false)?;
    Ok(deleted)
}

/// A bounded cache of trie nodes by hash, shared by every reader of one store. Nodes are
/// content-addressed, so a cached node is never stale.
#[derive(Debug)]
pub struct NodeCache {
    map: Mutex<schnellru::LruMap<B256, Bytes, schnellru::ByLength>>,
}

/// Average bytes a cached node takes (RLP, key and map overhead), to size the cache.
const CACHED_NODE_BYTES: u64 = 600;

impl NodeCache {
    /// A cache of about `bytes` bytes.
    pub fn with_bytes(bytes: u64) -> Self {
        let entries = u32::try_from(bytes / CACHED_NODE_BYTES).unwrap_or(u32::MAX).max(1);
        Self { map: Mutex::new(schnellru::LruMap::new(schnellru::ByLength::new(entries))) }
    }

    fn get(&self, hash: &B256) -> Option<Bytes> {
        use nrd_chain::LockExt;
        self.map.lock_or_recover().get(hash).cloned()
    }

    fn insert(&self, hash: B256, node: Bytes) {
        use nrd_chain::LockExt;
        self.map.lock_or_recover().insert(hash, node);
    }
}

fn fault(e: impl Into<StoreError>) -> StateError {
    let e: StoreError = e.into();
    let severity = nrd_chain::Classify::severity(&e);
    store_fault(e, severity)
}

/// The store's state at one block, read through one database snapshot: flat tables at the
/// head, or only the trie for an older root.
pub struct StoreSource {
    _txn: ReadTransaction,
    root: B256,
    flat: bool,
    accounts: ReadOnlyTable<[u8; 20], &'static [u8]>,
    storage: ReadOnlyTable<[u8; 52], &'static [u8]>,
    codes: ReadOnlyTable<[u8; 32], &'static [u8]>,
    nodes: ReadOnlyTable<[u8; 32], &'static [u8]>,
    cache: Arc<NodeCache>,
}

impl std::fmt::Debug for StoreSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSource").field("root", &self.root).field("flat", &self.flat).finish_non_exhaustive()
    }
}

impl StoreSource {
    pub(crate) fn open(txn: ReadTransaction, root: B256, flat: bool, cache: Arc<NodeCache>) -> StoreResult<Self> {
        Ok(Self {
            accounts: txn.open_table(crate::redb_store::ACCOUNTS)?,
            storage: txn.open_table(crate::redb_store::STORAGE)?,
            codes: txn.open_table(crate::redb_store::CODES)?,
            nodes: txn.open_table(TRIE_NODES)?,
            _txn: txn,
            root,
            flat,
            cache,
        })
    }
}

impl StateSource for StoreSource {
    fn root(&self) -> B256 {
        self.root
    }

    fn has_flat(&self) -> bool {
        self.flat
    }

    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        let Some(raw) = self.accounts.get(address.0.0).map_err(fault)? else { return Ok(None) };
        decode_account(raw.value()).map(Some).map_err(|e| fault(StoreError::corrupt(format!("account {address}"), e)))
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        let key = crate::redb_store::storage_key(address, slot);
        let Some(raw) = self.storage.get(key).map_err(fault)? else { return Ok(U256::ZERO) };
        decode_slot_value(raw.value())
            .map_err(|e| fault(StoreError::corrupt(format!("storage {address} slot {slot}"), e)))
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if hash == KECCAK256_EMPTY {
            return Ok(Bytes::new());
        }
        let Some(raw) = self.codes.get(hash.0).map_err(fault)? else { return Err(StateError::MissingCode(hash)) };
        let code = Bytes::copy_from_slice(raw.value());
        if keccak256(&code) != hash {
            return Err(fault(StoreError::corrupt(format!("code {hash}"), Corruption::CodeHash)));
        }
        Ok(code)
    }

    fn node(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        if let Some(node) = self.cache.get(hash) {
            return Ok(node);
        }
        let store = |e: StoreError| {
            let severity = nrd_chain::Classify::severity(&e);
            TrieError::Store { hash: *hash, source: nrd_chain::StoreFault::new(e, severity) }
        };
        let Some(row) = self.nodes.get(hash.0).map_err(|e| store(e.into()))? else {
            return Err(TrieError::MissingNode(*hash));
        };
        let (_, _, rlp) = split_row(hash, row.value()).map_err(store)?;
        if keccak256(&rlp) != *hash {
            return Err(store(StoreError::corrupt(format!("trie node {hash}"), Corruption::NodeHash)));
        }
        let node = Bytes::from(rlp);
        self.cache.insert(*hash, node.clone());
        Ok(node)
    }
}
