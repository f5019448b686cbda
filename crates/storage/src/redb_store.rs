//! [`RedbStore`]: the [`ChainStore`] on redb.

use crate::trie_store::{self, NodeCache, PRUNE_QUEUE, StoreSource, TRIE_JOURNAL, TRIE_NODES};
use crate::{
    BlockInfo, ChainStore, Corruption, Inconsistency, L2Block, StoreError, StoreResult,
    codec::{
        AccountUndo, BlockUndo, StorageUndo, decode_account, decode_block, decode_record_header, decode_slot_value,
        decode_tx_location, decode_undo, decode_witness, encode_account, encode_block, encode_header_record,
        encode_tx_location, encode_undo, encode_witness, is_header_record,
    },
};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256};
use nrd_chain::{AccountState, GenesisAccount, StateChanges, StateSource, StoredBlock, TrieUpdate};
use redb::{Database, ReadableDatabase, ReadableTable, Table, TableDefinition, WriteTransaction};
use std::{path::Path, sync::Arc};

/// Canonical chain: block number → block hash (32 bytes). The last key is the head.
pub(crate) const CANONICAL: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("canonical");
/// Block number → block record (block RLP, senders, EIP-2718 receipts, anchor, L1 anchor, messages).
pub(crate) const BLOCKS: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("blocks");
/// Block hash → block number.
const BLOCK_NUMBERS: TableDefinition<'static, [u8; 32], u64> = TableDefinition::new("block_numbers");
/// Transaction hash → block number and index (16 bytes).
const TRANSACTIONS: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("transactions");
/// Block number → RLP execution witness (until pruned).
const WITNESSES: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("witnesses");
/// Block number → undo record (previous values of what the block changed).
pub(crate) const UNDO: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("undo");
/// Block number → state root (32) ‖ L1 anchor (8) ‖ index of the next L1 message after it (8).
pub(crate) const BLOCK_INFO: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("block_info");
/// Flat state: address → nonce (8), balance (32), code hash (32).
pub(crate) const ACCOUNTS: TableDefinition<'static, [u8; 20], &[u8]> = TableDefinition::new("accounts");
/// Flat state: address ‖ slot (big-endian) → value (32 bytes, never zero).
pub(crate) const STORAGE: TableDefinition<'static, [u8; 52], &[u8]> = TableDefinition::new("storage");
/// Code hash → bytecode.
pub(crate) const CODES: TableDefinition<'static, [u8; 32], &[u8]> = TableDefinition::new("codes");
/// Named values of [`ChainStore::put_meta`].
const META: TableDefinition<'static, &str, &[u8]> = TableDefinition::new("meta");
/// Position → network-encoded transaction of the saved mempool.
const POOL: TableDefinition<'static, u64, &[u8]> = TableDefinition::new("pool");
/// The store's own facts (`schema`).
pub(crate) const INFO: TableDefinition<'static, &str, u64> = TableDefinition::new("store_info");

/// Genesis accounts written per transaction.
const GENESIS_BATCH: usize = 100_000;

/// Version of the table layout and record encodings.
pub const SCHEMA_VERSION: u64 = 2;

pub(crate) fn storage_key(address: Address, slot: U256) -> [u8; 52] {
    let mut key = [0u8; 52];
    key[..20].copy_from_slice(address.as_slice());
    key[20..].copy_from_slice(&slot.to_be_bytes::<32>());
    key
}

fn storage_bounds(address: Address) -> ([u8; 52], [u8; 52]) {
    (storage_key(address, U256::ZERO), storage_key(address, U256::MAX))
}

pub(crate) fn split_storage_key(key: &[u8; 52]) -> (Address, U256) {
    let mut slot = [0u8; 32];
    slot.copy_from_slice(&key[20..]);
    (Address::from_slice(&key[..20]), U256::from_be_bytes(slot))
}

fn hash_value(what: impl Fn() -> String, raw: &[u8]) -> StoreResult<B256> {
    B256::try_from(raw).map_err(|_| StoreError::corrupt(what(), Corruption::HashLength(raw.len())))
}

/// The L2 node's store on a redb database (one file; ACID, crash-safe, pure Rust).
///
/// Tables (name: key → value; integers big-endian, every value checked when read):
///
/// | table | key | value |
/// |---|---|---|
/// | `canonical` | `u64` number | block hash (32 bytes); the last key is the head |
/// | `blocks` | `u64` number | record: version 1, block RLP, senders, EIP-2718 receipts, anchor, L1 anchor, ABI `L1Message[]` |
/// | `block_numbers` | `[u8; 32]` hash | `u64` number |
/// | `transactions` | `[u8; 32]` hash | block number (8) ‖ index (8) |
/// | `witnesses` | `u64` number | RLP `ExecutionWitness`, until pruned |
/// | `undo` | `u64` number | previous values of what the block changed (not for genesis), kept for the history window |
/// | `block_info` | `u64` number | state root (32) ‖ L1 anchor (8) ‖ next L1 message index (8) |
/// | `trie_nodes` | `[u8; 32]` node hash | references (4) ‖ block that dropped the last one (8) ‖ node RLP |
/// | `trie_journal` | `u64` number | the block's trie update: root, hashes created, hashes dropped (history window) |
/// | `trie_prune_queue` | number ‖ node hash | `()`: nodes whose last reference that block dropped |
/// | `accounts` | `[u8; 20]` address | nonce (8) ‖ balance (32) ‖ code hash (32) |
/// | `storage` | `[u8; 52]` address ‖ slot | value (32, never zero) |
/// | `codes` | `[u8; 32]` code hash | bytecode |
/// | `meta` | `&str` | bytes of [`ChainStore::put_meta`] |
/// | `pool` | `u64` position | network-encoded transaction |
/// | `store_info` | `&str` | `u64` (`schema` = [`SCHEMA_VERSION`], `history_from`: the oldest block whose state is readable) |
#[derive(Debug)]
pub struct RedbStore {
    db: Database,
    cache: Arc<NodeCache>,
    archive: bool,
}

/// How a [`RedbStore`] keeps state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreOptions {
    /// Bytes of trie nodes cached in memory in front of the database.
    pub node_cache_bytes: u64,
    /// Keep every state readable: nothing is ever pruned.
    pub archive: bool,
    /// Bytes of database pages redb caches in memory (its own default: 1 GiB).
    pub db_cache_bytes: u64,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self { node_cache_bytes: 256 << 20, archive: false, db_cache_bytes: 1 << 30 }
    }
}

fn encode_info(info: &BlockInfo) -> [u8; 48] {
    let mut out = [0u8; 48];
    out[..32].copy_from_slice(info.state_root.as_slice());
    out[32..40].copy_from_slice(&info.l1_anchor.to_be_bytes());
    out[40..].copy_from_slice(&info.next_message.to_be_bytes());
    out
}

fn decode_info(number: u64, raw: &[u8]) -> StoreResult<BlockInfo> {
    let raw: &[u8; 48] = raw
        .try_into()
        .map_err(|_| StoreError::corrupt(format!("block_info {number}"), Corruption::HashLength(raw.len())))?;
    Ok(BlockInfo {
        state_root: B256::from_slice(&raw[..32]),
        l1_anchor: u64::from_be_bytes(raw[32..40].try_into().expect("8 bytes")),
        next_message: u64::from_be_bytes(raw[40..].try_into().expect("8 bytes")),
    })
}

pub(crate) fn read_info(table: &impl ReadableTable<u64, &'static [u8]>, number: u64) -> StoreResult<Option<BlockInfo>> {
    table.get(number)?.map(|raw| decode_info(number, raw.value())).transpose()
}

impl RedbStore {
    /// Empties the state tables (an interrupted genesis load leaves rows behind).
    pub(crate) fn clear_state(&self) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        txn.delete_table(ACCOUNTS)?;
        txn.delete_table(STORAGE)?;
        txn.delete_table(CODES)?;
        txn.delete_table(BLOCK_INFO)?;
        txn.delete_table(TRIE_NODES)?;
        txn.delete_table(TRIE_JOURNAL)?;
        txn.delete_table(PRUNE_QUEUE)?;
        // Readers open these tables read-only: they must exist, empty.
        create_state_tables(&txn)?;
        txn.commit()?;
        Ok(())
    }

    /// Applies state changes that only create accounts (a genesis or checkpoint load) to the
    /// state whose root is `root`, in one transaction; returns the new root. Accounts sorted by
    /// hashed address touch the fewest trie nodes.
    pub(crate) fn load_changes(&self, root: B256, changes: &StateChanges) -> StoreResult<B256> {
        let source = StoreSource::open(self.db.begin_read()?, root, true, self.cache.clone())?;
        let mut state = nrd_chain::LayeredState::new(source);
        nrd_chain::StateCommitter::commit(&mut state, changes).map_err(|e| StoreError::State(Box::new(e)))?;
        let update = state.trie_update();
        drop(state);
        let txn = self.db.begin_write()?;
        trie_store::add_refs(&txn, update.created.iter().map(|(hash, rlp)| (*hash, Some(rlp.as_ref()))))?;
        trie_store::release_refs(&txn, &update.dropped)?;
        apply_changes(&txn, changes)?;
        txn.commit()?;
        Ok(update.root)
    }

    /// Writes bytecode (keyed by its hash) in one transaction.
    pub(crate) fn write_codes(&self, codes: &[(B256, Bytes)]) -> StoreResult<()> {
        if codes.is_empty() {
            return Ok(());
        }
        let txn = self.db.begin_write()?;
        {
            let mut table = txn.open_table(CODES)?;
            for (hash, code) in codes {
                table.insert(hash.0, code.as_ref())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    /// Writes a checkpoint's chain part once its state is loaded: the block (the head), its
    /// ancestors' headers, the block's info, and the store's history starting at it.
    pub(crate) fn write_checkpoint_chain(
        &self,
        block: &L2Block,
        next_message: u64,
        ancestors: &[alloy_consensus::Header],
    ) -> StoreResult<()> {
        let stored = &block.stored;
        let number = stored.number();
        check_block(stored)?;
        let txn = self.db.begin_write()?;
        {
            let mut rows = BlockRows::open(&txn)?;
            if let Some((head, _)) = head_of(&rows.canonical)? {
                return Err(StoreError::NotNext { number, head });
            }
            for header in ancestors {
                rows.insert(header.number, header.hash_slow(), &encode_header_record(header), &[])?;
            }
            let record = encode_block(stored, &block.anchor, block.l1_anchor, &block.messages);
            rows.insert(number, stored.hash, &record, &stored.tx_hashes)?;
            let info = BlockInfo { state_root: stored.header().state_root, l1_anchor: block.l1_anchor, next_message };
            txn.open_table(BLOCK_INFO)?.insert(number, encode_info(&info).as_slice())?;
            let mut store_info = txn.open_table(INFO)?;
            store_info.insert("history_from", number)?;
            store_info.insert("bodies_from", number)?;
        }
        txn.commit()?;
        Ok(())
    }

    /// The database (for checkpoints).
    pub(crate) fn db(&self) -> &Database {
        &self.db
    }

    /// Opens the database file at `path`, creating it (and missing parent directories) when absent.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_with(path, StoreOptions::default())
    }

    /// [`RedbStore::open`] with `options`.
    pub fn open_with(path: impl AsRef<Path>, options: StoreOptions) -> StoreResult<Self> {
        let path = path.as_ref();
        let at = |e: StoreError| StoreError::File { path: path.to_path_buf(), source: Box::new(e) };
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| at(e.into()))?;
        }
        // redb would write a new database into an empty file: a store that lost its contents
        // would start again from genesis without a word.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(at(StoreError::corrupt("database file", Corruption::Empty)));
        }
        let cache = usize::try_from(options.db_cache_bytes).unwrap_or(usize::MAX);
        let db = redb::Builder::new().set_cache_size(cache).create(path).map_err(|e| at(e.into()))?;
        Self::init(db, options).map_err(at)
    }

    /// A store in memory (tests, throwaway nodes).
    pub fn in_memory() -> StoreResult<Self> {
        Self::in_memory_with(StoreOptions::default())
    }

    /// [`RedbStore::in_memory`] with `options`.
    pub fn in_memory_with(options: StoreOptions) -> StoreResult<Self> {
        let cache = usize::try_from(options.db_cache_bytes).unwrap_or(usize::MAX);
        let db =
            redb::Builder::new().set_cache_size(cache).create_with_backend(redb::backends::InMemoryBackend::new())?;
        Self::init(db, options)
    }

    /// Creates every table (so readers never miss one) and checks the schema version.
    fn init(db: Database, options: StoreOptions) -> StoreResult<Self> {
        let txn = db.begin_write()?;
        {
            let mut info = txn.open_table(INFO)?;
            let schema = info.get("schema")?.map(|v| v.value());
            match schema {
                None => {
                    info.insert("schema", SCHEMA_VERSION)?;
                }
                Some(SCHEMA_VERSION) => {}
                Some(v) => {
                    return Err(StoreError::corrupt(
                        "store_info",
                        Corruption::Schema { found: v, expected: SCHEMA_VERSION },
                    ));
                }
            }
            txn.open_table(CANONICAL)?;
            txn.open_table(BLOCKS)?;
            txn.open_table(BLOCK_NUMBERS)?;
            txn.open_table(TRANSACTIONS)?;
            txn.open_table(WITNESSES)?;
            txn.open_table(UNDO)?;
            txn.open_table(META)?;
            txn.open_table(POOL)?;
            create_state_tables(&txn)?;
        }
        txn.commit()?;
        Ok(Self { db, cache: Arc::new(NodeCache::with_bytes(options.node_cache_bytes)), archive: options.archive })
    }
}

/// The tables a canonical block is written to: its hash by number, its record, its number by
/// hash and its transactions' locations.
struct BlockRows<'t> {
    canonical: Table<'t, u64, &'static [u8]>,
    blocks: Table<'t, u64, &'static [u8]>,
    numbers: Table<'t, [u8; 32], u64>,
    transactions: Table<'t, [u8; 32], &'static [u8]>,
}

impl<'t> BlockRows<'t> {
    fn open(txn: &'t WriteTransaction) -> StoreResult<Self> {
        Ok(Self {
            canonical: txn.open_table(CANONICAL)?,
            blocks: txn.open_table(BLOCKS)?,
            numbers: txn.open_table(BLOCK_NUMBERS)?,
            transactions: txn.open_table(TRANSACTIONS)?,
        })
    }

    /// Makes block `number` with `hash` canonical with `record` (full or header-only) and
    /// indexes `tx_hashes` as its transactions.
    fn insert(&mut self, number: u64, hash: B256, record: &[u8], tx_hashes: &[B256]) -> StoreResult<()> {
        self.canonical.insert(number, hash.as_slice())?;
        self.blocks.insert(number, record)?;
        self.numbers.insert(hash.0, number)?;
        for (i, tx) in tx_hashes.iter().enumerate() {
            self.transactions.insert(tx.0, encode_tx_location(number, i).as_slice())?;
        }
        Ok(())
    }
}

/// Creates the state's tables (flat state, block info, trie) if they do not exist.
fn create_state_tables(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(ACCOUNTS)?;
    txn.open_table(STORAGE)?;
    txn.open_table(CODES)?;
    txn.open_table(BLOCK_INFO)?;
    txn.open_table(TRIE_NODES)?;
    txn.open_table(TRIE_JOURNAL)?;
    txn.open_table(PRUNE_QUEUE)?;
    Ok(())
}

/// The oldest block whose state is readable (and to which the chain can rewind).
pub(crate) fn history_from(info: &impl ReadableTable<&'static str, u64>) -> StoreResult<u64> {
    Ok(info.get("history_from")?.map_or(0, |v| v.value()))
}

/// The oldest block whose body, receipts and transaction index entries are kept.
fn bodies_from(info: &impl ReadableTable<&'static str, u64>) -> StoreResult<u64> {
    Ok(info.get("bodies_from")?.map_or(0, |v| v.value()))
}

/// Blocks whose bodies one [`ChainStore::prune_bodies`] call drops at most.
const PRUNE_BODIES_BATCH: u64 = 1024;

/// The head number and hash.
fn head_of(canonical: &impl ReadableTable<u64, &'static [u8]>) -> StoreResult<Option<(u64, B256)>> {
    let Some((number, hash)) = canonical.last()? else { return Ok(None) };
    let number = number.value();
    let hash = hash_value(|| format!("canonical hash of block {number}"), hash.value())?;
    Ok(Some((number, hash)))
}

/// Checks that a block's parts agree with its body.
fn check_block(stored: &StoredBlock) -> StoreResult<()> {
    let number = stored.number();
    let fail = |reason: Inconsistency| Err(StoreError::InconsistentBlock { number, reason });
    let txs = &stored.block.body.transactions;
    if stored.senders.len() != txs.len() || stored.receipts.len() != txs.len() {
        return fail(Inconsistency::Counts {
            txs: txs.len(),
            senders: stored.senders.len(),
            receipts: stored.receipts.len(),
        });
    }
    if stored.tx_hashes.len() != txs.len() || txs.iter().zip(&stored.tx_hashes).any(|(tx, h)| tx.tx_hash() != h) {
        return fail(Inconsistency::TxHashes);
    }
    let hash = stored.block.header.hash_slow();
    if hash != stored.hash {
        return fail(Inconsistency::Hash { stored: stored.hash, computed: hash });
    }
    Ok(())
}

/// Reads the whole storage of `address`.
pub(crate) fn read_storage(
    storage: &impl ReadableTable<[u8; 52], &'static [u8]>,
    address: Address,
) -> StoreResult<Vec<(U256, U256)>> {
    let (lo, hi) = storage_bounds(address);
    let mut out = Vec::new();
    for entry in storage.range(lo..=hi)? {
        let (key, value) = entry?;
        let (_, slot) = split_storage_key(&key.value());
        let value = decode_slot_value(value.value())
            .map_err(|e| StoreError::corrupt(format!("storage {address} slot {slot}"), e))?;
        out.push((slot, value));
    }
    Ok(out)
}

pub(crate) fn read_account(
    accounts: &impl ReadableTable<[u8; 20], &'static [u8]>,
    address: Address,
) -> StoreResult<Option<AccountState>> {
    accounts
        .get(address.0.0)?
        .map(|v| decode_account(v.value()).map_err(|e| StoreError::corrupt(format!("account {address}"), e)))
        .transpose()
}

/// Writes a slot (zero removes it) and returns its previous value (zero when unset).
fn write_slot(
    storage: &mut Table<'_, [u8; 52], &'static [u8]>,
    address: Address,
    slot: U256,
    value: U256,
) -> StoreResult<U256> {
    let key = storage_key(address, slot);
    let old = if value.is_zero() {
        storage.remove(key)?
    } else {
        storage.insert(key, value.to_be_bytes::<32>().as_slice())?
    };
    old.map_or(Ok(U256::ZERO), |v| {
        decode_slot_value(v.value()).map_err(|e| StoreError::corrupt(format!("storage {address} slot {slot}"), e))
    })
}

/// Applies a block's changes to the flat state, returning what undoes them. Mirrors
/// `StateTrie::apply`: a deleted account loses its storage, a wiped one starts from empty
/// storage, zero writes remove slots.
fn apply_changes(txn: &WriteTransaction, changes: &StateChanges) -> StoreResult<BlockUndo> {
    let mut accounts = txn.open_table(ACCOUNTS)?;
    let mut storage = txn.open_table(STORAGE)?;
    let mut codes = txn.open_table(CODES)?;
    let mut undo = BlockUndo::default();
    for change in &changes.accounts {
        let address = change.address;
        let account = read_account(&accounts, address)?;
        let mut storage_undo = if change.info.is_none() || change.wiped {
            let old = read_storage(&storage, address)?;
            let (lo, hi) = storage_bounds(address);
            storage.retain_in(lo..=hi, |_, _| false)?;
            StorageUndo::Full(old)
        } else {
            StorageUndo::Slots(Vec::with_capacity(change.storage.len()))
        };
        match &change.info {
            None => {
                accounts.remove(address.0.0)?;
            }
            Some(info) => {
                for &(slot, value) in &change.storage {
                    let old = write_slot(&mut storage, address, slot, value)?;
                    if let StorageUndo::Slots(slots) = &mut storage_undo {
                        slots.push((slot, old));
                    }
                }
                accounts.insert(address.0.0, encode_account(info).as_slice())?;
            }
        }
        undo.accounts.push(AccountUndo { address, account, storage: storage_undo });
    }
    // The empty code is never looked up (accounts without code read as empty).
    for (hash, code) in changes.codes.iter().filter(|(hash, _)| *hash != KECCAK256_EMPTY) {
        if codes.insert(hash.0, code.as_ref())?.is_none() {
            undo.new_codes.push(*hash);
        }
    }
    Ok(undo)
}

/// Restores the flat state before the block whose undo record this is.
fn revert_changes(txn: &WriteTransaction, undo: &BlockUndo, number: u64) -> StoreResult<()> {
    let mut accounts = txn.open_table(ACCOUNTS)?;
    let mut storage = txn.open_table(STORAGE)?;
    let mut codes = txn.open_table(CODES)?;
    for a in undo.accounts.iter().rev() {
        match &a.storage {
            StorageUndo::Full(old) => {
                let (lo, hi) = storage_bounds(a.address);
                storage.retain_in(lo..=hi, |_, _| false)?;
                for &(slot, value) in old {
                    if value.is_zero() {
                        return Err(StoreError::corrupt(format!("undo of block {number}"), Corruption::ZeroSlot));
                    }
                    write_slot(&mut storage, a.address, slot, value)?;
                }
            }
            StorageUndo::Slots(old) => {
                for &(slot, value) in old.iter().rev() {
                    write_slot(&mut storage, a.address, slot, value)?;
                }
            }
        }
        match &a.account {
            None => accounts.remove(a.address.0.0)?,
            Some(acc) => accounts.insert(a.address.0.0, encode_account(acc).as_slice())?,
        };
    }
    for hash in &undo.new_codes {
        codes.remove(hash.0)?;
    }
    Ok(())
}

impl ChainStore for RedbStore {
    fn append(&self, block: &L2Block, changes: &StateChanges, trie: &TrieUpdate) -> StoreResult<()> {
        let stored = &block.stored;
        let number = stored.number();
        check_block(stored)?;
        let record = encode_block(stored, &block.anchor, block.l1_anchor, &block.messages);
        let txn = self.db.begin_write()?;
        {
            let mut rows = BlockRows::open(&txn)?;
            let (head, head_hash) = head_of(&rows.canonical)?.ok_or(StoreError::NoGenesis)?;
            if number != head + 1 {
                return Err(StoreError::NotNext { number, head });
            }
            let parent = stored.header().parent_hash;
            if parent != head_hash {
                return Err(StoreError::WrongParent { number, parent, head: head_hash });
            }
            if trie.root != stored.header().state_root {
                return Err(StoreError::InconsistentBlock {
                    number,
                    reason: Inconsistency::StateRoot { update: trie.root, header: stored.header().state_root },
                });
            }
            rows.insert(number, stored.hash, &record, &stored.tx_hashes)?;
            if let Some(witness) = &block.witness {
                txn.open_table(WITNESSES)?.insert(number, encode_witness(witness).as_slice())?;
            }
            let mut undo = apply_changes(&txn, changes)?;
            undo.tx_hashes.clone_from(&stored.tx_hashes);
            txn.open_table(UNDO)?.insert(number, encode_undo(&undo).as_slice())?;
            trie_store::apply_update(&txn, number, trie, self.archive)?;
            let mut info = txn.open_table(BLOCK_INFO)?;
            let parent = read_info(&info, head)?
                .ok_or_else(|| StoreError::corrupt(format!("block_info {head}"), Corruption::Missing))?;
            let next = BlockInfo {
                state_root: trie.root,
                l1_anchor: block.l1_anchor,
                next_message: parent.next_message + block.messages.len() as u64,
            };
            info.insert(number, encode_info(&next).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    fn head(&self) -> StoreResult<Option<u64>> {
        let txn = self.db.begin_read()?;
        Ok(head_of(&txn.open_table(CANONICAL)?)?.map(|(n, _)| n))
    }

    fn block(&self, number: u64) -> StoreResult<Option<L2Block>> {
        let txn = self.db.begin_read()?;
        let Some(hash) = txn.open_table(CANONICAL)?.get(number)? else { return Ok(None) };
        let hash = hash_value(|| format!("canonical hash of block {number}"), hash.value())?;
        let what = || format!("block {number}");
        let record =
            txn.open_table(BLOCKS)?.get(number)?.ok_or_else(|| StoreError::corrupt(what(), Corruption::Missing))?;
        if is_header_record(record.value()) {
            return Ok(None);
        }
        let witness = txn
            .open_table(WITNESSES)?
            .get(number)?
            .map(|w| {
                decode_witness(w.value()).map_err(|e| StoreError::corrupt(format!("witness of block {number}"), e))
            })
            .transpose()?;
        let block = decode_block(record.value(), witness).map_err(|e| StoreError::corrupt(what(), e))?;
        if block.number() != number || block.hash() != hash {
            return Err(StoreError::corrupt(
                what(),
                Corruption::WrongBlock { number: block.number(), hash: block.hash(), canonical: hash },
            ));
        }
        Ok(Some(block))
    }

    fn header(&self, number: u64) -> StoreResult<Option<alloy_consensus::Header>> {
        let txn = self.db.begin_read()?;
        let Some(record) = txn.open_table(BLOCKS)?.get(number)? else { return Ok(None) };
        decode_record_header(record.value()).map(Some).map_err(|e| StoreError::corrupt(format!("block {number}"), e))
    }

    fn bodies_from(&self) -> StoreResult<u64> {
        let txn = self.db.begin_read()?;
        bodies_from(&txn.open_table(INFO)?)
    }

    fn first_block(&self) -> StoreResult<u64> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(BLOCK_INFO)?.first()?.map_or(0, |(n, _)| n.value()))
    }

    fn prune_bodies(&self, keep_from: u64) -> StoreResult<u64> {
        if self.archive {
            return Ok(0);
        }
        let txn = self.db.begin_write()?;
        let end;
        let mut pruned = 0;
        {
            let mut info = txn.open_table(INFO)?;
            let from = bodies_from(&info)?;
            let head = head_of(&txn.open_table(CANONICAL)?)?.map_or(0, |(n, _)| n);
            // Blocks whose state is readable keep their bodies: a rewind returns their
            // transactions to the pool.
            let keep_from = keep_from.min(history_from(&info)?).min(head);
            if keep_from <= from {
                return Ok(0);
            }
            end = keep_from.min(from + PRUNE_BODIES_BATCH);
            let mut blocks = txn.open_table(BLOCKS)?;
            let mut transactions = txn.open_table(TRANSACTIONS)?;
            let mut witnesses = txn.open_table(WITNESSES)?;
            for n in from..end {
                let what = || format!("block {n}");
                let Some(record) = blocks.get(n)?.map(|r| r.value().to_vec()) else { continue };
                if is_header_record(&record) {
                    continue;
                }
                let block = decode_block(&record, None).map_err(|e| StoreError::corrupt(what(), e))?;
                for hash in &block.stored.tx_hashes {
                    transactions.remove(hash.0)?;
                }
                blocks.insert(n, encode_header_record(block.stored.header()).as_slice())?;
                witnesses.remove(n)?;
                pruned += 1;
            }
            info.insert("bodies_from", end)?;
        }
        txn.commit()?;
        Ok(pruned)
    }

    fn block_hash(&self, number: u64) -> StoreResult<Option<B256>> {
        let txn = self.db.begin_read()?;
        let hash = txn.open_table(CANONICAL)?.get(number)?;
        hash.map(|h| hash_value(|| format!("canonical hash of block {number}"), h.value())).transpose()
    }

    fn block_number(&self, hash: B256) -> StoreResult<Option<u64>> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(BLOCK_NUMBERS)?.get(hash.0)?.map(|n| n.value()))
    }

    fn transaction(&self, hash: B256) -> StoreResult<Option<(u64, usize)>> {
        let txn = self.db.begin_read()?;
        let location = txn.open_table(TRANSACTIONS)?.get(hash.0)?;
        location
            .map(|l| decode_tx_location(l.value()).map_err(|e| StoreError::corrupt(format!("transaction {hash}"), e)))
            .transpose()
    }

    fn prune_witnesses(&self, up_to: u64) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(WITNESSES)?.retain_in(..=up_to, |_, _| false)?;
        txn.commit()?;
        Ok(())
    }

    fn rewind(&self, number: u64) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut canonical = txn.open_table(CANONICAL)?;
            let Some((head, _)) = head_of(&canonical)? else {
                return Err(StoreError::NoGenesis);
            };
            if number > head {
                return Err(StoreError::RewindAhead { target: number, head });
            }
            let history_from = history_from(&txn.open_table(INFO)?)?;
            if number < history_from && number < head {
                return Err(StoreError::RewindPruned { target: number, history_from });
            }
            let mut info = txn.open_table(BLOCK_INFO)?;
            let mut blocks = txn.open_table(BLOCKS)?;
            let mut numbers = txn.open_table(BLOCK_NUMBERS)?;
            let mut transactions = txn.open_table(TRANSACTIONS)?;
            let mut witnesses = txn.open_table(WITNESSES)?;
            let mut undos = txn.open_table(UNDO)?;
            for n in (number + 1..=head).rev() {
                let what = || format!("undo of block {n}");
                let undo = undos.remove(n)?.ok_or_else(|| StoreError::corrupt(what(), Corruption::Missing))?;
                let undo = decode_undo(undo.value()).map_err(|e| StoreError::corrupt(what(), e))?;
                revert_changes(&txn, &undo, n)?;
                trie_store::revert_update(&txn, n, number, self.archive)?;
                info.remove(n)?;
                for hash in &undo.tx_hashes {
                    transactions.remove(hash.0)?;
                }
                if let Some(hash) = canonical.remove(n)? {
                    let hash = hash_value(|| format!("canonical hash of block {n}"), hash.value())?;
                    numbers.remove(hash.0)?;
                }
                blocks.remove(n)?;
                witnesses.remove(n)?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn init_genesis_from(
        &self,
        genesis: &StoredBlock,
        accounts: &mut dyn Iterator<Item = (Address, GenesisAccount)>,
    ) -> StoreResult<()> {
        {
            let txn = self.db.begin_read()?;
            if let Some(stored) = txn.open_table(CANONICAL)?.get(0u64)? {
                let stored = hash_value(|| "canonical hash of block 0".into(), stored.value())?;
                return if stored == genesis.hash {
                    Ok(())
                } else {
                    Err(StoreError::GenesisMismatch { stored, given: genesis.hash })
                };
            }
        }
        let number = genesis.number();
        if number != 0 {
            return Err(StoreError::InconsistentBlock { number, reason: Inconsistency::GenesisNumber });
        }
        check_block(genesis)?;
        // What an interrupted load left behind goes first.
        self.clear_state()?;
        let mut root = alloy_trie::EMPTY_ROOT_HASH;
        loop {
            let batch: Vec<(Address, GenesisAccount)> = (&mut *accounts).take(GENESIS_BATCH).collect();
            if batch.is_empty() {
                break;
            }
            root = self.load_changes(root, &StateChanges::from_alloc(batch))?;
        }
        if root != genesis.header().state_root {
            self.clear_state()?;
            return Err(StoreError::InconsistentBlock {
                number,
                reason: Inconsistency::GenesisRoot { alloc: root, header: genesis.header().state_root },
            });
        }
        let txn = self.db.begin_write()?;
        {
            BlockRows::open(&txn)?.insert(0, genesis.hash, &encode_block(genesis, &[], 0, &[]), &[])?;
            let info = BlockInfo { state_root: root, l1_anchor: 0, next_message: 0 };
            txn.open_table(BLOCK_INFO)?.insert(0u64, encode_info(&info).as_slice())?;
        }
        txn.commit()?;
        Ok(())
    }

    fn block_info(&self, number: u64) -> StoreResult<Option<BlockInfo>> {
        let txn = self.db.begin_read()?;
        read_info(&txn.open_table(BLOCK_INFO)?, number)
    }

    fn state_at(&self, number: Option<u64>) -> StoreResult<Option<(u64, Box<dyn StateSource + Send>)>> {
        let txn = self.db.begin_read()?;
        let Some((head, _)) = head_of(&txn.open_table(CANONICAL)?)? else { return Ok(None) };
        let number = number.unwrap_or(head);
        if number > head || (number < head && number < history_from(&txn.open_table(INFO)?)?) {
            return Ok(None);
        }
        let info = read_info(&txn.open_table(BLOCK_INFO)?, number)?
            .ok_or_else(|| StoreError::corrupt(format!("block_info {number}"), Corruption::Missing))?;
        let source = StoreSource::open(txn, info.state_root, number == head, self.cache.clone())?;
        Ok(Some((number, Box::new(source))))
    }

    fn history_from(&self) -> StoreResult<u64> {
        let txn = self.db.begin_read()?;
        history_from(&txn.open_table(INFO)?)
    }

    fn prune_history(&self, keep_from: u64) -> StoreResult<u64> {
        if self.archive {
            return Ok(0);
        }
        let txn = self.db.begin_write()?;
        let deleted;
        {
            let mut info = txn.open_table(INFO)?;
            let from = history_from(&info)?;
            let head = head_of(&txn.open_table(CANONICAL)?)?.map_or(0, |(n, _)| n);
            let keep_from = keep_from.min(head);
            if keep_from <= from {
                return Ok(0);
            }
            deleted = trie_store::prune(&txn, keep_from)?;
            txn.open_table(UNDO)?.retain_in(..=keep_from, |_, _| false)?;
            info.insert("history_from", keep_from)?;
        }
        txn.commit()?;
        Ok(deleted)
    }

    fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        txn.open_table(META)?.insert(key, value)?;
        txn.commit()?;
        Ok(())
    }

    fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let txn = self.db.begin_read()?;
        Ok(txn.open_table(META)?.get(key)?.map(|v| v.value().to_vec()))
    }

    fn update_pool(&self, added: &[(u64, Bytes)], removed: &[u64]) -> StoreResult<()> {
        let txn = self.db.begin_write()?;
        {
            let mut pool = txn.open_table(POOL)?;
            for position in removed {
                pool.remove(position)?;
            }
            for (position, tx) in added {
                pool.insert(position, tx.as_ref())?;
            }
        }
        txn.commit()?;
        Ok(())
    }

    fn load_pool(&self) -> StoreResult<Vec<(u64, Bytes)>> {
        let txn = self.db.begin_read()?;
        let pool = txn.open_table(POOL)?;
        pool.iter()?
            .map(|entry| {
                let (position, tx) = entry?;
                Ok((position.value(), Bytes::copy_from_slice(tx.value())))
            })
            .collect()
    }
}
