//! Why the node fails.

use alloy_primitives::B256;
use nrd_chain::{Classify, Severity};
use nrd_l1_client::L1Error;
use nrd_l1_watcher::WatcherError;

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
    /// An L1 request failed.
    #[error("L1: {0}")]
    L1(#[from] L1Error),
    /// Following L1 failed.
    #[error("L1: {0}")]
    Watcher(#[source] Box<WatcherError>),
    /// L1 does not have a block the node needs (an L1 block an L2 block is anchored to).
    #[error("L1 block {0} not found")]
    L1BlockMissing(u64),
    /// Derivation failed.
    #[error("derivation: {0}")]
    Derivation(#[from] nrd_derivation::DerivationError),
    /// A block posted on L1 breaks the rollup's header rules (which the contract enforces, so
    /// L1 and this node disagree on the protocol).
    #[error("header rules: {0}")]
    HeaderRule(#[source] Box<nrd_derivation::HeaderRuleError>),
    /// The node's state could not be read (a store failure, a missing trie node).
    #[error("state: {0}")]
    State(#[from] nrd_chain::StateError),
    /// The state after a block is no longer kept (older than the history window).
    #[error("the state after block {0} is no longer kept")]
    StateUnavailable(u64),
    /// Recording the witness of a run of stored blocks failed (its blocks do not re-execute on
    /// their parent's state: the store is damaged, or a read failed).
    #[error("recording the witness of blocks {first}..={last}: {source}")]
    RunWitness {
        /// First block of the run.
        first: u64,
        /// Last block of the run.
        last: u64,
        /// What the recorder reported.
        #[source]
        source: nrd_execute_client::VerifyError,
    },
    /// A value the node keeps in the store's meta table does not decode.
    #[error("store meta `{key}`: {len} bytes, expected {expected}")]
    BadMeta {
        /// The meta key.
        key: &'static str,
        /// Its length.
        len: usize,
        /// The length it must have.
        expected: usize,
    },
}

impl From<WatcherError> for NodeError {
    fn from(e: WatcherError) -> Self {
        Self::Watcher(Box::new(e))
    }
}

impl From<nrd_derivation::HeaderRuleError> for NodeError {
    fn from(e: nrd_derivation::HeaderRuleError) -> Self {
        Self::HeaderRule(Box::new(e))
    }
}

impl Classify for NodeError {
    /// L1 and derivation errors keep their own severity; a block that does not extend the head
    /// and an L1 block gone missing mean the world moved (reset); the store, the node's blocks
    /// and state, and blocks posted on L1 that break the rules or differ from the node's are
    /// critical.
    fn severity(&self) -> Severity {
        match self {
            Self::L1(e) => e.severity(),
            Self::Watcher(e) => e.severity(),
            Self::State(e) => e.severity(),
            Self::RunWitness { source, .. } => source.severity(),
            Self::Derivation(e) if e.is_temporary() => Severity::Temporary,
            Self::NotOnHead { .. } | Self::L1BlockMissing(_) => Severity::Reset,
            Self::Store(_)
            | Self::Block(_)
            | Self::GenesisMismatch
            | Self::StateMismatch { .. }
            | Self::MissingBlock(_)
            | Self::StateUnavailable(_)
            | Self::Diverged { .. }
            | Self::Derivation(_)
            | Self::HeaderRule(_)
            | Self::BadMeta { .. } => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l1_errors_keep_their_severity() {
        let timeout = NodeError::from(L1Error::Timeout { endpoint: "http://l1".into() });
        assert_eq!(timeout.severity(), Severity::Temporary);
        assert!(std::error::Error::source(&timeout).is_some(), "the L1 error is the source");
        assert_eq!(NodeError::from(L1Error::malformed("x")).severity(), Severity::Critical);
        let deep = NodeError::from(WatcherError::ReorgTooDeep { oldest: 1 });
        assert_eq!(deep.severity(), Severity::Critical);
        assert_eq!(NodeError::L1BlockMissing(3).severity(), Severity::Reset);
        assert_eq!(NodeError::MissingBlock(3).severity(), Severity::Critical);
    }
}
