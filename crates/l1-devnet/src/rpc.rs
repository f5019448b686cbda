//! The devnet behind `nrd-rpc`: its [`Backend`] implementation, the devnet-only methods (EXECUTE
//! metering, mining, snapshots and reorgs for tests) and [`serve_l1`], which serves both.

use crate::node::{Devnet, DevnetError};
use alloy_consensus::{Header, TxEnvelope, transaction::Recovered};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, U64, U256};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use nrd_chain::{ChainSpec, SharedState, StoredBlock};
use nrd_execute_client::ExecuteGas;
use nrd_rpc::{Backend, BackendError, RpcError, RpcLimits, RunningServer};
use std::{net::SocketAddr, sync::Arc};
use tokio::sync::broadcast;

/// Serves the devnet's JSON-RPC (HTTP + WebSocket) on `addr`: `eth_*` and the devnet methods,
/// counted under `server="l1"`.
pub async fn serve_l1(devnet: Arc<Devnet>, addr: SocketAddr, limits: RpcLimits) -> std::io::Result<RunningServer> {
    let extra = DevnetRpc::new(devnet.clone()).into_rpc();
    nrd_rpc::serve_named("l1", devnet, extra, addr, limits).await
}

impl Backend for Devnet {
    type State = SharedState;

    fn spec(&self) -> &ChainSpec {
        Self::spec(self)
    }

    fn head(&self) -> Arc<StoredBlock> {
        Self::head(self)
    }

    fn finalized(&self) -> Arc<StoredBlock> {
        let head = Self::head(self);
        let depth = self.config().finality_depth;
        Self::block(self, head.number().saturating_sub(depth)).unwrap_or(head)
    }

    fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        Self::block(self, number)
    }

    fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        Self::block_by_hash(self, hash)
    }

    fn state_at(&self, number: u64) -> Option<SharedState> {
        Self::state_at(self, number).map(SharedState)
    }

    fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        Self::transaction(self, hash).map(|l| (l.block, l.index))
    }

    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>> {
        Self::pooled(self, hash).map(|p| p.tx)
    }

    fn submit_raw(&self, raw: &[u8]) -> Result<B256, BackendError> {
        Self::submit_raw(self, raw).map_err(backend_error)
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        Self::pending_nonce(self, address).map_err(backend_error)
    }

    fn pending_header(&self) -> Header {
        Self::pending_header(self)
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        Self::subscribe(self)
    }
}

/// A devnet error as the RPC sees it: state it could not read, or a refusal.
fn backend_error(err: DevnetError) -> BackendError {
    match err {
        DevnetError::State(e) => BackendError::State(e),
        other => BackendError::Rejected(Box::new(other)),
    }
}

/// Methods of the L1 devnet beyond Ethereum's.
#[rpc(server)]
pub trait DevnetApi {
    /// EXECUTE gas of a block: used, limit, target, base fee.
    #[method(name = "nrd_executeGas")]
    fn execute_gas(&self, block: Option<BlockNumberOrTag>) -> RpcResult<ExecuteGas>;
    /// Seals a block now (`evm_mine`, as anvil and hardhat).
    #[method(name = "evm_mine", blocking)]
    fn mine(&self) -> RpcResult<U64>;
    /// Records the head; returns an id for `evm_revert`.
    #[method(name = "evm_snapshot")]
    fn snapshot(&self) -> RpcResult<U256>;
    /// Returns the chain to a snapshot (dropping later blocks).
    #[method(name = "evm_revert")]
    fn revert(&self, id: U256) -> RpcResult<bool>;
    /// Rewinds the chain to a block number (a reorg for tests).
    #[method(name = "debug_setHead")]
    fn set_head(&self, number: U64) -> RpcResult<()>;
    /// Moves the clock forward by `seconds`; returns the total offset (`evm_increaseTime`).
    #[method(name = "evm_increaseTime")]
    fn increase_time(&self, seconds: U64) -> RpcResult<U64>;
    /// Sets the next block's timestamp (`evm_setNextBlockTimestamp`).
    #[method(name = "evm_setNextBlockTimestamp")]
    fn set_next_block_timestamp(&self, timestamp: U64) -> RpcResult<()>;
}

/// The devnet methods.
#[derive(Debug)]
pub struct DevnetRpc {
    devnet: Arc<Devnet>,
}

impl DevnetRpc {
    /// Serves `devnet`.
    pub fn new(devnet: Arc<Devnet>) -> Self {
        Self { devnet }
    }
}

impl DevnetApiServer for DevnetRpc {
    fn execute_gas(&self, block: Option<BlockNumberOrTag>) -> RpcResult<ExecuteGas> {
        let number = match block.unwrap_or_default() {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Earliest => 0,
            _ => self.devnet.head().number(),
        };
        self.devnet
            .execute_gas(number)
            .ok_or_else(|| RpcError::NotFound(format!("block {number} not found or its state is pruned")).into())
    }

    fn mine(&self) -> RpcResult<U64> {
        self.devnet.seal().map(|b| U64::from(b.number())).map_err(|e| RpcError::Internal(e.to_string()).into())
    }

    fn snapshot(&self) -> RpcResult<U256> {
        Ok(U256::from(self.devnet.snapshot()))
    }

    fn revert(&self, id: U256) -> RpcResult<bool> {
        Ok(self.devnet.revert(id.saturating_to()).is_ok())
    }

    fn set_head(&self, number: U64) -> RpcResult<()> {
        self.devnet.set_head(number.to()).map_err(|e| RpcError::NotFound(e.to_string()).into())
    }

    fn increase_time(&self, seconds: U64) -> RpcResult<U64> {
        Ok(U64::from(self.devnet.increase_time(seconds.to())))
    }

    fn set_next_block_timestamp(&self, timestamp: U64) -> RpcResult<()> {
        self.devnet.set_next_timestamp(timestamp.to()).map_err(|e| RpcError::InvalidParams(e.to_string()).into())
    }
}
