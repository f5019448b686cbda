//! # nrd-rpc
//!
//! Ethereum JSON-RPC for nrd's chains, over HTTP and WebSocket on one port (jsonrpsee), with
//! the standard error codes (`-32602` bad params, `-32000` rejected or not found, `3` execution
//! reverted with its data, `-32603` internal). Any chain that implements the small [`Backend`]
//! trait is served: the L1 devnet now, the L2 node later.
//!
//! Also here: the devnet methods (`nrd_executeGas`, `evm_mine`, `evm_snapshot`, `evm_revert`,
//! `debug_setHead`) and the beacon API blob endpoint (axum) on its own port, as a consensus
//! client would serve it.

mod backend;
mod beacon;
mod convert;
mod devnet;
mod error;
mod eth;
mod metrics;

pub use backend::Backend;
pub use beacon::router as beacon_router;
pub use devnet::{DevnetApiServer, DevnetRpc};
pub use error::{EXECUTION_REVERTED, INTERNAL_ERROR, INVALID_PARAMS, RpcError, RpcResult, SERVER_ERROR};
pub use eth::{EthApiServer, EthRpc};

use jsonrpsee::server::{Server, ServerHandle};
use nrd_l1_devnet::Devnet;
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

/// Serves the devnet's JSON-RPC (HTTP + WebSocket) on `addr`.
pub async fn serve_l1(devnet: Arc<Devnet>, addr: SocketAddr, limits: RpcLimits) -> std::io::Result<RunningServer> {
    let extra = DevnetRpc::new(devnet.clone()).into_rpc();
    serve_named("l1", devnet, extra, addr, limits).await
}

/// Serves Ethereum JSON-RPC (HTTP and WebSocket on one port) for any [`Backend`], with `extra`
/// methods beside `eth_*` (the devnet's test methods, the L2 node's `nrd_*`). Its calls are
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

/// Serves the devnet's beacon API (blob sidecars) on `addr` until `shutdown`.
pub async fn serve_beacon(
    devnet: Arc<Devnet>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, beacon_router(devnet)).with_graceful_shutdown(shutdown).await {
            tracing::error!(target: "nrd::rpc", "beacon API stopped: {e}");
        }
    });
    Ok(bound)
}
