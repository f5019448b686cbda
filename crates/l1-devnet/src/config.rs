//! Devnet configuration.

use crate::node::DevnetError;
use alloy_primitives::Address;
use nrd_execute_client::MeterConfig;
use nrd_txpool::PoolLimits;
use serde::{Deserialize, Serialize};

/// The standard test mnemonic (anvil's and hardhat's).
pub const TEST_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// How the devnet runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DevnetConfig {
    /// L1 chain id.
    pub chain_id: u64,
    /// Chain id of the L2 whose blocks EXECUTE verifies.
    pub l2_chain_id: u64,
    /// Target of the L2's anchor system call (nrd's `L1MessageInbox` predeploy); `None` for an
    /// L2 without the rollup protocol, whose EXECUTE calls then take an empty anchor.
    pub l2_anchor: Option<Address>,
    /// Milliseconds between blocks; 0 seals a block per transaction.
    pub block_time_ms: u64,
    /// Block gas limit.
    pub gas_limit: u64,
    /// Prefunded accounts derived from `mnemonic`.
    pub accounts: u32,
    /// Balance of each prefunded account, in ether.
    pub balance_eth: u64,
    /// Mnemonic of the prefunded accounts.
    pub mnemonic: String,
    /// Fee recipient of sealed blocks.
    pub coinbase: Address,
    /// EXECUTE metering.
    pub execute: MeterConfig,
    /// Pool limits.
    pub pool: PoolLimits,
    /// How many blocks below the head the `finalized` block is (the devnet has no consensus;
    /// this is how deep a test reorg may go).
    pub finality_depth: u64,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            chain_id: 900,
            l2_chain_id: 901,
            l2_anchor: Some(nrd_bridge::L1_MESSAGE_INBOX),
            block_time_ms: 2000,
            gas_limit: 60_000_000,
            accounts: 10,
            balance_eth: 10_000,
            mnemonic: TEST_MNEMONIC.into(),
            coinbase: Address::ZERO,
            execute: MeterConfig::default(),
            pool: PoolLimits::default(),
            finality_depth: 64,
        }
    }
}

impl DevnetConfig {
    /// Checks values that would make the devnet misbehave; the error names the key.
    pub fn validate(&self) -> Result<(), DevnetError> {
        let bad = |key: &'static str, reason: &'static str| Err(DevnetError::Config { key, reason });
        if self.chain_id == 0 {
            return bad("chain_id", "must not be 0");
        }
        if self.l2_chain_id == self.chain_id {
            return bad("l2_chain_id", "must differ from chain_id");
        }
        if !(nrd_chain::MIN_GAS_LIMIT..=nrd_chain::MAX_GAS_LIMIT).contains(&self.gas_limit) {
            return bad("gas_limit", "must be between 5000 and 2^63-1");
        }
        if self.accounts == 0 || self.accounts > 10_000 {
            return bad("accounts", "must be between 1 and 10000");
        }
        if self.execute.target == 0 || self.execute.limit < self.execute.target {
            return bad("execute.limit", "must be at least execute.target, which must be positive");
        }
        if self.execute.change_denominator == 0 {
            return bad("execute.change_denominator", "must be positive");
        }
        if self.pool.max_per_sender == 0 || self.pool.max_total == 0 {
            return bad("pool", "limits must be positive");
        }
        Ok(())
    }
}
