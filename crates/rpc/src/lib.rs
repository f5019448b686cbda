//! # nrd-rpc
//!
//! A generic Ethereum JSON-RPC server, over HTTP and WebSocket on one port (jsonrpsee), with
//! the standard error codes (`-32602` bad params, `-32000` rejected or not found, `3` execution
//! reverted with its data, `-32603` internal). It serves any chain that implements the small
//! [`Backend`] trait, with extra methods merged beside `eth_*`: the L2 node (`nrd-node`, with
//! its `nrd_*` methods) and the L1 devnet (`nrd-l1-devnet`, which adds its test methods and the
//! beacon blob API itself). This crate knows neither.

mod backend;
mod convert;
mod error;
mod eth;
mod metrics;

pub use backend::{Backend, BackendError};
pub use error::{
    EXECUTION_REVERTED, INTERNAL_ERROR, INVALID_PARAMS, PRUNED_HISTORY, RpcError, RpcResult, SERVER_ERROR,
};
pub use eth::{EthApiServer, EthRpc};

use jsonrpsee::server::{Server, ServerHandle};
use std::{net::SocketAddr, sync::Arc};

/// Limits of the JSON-RPC server.
#[derive(Debug, Clone, Copy)]
pub struct RpcLimits {
    /// Largest request body in bytes.
    pub max_request_bytes: u32,
    /// Largest response body in bytes.
    pub max_response_bytes: u32,
    /// Most calls in one batch.
    pub max_batch: u32,
    /// Most open connections.
    pub max_connections: u32,
}

impl Default for RpcLimits {
    fn default() -> Self {
        Self { max_request_bytes: 16 << 20, max_response_bytes: 64 << 20, max_batch: 100, max_connections: 512 }
    }
}

/// A running server: its address and a handle that stops it.
#[derive(Debug)]
pub struct RunningServer {
    /// Bound address.
    pub addr: SocketAddr,
    /// Stop handle.
    pub handle: ServerHandle,
}

/// Serves Ethereum JSON-RPC (HTTP and WebSocket on one port) for any [`Backend`], with `extra`
/// methods beside `eth_*` (the L2 node's `nrd_*`, the devnet's test methods). Its calls are
/// counted under `server="l2"`; [`serve_named`] chooses the label.
pub async fn serve<B: Backend, C: Send + Sync + 'static>(
    backend: Arc<B>,
    extra: jsonrpsee::RpcModule<C>,
    addr: SocketAddr,
    limits: RpcLimits,
) -> std::io::Result<RunningServer> {
    serve_named("l2", backend, extra, addr, limits).await
}

/// [`serve`], with the `server` label of its `nrd_rpc_*` metrics (`l1`, `sequencer`, `follower`).
pub async fn serve_named<B: Backend, C: Send + Sync + 'static>(
    server: &'static str,
    backend: Arc<B>,
    extra: jsonrpsee::RpcModule<C>,
    addr: SocketAddr,
    limits: RpcLimits,
) -> std::io::Result<RunningServer> {
    let mut module = EthRpc::new(backend).into_rpc();
    module.merge(extra).map_err(std::io::Error::other)?;
    let methods: Arc<std::collections::HashSet<String>> = Arc::new(module.method_names().map(str::to_owned).collect());
    let middleware = jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new()
        .layer_fn(move |service| metrics::RpcMetrics { service, server, methods: methods.clone() });
    let config = jsonrpsee::server::ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(limits.max_response_bytes)
        .max_connections(limits.max_connections)
        .set_batch_request_config(jsonrpsee::server::BatchRequestConfig::Limit(limits.max_batch))
        .build();
    let server = Server::builder().set_config(config).set_rpc_middleware(middleware).build(addr).await?;
    let addr = server.local_addr()?;
    let handle = server.start(module);
    Ok(RunningServer { addr, handle })
}
