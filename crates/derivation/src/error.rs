//! Why derivation fails.

use alloy_eips::eip4844::c_kzg;
use alloy_primitives::B256;
use nrd_chain::{Classify, Severity, SharedError};
use nrd_execute_client::{BlobBatchError, TraceError};

/// A derivation failure. Its [`Classify::severity`] tells a caller whether retrying later can
/// help (data not yet available: [`Severity::Temporary`]) or the input itself is bad
/// ([`Severity::Critical`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DerivationError {
    /// The block's timestamp does not follow its parent's.
    #[error("timestamp {timestamp} does not follow the parent's {parent}")]
    Timestamp {
        /// Parent timestamp.
        parent: u64,
        /// Requested timestamp.
        timestamp: u64,
    },
    /// Pending messages are not consecutive.
    #[error("pending message at position {position} has index {index}, not the next one")]
    MessageGap {
        /// Position in the pending list.
        position: usize,
        /// Its queue index.
        index: u64,
    },
    /// A batch needs at least one block.
    #[error("a batch needs at least one block")]
    EmptyBatch,
    /// More messages than one block commitment can count.
    #[error("too many messages for one block")]
    TooManyMessages,
    /// KZG commitment of the blobs failed.
    #[error("blob commitment failed: {0}")]
    Kzg(#[source] SharedError<c_kzg::Error>),
    /// The calldata is not an `advance` call.
    #[error("advance calldata: {0}")]
    Calldata(#[source] SharedError<alloy_sol_types::Error>),
    /// A block claims more L1 messages than the call lists after the earlier blocks' ones.
    #[error("advance calldata: block {position} claims {count} messages beyond the list")]
    MessagesBeyondList {
        /// Position in the batch.
        position: usize,
        /// The messages it claims.
        count: usize,
    },
    /// The call lists L1 messages no block applies.
    #[error("advance calldata: messages left over after the last block")]
    MessagesLeftOver,
    /// A block's trace does not decode.
    #[error("trace of block {position} in the batch: {source}")]
    Trace {
        /// Position in the batch.
        position: usize,
        /// Why.
        #[source]
        source: TraceError,
    },
    /// A blob-mode trace (one with blob references) carries transactions of its own.
    #[error("trace of block {position} in the batch: transactions in a blob-mode trace")]
    TransactionsInBlobMode {
        /// Position in the batch.
        position: usize,
    },
    /// A referenced blob is not available (yet).
    #[error("blob {0} is not available")]
    MissingBlob(B256),
    /// The blobs do not hold a batch.
    #[error("blob batch: {0}")]
    Batch(#[source] BlobBatchError),
    /// An `advanceRun` call commits another number of blocks than its trace holds.
    #[error("advanceRun calldata: {committed} blocks committed, the run trace holds {traced}")]
    RunLength {
        /// Entries of the call's `blocks`.
        committed: usize,
        /// Blocks in its trace.
        traced: usize,
    },
    /// A trace points past the end of the batch.
    #[error("block {position} points at batch entry {index}, but the batch has {blocks}")]
    BatchIndex {
        /// Position in the batch.
        position: usize,
        /// The trace's batch index.
        index: u64,
        /// Blocks in the batch.
        blocks: usize,
    },
}

impl Classify for DerivationError {
    fn severity(&self) -> Severity {
        match self {
            // The blob may not have reached the beacon node yet.
            Self::MissingBlob(_) => Severity::Temporary,
            // The posted data (or the blocks to post) are what they are.
            _ => Severity::Critical,
        }
    }
}

impl DerivationError {
    /// Whether retrying later may succeed (only a blob not yet available): the same answer as
    /// [`Classify::severity`] being [`Severity::Temporary`], usable in `const` code.
    pub const fn is_temporary(&self) -> bool {
        matches!(self, Self::MissingBlob(_))
    }
}
