//! Why the node fails.

use alloy_primitives::B256;

/// A node failure.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] nrd_storage::StoreError),
    /// A block could not be built or imported.
    #[error("block: {0}")]
    Block(#[from] nrd_chain::BlockError),
    /// The store holds another chain than the configured genesis.
    #[error("the store holds another chain (its genesis differs from the configured one)")]
    GenesisMismatch,
    /// The store's state does not match its head block.
    #[error("the stored state root {stored} does not match head block {head}")]
    StateMismatch {
        /// Head number.
        head: u64,
        /// Root of the stored state.
        stored: B256,
    },
    /// A block the store should have is missing.
    #[error("block {0} is missing from the store")]
    MissingBlock(u64),
    /// A block does not extend the head.
    #[error("block {number} does not extend the head")]
    NotOnHead {
        /// Its number.
        number: u64,
    },
    /// A block derived from L1 differs from ours at the same height.
    #[error("L1 posted block {number} with hash {posted}, ours is {ours}")]
    Diverged {
        /// Number.
        number: u64,
        /// Hash posted on L1.
        posted: B256,
        /// Hash we have.
        ours: B256,
    },
    /// Talking to L1 failed.
    #[error("L1: {0}")]
    L1(String),
    /// Derivation failed.
    #[error("derivation: {0}")]
    Derivation(#[from] nrd_derivation::DerivationError),
    /// A block posted on L1 breaks the rollup's header rules (which the contract enforces, so
    /// L1 and this node disagree on the protocol).
    #[error("header rules: {0}")]
    HeaderRule(#[from] nrd_derivation::HeaderRuleError),
}
