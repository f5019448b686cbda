//! Why talking to L1 failed, and whether trying again can help.

use alloy_primitives::{Address, Bytes};
use alloy_sol_types::SolInterface;
use nrd_chain::{Classify, Severity};
use std::{error::Error as StdError, sync::Arc};

/// JSON-RPC "limit exceeded" (EIP-1474): the node is rate limiting, retrying later helps.
pub const LIMIT_EXCEEDED: i32 = -32005;
/// Execution reverted (EIP-1474 / geth): the error data is the revert data.
pub const EXECUTION_REVERTED: i32 = 3;

/// The underlying error of a failed request, shared so that [`L1Error`] stays cheap to clone.
pub type BoxError = Arc<dyn StdError + Send + Sync + 'static>;

/// A failure of an L1 request. [`Classify::severity`] separates what a caller should retry
/// ([`Severity::Temporary`]: node unreachable, rate limited, data not there yet) from answers
/// that will not change ([`Severity::Critical`]).
#[derive(Debug, Clone, thiserror::Error)]
pub enum L1Error {
    /// The endpoint could not be reached (connection refused, reset, an HTTP error status in
    /// front of the JSON-RPC server, the service gone).
    #[error("L1 endpoint {endpoint} unreachable: {}", error_chain(&**source))]
    Transport {
        /// The URL.
        endpoint: String,
        /// What went wrong.
        #[source]
        source: BoxError,
    },
    /// The endpoint did not answer within the request timeout.
    #[error("L1 endpoint {endpoint} unreachable: request timed out")]
    Timeout {
        /// The URL.
        endpoint: String,
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
    #[error("malformed L1 response: {what}{}", source.as_ref().map(|e| format!(": {}", error_chain(&**e))).unwrap_or_default())]
    Malformed {
        /// What was malformed.
        what: String,
        /// Why, when another error says it.
        #[source]
        source: Option<BoxError>,
    },
    /// A view call answered with output that does not decode as the call's return type (the
    /// address is probably not the expected contract).
    #[error("{call} at {to} returned {output}: {source} (is it the right contract?)")]
    Decode {
        /// The called function's signature.
        call: &'static str,
        /// The called contract.
        to: Address,
        /// The raw output.
        output: Bytes,
        /// The ABI decoding error.
        #[source]
        source: Box<alloy_sol_types::Error>,
    },
    /// The client is not set up for the request (no beacon URL, a bad URL).
    #[error("L1 client configuration: {what}{}", source.as_ref().map(|e| format!(": {}", error_chain(&**e))).unwrap_or_default())]
    Config {
        /// What is wrong.
        what: String,
        /// Why, when another error says it.
        #[source]
        source: Option<BoxError>,
    },
}

impl Classify for L1Error {
    /// Temporary: the endpoint unreachable or slow, rate limited (JSON-RPC `-32005`) or not yet
    /// serving the data (HTTP 404/408/429/5xx from the beacon API, a blob not available yet).
    /// Critical: every other answer (a JSON-RPC error, a revert, malformed data, a bad
    /// configuration) — asking again gets the same answer.
    fn severity(&self) -> Severity {
        match self {
            Self::Transport { .. } | Self::Timeout { .. } => Severity::Temporary,
            Self::Rpc { code, .. } if *code == LIMIT_EXCEEDED => Severity::Temporary,
            Self::Http { status, .. } if matches!(*status, 404 | 408 | 429 | 500..=599) => Severity::Temporary,
            Self::Rpc { .. }
            | Self::Http { .. }
            | Self::Malformed { .. }
            | Self::Decode { .. }
            | Self::Config { .. } => Severity::Critical,
        }
    }
}

impl L1Error {
    /// Whether retrying later may succeed: `severity() == Severity::Temporary`.
    pub fn is_temporary(&self) -> bool {
        self.severity().is_retryable()
    }

    /// The JSON-RPC error code, for [`Self::Rpc`].
    pub const fn rpc_code(&self) -> Option<i32> {
        match self {
            Self::Rpc { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether a call or gas estimate reverted (JSON-RPC code 3).
    pub const fn is_revert(&self) -> bool {
        matches!(self, Self::Rpc { code: EXECUTION_REVERTED, .. })
    }

    /// The revert data of a call or gas estimate that reverted (code 3 with hex data).
    pub fn revert_data(&self) -> Option<Bytes> {
        match self {
            Self::Rpc { code: EXECUTION_REVERTED, data: Some(data), .. } => serde_json::from_str(data).ok(),
            _ => None,
        }
    }

    /// The revert decoded as one of a contract's errors `E` (e.g. `NativeRollupErrors`), when
    /// it reverted with one.
    pub fn revert<E: SolInterface>(&self) -> Option<E> {
        E::abi_decode(&self.revert_data()?).ok()
    }

    /// The revert's reason in words: `Error(string)`, `Panic(uint256)`, or the node's message
    /// when the revert carries no data; `None` when it is not a revert.
    pub fn revert_reason(&self) -> Option<String> {
        let Self::Rpc { code: EXECUTION_REVERTED, message, .. } = self else { return None };
        Some(match self.revert_data() {
            Some(data) if !data.is_empty() => {
                alloy_sol_types::decode_revert_reason(&data).unwrap_or_else(|| format!("revert data {data}"))
            }
            _ => message.clone(),
        })
    }

    /// A malformed answer: `what`.
    pub fn malformed(what: impl Into<String>) -> Self {
        Self::Malformed { what: what.into(), source: None }
    }

    /// A malformed answer: `what`, because of `source`.
    pub fn malformed_by(what: impl Into<String>, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Malformed { what: what.into(), source: Some(Arc::new(source)) }
    }

    /// A configuration error: `what`.
    pub fn config(what: impl Into<String>) -> Self {
        Self::Config { what: what.into(), source: None }
    }

    /// A configuration error: `what`, because of `source`.
    pub fn config_by(what: impl Into<String>, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Config { what: what.into(), source: Some(Arc::new(source)) }
    }

    /// `endpoint` unreachable because of `source`.
    pub fn transport(endpoint: &str, source: impl StdError + Send + Sync + 'static) -> Self {
        Self::Transport { endpoint: endpoint.to_owned(), source: Arc::new(source) }
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
            E::RequestTimeout => Self::Timeout { endpoint: endpoint.to_owned() },
            e @ (E::Transport(_) | E::RestartNeeded(_) | E::ServiceDisconnect) => Self::transport(endpoint, e),
            E::ParseError(e) => Self::malformed_by(format!("answer of {endpoint}"), e),
            other => Self::malformed_by(format!("answer of {endpoint}"), other),
        }
    }
}

/// An error and its sources, `a: b: c` (transport errors hide the useful part in sources).
pub fn error_chain(error: &(dyn StdError + 'static)) -> String {
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
    use alloy_sol_types::{Revert, SolError};
    use jsonrpsee::{core::ClientError, types::ErrorObjectOwned};

    #[test]
    fn call_errors_keep_code_message_and_data() {
        let e = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(3, "execution reverted", Some(Bytes::from(vec![0xde, 0xad])))),
        );
        assert_eq!(e.rpc_code(), Some(3));
        assert!(e.is_revert());
        assert_eq!(e.revert_data(), Some(Bytes::from(vec![0xde, 0xad])));
        assert_eq!(e.severity(), Severity::Critical);
        let rejected = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(-32000, "nonce too low", None::<()>)),
        );
        assert!(
            matches!(&rejected, L1Error::Rpc { code: -32000, message, data: None } if message == "nonce too low"),
            "{rejected}"
        );
        assert_eq!(rejected.revert_data(), None);
        assert_eq!(rejected.revert_reason(), None);
        let limited = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(-32005, "slow down", None::<()>)),
        );
        assert_eq!(limited.severity(), Severity::Temporary);
    }

    #[test]
    fn reverts_decode_to_their_reason() {
        let data = Bytes::from(Revert { reason: "no way".into() }.abi_encode());
        let e = L1Error::from_client(
            "http://x",
            ClientError::Call(ErrorObjectOwned::owned(3, "execution reverted", Some(data))),
        );
        assert_eq!(e.revert_reason().as_deref(), Some("revert: no way"));
        let bare = L1Error::Rpc { code: 3, message: "execution reverted".into(), data: None };
        assert_eq!(bare.revert_reason().as_deref(), Some("execution reverted"));
    }

    #[test]
    fn transport_and_timeouts_are_temporary_parse_errors_are_not() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        let e = L1Error::from_client("http://x", ClientError::Transport(Box::new(io)));
        assert_eq!(e.severity(), Severity::Temporary, "{e}");
        assert!(e.to_string().contains("refused"), "{e}");
        assert!(e.source().is_some());
        let timeout = L1Error::from_client("http://x", ClientError::RequestTimeout);
        assert!(matches!(timeout, L1Error::Timeout { .. }) && timeout.is_temporary());
        let parse = serde_json::from_str::<u64>("\"x\"").unwrap_err();
        let e = L1Error::from_client("http://x", ClientError::ParseError(parse));
        assert!(matches!(e, L1Error::Malformed { source: Some(_), .. }) && !e.is_temporary());
    }

    #[test]
    fn http_status() {
        let http = |status| L1Error::Http { endpoint: "b".into(), status, body: String::new() };
        assert!(http(404).is_temporary() && http(503).is_temporary() && http(429).is_temporary());
        assert_eq!(http(400).severity(), Severity::Critical);
        assert_eq!(L1Error::config("no beacon").to_string(), "L1 client configuration: no beacon");
    }
}
