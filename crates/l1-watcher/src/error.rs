//! Why following L1 failed, and whether trying again can help.

use alloy_primitives::B256;
use nrd_chain::{Classify, Severity};
use nrd_derivation::DerivationError;
use nrd_l1_client::{L1Error, error_chain};
use std::sync::Arc;

/// A failure of following L1. [`Classify::severity`] says whether to retry
/// ([`Severity::Temporary`]: L1 unreachable, a blob not served yet) or stop.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WatcherError {
    /// An L1 request failed.
    #[error(transparent)]
    L1(#[from] L1Error),
    /// A `MessageEnqueued` log of the rollup does not decode.
    #[error("MessageEnqueued log of {address}: {source}")]
    Message {
        /// The emitting contract.
        address: alloy_primitives::Address,
        /// The ABI decoding error.
        #[source]
        source: alloy_sol_types::Error,
    },
    /// A block holds a transaction its receipts do not.
    #[error("no receipt of transaction {tx} in block {block}")]
    MissingReceipt {
        /// The transaction.
        tx: B256,
        /// The block.
        block: B256,
    },
    /// A successful `advance` transaction on L1 does not decode into L2 blocks.
    #[error("advance transaction {tx}: {source}")]
    Derivation {
        /// The L1 transaction.
        tx: B256,
        /// Why it does not decode.
        #[source]
        source: DerivationError,
    },
    /// The task decoding `advance` calls failed (panicked or was cancelled).
    #[error("advance decoding task: {0}")]
    Task(#[source] Arc<tokio::task::JoinError>),
    /// The WebSocket `newHeads` subscription could not be opened or was closed. The watcher
    /// does not return it: it falls back to polling and reopens the subscription later
    /// ([`crate::L1Watcher::subscription_error`] shows the last one).
    #[error("L1 head subscription at {endpoint}: {reason}")]
    Subscription {
        /// The WebSocket URL.
        endpoint: String,
        /// What went wrong, in words.
        reason: String,
        /// The client error, when opening failed (a dropped subscription has none).
        #[source]
        source: Option<Arc<jsonrpsee::core::ClientError>>,
    },
    /// L1 reorganised below the oldest block the watcher remembers.
    #[error("L1 reorg deeper than the remembered history (oldest remembered block {oldest} is no longer canonical)")]
    ReorgTooDeep {
        /// The oldest remembered block number.
        oldest: u64,
    },
}

impl WatcherError {
    /// The subscription at `endpoint` failed with `error`.
    pub(crate) fn subscription(endpoint: &str, error: jsonrpsee::core::ClientError) -> Self {
        Self::Subscription { endpoint: endpoint.to_owned(), reason: error_chain(&error), source: Some(Arc::new(error)) }
    }

    /// The subscription at `endpoint` was closed (`reason`).
    pub(crate) fn subscription_closed(endpoint: &str, reason: &str) -> Self {
        Self::Subscription { endpoint: endpoint.to_owned(), reason: reason.to_owned(), source: None }
    }

    /// Whether retrying later may succeed: `severity() == Severity::Temporary`.
    pub fn is_temporary(&self) -> bool {
        self.severity().is_retryable()
    }
}

impl Classify for WatcherError {
    /// An L1 error's own severity; a subscription failure, and a blob not served yet, are
    /// temporary; undecodable rollup data and a reorg deeper than the history are critical.
    fn severity(&self) -> Severity {
        match self {
            Self::L1(e) => e.severity(),
            Self::Subscription { .. } => Severity::Temporary,
            Self::Derivation { source, .. } if source.is_temporary() => Severity::Temporary,
            Self::Derivation { .. }
            | Self::Message { .. }
            | Self::MissingReceipt { .. }
            | Self::Task(_)
            | Self::ReorgTooDeep { .. } => Severity::Critical,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivation_reorg_and_subscription_errors() {
        let missing = WatcherError::Derivation { tx: B256::ZERO, source: DerivationError::MissingBlob(B256::ZERO) };
        assert_eq!(missing.severity(), Severity::Temporary);
        let bad = WatcherError::Derivation { tx: B256::ZERO, source: DerivationError::EmptyBatch };
        assert_eq!(bad.severity(), Severity::Critical);
        assert_eq!(WatcherError::ReorgTooDeep { oldest: 3 }.severity(), Severity::Critical);
        let sub = WatcherError::subscription_closed("ws://x", "connection closed");
        assert!(sub.is_temporary());
        assert_eq!(sub.to_string(), "L1 head subscription at ws://x: connection closed");
        let l1 = WatcherError::from(L1Error::Timeout { endpoint: "http://x".into() });
        assert!(l1.is_temporary());
        assert!(!WatcherError::from(L1Error::malformed("x")).is_temporary());
    }
}
