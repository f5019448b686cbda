//! Devnet-only methods: EXECUTE metering, mining, snapshots and reorgs for tests.

use crate::error::RpcError;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{U64, U256};
use jsonrpsee::{core::RpcResult, proc_macros::rpc};
use nrd_execute_client::ExecuteGas;
use nrd_l1_devnet::Devnet;
use std::sync::Arc;

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
