//! `nrd_` JSON-RPC methods: rollup status beside the Ethereum methods.

use crate::{L2Node, RollupStatus};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use std::sync::Arc;

/// Rollup methods of the L2 node.
#[rpc(server)]
pub trait RollupApi {
    /// L1 head seen, L1 block anchored, unsafe/safe/finalized L2 heads, pending L1 messages,
    /// pool size, and why posting halted (if it did).
    #[method(name = "nrd_rollupStatus")]
    fn rollup_status(&self) -> RpcResult<RollupStatus>;
}

/// Serves [`RollupApiServer`] for a node.
#[derive(Debug)]
pub struct RollupRpc {
    node: Arc<L2Node>,
}

impl RollupRpc {
    /// The methods for `node`.
    pub fn new(node: Arc<L2Node>) -> Self {
        Self { node }
    }
}

impl RollupApiServer for RollupRpc {
    fn rollup_status(&self) -> RpcResult<RollupStatus> {
        Ok(self.node.status())
    }
}
