//! Why talking to L1 failed, and whether trying again can help.

use alloy_primitives::{B256, Bytes};
use nrd_derivation::DerivationError;

/// JSON-RPC "limit exceeded" (EIP-1474): the node is rate limiting, retrying later helps.
pub const LIMIT_EXCEEDED: i32 = -32005;
/// Execution reverted (EIP-1474 / geth): the error data is the revert data.
pub const EXECUTION_REVERTED: i32 = 3;

/// A failure of an L1 request or of following L1. [`Self::is_temporary`] separates what a
/// caller should retry (node unreachable, data not there yet) from answers that will not change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum L1Error {
    /// The endpoint could not be reached or did not answer in time (connection refused, reset,
    /// timeout, an HTTP error status in front of the JSON-RPC server).
    #[error("L1 endpoint {endpoint} unreachable: {reason}")]
    Transport {
        /// The URL.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// The node answered with a JSON-RPC error.
    #[error("L1 JSON-RPC error {code}: {message}")]
    Rpc {
        /// The error code (`-32000` rejected, `-32602` bad params, `3` reverted, ...).
        code: i32,
        /// The error message.
        message: String,
        /// The error's `data` as raw JSON, when present.
        data: Option<String>,
    },
    /// The beacon API answered with an error status.
    #[error("HTTP {status} from {endpoint}: {body}")]
    Http {
        /// The URL.
        endpoint: String,
        /// The HTTP status.
        status: u16,
        /// The response body (cut short).
        body: String,
    },
    /// The answer did not have the expected shape (or a blob did not match its commitment).
    #[error("malformed L1 response: {0}")]
    Malformed(String),
    /// The client is not set up for the request (no beacon URL, a bad URL).
    #[error("L1 client configuration: {0}")]
    Config(String),
    /// A successful `advance` transaction on L1 does not decode into L2 blocks.
    #[error("advance transaction {tx}: {source}")]
    Derivation {
        /// The L1 transaction.
        tx: B256,
        /// Why it does not decode.
        #[source]
        source: DerivationError,
    },
    /// The WebSocket `newHeads` subscription could not be opened or was closed. The watcher
    /// does not return it: it falls back to polling and reopens the subscription later
    /// ([`crate::L1Watcher::subscription_error`] shows the last one).
    #[error("L1 head subscription at {endpoint}: {reason}")]
    Subscription {
        /// The WebSocket URL.
        endpoint: String,
        /// What went wrong.
        reason: String,
    },
    /// L1 reorganised below the oldest block the watcher remembers.
    #[error("L1 reorg deeper than the remembered history (oldest remembered block {oldest} is no longer canonical)")]
    ReorgTooDeep {
        /// The oldest remembered block number.
        oldest: u64,
    },
}

impl L1Error {
    /// Whether retrying later may succeed: the endpoint unreachable (or its head subscription
    /// down), rate limited or not yet serving the data (HTTP 404/408/429/5xx from the beacon API, a blob not available yet).
    pub const fn is_temporary(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Subscription { .. } => true,
            Self::Rpc { code, .. } => *code == LIMIT_EXCEEDED,
            Self::Http { status, .. } => matches!(*status, 404 | 408 | 429 | 500..=599),
            Self::Derivation { source, .. } => source.is_temporary(),
            Self::Malformed(_) | Self::Config(_) | Self::ReorgTooDeep { .. } => false,
        }
    }

    /// The JSON-RPC error code, for [`Self::Rpc`].
    pub const fn rpc_code(&self) -> Option<i32> {
        match self {
            Self::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The revert data of a call or gas estimate that reverted (code 3 with hex data).
    pub fn revert_data(&self) -> Option<Bytes> {
        match self {
            Self::Rpc { code: EXECUTION_REVERTED, data: Some(data), .. } => serde_json::from_str(data).ok(),
            _ => None,
        }
    }

    pub(crate) fn transport(endpoint: &str, error: &dyn std::error::Error) -> Self {
        Self::Transport { endpoint: endpoint.to_owned(), reason: error_chain(error) }
    }

    /// Maps a jsonrpsee client error.
    pub(crate) fn from_client(endpoint: &str, error: jsonrpsee::core::ClientError) -> Self {
        use jsonrpsee::core::ClientError as E;
        match error {
            E::Call(e) => Self::Rpc {
                code: e.code(),
                message: e.message().to_owned(),
                data: e.data().map(|d| d.get().to_owned()),
            },
            E::Transport(e) => Self::transport(endpoint, &*e),
            E::RestartNeeded(e) => Self::transport(endpoint, &*e),
            E::RequestTimeout => Self::Transport { endpoint: endpoint.to_owned(), reason: "request timed out".into() },
            E::ServiceDisconnect => {
                Self::Transport { endpoint: endpoint.to_owned(), reason: "RPC service disconnected".into() }
            }
            E::ParseError(e) => Self::Malformed(e.to_string()),
            other => Self::Malformed(other.to_string()),
        }
    }
}

/// An error and its sources, `a: b: c` (transport errors hide the useful part in sources).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut out = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let s = e.to_string();
        if !out.contains(&s) {
            out.push_str(": ");
            out.push_str(&s);
        }
        source = e.source();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use jsonrpsee::{core::ClientError, types::ErrorObjectOwned};

    #[test]
    fn call_errors_keep_code_message_and_data() {
        let e = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(3, "execution reverted", Some(Bytes::from(vec![0xde, 0xad])))),
        );
        assert_eq!(e.rpc_code(), Some(3));
        assert_eq!(e.revert_data(), Some(Bytes::from(vec![0xde, 0xad])));
        assert!(!e.is_temporary());
        let rejected = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(-32000, "nonce too low", None::<()>)),
        );
        assert_eq!(rejected, L1Error::Rpc { code: -32000, message: "nonce too low".into(), data: None });
        assert_eq!(rejected.revert_data(), None);
        let limited = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(-32005, "slow down", None::<()>)),
        );
        assert!(limited.is_temporary());
    }

    #[test]
    fn transport_and_timeouts_are_temporary_parse_errors_are_not() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = L1Error::from_client("http://x", ClientError::Transport(Box::new(io)));
        assert!(e.is_temporary(), "{e}");
        assert!(e.to_string().contains("refused"));
        assert!(L1Error::from_client("http://x", ClientError::RequestTimeout).is_temporary());
        let parse = serde_json::from_str::<u64>("\"x\"").unwrap_err();
        let e = L1Error::from_client("http://x", ClientError::ParseError(parse));
        assert!(matches!(e, L1Error::Malformed(_)) && !e.is_temporary());
    }

    #[test]
    fn http_status_and_derivation_errors() {
        let http = |status| L1Error::Http { endpoint: "b".into(), status, body: String::new() };
        assert!(http(404).is_temporary() && http(503).is_temporary() && http(429).is_temporary());
        assert!(!http(400).is_temporary());
        let missing = L1Error::Derivation { tx: B256::ZERO, source: DerivationError::MissingBlob(B256::ZERO) };
        assert!(missing.is_temporary());
        let bad = L1Error::Derivation { tx: B256::ZERO, source: DerivationError::EmptyBatch };
        assert!(!bad.is_temporary());
        assert!(!L1Error::ReorgTooDeep { oldest: 3 }.is_temporary());
        let sub = L1Error::Subscription { endpoint: "ws://x".into(), reason: "connection closed".into() };
        assert!(sub.is_temporary());
        assert_eq!(sub.to_string(), "L1 head subscription at ws://x: connection closed");
    }
}
