//! Why a block is rejected.

use crate::{state::StateError, validation::HeaderError};
use alloy_primitives::B256;

/// A block could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The block's bytes are not a valid RLP block.
    #[error("block does not decode: {0}")]
    Decode(String),
    /// The header breaks a rule relative to its parent.
    #[error("invalid header: {0}")]
    Header(#[from] HeaderError),
    /// A transaction's signature does not recover a sender.
    #[error("transaction {index} has an invalid signature: {reason}")]
    InvalidSignature {
        /// Position in the block.
        index: usize,
        /// Recovery failure.
        reason: String,
    },
    /// A transaction cannot be included (nonce, balance, fee caps, gas, type rules...).
    #[error("transaction {hash} is invalid: {reason}")]
    InvalidTransaction {
        /// Transaction hash.
        hash: B256,
        /// Why.
        reason: String,
    },
    /// The transaction's gas limit is more than the block has left.
    #[error("transaction {hash} gas limit {gas_limit} is more than the block's remaining {available}")]
    BlockGasExhausted {
        /// Transaction hash.
        hash: B256,
        /// Its gas limit.
        gas_limit: u64,
        /// Gas the block has left.
        available: u64,
    },
    /// More blobs than a block may carry.
    #[error("block carries {count} blobs, at most {max} allowed")]
    TooManyBlobs {
        /// Blobs in the block.
        count: u64,
        /// Per-block maximum.
        max: u64,
    },
    /// The chain has no anchor contract, yet the block was given an anchor.
    #[error("this chain has no anchor contract, so the anchor must be empty (got {0} bytes)")]
    UnexpectedAnchor(usize),
    /// The chain's anchor rule gives this anchor no gas limit: it is not a well-formed anchor.
    #[error("the anchor is malformed (the chain's anchor rule gives it no gas limit)")]
    MalformedAnchor,
    /// Execution spent more gas than the caller's budget (EXECUTE's bound on its work).
    #[error("execution spent more than its budget of {budget} gas")]
    WorkBudgetExceeded {
        /// The budget.
        budget: u64,
    },
    /// The anchor system call reverted or halted: the block may not apply these L1 messages.
    #[error("anchor system call failed: {0}")]
    AnchorFailed(String),
    /// Execution failed for a reason other than an invalid transaction.
    #[error("block execution failed: {0}")]
    Execution(String),
    /// State needed for execution is unavailable (for a stateless verifier: the witness lacks it).
    #[error("state unavailable: {0}")]
    State(#[from] StateError),
    /// A header commitment does not match what the block computes.
    #[error("{field} mismatch: header has {header}, block computes {computed}")]
    Mismatch {
        /// Which commitment.
        field: &'static str,
        /// The header's value.
        header: String,
        /// The computed value.
        computed: String,
    },
}

impl BlockError {
    /// Whether a block builder should keep the transaction for a later block: the block was
    /// full (gas or blobs) or the sender's earlier nonce is still missing.
    pub fn may_fit_later(&self) -> bool {
        match self {
            Self::BlockGasExhausted { .. } | Self::TooManyBlobs { .. } => true,
            // revm: "nonce {tx} too high, expected {state}".
            Self::InvalidTransaction { reason, .. } => reason.starts_with("nonce") && reason.contains("too high"),
            _ => false,
        }
    }
}

/// Result alias for block import.
pub type BlockResult<T> = Result<T, BlockError>;
