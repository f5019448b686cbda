//! Checkpoints: the whole state after one block, with what a node needs to start there, in one
//! file. [`RedbStore::export_checkpoint`] writes one from a store; a new node's
//! [`RedbStore::import_checkpoint`] loads it into an empty store, after its caller has checked
//! the [`CheckpointHead`] against L1.
//!
//! Layout (integers big-endian; every length and count checked when read):
//!
//! ```text
//! magic "nrdckpt\0" (8) ‖ version 1 (1)
//! head:  block record (u64 length ‖ the store's block record: block RLP, senders, receipts,
//!        anchor, L1 anchor, L1 messages) ‖ next L1 message index (8)
//!        ‖ ancestor count (8) ‖ that many (u64 length ‖ header RLP), oldest first, the last
//!        the block's parent (up to 255: with the block, the 256 BLOCKHASH can read)
//! items, each a tag byte:
//!   1 account: address (20) ‖ nonce (8) ‖ balance (32) ‖ code hash (32)
//!     — accounts in strictly increasing keccak256(address), the trie's order
//!   2 slots of the last account: count (4, 1..=4096) ‖ count × (slot (32) ‖ value (32, never 0))
//!   3 code: u64 length ‖ bytecode
//!   0 end: accounts (8) ‖ slots (8) ‖ codes (8), then nothing
//! ```
//!
//! Nothing in the file is trusted: the importer recomputes the state root from the accounts and
//! refuses the file unless it is the block's; the block's hash, transaction and receipt roots and
//! senders are recomputed; ancestors must chain by hash to the block. What is left to trust is
//! the block hash itself, which the caller compares with the one L1 recorded.

use crate::{
    ChainStore, Corruption, DecodeError, L2Block, RedbStore, StoreError,
    codec::{decode_account, decode_block, decode_record_header, decode_slot_value, decode_undo, encode_block},
    redb_store::{ACCOUNTS, CODES, STORAGE, read_storage},
};
use alloy_consensus::Header;
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256};
use alloy_rlp::{Decodable, Encodable};
use nrd_chain::{AccountChange, AccountState, Classify, Severity, StateChanges};
use redb::{ReadableDatabase, ReadableTable};
use std::{
    collections::{BTreeMap, HashMap, HashSet},
    io::{Read, Write},
};

/// First bytes of a checkpoint file.
pub const CHECKPOINT_MAGIC: [u8; 8] = *b"nrdckpt\0";
/// Version of the checkpoint layout.
pub const CHECKPOINT_VERSION: u8 = 1;
/// Ancestor headers a checkpoint carries (with its block: the 256 `BLOCKHASH` reads).
pub const CHECKPOINT_ANCESTORS: u64 = 255;
/// Slots per slots item.
const SLOT_CHUNK: usize = 4096;
/// Accounts plus slots loaded per store transaction.
const IMPORT_BATCH: usize = 100_000;
/// Largest bytecode a checkpoint may hold (EIP-7907 raises the limit; far above any).
const MAX_CODE: u64 = 1 << 20;
/// Largest block record or header a checkpoint may hold.
const MAX_RECORD: u64 = 1 << 30;

const TAG_END: u8 = 0;
const TAG_ACCOUNT: u8 = 1;
const TAG_SLOTS: u8 = 2;
const TAG_CODE: u8 = 3;

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing the file failed.
    #[error("checkpoint i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The file ends before its end record.
    #[error("the checkpoint is truncated: it ends inside {0}")]
    Truncated(&'static str),
    /// Not a checkpoint file.
    #[error("not an nrd checkpoint (bad magic bytes)")]
    Magic,
    /// A layout version this build does not read.
    #[error("checkpoint version {0}, this build reads version {CHECKPOINT_VERSION}")]
    Version(u8),
    /// A record does not decode.
    #[error("checkpoint {what}: {source}")]
    Decode {
        /// Which record.
        what: String,
        /// Why.
        #[source]
        source: DecodeError,
    },
    /// A header or block RLP does not decode.
    #[error("checkpoint {what}: {source}")]
    Rlp {
        /// Which record.
        what: String,
        /// Why.
        #[source]
        source: alloy_rlp::Error,
    },
    /// An item the layout does not allow here (unknown tag, slots before any account, …).
    #[error("checkpoint item {index}: {reason}")]
    Item {
        /// The item's position.
        index: u64,
        /// What is wrong.
        reason: String,
    },
    /// The block, its ancestors or its state contradict each other.
    #[error("checkpoint of block {number}: {reason}")]
    Inconsistent {
        /// The checkpoint's block.
        number: u64,
        /// What does not match.
        reason: String,
    },
    /// The state in the file does not have the block's state root.
    #[error("checkpoint of block {number}: its state has root {computed}, the block's state root is {header}")]
    StateRoot {
        /// The checkpoint's block.
        number: u64,
        /// The root of the accounts in the file.
        computed: B256,
        /// The block header's.
        header: B256,
    },
    /// The store cannot export the block's state (not in the history window, or unknown).
    #[error("cannot export block {number}: {reason}")]
    Unavailable {
        /// The block asked for.
        number: u64,
        /// Why.
        reason: String,
    },
    /// A checkpoint is only imported into an empty store.
    #[error("the store already holds a chain (head {head}): import a checkpoint into a new data directory")]
    NotEmpty {
        /// The store's head.
        head: u64,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Classify for CheckpointError {
    fn severity(&self) -> Severity {
        match self {
            Self::Io(_) => Severity::Temporary,
            Self::Store(e) => e.severity(),
            // The file or the request is wrong: the same one fails again.
            _ => Severity::Critical,
        }
    }
}

/// Result alias of checkpoints.
pub type CheckpointResult<T> = Result<T, CheckpointError>;

/// What a checkpoint says about its block: read before its state, so that the caller can check
/// it against L1 first.
#[derive(Debug, Clone)]
pub struct CheckpointHead {
    /// The block (no witness).
    pub block: L2Block,
    /// Index of the first L1 message the chain has not applied after the block.
    pub next_message: u64,
    /// Headers before the block, oldest first; the last is its parent.
    pub ancestors: Vec<Header>,
}

impl CheckpointHead {
    /// The block's number.
    pub fn number(&self) -> u64 {
        self.block.number()
    }

    /// Checks the head against itself: the block's hash, transaction and receipt roots,
    /// senders, and the ancestors' numbers and hashes up to the block's parent.
    pub fn verify(&self) -> CheckpointResult<()> {
        let number = self.number();
        let fail = |reason: String| Err(CheckpointError::Inconsistent { number, reason });
        let stored = &self.block.stored;
        let header = stored.header();
        if header.hash_slow() != stored.hash {
            return fail("the block's hash is not its header's".into());
        }
        let txs = &stored.block.body.transactions;
        if alloy_consensus::proofs::calculate_transaction_root(txs) != header.transactions_root {
            return fail("the transactions do not have the header's transactions root".into());
        }
        if alloy_consensus::proofs::calculate_receipt_root(&stored.receipts) != header.receipts_root {
            return fail("the receipts do not have the header's receipts root".into());
        }
        match nrd_chain::recover_senders(&stored.block) {
            Ok(senders) if senders == stored.senders => {}
            Ok(_) => return fail("the senders are not the transactions' signers".into()),
            Err(e) => return fail(format!("recovering the senders: {e}")),
        }
        let expected = number.min(CHECKPOINT_ANCESTORS) as usize;
        if self.ancestors.len() != expected {
            return fail(format!("{} ancestor headers, expected {expected}", self.ancestors.len()));
        }
        let mut child = header;
        for ancestor in self.ancestors.iter().rev() {
            if ancestor.number + 1 != child.number || ancestor.hash_slow() != child.parent_hash {
                return fail(format!("ancestor {} is not the parent of block {}", ancestor.number, child.number));
            }
            child = ancestor;
        }
        Ok(())
    }
}

/// Counts of what a checkpoint held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointSummary {
    /// The block.
    pub number: u64,
    /// Its state root.
    pub state_root: B256,
    /// Accounts.
    pub accounts: u64,
    /// Non-zero storage slots.
    pub slots: u64,
    /// Distinct bytecodes.
    pub codes: u64,
}

/// Reads exactly `n` bytes, naming `what` when the file ends first.
fn read_exact<R: Read>(r: &mut R, buf: &mut [u8], what: &'static str) -> CheckpointResult<()> {
    r.read_exact(buf).map_err(|e| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => CheckpointError::Truncated(what),
        _ => CheckpointError::Io(e),
    })
}

fn read_u64<R: Read>(r: &mut R, what: &'static str) -> CheckpointResult<u64> {
    let mut b = [0u8; 8];
    read_exact(r, &mut b, what)?;
    Ok(u64::from_be_bytes(b))
}

fn read_array<R: Read, const N: usize>(r: &mut R, what: &'static str) -> CheckpointResult<[u8; N]> {
    let mut b = [0u8; N];
    read_exact(r, &mut b, what)?;
    Ok(b)
}

/// A length-prefixed byte string of at most `max` bytes.
fn read_bytes<R: Read>(r: &mut R, max: u64, what: &'static str) -> CheckpointResult<Vec<u8>> {
    let len = read_u64(r, what)?;
    if len > max {
        return Err(CheckpointError::Decode { what: what.into(), source: DecodeError::Length(len) });
    }
    let mut buf = Vec::new();
    // Reading through `take` never allocates more than the file holds.
    r.take(len).read_to_end(&mut buf)?;
    if buf.len() as u64 != len {
        return Err(CheckpointError::Truncated(what));
    }
    Ok(buf)
}

fn write_bytes<W: Write>(w: &mut W, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(&(bytes.len() as u64).to_be_bytes())?;
    w.write_all(bytes)
}

/// Writes one item.
fn write_item<W: Write>(w: &mut W, item: &Item) -> std::io::Result<()> {
    match item {
        Item::Account(address, account) => {
            w.write_all(&[TAG_ACCOUNT])?;
            w.write_all(address.as_slice())?;
            w.write_all(&crate::codec::encode_account(account))
        }
        Item::Slots(slots) => {
            w.write_all(&[TAG_SLOTS])?;
            w.write_all(&(slots.len() as u32).to_be_bytes())?;
            for (slot, value) in slots {
                w.write_all(&slot.to_be_bytes::<32>())?;
                w.write_all(&value.to_be_bytes::<32>())?;
            }
            Ok(())
        }
        Item::Code(code) => {
            w.write_all(&[TAG_CODE])?;
            write_bytes(w, code)
        }
        Item::End { accounts, slots, codes } => {
            w.write_all(&[TAG_END])?;
            for count in [accounts, slots, codes] {
                w.write_all(&count.to_be_bytes())?;
            }
            Ok(())
        }
    }
}

/// Writes the magic bytes, the version and the head.
fn write_head<W: Write>(w: &mut W, head: &CheckpointHead) -> std::io::Result<()> {
    let block = &head.block;
    w.write_all(&CHECKPOINT_MAGIC)?;
    w.write_all(&[CHECKPOINT_VERSION])?;
    write_bytes(w, &encode_block(&block.stored, &block.anchor, block.l1_anchor, &block.messages))?;
    w.write_all(&head.next_message.to_be_bytes())?;
    w.write_all(&(head.ancestors.len() as u64).to_be_bytes())?;
    for header in &head.ancestors {
        let mut rlp = Vec::new();
        header.encode(&mut rlp);
        write_bytes(w, &rlp)?;
    }
    Ok(())
}

/// One account of a checkpoint's state and (part of) its storage.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Account(Address, AccountState),
    Slots(Vec<(U256, U256)>),
    Code(Bytes),
    End { accounts: u64, slots: u64, codes: u64 },
}

/// Reads a checkpoint: [`CheckpointReader::open`] reads its head, [`RedbStore::import_checkpoint`]
/// the rest.
#[derive(Debug)]
pub struct CheckpointReader<R> {
    input: R,
    head: CheckpointHead,
    items: u64,
}

impl<R: Read> CheckpointReader<R> {
    /// Reads the magic bytes, the version and the [`CheckpointHead`] (checked with
    /// [`CheckpointHead::verify`]).
    pub fn open(mut input: R) -> CheckpointResult<Self> {
        let magic: [u8; 8] = read_array(&mut input, "the magic bytes")?;
        if magic != CHECKPOINT_MAGIC {
            return Err(CheckpointError::Magic);
        }
        let [version] = read_array(&mut input, "the version")?;
        if version != CHECKPOINT_VERSION {
            return Err(CheckpointError::Version(version));
        }
        let record = read_bytes(&mut input, MAX_RECORD, "the block record")?;
        let block = decode_block(&record, None)
            .map_err(|source| CheckpointError::Decode { what: "block record".into(), source })?;
        let next_message = read_u64(&mut input, "the next message index")?;
        let count = read_u64(&mut input, "the ancestor count")?;
        if count > CHECKPOINT_ANCESTORS {
            return Err(CheckpointError::Inconsistent {
                number: block.number(),
                reason: format!("{count} ancestors, at most {CHECKPOINT_ANCESTORS}"),
            });
        }
        let mut ancestors = Vec::with_capacity(count as usize);
        for i in 0..count {
            let rlp = read_bytes(&mut input, MAX_RECORD, "an ancestor header")?;
            let mut slice = rlp.as_slice();
            let header = Header::decode(&mut slice)
                .map_err(|source| CheckpointError::Rlp { what: format!("ancestor header {i}"), source })?;
            if !slice.is_empty() {
                return Err(CheckpointError::Decode {
                    what: format!("ancestor header {i}"),
                    source: DecodeError::TrailingAfter("the header rlp"),
                });
            }
            ancestors.push(header);
        }
        let head = CheckpointHead { block, next_message, ancestors };
        head.verify()?;
        Ok(Self { input, head, items: 0 })
    }

    /// The checkpoint's block and what comes with it.
    pub fn head(&self) -> &CheckpointHead {
        &self.head
    }

    fn item_error(&self, reason: impl Into<String>) -> CheckpointError {
        CheckpointError::Item { index: self.items, reason: reason.into() }
    }

    fn next_item(&mut self) -> CheckpointResult<Item> {
        self.items += 1;
        let [tag] = read_array(&mut self.input, "an item tag (no end record)")?;
        let input = &mut self.input;
        Ok(match tag {
            TAG_ACCOUNT => {
                let address = Address::from(read_array::<_, 20>(input, "an account")?);
                let raw: [u8; 72] = read_array(input, "an account")?;
                let account = decode_account(&raw)
                    .map_err(|source| CheckpointError::Decode { what: format!("account {address}"), source })?;
                Item::Account(address, account)
            }
            TAG_SLOTS => {
                let count = u32::from_be_bytes(read_array(input, "a slots item")?) as usize;
                if count == 0 || count > SLOT_CHUNK {
                    return Err(self.item_error(format!("{count} slots in one item, 1..={SLOT_CHUNK} allowed")));
                }
                let mut slots = Vec::with_capacity(count);
                for _ in 0..count {
                    let slot = U256::from_be_bytes(read_array::<_, 32>(input, "a storage slot")?);
                    let raw: [u8; 32] = read_array(input, "a storage slot")?;
                    let value = decode_slot_value(&raw)
                        .map_err(|source| CheckpointError::Decode { what: format!("slot {slot}"), source })?;
                    slots.push((slot, value));
                }
                Item::Slots(slots)
            }
            TAG_CODE => Item::Code(read_bytes(input, MAX_CODE, "a bytecode")?.into()),
            TAG_END => {
                let accounts = read_u64(input, "the end record")?;
                let slots = read_u64(input, "the end record")?;
                let codes = read_u64(input, "the end record")?;
                let mut rest = [0u8; 1];
                if input.read(&mut rest)? != 0 {
                    return Err(self.item_error("bytes after the end record"));
                }
                Item::End { accounts, slots, codes }
            }
            other => return Err(self.item_error(format!("unknown tag {other}"))),
        })
    }
}

/// What blocks after the exported one changed, undone: the state at the exported block, as
/// differences from the head's flat state.
#[derive(Debug, Default)]
struct Overlay {
    /// Accounts as they were (`None`: did not exist).
    accounts: HashMap<Address, Option<AccountState>>,
    /// Whole storages as they were (the account was wiped or deleted later).
    full: HashMap<Address, BTreeMap<U256, U256>>,
    /// Single slots as they were (zero: unset), for accounts not in `full`.
    slots: HashMap<Address, BTreeMap<U256, U256>>,
}

impl Overlay {
    /// Undoes one block (applied newest first).
    fn undo(&mut self, undo: crate::codec::BlockUndo) {
        for a in undo.accounts.into_iter().rev() {
            self.accounts.insert(a.address, a.account);
            match a.storage {
                crate::codec::StorageUndo::Full(old) => {
                    self.slots.remove(&a.address);
                    self.full.insert(a.address, old.into_iter().collect());
                }
                crate::codec::StorageUndo::Slots(old) => {
                    for (slot, value) in old.into_iter().rev() {
                        match self.full.get_mut(&a.address) {
                            Some(full) if value.is_zero() => {
                                full.remove(&slot);
                            }
                            Some(full) => {
                                full.insert(slot, value);
                            }
                            None => {
                                self.slots.entry(a.address).or_default().insert(slot, value);
                            }
                        }
                    }
                }
            }
        }
    }
}

impl RedbStore {
    /// Writes the state after block `number` (the head when `None`) as a checkpoint to `out`:
    /// the block, its 255 ancestors' headers, the next L1 message index and every account with
    /// its storage and code. The block's state must be readable (the head, or within the
    /// history window) and its body kept. One consistent read: a node may keep running on the
    /// store meanwhile only within this process (redb opens a file once).
    ///
    /// Memory: the accounts' hashed addresses are sorted in memory (52 bytes per account).
    pub fn export_checkpoint(&self, number: Option<u64>, out: impl Write) -> CheckpointResult<CheckpointSummary> {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
        let txn = self.db().begin_read().map_err(StoreError::from)?;
        let canonical = txn.open_table(crate::redb_store::CANONICAL).map_err(StoreError::from)?;
        let head = canonical.last().map_err(StoreError::from)?.map(|(n, _)| n.value()).ok_or(StoreError::NoGenesis)?;
        let number = number.unwrap_or(head);
        let unavailable = |reason: String| CheckpointError::Unavailable { number, reason };
        if number > head {
            return Err(unavailable(format!("the head is {head}")));
        }
        let info_table = txn.open_table(crate::redb_store::INFO).map_err(StoreError::from)?;
        let history_from = crate::redb_store::history_from(&info_table)?;
        if number < history_from && number < head {
            return Err(unavailable(format!("states before block {history_from} are pruned")));
        }
        let blocks = txn.open_table(crate::redb_store::BLOCKS).map_err(StoreError::from)?;
        let record = blocks
            .get(number)
            .map_err(StoreError::from)?
            .ok_or_else(|| unavailable("the block is not stored".into()))?;
        let record = record.value().to_vec();
        if crate::codec::is_header_record(&record) {
            return Err(unavailable("its body was pruned".into()));
        }
        let block = decode_block(&record, None).map_err(|e| StoreError::corrupt(format!("block {number}"), e))?;
        let info = crate::redb_store::read_info(
            &txn.open_table(crate::redb_store::BLOCK_INFO).map_err(StoreError::from)?,
            number,
        )?
        .ok_or_else(|| StoreError::corrupt(format!("block_info {number}"), Corruption::Missing))?;
        let first = number.saturating_sub(CHECKPOINT_ANCESTORS);
        let mut ancestors = Vec::with_capacity((number - first) as usize);
        for n in first..number {
            let raw = blocks
                .get(n)
                .map_err(StoreError::from)?
                .ok_or_else(|| unavailable(format!("the header of ancestor {n} is not stored")))?;
            ancestors
                .push(decode_record_header(raw.value()).map_err(|e| StoreError::corrupt(format!("block {n}"), e))?);
        }

        let state_root = block.stored.header().state_root;
        write_head(&mut out, &CheckpointHead { block, next_message: info.next_message, ancestors })?;

        // The state at `number`: the head's flat state with later blocks undone.
        let mut overlay = Overlay::default();
        let undos = txn.open_table(crate::redb_store::UNDO).map_err(StoreError::from)?;
        for n in (number + 1..=head).rev() {
            let what = || format!("undo of block {n}");
            let raw = undos
                .get(n)
                .map_err(StoreError::from)?
                .ok_or_else(|| StoreError::corrupt(what(), Corruption::Missing))?;
            overlay.undo(decode_undo(raw.value()).map_err(|e| StoreError::corrupt(what(), e))?);
        }
        let accounts = txn.open_table(ACCOUNTS).map_err(StoreError::from)?;
        let storage = txn.open_table(STORAGE).map_err(StoreError::from)?;
        let codes = txn.open_table(CODES).map_err(StoreError::from)?;
        let mut order: Vec<(B256, Address)> = Vec::new();
        for entry in accounts.iter().map_err(StoreError::from)? {
            let address = Address::from(entry.map_err(StoreError::from)?.0.value());
            order.push((keccak256(address), address));
        }
        order.extend(overlay.accounts.keys().map(|a| (keccak256(a), *a)));
        order.sort_unstable();
        order.dedup();

        let mut summary = CheckpointSummary { number, state_root, ..Default::default() };
        let mut code_hashes = HashSet::new();
        for (_, address) in order {
            let account = match overlay.accounts.get(&address) {
                Some(account) => *account,
                None => crate::redb_store::read_account(&accounts, address)?,
            };
            let Some(account) = account else { continue };
            write_item(&mut out, &Item::Account(address, account))?;
            summary.accounts += 1;
            if account.code_hash != KECCAK256_EMPTY {
                code_hashes.insert(account.code_hash);
            }
            let slots: Vec<(U256, U256)> = match overlay.full.get(&address) {
                Some(full) => full.iter().map(|(k, v)| (*k, *v)).collect(),
                None => {
                    let mut slots: BTreeMap<U256, U256> = read_storage(&storage, address)?.into_iter().collect();
                    for (slot, value) in overlay.slots.get(&address).into_iter().flatten() {
                        if value.is_zero() {
                            slots.remove(slot);
                        } else {
                            slots.insert(*slot, *value);
                        }
                    }
                    slots.into_iter().collect()
                }
            };
            for chunk in slots.chunks(SLOT_CHUNK) {
                write_item(&mut out, &Item::Slots(chunk.to_vec()))?;
                summary.slots += chunk.len() as u64;
            }
        }
        let mut code_hashes: Vec<B256> = code_hashes.into_iter().collect();
        code_hashes.sort_unstable();
        for hash in code_hashes {
            let code = codes
                .get(hash.0)
                .map_err(StoreError::from)?
                .ok_or_else(|| StoreError::corrupt(format!("code {hash}"), Corruption::Missing))?;
            write_item(&mut out, &Item::Code(Bytes::copy_from_slice(code.value())))?;
            summary.codes += 1;
        }
        write_item(&mut out, &Item::End { accounts: summary.accounts, slots: summary.slots, codes: summary.codes })?;
        out.flush()?;
        Ok(summary)
    }

    /// Loads a checkpoint into this store, which must be empty: its state (in batches, checking
    /// the order of accounts and that every code is there), then — only if the state's root is
    /// the block's — the block, its ancestors' headers and its L1 progress. The store's history
    /// starts at the block: nothing before it can be read or rewound to.
    ///
    /// The caller checks [`CheckpointReader::head`] against L1 before calling this.
    pub fn import_checkpoint<R: Read>(&self, mut reader: CheckpointReader<R>) -> CheckpointResult<CheckpointSummary> {
        if let Some(head) = self.head()? {
            return Err(CheckpointError::NotEmpty { head });
        }
        let number = reader.head.number();
        let header_root = reader.head.block.stored.header().state_root;
        self.clear_state()?;
        let loaded = self.import_state(&mut reader, number);
        let summary = match loaded {
            Ok((root, summary)) if root == header_root => summary,
            Ok((root, _)) => {
                self.clear_state()?;
                return Err(CheckpointError::StateRoot { number, computed: root, header: header_root });
            }
            Err(e) => {
                self.clear_state()?;
                return Err(e);
            }
        };
        let head = &reader.head;
        self.write_checkpoint_chain(&head.block, head.next_message, &head.ancestors)?;
        Ok(CheckpointSummary { number, state_root: header_root, ..summary })
    }

    /// Loads a checkpoint's items into the (cleared) state; returns the state's root.
    fn import_state<R: Read>(
        &self,
        reader: &mut CheckpointReader<R>,
        number: u64,
    ) -> CheckpointResult<(B256, CheckpointSummary)> {
        let mut summary = CheckpointSummary::default();
        let mut root = alloy_trie::EMPTY_ROOT_HASH;
        let mut batch = StateChanges::default();
        let mut batch_items = 0usize;
        // The account read last (slots that follow are its), and its hashed address.
        let mut current: Option<(B256, Address, AccountState)> = None;
        let mut referenced = HashSet::new();
        let mut provided = HashSet::new();
        let mut codes: Vec<(B256, Bytes)> = Vec::new();
        let mut code_bytes = 0usize;
        let (accounts, slots, n_codes) = loop {
            match reader.next_item()? {
                Item::Account(address, account) => {
                    let hash = keccak256(address);
                    if !provided.is_empty() {
                        return Err(reader.item_error("an account after the codes"));
                    }
                    if current.is_some_and(|(last, _, _)| last >= hash) {
                        return Err(reader.item_error(format!(
                            "account {address} is out of order (accounts go by increasing keccak256(address), once each)"
                        )));
                    }
                    current = Some((hash, address, account));
                    if account.code_hash != KECCAK256_EMPTY {
                        referenced.insert(account.code_hash);
                    }
                    batch.accounts.push(AccountChange {
                        address,
                        info: Some(account),
                        wiped: false,
                        storage: Vec::new(),
                    });
                    summary.accounts += 1;
                    batch_items += 1;
                }
                Item::Slots(slots) => {
                    let Some((_, address, account)) = current else {
                        return Err(reader.item_error("storage slots before any account"));
                    };
                    if !provided.is_empty() {
                        return Err(reader.item_error("storage slots after the codes"));
                    }
                    summary.slots += slots.len() as u64;
                    batch_items += slots.len();
                    match batch.accounts.last_mut() {
                        Some(last) if last.address == address => last.storage.extend(slots),
                        // The account went with the previous batch: it comes again, with more slots.
                        _ => batch.accounts.push(AccountChange {
                            address,
                            info: Some(account),
                            wiped: false,
                            storage: slots,
                        }),
                    }
                }
                Item::Code(code) => {
                    let hash = keccak256(&code);
                    if provided.insert(hash) {
                        code_bytes += code.len();
                        codes.push((hash, code));
                        summary.codes += 1;
                    }
                    if code_bytes >= 64 << 20 {
                        self.write_codes(&std::mem::take(&mut codes))?;
                        code_bytes = 0;
                    }
                }
                Item::End { accounts, slots, codes } => break (accounts, slots, codes),
            }
            if batch_items >= IMPORT_BATCH {
                root = self.load_batch(root, &mut batch)?;
                batch_items = 0;
            }
        };
        root = self.load_batch(root, &mut batch)?;
        self.write_codes(&codes)?;
        if (accounts, slots, n_codes) != (summary.accounts, summary.slots, summary.codes) {
            return Err(CheckpointError::Inconsistent {
                number,
                reason: format!(
                    "the end record counts {accounts} accounts, {slots} slots, {n_codes} codes; the file holds {}, {}, {}",
                    summary.accounts, summary.slots, summary.codes
                ),
            });
        }
        if let Some(missing) = referenced.iter().find(|h| !provided.contains(*h)) {
            return Err(CheckpointError::Inconsistent { number, reason: format!("code {missing} is missing") });
        }
        Ok((root, summary))
    }

    /// Loads a batch of accounts (in address order, as state changes are) and empties it.
    fn load_batch(&self, root: B256, batch: &mut StateChanges) -> CheckpointResult<B256> {
        if batch.accounts.is_empty() {
            return Ok(root);
        }
        let mut changes = std::mem::take(batch);
        changes.accounts.sort_by_key(|a| a.address);
        Ok(self.load_changes(root, &changes)?)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use nrd_chain::{GenesisAccount, MemoryState, StoredBlock};

    const CODE: &[u8] = &[0x60, 0x00, 0x54, 0x00];

    fn accounts() -> Vec<(Address, GenesisAccount)> {
        (1u8..=5)
            .map(|i| {
                let mut account = GenesisAccount { balance: U256::from(i), nonce: u64::from(i), ..Default::default() };
                if i == 3 {
                    account.code = Bytes::from_static(CODE);
                    account.storage = (1..=5000u64).map(|s| (U256::from(s), U256::from(s * 7))).collect();
                }
                (Address::with_last_byte(i), account)
            })
            .collect()
    }

    /// A genesis-like head whose state root is `accounts()`'s.
    fn head() -> CheckpointHead {
        let alloc = accounts();
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let header = Header { state_root: state.root(), gas_limit: 30_000_000, ..Default::default() };
        let body = alloy_consensus::BlockBody { withdrawals: Some(Default::default()), ..Default::default() };
        let block = StoredBlock::new(alloy_consensus::Block::new(header, body), vec![], vec![]);
        let block = L2Block {
            stored: std::sync::Arc::new(block),
            anchor: Bytes::new(),
            l1_anchor: 0,
            messages: vec![],
            witness: None,
        };
        CheckpointHead { block, next_message: 0, ancestors: vec![] }
    }

    /// The items of `accounts()`, in the file's order.
    fn items() -> Vec<Item> {
        let mut alloc = accounts();
        alloc.sort_by_key(|(a, _)| keccak256(a));
        let mut items = Vec::new();
        let (mut slots, mut codes) = (0, 0);
        for (address, g) in &alloc {
            let code_hash = if g.code.is_empty() { KECCAK256_EMPTY } else { keccak256(&g.code) };
            items.push(Item::Account(*address, AccountState { nonce: g.nonce, balance: g.balance, code_hash }));
            let storage: Vec<(U256, U256)> = g.storage.iter().map(|(k, v)| (*k, *v)).collect();
            for chunk in storage.chunks(SLOT_CHUNK) {
                items.push(Item::Slots(chunk.to_vec()));
                slots += chunk.len() as u64;
            }
        }
        items.push(Item::Code(Bytes::from_static(CODE)));
        codes += 1;
        items.push(Item::End { accounts: alloc.len() as u64, slots, codes });
        items
    }

    fn file(head: &CheckpointHead, items: &[Item]) -> Vec<u8> {
        let mut out = Vec::new();
        write_head(&mut out, head).unwrap();
        for item in items {
            write_item(&mut out, item).unwrap();
        }
        out
    }

    fn import(bytes: &[u8]) -> (RedbStore, CheckpointResult<CheckpointSummary>) {
        let store = RedbStore::in_memory().unwrap();
        let result = CheckpointReader::open(bytes).and_then(|reader| store.import_checkpoint(reader));
        (store, result)
    }

    #[test]
    fn a_valid_checkpoint_loads_with_its_storage_split_over_items() {
        let (store, result) = import(&file(&head(), &items()));
        let summary = result.unwrap();
        assert_eq!((summary.accounts, summary.slots, summary.codes), (5, 5000, 1));
        assert_eq!(store.head().unwrap(), Some(0));
        let (_, source) = store.state_at(None).unwrap().unwrap();
        let mut state = nrd_chain::LayeredState::new(source);
        assert_eq!(
            nrd_chain::StateProvider::storage(&mut state, Address::with_last_byte(3), U256::from(4999)).unwrap(),
            U256::from(4999 * 7)
        );
    }

    /// Every way to bend the layout is a typed error, and the store stays empty (a later,
    /// valid checkpoint still loads).
    #[test]
    fn malformed_items_are_refused_and_leave_the_store_empty() {
        let good = items();
        let n = good.len();
        let mut cases: Vec<(&str, Vec<Item>)> = Vec::new();
        let mut swapped = good.clone();
        let (first, second) = (0, good.iter().skip(1).position(|i| matches!(i, Item::Account(..))).unwrap() + 1);
        swapped.swap(first, second);
        cases.push(("accounts out of order", swapped));
        let mut dup = good.clone();
        dup.insert(1, dup[0].clone());
        cases.push(("an account twice", dup));
        cases.push((
            "slots before any account",
            [vec![Item::Slots(vec![(U256::from(1), U256::from(1))])], good.clone()].concat(),
        ));
        cases.push((
            "no code",
            good.iter()
                .filter(|i| !matches!(i, Item::Code(_)))
                .cloned()
                .map(|i| match i {
                    Item::End { accounts, slots, .. } => Item::End { accounts, slots, codes: 0 },
                    other => other,
                })
                .collect(),
        ));
        let mut counts = good.clone();
        counts[n - 1] = Item::End { accounts: 4, slots: 5000, codes: 1 };
        cases.push(("wrong end counts", counts));
        let mut balance = good.clone();
        if let Item::Account(_, a) = &mut balance[0] {
            a.balance += U256::from(1);
        }
        cases.push(("a changed balance", balance));
        let mut late = good.clone();
        late.insert(n - 1, good[0].clone());
        cases.push(("an account after the codes", late));
        cases.push(("no end record", good[..n - 1].to_vec()));
        for (name, items) in cases {
            let (store, result) = import(&file(&head(), &items));
            assert!(result.is_err(), "{name}: accepted");
            assert_eq!(store.head().unwrap(), None, "{name}");
            store
                .import_checkpoint(CheckpointReader::open(&file(&head(), &good)[..]).unwrap())
                .unwrap_or_else(|e| panic!("{name}: a valid checkpoint after it: {e}"));
        }
        let bytes = file(&head(), &good);
        // Raw damage: bad magic, version, zero slot value, a bad slot count, an unknown tag,
        // trailing bytes, every truncation.
        let mut magic = bytes.clone();
        magic[0] ^= 1;
        assert!(matches!(import(&magic).1, Err(CheckpointError::Magic)));
        let mut version = bytes.clone();
        version[8] = 9;
        assert!(matches!(import(&version).1, Err(CheckpointError::Version(9))));
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(import(&trailing).1.is_err());
        let head_len = file(&head(), &[]).len();
        let mut tag = bytes.clone();
        tag[head_len] = 7;
        assert!(matches!(import(&tag).1, Err(CheckpointError::Item { .. })));
        for cut in (0..bytes.len()).step_by(97).chain([bytes.len() - 1]) {
            let (store, result) = import(&bytes[..cut]);
            assert!(result.is_err(), "cut at {cut}");
            assert_eq!(store.head().unwrap(), None);
        }
        let mut zero = Vec::new();
        write_head(&mut zero, &head()).unwrap();
        write_item(&mut zero, &good[0]).unwrap();
        zero.extend_from_slice(&[TAG_SLOTS, 0, 0, 0, 1]);
        zero.extend_from_slice(&[0u8; 64]);
        assert!(matches!(import(&zero).1, Err(CheckpointError::Decode { .. })));
        for count in [0u32, SLOT_CHUNK as u32 + 1] {
            let mut big = Vec::new();
            write_head(&mut big, &head()).unwrap();
            write_item(&mut big, &good[0]).unwrap();
            big.push(TAG_SLOTS);
            big.extend_from_slice(&count.to_be_bytes());
            assert!(matches!(import(&big).1, Err(CheckpointError::Item { .. })), "{count} slots");
        }
        let mut huge = Vec::new();
        write_head(&mut huge, &head()).unwrap();
        huge.push(TAG_CODE);
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(import(&huge).1, Err(CheckpointError::Decode { .. })));
    }

    #[test]
    fn a_head_that_contradicts_itself_is_refused() {
        let mut forged = head();
        let mut block = (*forged.block.stored).clone();
        block.senders = vec![Address::with_last_byte(1)];
        forged.block.stored = std::sync::Arc::new(block);
        // Counts differ: the record does not even decode.
        assert!(CheckpointReader::open(&file(&forged, &items())[..]).is_err());
        let mut parent = head();
        parent.ancestors = vec![Header { number: 5, ..Default::default() }];
        assert!(matches!(
            CheckpointReader::open(&file(&parent, &items())[..]),
            Err(CheckpointError::Inconsistent { .. })
        ));
    }
}
