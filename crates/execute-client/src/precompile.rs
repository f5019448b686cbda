//! The EXECUTE precompile, with cumulative per-L1-block metering kept in L1 state.
//!
//! Input: `abi.encode(bytes32 preStateRoot, bytes32 postStateRoot, uint64 gasUsed, bytes anchor,
//! bytes trace)`. Output: the word `1` on success. Any invalid input makes the call revert with
//! `Error(string)` explaining why; only running out of L1 gas halts.
//!
//! Metering lives in three storage slots of the precompile's own account (which genesis gives
//! nonce 1 so EIP-161 never clears it): the L1 block number last metered, the EXECUTE gas used in
//! that block, and that block's EXECUTE base fee. Being state, it is journaled: an EXECUTE inside
//! a reverted call leaves no trace, and a re-executing node reaches the same numbers.

use crate::{
    batch::{BatchError, decode_batch},
    blob::{BlobPayloadError, blobs_to_payload},
    trace::{Trace, TraceError},
    verifier::{ExecuteInput, Reexecution},
};
use alloy_eips::eip4844::Blob;
use alloy_evm::precompiles::{Precompile, PrecompileInput};
use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::{SolError, SolType, sol_data};
use revm::precompile::{PrecompileHalt, PrecompileId, PrecompileOutput, PrecompileResult};
use serde::{Deserialize, Serialize};
use std::{borrow::Cow, sync::Arc};

/// Where EXECUTE lives on nrd's L1.
pub const EXECUTE_ADDRESS: Address = address!("0x0000000000000000000000000000000000000101");

/// Storage slot: the L1 block number the meter was last updated in.
pub const METER_BLOCK_SLOT: U256 = U256::ZERO;
/// Storage slot: EXECUTE gas used in that block.
pub const METER_USED_SLOT: U256 = U256::from_limbs([1, 0, 0, 0]);
/// Storage slot: that block's EXECUTE base fee (wei per L2 gas).
pub const METER_BASE_FEE_SLOT: U256 = U256::from_limbs([2, 0, 0, 0]);

type ExecuteArgs =
    (sol_data::FixedBytes<32>, sol_data::FixedBytes<32>, sol_data::Uint<64>, sol_data::Bytes, sol_data::Bytes);

alloy_sol_types::sol! {
    /// Solidity's standard revert reason.
    error Error(string reason);
}

/// `abi.encode(pre, post, gasUsed, anchor, trace)`: the input EXECUTE takes.
pub fn encode_execute_input(pre: B256, post: B256, gas_used: u64, anchor: &[u8], trace: &[u8]) -> Bytes {
    <ExecuteArgs as SolType>::abi_encode_params(&(
        pre,
        post,
        gas_used,
        Bytes::copy_from_slice(anchor),
        Bytes::copy_from_slice(trace),
    ))
    .into()
}

/// EXECUTE metering parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeterConfig {
    /// Target EXECUTE gas per L1 block.
    pub target: u64,
    /// Maximum EXECUTE gas per L1 block (default 2x target).
    pub limit: u64,
    /// Base fee of the first metered block.
    pub initial_base_fee: u64,
    /// The base fee never falls below this.
    pub min_base_fee: u64,
    /// Maximum change per block is `1 / change_denominator` (8, as EIP-1559).
    pub change_denominator: u64,
    /// L1 gas the precompile charges per call.
    pub base_gas: u64,
    /// L1 gas the precompile charges per input byte.
    pub gas_per_byte: u64,
}

impl Default for MeterConfig {
    fn default() -> Self {
        Self {
            target: 15_000_000,
            limit: 30_000_000,
            initial_base_fee: 1_000_000,
            min_base_fee: 1,
            change_denominator: 8,
            base_gas: 50_000,
            gas_per_byte: 8,
        }
    }
}

impl MeterConfig {
    /// The base fee after a block that used `used` gas at `base_fee` (EIP-1559's rule).
    pub fn next_base_fee(&self, base_fee: u128, used: u64) -> u128 {
        let target = u128::from(self.target.max(1));
        let denominator = u128::from(self.change_denominator.max(1));
        let used = u128::from(used);
        let next = if used > target {
            base_fee + (base_fee * (used - target) / target / denominator).max(1)
        } else {
            base_fee - base_fee * (target - used) / target / denominator
        };
        next.max(u128::from(self.min_base_fee))
    }

    /// The meter as seen from L1 block `block`, given the stored slots.
    pub fn at_block(&self, block: u64, stored: StoredMeter) -> ExecuteGas {
        let StoredMeter { block: last, used, base_fee } = stored;
        let (used, base_fee) = if last == 0 && base_fee == 0 {
            (0, u128::from(self.initial_base_fee))
        } else if block <= last {
            (used, base_fee)
        } else {
            // The stored block closed with `used`; every block after it without EXECUTE used 0.
            let mut fee = self.next_base_fee(base_fee, used);
            for _ in 1..(block - last).min(4096) {
                let next = self.next_base_fee(fee, 0);
                if next == fee {
                    break;
                }
                fee = next;
            }
            (0, fee)
        };
        ExecuteGas { block, used, limit: self.limit, target: self.target, base_fee }
    }
}

/// The three metering slots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoredMeter {
    /// Block last metered.
    pub block: u64,
    /// Gas used in it.
    pub used: u64,
    /// Its base fee.
    pub base_fee: u128,
}

impl StoredMeter {
    /// Reads the meter slots from L1 state.
    pub fn read(state: &mut impl nrd_chain::StateProvider) -> nrd_chain::StateResult<Self> {
        Ok(Self {
            block: state.storage(EXECUTE_ADDRESS, METER_BLOCK_SLOT)?.saturating_to(),
            used: state.storage(EXECUTE_ADDRESS, METER_USED_SLOT)?.saturating_to(),
            base_fee: state.storage(EXECUTE_ADDRESS, METER_BASE_FEE_SLOT)?.saturating_to(),
        })
    }
}

/// EXECUTE gas accounting of one L1 block (what `nrd_executeGas` returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecuteGas {
    /// L1 block number.
    pub block: u64,
    /// EXECUTE gas used in the block.
    pub used: u64,
    /// EXECUTE gas limit per block.
    pub limit: u64,
    /// EXECUTE gas target per block.
    pub target: u64,
    /// EXECUTE base fee of the block (wei per L2 gas).
    pub base_fee: u128,
}

/// Blobs of the transaction being executed, by versioned hash.
pub trait BlobSource: Send + Sync {
    /// The blob with this versioned hash, if the current transaction carries it.
    fn blob(&self, versioned_hash: &B256) -> Option<Arc<Blob>>;
}

/// A blob source for chains without blobs in EXECUTE traces.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoBlobs;

impl BlobSource for NoBlobs {
    fn blob(&self, _: &B256) -> Option<Arc<Blob>> {
        None
    }
}

/// The EXECUTE precompile.
pub struct ExecutePrecompile {
    id: PrecompileId,
    verifier: Reexecution,
    meter: MeterConfig,
    blobs: Arc<dyn BlobSource>,
}

impl std::fmt::Debug for ExecutePrecompile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutePrecompile").field("verifier", &self.verifier).field("meter", &self.meter).finish()
    }
}

/// Why an EXECUTE call fails (the revert reason).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteCallError {
    /// The input is not `abi.encode(bytes32, bytes32, uint64, bytes, bytes)`.
    #[error("EXECUTE input does not decode: {0}")]
    Input(String),
    /// Called from a static context (EXECUTE writes its meter).
    #[error("EXECUTE cannot run in a static call")]
    Static,
    /// The block's EXECUTE gas would pass the limit.
    #[error("EXECUTE gas limit exceeded: {used} used + {requested} requested > {limit}")]
    LimitExceeded {
        /// Used so far in this L1 block.
        used: u64,
        /// This call's gas used.
        requested: u64,
        /// Per-block limit.
        limit: u64,
    },
    /// The transaction's sender cannot pay the EXECUTE fee.
    #[error("sender cannot pay the EXECUTE fee of {fee} wei")]
    Fee {
        /// gasUsed x base fee.
        fee: U256,
    },
    /// A blob reference is not a blob of this transaction.
    #[error("blob {0} is not carried by this transaction")]
    UnknownBlob(B256),
    /// The trace does not decode.
    #[error(transparent)]
    Trace(#[from] TraceError),
    /// The referenced blobs do not hold a payload.
    #[error("blob payload: {0}")]
    BlobPayload(#[from] BlobPayloadError),
    /// The blobs' payload is not a batch.
    #[error("blob batch: {0}")]
    Batch(#[from] BatchError),
    /// The trace's batch index names no block of the batch.
    #[error("batch index {index} is out of range: the batch has {blocks} blocks")]
    BatchIndex {
        /// The trace's batch index.
        index: u64,
        /// Blocks in the batch.
        blocks: usize,
    },
    /// A trace in blob mode must leave the block's transaction list empty.
    #[error("trace in blob mode carries transactions in the block too")]
    TransactionsInBlobMode,
    /// The trace does not verify.
    #[error("{0}")]
    Verify(String),
    /// The EVM state could not be read or written.
    #[error("state access failed: {0}")]
    State(String),
}

impl ExecutePrecompile {
    /// EXECUTE verifying L2 blocks with `verifier`, metered by `meter`, resolving blob
    /// references through `blobs`.
    pub fn new(verifier: Reexecution, meter: MeterConfig, blobs: Arc<dyn BlobSource>) -> Self {
        Self { id: PrecompileId::Custom(Cow::Borrowed("EXECUTE")), verifier, meter, blobs }
    }

    /// L1 gas charged for an input of `len` bytes.
    pub fn l1_gas(&self, len: usize) -> u64 {
        self.meter.base_gas.saturating_add(self.meter.gas_per_byte.saturating_mul(len as u64))
    }

    fn run(&self, input: &mut PrecompileInput<'_>) -> Result<(), ExecuteCallError> {
        if input.is_static {
            return Err(ExecuteCallError::Static);
        }
        let (pre, post, gas_used, anchor, trace): (B256, B256, u64, Bytes, Bytes) =
            <ExecuteArgs as SolType>::abi_decode_params(input.data)
                .map_err(|e| ExecuteCallError::Input(e.to_string()))?;

        // Work is bounded before it starts: metering first.
        let state = |e: alloy_evm::EvmInternalsError| ExecuteCallError::State(e.to_string());
        let internals = &mut input.internals;
        let block = internals.block_number().saturating_to::<u64>();
        let stored = StoredMeter {
            block: internals.sload(EXECUTE_ADDRESS, METER_BLOCK_SLOT).map_err(state)?.data.saturating_to(),
            used: internals.sload(EXECUTE_ADDRESS, METER_USED_SLOT).map_err(state)?.data.saturating_to(),
            base_fee: internals.sload(EXECUTE_ADDRESS, METER_BASE_FEE_SLOT).map_err(state)?.data.saturating_to(),
        };
        let meter = self.meter.at_block(block, stored);
        let total = meter
            .used
            .checked_add(gas_used)
            .filter(|t| *t <= meter.limit)
            .ok_or(ExecuteCallError::LimitExceeded { used: meter.used, requested: gas_used, limit: meter.limit })?;
        let fee = U256::from(gas_used) * U256::from(meter.base_fee);
        let origin = internals.tx_origin();
        let balance = internals.load_account(origin).map_err(state)?.data.info.balance;
        if balance < fee {
            return Err(ExecuteCallError::Fee { fee });
        }

        // Blob mode: the block's transactions are block `batch_index` of the batch in this
        // transaction's blobs.
        let mut decoded = Trace::decode(&trace)?;
        if !decoded.blob_refs.is_empty() {
            if !decoded.block.body.transactions.is_empty() {
                return Err(ExecuteCallError::TransactionsInBlobMode);
            }
            let carried = internals.tx_env().blob_versioned_hashes();
            let mut blobs = Vec::with_capacity(decoded.blob_refs.len());
            for hash in &decoded.blob_refs {
                let blob = carried
                    .contains(hash)
                    .then(|| self.blobs.blob(hash))
                    .flatten()
                    .ok_or(ExecuteCallError::UnknownBlob(*hash))?;
                blobs.push(blob);
            }
            let refs: Vec<&Blob> = blobs.iter().map(|b| b.as_ref()).collect();
            let mut batch = decode_batch(&blobs_to_payload(&refs)?)?;
            let blocks = batch.len();
            let index = usize::try_from(decoded.batch_index)
                .ok()
                .filter(|i| *i < blocks)
                .ok_or(ExecuteCallError::BatchIndex { index: decoded.batch_index, blocks })?;
            decoded.block.body.transactions = batch.swap_remove(index);
        }
        self.verifier
            .verify_trace(
                &ExecuteInput { pre_state_root: pre, post_state_root: post, gas_used, anchor: &anchor, trace: &[] },
                &decoded,
            )
            .map_err(|e| ExecuteCallError::Verify(e.to_string()))?;

        // Commit: meter and fee burn.
        let internals = &mut input.internals;
        if block != stored.block {
            internals.sstore(EXECUTE_ADDRESS, METER_BLOCK_SLOT, U256::from(block)).map_err(state)?;
            internals.sstore(EXECUTE_ADDRESS, METER_BASE_FEE_SLOT, U256::from(meter.base_fee)).map_err(state)?;
        }
        internals.sstore(EXECUTE_ADDRESS, METER_USED_SLOT, U256::from(total)).map_err(state)?;
        internals.set_balance(origin, balance - fee).map_err(state)?;
        Ok(())
    }
}

impl Precompile for ExecutePrecompile {
    fn precompile_id(&self) -> &PrecompileId {
        &self.id
    }

    fn call(&self, mut input: PrecompileInput<'_>) -> PrecompileResult {
        let cost = self.l1_gas(input.data.len());
        let reservoir = input.reservoir;
        if cost > input.gas {
            return Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir));
        }
        match self.run(&mut input) {
            Ok(()) => Ok(PrecompileOutput::new(cost, U256::from(1).to_be_bytes::<32>().to_vec().into(), reservoir)),
            Err(err) => {
                tracing::debug!(target: "nrd::execute", "EXECUTE rejected: {err}");
                Ok(PrecompileOutput::revert(cost, Error { reason: err.to_string() }.abi_encode().into(), reservoir))
            }
        }
    }

    fn supports_caching(&self) -> bool {
        false
    }
}
