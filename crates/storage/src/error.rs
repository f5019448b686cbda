//! The store's errors.

use alloy_eips::eip2718::Eip2718Error;
use alloy_primitives::B256;
use nrd_chain::{Classify, Severity};

/// Why a stored record does not decode.
#[derive(Debug, Clone, thiserror::Error)]
pub enum DecodeError {
    /// The record ends before a field.
    #[error("needs {needed} more bytes, {left} left")]
    Short {
        /// Bytes the field needs.
        needed: usize,
        /// Bytes left.
        left: usize,
    },
    /// A length prefix larger than memory can address.
    #[error("length {0} too large")]
    Length(u64),
    /// A count of items that cannot fit in the bytes left.
    #[error("count {count} exceeds the {left} bytes left")]
    Count {
        /// The count.
        count: u64,
        /// Bytes left.
        left: usize,
    },
    /// A record version this build does not know.
    #[error("unknown record version {0}")]
    Version(u8),
    /// Bytes after the record's last field.
    #[error("{0} trailing bytes")]
    TrailingBytes(usize),
    /// Bytes after an embedded encoding (`the block rlp`, `a receipt`, `the witness`).
    #[error("trailing bytes after {0}")]
    TrailingAfter(&'static str),
    /// A storage value that is not 32 bytes.
    #[error("storage value of {0} bytes")]
    SlotLength(usize),
    /// A zero storage value (zero slots are deleted, never stored).
    #[error("zero storage value stored")]
    ZeroSlot,
    /// The block's RLP does not decode.
    #[error("block rlp: {0}")]
    BlockRlp(#[source] alloy_rlp::Error),
    /// A receipt's EIP-2718 encoding does not decode.
    #[error("receipt: {0}")]
    Receipt(#[source] Eip2718Error),
    /// The L1 messages' ABI encoding does not decode.
    #[error("messages: {0}")]
    Messages(#[source] alloy_sol_types::Error),
    /// A block record whose transactions, senders and receipts differ in number.
    #[error("{txs} transactions, {senders} senders, {receipts} receipts")]
    Counts {
        /// Transactions.
        txs: usize,
        /// Senders.
        senders: usize,
        /// Receipts.
        receipts: usize,
    },
    /// The witness's RLP does not decode.
    #[error("witness rlp: {0}")]
    WitnessRlp(#[source] alloy_rlp::Error),
    /// An undo record's account tag is neither 0 (absent) nor 1 (present).
    #[error("account tag {0}")]
    AccountTag(u8),
    /// An undo record's storage mode is unknown.
    #[error("storage mode {0}")]
    StorageMode(u8),
    /// A transaction index larger than memory can address.
    #[error("index {0} too large")]
    Index(u64),
}

impl Classify for DecodeError {
    fn severity(&self) -> Severity {
        // A stored record that does not decode stays so: an operator must repair the store.
        Severity::Critical
    }
}

/// What is wrong with a stored record (beside not decoding).
#[derive(Debug, Clone, thiserror::Error)]
pub enum Corruption {
    /// The record does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// The record is missing though others refer to it.
    #[error("missing")]
    Missing,
    /// The store was written by another schema version.
    #[error("schema version {found}, expected {expected}")]
    Schema {
        /// In the store.
        found: u64,
        /// This build's.
        expected: u64,
    },
    /// A hash value that is not 32 bytes.
    #[error("hash of {0} bytes")]
    HashLength(usize),
    /// A full-storage undo holds a zero slot.
    #[error("zero slot in full storage")]
    ZeroSlot,
    /// Bytecode whose bytes do not hash to its key.
    #[error("bytes do not hash to it")]
    CodeHash,
    /// A block record that holds another block than the canonical one.
    #[error("holds block {number} with hash {hash}, canonical hash {canonical}")]
    WrongBlock {
        /// The record's block number.
        number: u64,
        /// The record's block hash.
        hash: B256,
        /// The canonical hash of the number asked for.
        canonical: B256,
    },
    /// A store file of no bytes: emptied (by a tool, a full disk, a bad restore), not new. A
    /// store is created only where no file is.
    #[error("the file is empty (0 bytes); delete it to start again from genesis")]
    Empty,
    /// A trie node's reference count would fall below zero.
    #[error("reference count below zero")]
    RefCount,
    /// A trie node whose bytes do not hash to its key.
    #[error("node bytes do not hash to it")]
    NodeHash,
    /// redb found damage in its own pages (its message).
    #[error("{0}")]
    Engine(String),
}

impl Classify for Corruption {
    fn severity(&self) -> Severity {
        // The store's contents are wrong: an operator must repair them.
        Severity::Critical
    }
}

/// How a block handed to the store contradicts itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Inconsistency {
    /// Transactions, senders and receipts differ in number.
    #[error("{txs} transactions, {senders} senders, {receipts} receipts")]
    Counts {
        /// Transactions.
        txs: usize,
        /// Senders.
        senders: usize,
        /// Receipts.
        receipts: usize,
    },
    /// The transaction hashes are not the transactions'.
    #[error("transaction hashes do not match the transactions")]
    TxHashes,
    /// The stored hash is not the header's.
    #[error("stored hash {stored}, header hashes to {computed}")]
    Hash {
        /// The hash given.
        stored: B256,
        /// The header's hash.
        computed: B256,
    },
    /// A genesis block that is not block 0.
    #[error("a genesis block is block 0")]
    GenesisNumber,
    /// The trie update's root is not the block's state root.
    #[error("trie update root {update}, header state root {header}")]
    StateRoot {
        /// The update's root.
        update: B256,
        /// The header's state root.
        header: B256,
    },
    /// The genesis allocation's root is not the genesis header's state root.
    #[error("alloc root {alloc}, header state root {header}")]
    GenesisRoot {
        /// The allocation's root.
        alloc: B256,
        /// The header's state root.
        header: B256,
    },
}

impl Classify for Inconsistency {
    fn severity(&self) -> Severity {
        // The caller's block contradicts itself: storing it again fails again.
        Severity::Critical
    }
}

/// Errors of a [`crate::ChainStore`].
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Creating the database's directory or file failed.
    #[error("store i/o: {0}")]
    Io(#[from] std::io::Error),
    /// The database engine failed (open, transaction, table or commit).
    #[error("database: {0}")]
    Database(#[source] Box<redb::Error>),
    /// A stored value does not decode, or contradicts another one.
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// Which record (table and key).
        what: String,
        /// What is wrong with it (boxed: it can hold two hashes).
        #[source]
        reason: Box<Corruption>,
    },
    /// [`crate::ChainStore::append`] before [`crate::ChainStore::init_genesis`].
    #[error("the store has no genesis block")]
    NoGenesis,
    /// An appended block is not the head's child by number.
    #[error("block {number} does not follow the head {head}")]
    NotNext {
        /// The block's number.
        number: u64,
        /// The stored head.
        head: u64,
    },
    /// An appended block is not the head's child by parent hash.
    #[error("block {number} has parent {parent}, the head is {head}")]
    WrongParent {
        /// The block's number.
        number: u64,
        /// Its parent hash.
        parent: B256,
        /// The stored head's hash.
        head: B256,
    },
    /// A block handed to the store contradicts itself (hash, senders, receipts, tx hashes).
    #[error("inconsistent block {number}: {reason}")]
    InconsistentBlock {
        /// The block's number.
        number: u64,
        /// What does not match.
        #[source]
        reason: Inconsistency,
    },
    /// The store holds another chain than the genesis given.
    #[error("the store's genesis is {stored}, not {given}")]
    GenesisMismatch {
        /// The stored genesis hash.
        stored: B256,
        /// The genesis hash given.
        given: B256,
    },
    /// The database file could not be opened or is damaged.
    #[error("store {}: {source}", path.display())]
    File {
        /// The database file.
        path: std::path::PathBuf,
        /// What failed.
        #[source]
        source: Box<Self>,
    },
    /// [`crate::ChainStore::rewind`] below the history window: the undo data is pruned.
    #[error("cannot rewind to block {target}: states before block {history_from} are pruned")]
    RewindPruned {
        /// The block asked for.
        target: u64,
        /// The oldest block whose state is kept.
        history_from: u64,
    },
    /// Computing a state update over the stored state failed (a missing or corrupt node).
    #[error("state: {0}")]
    State(#[source] Box<nrd_chain::StateError>),
    /// [`crate::ChainStore::rewind`] to a block above the head.
    #[error("cannot rewind to block {target}: the head is {head}")]
    RewindAhead {
        /// The block asked for.
        target: u64,
        /// The stored head.
        head: u64,
    },
}

/// Result alias of the store.
pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>, reason: impl Into<Corruption>) -> Self {
        Self::Corrupt { what: what.into(), reason: Box::new(reason.into()) }
    }
}

impl Classify for StoreError {
    fn severity(&self) -> Severity {
        match self {
            // The disk or the database engine failed: it may work again.
            Self::Io(_) | Self::Database(_) => Severity::Temporary,
            Self::File { source, .. } => source.severity(),
            Self::State(e) => e.severity(),
            // The store's contents, or the caller's blocks, are wrong: an operator must act.
            _ => Severity::Critical,
        }
    }
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            // redb detected damage in its own pages: the same situation as a value we cannot read.
            redb::Error::Corrupted(reason) => Self::corrupt("database file", Corruption::Engine(reason)),
            other => Self::Database(Box::new(other)),
        }
    }
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                redb::Error::from(e).into()
            }
        }
    )*};
}

from_redb!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
