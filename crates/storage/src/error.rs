//! The store's errors.

use alloy_primitives::B256;

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
        /// What is wrong with it.
        reason: String,
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
        reason: String,
    },
    /// The store holds another chain than the genesis given.
    #[error("the store's genesis is {stored}, not {given}")]
    GenesisMismatch {
        /// The stored genesis hash.
        stored: B256,
        /// The genesis hash given.
        given: B256,
    },
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
    pub(crate) fn corrupt(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Corrupt { what: what.into(), reason: reason.into() }
    }
}

impl From<redb::Error> for StoreError {
    fn from(e: redb::Error) -> Self {
        match e {
            // redb detected damage in its own pages: the same situation as a value we cannot read.
            redb::Error::Corrupted(reason) => Self::Corrupt { what: "database file".into(), reason },
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
