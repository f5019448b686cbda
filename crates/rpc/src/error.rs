//! JSON-RPC errors with the codes Ethereum clients use.

use alloy_primitives::Bytes;
use jsonrpsee::types::ErrorObjectOwned;

/// Invalid method parameters (JSON-RPC 2.0).
pub const INVALID_PARAMS: i32 = -32602;
/// Internal error (JSON-RPC 2.0).
pub const INTERNAL_ERROR: i32 = -32603;
/// Server error: what geth returns for rejected transactions and unknown blocks.
pub const SERVER_ERROR: i32 = -32000;
/// Execution reverted (EIP-1474 / geth), with the revert data.
pub const EXECUTION_REVERTED: i32 = 3;
/// History the node pruned (EIP-4444; geth's code and message).
pub const PRUNED_HISTORY: i32 = 4444;

/// Errors the RPC layer returns: what the client sees, its message the JSON-RPC error's (the
/// typed errors behind them, [`crate::BackendError`] and nrd-chain's, are rendered into it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RpcError {
    /// Bad parameters.
    #[error("{0}")]
    InvalidParams(String),
    /// A block, state or transaction that does not exist (or is no longer kept).
    #[error("{0}")]
    NotFound(String),
    /// A block whose body and receipts the node pruned (`bodies_from` is the oldest kept).
    #[error("pruned history unavailable")]
    Pruned {
        /// The block asked for.
        number: u64,
        /// The oldest block whose body is kept.
        bodies_from: u64,
    },
    /// The node refused a transaction (pool rules).
    #[error("{0}")]
    Rejected(String),
    /// The call reverted.
    #[error("execution reverted{}", reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default())]
    Reverted {
        /// Decoded `Error(string)` reason, if any.
        reason: Option<String>,
        /// Raw revert data.
        data: Bytes,
    },
    /// The call halted (out of gas, invalid opcode...).
    #[error("{0}")]
    Halted(String),
    /// Anything else.
    #[error("{0}")]
    Internal(String),
}

impl From<RpcError> for ErrorObjectOwned {
    fn from(err: RpcError) -> Self {
        let msg = err.to_string();
        match err {
            RpcError::InvalidParams(_) => ErrorObjectOwned::owned(INVALID_PARAMS, msg, None::<()>),
            RpcError::NotFound(_) | RpcError::Rejected(_) | RpcError::Halted(_) => {
                ErrorObjectOwned::owned(SERVER_ERROR, msg, None::<()>)
            }
            RpcError::Reverted { data, .. } => ErrorObjectOwned::owned(EXECUTION_REVERTED, msg, Some(data)),
            RpcError::Pruned { number, bodies_from } => ErrorObjectOwned::owned(
                PRUNED_HISTORY,
                msg,
                Some(serde_json::json!({ "block": number, "oldestAvailable": bodies_from })),
            ),
            RpcError::Internal(_) => ErrorObjectOwned::owned(INTERNAL_ERROR, msg, None::<()>),
        }
    }
}

impl nrd_chain::Classify for RpcError {
    fn severity(&self) -> nrd_chain::Severity {
        match self {
            // The node failed to answer, not the request.
            Self::Internal(_) => nrd_chain::Severity::Temporary,
            // The request (its parameters, transaction or call) gets the same answer again.
            Self::InvalidParams(_)
            | Self::NotFound(_)
            | Self::Pruned { .. }
            | Self::Rejected(_)
            | Self::Reverted { .. }
            | Self::Halted(_) => nrd_chain::Severity::Critical,
        }
    }
}

/// Result alias of RPC handlers.
pub type RpcResult<T> = Result<T, RpcError>;

/// Decodes Solidity's `Error(string)` revert data.
pub(crate) fn revert_reason(data: &[u8]) -> Option<String> {
    use alloy_sol_types::SolError;
    alloy_sol_types::sol! { error Error(string reason); }
    Error::abi_decode(data).ok().map(|e| e.reason)
}
