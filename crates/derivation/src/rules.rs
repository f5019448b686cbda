//! The header rules `NativeRollup` fixes for every L2 block (docs/protocol.md §8.4), mirrored for
//! the follower: what EXECUTE checks is an Ethereum block's validity; which values a rollup
//! block may carry in the fields Ethereum leaves to the consensus layer is the rollup's rule.

use alloy_consensus::{Block, EMPTY_ROOT_HASH, Header, TxEnvelope};
use alloy_primitives::B256;

/// A header field with a value the rollup does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderRuleError {
    /// The gas limit is not the rollup's (the genesis one).
    #[error("block {number}: gas limit {gas_limit} is not the rollup's {expected}")]
    GasLimit {
        /// Block number.
        number: u64,
        /// In the header.
        gas_limit: u64,
        /// The rollup's.
        expected: u64,
    },
    /// `prevRandao` or the parent beacon root is not the hash of the anchored L1 block.
    #[error(
        "block {number}: prevRandao {prev_randao} / beacon root {beacon_root:?} are not the anchored L1 block's hash {expected}"
    )]
    L1Hash {
        /// Block number.
        number: u64,
        /// The header's mix hash.
        prev_randao: B256,
        /// The header's parent beacon block root.
        beacon_root: Option<B256>,
        /// The anchored L1 block's hash.
        expected: B256,
    },
    /// The block carries EIP-4895 withdrawals (which would credit ETH out of nothing).
    #[error("block {number}: the withdrawals list is not empty")]
    Withdrawals {
        /// Block number.
        number: u64,
    },
    /// Blob gas is used or in excess (an L2 has no blob transactions).
    #[error("block {number}: blob gas used {used:?}, excess {excess:?} (both must be 0)")]
    BlobGas {
        /// Block number.
        number: u64,
        /// The header's blob gas used.
        used: Option<u64>,
        /// The header's excess blob gas.
        excess: Option<u64>,
    },
}

impl nrd_chain::Classify for HeaderRuleError {
    fn severity(&self) -> nrd_chain::Severity {
        // The block breaks the rollup's rules: importing it again cannot help.
        nrd_chain::Severity::Critical
    }
}

/// Checks `block` against the rollup's header rules: gas limit `gas_limit` (the genesis one),
/// `prevRandao` and parent beacon root equal to `l1_hash` (the anchored L1 block's hash), no
/// withdrawals, no blob gas. The EIP-7685 requests are free: they have no effect on an L2, and
/// fixing them would let anyone halt the rollup with a forced transaction that makes one.
pub fn check_header_rules(block: &Block<TxEnvelope>, l1_hash: B256, gas_limit: u64) -> Result<(), HeaderRuleError> {
    let h: &Header = &block.header;
    let number = h.number;
    if h.gas_limit != gas_limit {
        return Err(HeaderRuleError::GasLimit { number, gas_limit: h.gas_limit, expected: gas_limit });
    }
    if h.mix_hash != l1_hash || h.parent_beacon_block_root != Some(l1_hash) {
        return Err(HeaderRuleError::L1Hash {
            number,
            prev_randao: h.mix_hash,
            beacon_root: h.parent_beacon_block_root,
            expected: l1_hash,
        });
    }
    if h.withdrawals_root != Some(EMPTY_ROOT_HASH) || block.body.withdrawals.as_ref().is_some_and(|w| !w.is_empty()) {
        return Err(HeaderRuleError::Withdrawals { number });
    }
    if h.blob_gas_used != Some(0) || h.excess_blob_gas != Some(0) {
        return Err(HeaderRuleError::BlobGas { number, used: h.blob_gas_used, excess: h.excess_blob_gas });
    }
    Ok(())
}
