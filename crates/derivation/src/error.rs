//! Why derivation fails.

use alloy_primitives::B256;

/// A derivation failure. [`Self::is_temporary`] tells a caller whether retrying later can help
/// (data not yet available) or the input itself is bad.
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
    Kzg(String),
    /// The calldata is not an `advance` call, or its parts do not fit together.
    #[error("advance calldata: {0}")]
    Calldata(String),
    /// A block's trace does not decode.
    #[error("trace of block {position} in the batch: {reason}")]
    Trace {
        /// Position in the batch.
        position: usize,
        /// Why.
        reason: String,
    },
    /// A referenced blob is not available (yet).
    #[error("blob {0} is not available")]
    MissingBlob(B256),
    /// The blobs do not hold a batch.
    #[error("blob batch: {0}")]
    Batch(String),
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

impl DerivationError {
    /// Whether retrying later may succeed (only a blob not yet available).
    pub const fn is_temporary(&self) -> bool {
        matches!(self, Self::MissingBlob(_))
    }
}
