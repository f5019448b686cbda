//! Why sequencing or posting fails.

/// A sequencer failure.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// Building or recording a block failed.
    #[error("block: {0}")]
    Block(#[from] nrd_chain::BlockError),
    /// The derivation function refused the inputs.
    #[error("derivation: {0}")]
    Derivation(#[from] nrd_derivation::DerivationError),
    /// The node (chain, store) failed.
    #[error("node: {0}")]
    Node(#[from] nrd_node::NodeError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] nrd_storage::StoreError),
    /// A block (or its witness) to post is missing.
    #[error("block {0} or its witness is missing from the store")]
    Missing(u64),
    /// L1 could not be reached or answered oddly (retried).
    #[error("L1: {0}")]
    L1(#[from] nrd_l1_watcher::L1Error),
    /// A view call's output does not decode.
    #[error("L1 answer does not decode: {0}")]
    Decode(String),
    /// Signing a transaction failed.
    #[error("signing: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// L1 refused a batch starting at L2 block `first` (posting stops).
    #[error("{reason}")]
    Refused {
        /// First L2 block of the refused batch.
        first: u64,
        /// Why.
        reason: String,
    },
}
