//! The EXECUTE precompile, with cumulative per-L1-block metering kept in L1 state.
//!
//! Input: `abi.encode(bytes32 preStateRoot, bytes32 postStateRoot, uint64 gasUsed, bytes anchor,
//! bytes trace)`, `gasUsed` being the EXECUTE gas (the block's gas plus its anchor's gas limit).
//! Output: the word `1` on success. Any invalid input makes the call revert with `Error(string)`
//! explaining why; running out of L1 gas halts.
//!
//! **The work is paid for before it is done, and whatever the outcome** (docs/protocol.md §6):
//! - L1 gas: `base_gas + gas_per_byte × len(input)`, then the EXECUTE fee converted to L1 gas at
//!   the transaction's gas price (`⌈gasUsed × baseFee / price⌉`), then per referenced blob, per
//!   word of decompressed batch and per item decoded from it (transaction, witness node, code,
//!   header). Gas spent in a frame that reverts stays spent, so the fee
//!   cannot be dodged by reverting.
//! - The meter: three storage slots of the precompile's own account (which genesis gives nonce
//!   1 so EIP-161 never clears it): the L1 block number last metered, the EXECUTE gas used in that
//!   block, and that block's EXECUTE base fee. A call's EXECUTE gas is counted when the call is
//!   charged, outside the EVM journal, and written into the slots after the transaction by the
//!   chain engine ([`nrd_chain::TxSettlement`]), so a reverted frame (or transaction) still uses up
//!   the block's EXECUTE capacity and raises the next base fee.
//! - Re-execution stops once it has spent more than the declared gas (plus a quarter of the
//!   block's gas, for refunds), whatever gas limits the header and its transactions name.

use crate::{
    batch::{Batch, BatchError, MAX_BATCH_BYTES, decode_batch_within},
    blob::{BlobPayloadError, blobs_to_payload},
    trace::{AnyTrace, TraceError},
    verifier::{ExecuteError, ExecuteInput, Reexecution},
};
use alloy_consensus::{Block, TxEnvelope};
use alloy_eips::eip4844::Blob;
use alloy_evm::precompiles::{Precompile, PrecompileInput};
use alloy_primitives::{Address, B256, Bytes, U256, address};
use alloy_sol_types::{SolError, SolType, sol_data};
use nrd_chain::{LockExt, SettlementWrite, TxSettlement};
use revm::precompile::{PrecompileHalt, PrecompileId, PrecompileOutput, PrecompileResult};
use serde::{Deserialize, Serialize};
use std::{borrow::Cow, sync::Arc};
use std::{cell::Cell, sync::Mutex};

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
    /// L1 gas the precompile charges per referenced blob (copying it out of the sidecar).
    #[serde(default = "default_blob_gas")]
    pub blob_gas: u64,
    /// L1 gas the precompile charges per 32-byte word of a blob batch's RLP body (decompressing
    /// and decoding it, refused batches included); decompression stops where the gas left stops
    /// paying.
    #[serde(default = "default_batch_word_gas")]
    pub batch_word_gas: u64,
    /// L1 gas the precompile charges per item decoded from a blob batch: each transaction, and
    /// each trie node, code and header of a version 0x02 batch's witness (each is then hashed,
    /// recovered or indexed: work that grows with the count, not the bytes, of small items).
    #[serde(default = "default_batch_item_gas")]
    pub batch_item_gas: u64,
    /// The EXECUTE fee, charged as L1 gas, is at least `gasUsed / fee_floor_divisor` L1 gas
    /// (0: no floor): re-executing EXECUTE gas costs L1 CPU like L1 gas does, so however low the
    /// EXECUTE base fee falls, a call never buys more CPU per L1 gas than an ordinary
    /// transaction (`nrd-bench execute-attacks`).
    #[serde(default = "default_fee_floor_divisor")]
    pub fee_floor_divisor: u64,
    /// L1 gas the precompile charges per block of a run (docs/protocol.md §5.1), beyond the
    /// first: the header checks, system calls and state-root update of a block, which its gas
    /// does not pay for when it declares little (an empty block of a chain without anchor gas).
    #[serde(default = "default_run_block_gas")]
    pub run_block_gas: u64,
}

const fn default_run_block_gas() -> u64 {
    10_000
}

const fn default_blob_gas() -> u64 {
    4_000
}

const fn default_batch_word_gas() -> u64 {
    16
}

const fn default_batch_item_gas() -> u64 {
    48
}

const fn default_fee_floor_divisor() -> u64 {
    20
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
            blob_gas: default_blob_gas(),
            batch_word_gas: default_batch_word_gas(),
            batch_item_gas: default_batch_item_gas(),
            fee_floor_divisor: default_fee_floor_divisor(),
            run_block_gas: default_run_block_gas(),
        }
    }
}

impl MeterConfig {
    /// L1 gas a call declaring `gas` EXECUTE gas pays as its fee, at EXECUTE base fee `base_fee`
    /// and the transaction's gas price `price` (at least the L1 base fee): `⌈gas × base_fee /
    /// price⌉`, and never less than `⌈gas / fee_floor_divisor⌉`.
    pub fn fee_gas(&self, gas: u64, base_fee: u128, price: u128) -> u64 {
        let fee = U256::from(gas) * U256::from(base_fee);
        let at_price: u64 = fee.div_ceil(U256::from(price.max(1))).saturating_to();
        let floor = match self.fee_floor_divisor {
            0 => 0,
            divisor => gas.div_ceil(divisor),
        };
        at_price.max(floor)
    }

    /// L1 gas a call pays for referencing `blobs` blobs whose batch has an RLP body of
    /// `body_len` bytes and `items` items ([`Batch::items`]).
    pub fn batch_gas(&self, blobs: usize, body_len: usize, items: usize) -> u64 {
        self.blob_gas
            .saturating_mul(blobs as u64)
            .saturating_add((body_len as u64).div_ceil(32).saturating_mul(self.batch_word_gas))
            .saturating_add((items as u64).saturating_mul(self.batch_item_gas))
    }

    /// L1 gas a run of `blocks` blocks pays beyond one block's: `run_block_gas` per block after
    /// the first.
    pub fn run_gas(&self, blocks: usize) -> u64 {
        let extra = u64::try_from(blocks.saturating_sub(1)).unwrap_or(u64::MAX);
        self.run_block_gas.saturating_mul(extra)
    }

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
    /// The batch last decoded from blobs, by the versioned hashes it came from (content
    /// addressed, so valid for any transaction): the calls of one `advance` share one batch.
    /// Only CPU depends on it; every call is charged as if it decoded the batch itself.
    batch_cache: Mutex<Option<CachedBatch>>,
}

#[derive(Debug)]
struct CachedBatch {
    refs: Vec<B256>,
    batch: Arc<Batch>,
    rlp_len: usize,
}

impl std::fmt::Debug for ExecutePrecompile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutePrecompile").field("verifier", &self.verifier).field("meter", &self.meter).finish()
    }
}

/// Why an EXECUTE call fails (the revert reason).
#[derive(Debug, thiserror::Error)]
pub enum ExecuteCallError {
    /// The input is not `abi.encode(bytes32, bytes32, uint64, bytes, bytes)`.
    #[error("EXECUTE input does not decode: {0}")]
    Input(#[source] alloy_sol_types::Error),
    /// Called from a static context (EXECUTE writes its meter).
    #[error("EXECUTE cannot run in a static call")]
    Static,
    /// The block's EXECUTE gas would pass the limit.
    #[error("EXECUTE gas limit exceeded: {used} used + {requested} requested > {limit}")]
    LimitExceeded {
        /// Used so far in this L1 block (reverted calls included).
        used: u64,
        /// This call's gas used.
        requested: u64,
        /// Per-block limit.
        limit: u64,
    },
    /// A blob reference is not a blob of this transaction.
    #[error("blob {0} is not carried by this transaction")]
    UnknownBlob(B256),
    /// A blob is referenced twice.
    #[error("blob {0} is referenced twice")]
    DuplicateBlob(B256),
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
    /// A trace whose witness is in the blobs references a batch that carries none.
    #[error("the blobs' batch carries no witness (version 0x02 traces need a version 0x02 batch)")]
    NoWitnessInBatch,
    /// A trace in blob mode must leave the block's transaction list empty.
    #[error("trace in blob mode carries transactions in the block too")]
    TransactionsInBlobMode,
    /// The trace does not verify.
    #[error(transparent)]
    Verify(#[from] ExecuteError),
    /// The EVM state could not be read or written.
    #[error("state access failed: {0}")]
    State(#[source] alloy_evm::EvmInternalsError),
}

impl nrd_chain::Classify for ExecuteCallError {
    fn severity(&self) -> nrd_chain::Severity {
        match self {
            // This L1 block's EXECUTE capacity is taken: a later block has room again.
            Self::LimitExceeded { .. } => nrd_chain::Severity::Temporary,
            // Reading the L1 state failed, not the input.
            Self::State(_) => nrd_chain::Severity::Temporary,
            Self::Trace(e) => e.severity(),
            Self::BlobPayload(e) => e.severity(),
            Self::Batch(e) => e.severity(),
            Self::Verify(e) => e.severity(),
            // The input is wrong: EXECUTE refuses it whenever it is given.
            _ => nrd_chain::Severity::Critical,
        }
    }
}

/// How a call ends when it does not succeed.
#[derive(Debug)]
enum Failure {
    /// The caller did not give enough L1 gas for the next piece of work: halt, all gas spent.
    OutOfGas,
    /// The input is refused: revert with the reason, the gas charged so far spent.
    Refused(ExecuteCallError),
}

impl<E: Into<ExecuteCallError>> From<E> for Failure {
    fn from(err: E) -> Self {
        Self::Refused(err.into())
    }
}

/// L1 gas charged so far against what the call was given.
#[derive(Debug)]
struct Charge {
    used: u64,
    available: u64,
}

impl Charge {
    /// Charges `gas` before the work it pays for.
    fn add(&mut self, gas: u64) -> Result<(), Failure> {
        self.used = self.used.saturating_add(gas);
        if self.used > self.available { Err(Failure::OutOfGas) } else { Ok(()) }
    }

    fn left(&self) -> u64 {
        self.available.saturating_sub(self.used)
    }
}

/// EXECUTE gas of the transaction running on this thread, not yet written to the meter slots.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// The L1 block it runs in.
    block: u64,
    /// The meter's gas used in that block before this transaction.
    used_before: u64,
    /// That block's EXECUTE base fee.
    base_fee: u128,
    /// EXECUTE gas of this transaction's calls so far, reverted ones included.
    gas: u64,
}

thread_local! {
    /// One block, call or simulation executes on one thread from start to end, and the chain
    /// engine resets this before every transaction ([`nrd_chain::TxSettlement::begin`]).
    static PENDING: Cell<Option<Pending>> = const { Cell::new(None) };
}

impl ExecutePrecompile {
    /// EXECUTE verifying L2 blocks with `verifier`, metered by `meter`, resolving blob
    /// references through `blobs`. Add it to an L1 chain with [`Self::install`].
    pub fn new(verifier: Reexecution, meter: MeterConfig, blobs: Arc<dyn BlobSource>) -> Self {
        Self {
            id: PrecompileId::Custom(Cow::Borrowed("EXECUTE")),
            verifier,
            meter,
            blobs,
            batch_cache: Mutex::new(None),
        }
    }

    /// `spec` with EXECUTE at [`EXECUTE_ADDRESS`], both as the precompile and as the settlement
    /// that writes its meter after each transaction (without which the meter never advances).
    pub fn install(self, spec: nrd_chain::ChainSpec) -> nrd_chain::ChainSpec {
        let this = Arc::new(self);
        spec.with_precompile(EXECUTE_ADDRESS, this.clone()).with_settlement(this)
    }

    /// L1 gas charged up front for an input of `len` bytes.
    pub fn l1_gas(&self, len: usize) -> u64 {
        self.meter.base_gas.saturating_add(self.meter.gas_per_byte.saturating_mul(len as u64))
    }

    /// The batch in `refs`' blobs, charging its decoding: every word the decoder produced
    /// (refused batches included), then every item decoded.
    fn batch(&self, refs: &[B256], blobs: &[Arc<Blob>], charge: &mut Charge) -> Result<Arc<Batch>, Failure> {
        let word_gas = self.meter.batch_word_gas.max(1);
        let cached = {
            let cache = self.batch_cache.lock_or_recover();
            cache.as_ref().filter(|c| c.refs == refs).map(|c| (c.batch.clone(), c.rlp_len))
        };
        if let Some((batch, rlp_len)) = cached {
            charge.add(self.meter.batch_gas(0, rlp_len, batch.items()))?;
            return Ok(batch);
        }
        let refs_blobs: Vec<&Blob> = blobs.iter().map(|b| b.as_ref()).collect();
        let payload = blobs_to_payload(&refs_blobs)?;
        // Decompress no further than the gas left pays for; what was produced is charged
        // whatever the outcome (a bomb refused at the cap still paid for it).
        let affordable = usize::try_from((charge.left() / word_gas).saturating_mul(32)).unwrap_or(usize::MAX);
        let (decoded, produced) = decode_batch_within(&payload, affordable);
        charge.add(self.meter.batch_gas(0, produced, 0))?;
        let batch = match decoded {
            Err(BatchError::TooLarge) if affordable < MAX_BATCH_BYTES => return Err(Failure::OutOfGas),
            other => Arc::new(other?),
        };
        // Items are charged before any of them is hashed, recovered or indexed.
        charge.add(self.meter.batch_gas(0, 0, batch.items()))?;
        *self.batch_cache.lock_or_recover() =
            Some(CachedBatch { refs: refs.to_vec(), batch: batch.clone(), rlp_len: produced });
        Ok(batch)
    }

    /// The batch in the blobs `refs` names, each a blob of the current transaction, each once:
    /// the blobs are charged, then the batch's decoding.
    fn blob_batch(
        &self,
        refs: &[B256],
        internals: &mut alloy_evm::EvmInternals<'_>,
        charge: &mut Charge,
    ) -> Result<Arc<Batch>, Failure> {
        let carried = internals.tx_env().blob_versioned_hashes();
        let mut blobs = Vec::with_capacity(refs.len());
        for (i, hash) in refs.iter().enumerate() {
            if refs[..i].contains(hash) {
                return Err(ExecuteCallError::DuplicateBlob(*hash).into());
            }
            let blob = carried
                .contains(hash)
                .then(|| self.blobs.blob(hash))
                .flatten()
                .ok_or(ExecuteCallError::UnknownBlob(*hash))?;
            blobs.push(blob);
        }
        charge.add(self.meter.batch_gas(blobs.len(), 0, 0))?;
        self.batch(refs, &blobs, charge)
    }

    fn run(&self, input: &mut PrecompileInput<'_>, charge: &mut Charge) -> Result<(), Failure> {
        if input.is_static {
            return Err(ExecuteCallError::Static.into());
        }
        let (pre, post, gas_used, anchor, trace): (B256, B256, u64, Bytes, Bytes) =
            <ExecuteArgs as SolType>::abi_decode_params(input.data).map_err(ExecuteCallError::Input)?;

        // The meter: the slots hold every earlier transaction of the block; this transaction's
        // earlier calls (reverted ones too) are pending on this thread.
        let state = ExecuteCallError::State;
        let internals = &mut input.internals;
        let block = internals.block_number().saturating_to::<u64>();
        let stored = StoredMeter {
            block: internals.sload(EXECUTE_ADDRESS, METER_BLOCK_SLOT).map_err(state)?.data.saturating_to(),
            used: internals.sload(EXECUTE_ADDRESS, METER_USED_SLOT).map_err(state)?.data.saturating_to(),
            base_fee: internals.sload(EXECUTE_ADDRESS, METER_BASE_FEE_SLOT).map_err(state)?.data.saturating_to(),
        };
        let meter = self.meter.at_block(block, stored);
        let pending = PENDING.get().filter(|p| p.block == block).map_or(0, |p| p.gas);
        let used = meter.used.saturating_add(pending);
        if used.checked_add(gas_used).is_none_or(|total| total > meter.limit) {
            return Err(ExecuteCallError::LimitExceeded { used, requested: gas_used, limit: meter.limit }.into());
        }

        // The fee, as L1 gas at the transaction's price: spent even if the frame reverts.
        let base_fee = internals.block_env().basefee();
        let price = internals.tx_env().effective_gas_price(u128::from(base_fee)).max(u128::from(base_fee));
        charge.add(self.meter.fee_gas(gas_used, meter.base_fee, price))?;
        PENDING.set(Some(Pending {
            block,
            used_before: meter.used,
            base_fee: meter.base_fee,
            gas: pending + gas_used,
        }));

        // Blob mode: a block's transactions are an entry of the batch in this transaction's
        // blobs (entry `batch_index`; a run's block i: entry `first_batch_index + i`); a
        // version 0x02 run also takes its witness from the batch.
        let input = ExecuteInput { pre_state_root: pre, post_state_root: post, gas_used, anchor: &anchor, trace: &[] };
        match AnyTrace::decode(&trace)? {
            AnyTrace::Block(mut decoded) => {
                if !decoded.blob_refs.is_empty() {
                    let batch = self.blob_batch(&decoded.blob_refs, internals, charge)?;
                    let block = &mut decoded.block;
                    fill_from_batch(&batch.blocks, decoded.batch_index, std::slice::from_mut(block))?;
                }
                self.verifier.verify_trace(&input, &decoded).map_err(ExecuteCallError::Verify)?;
            }
            AnyTrace::Run(mut run) => {
                charge.add(self.meter.run_gas(run.blocks.len()))?;
                if !run.blob_refs.is_empty() {
                    let batch = self.blob_batch(&run.blob_refs, internals, charge)?;
                    fill_from_batch(&batch.blocks, run.first_batch_index, &mut run.blocks)?;
                }
                self.verifier.verify_run_trace(&input, &run).map_err(ExecuteCallError::Verify)?;
            }
            AnyTrace::BlobRun(mut run) => {
                charge.add(self.meter.run_gas(run.blocks.len()))?;
                let batch = self.blob_batch(&run.blob_refs, internals, charge)?;
                let witness = batch.witness.as_ref().ok_or(ExecuteCallError::NoWitnessInBatch)?;
                fill_from_batch(&batch.blocks, run.first_batch_index, &mut run.blocks)?;
                self.verifier.verify_run_blocks(&input, &run.blocks, witness).map_err(ExecuteCallError::Verify)?;
            }
        }
        Ok(())
    }
}

/// Gives `blocks` (which must carry no transactions of their own) the transactions of the
/// batch's entries `first`, `first + 1`, ….
fn fill_from_batch(batch: &[Vec<TxEnvelope>], first: u64, blocks: &mut [Block<TxEnvelope>]) -> Result<(), Failure> {
    for (i, block) in blocks.iter_mut().enumerate() {
        if !block.body.transactions.is_empty() {
            return Err(ExecuteCallError::TransactionsInBlobMode.into());
        }
        let index = first.saturating_add(i as u64);
        let txs = usize::try_from(index)
            .ok()
            .and_then(|i| batch.get(i))
            .ok_or(ExecuteCallError::BatchIndex { index, blocks: batch.len() })?;
        block.body.transactions = txs.clone();
    }
    Ok(())
}

impl TxSettlement for ExecutePrecompile {
    fn begin(&self) {
        PENDING.set(None);
    }

    fn settle(&self, block_number: u64) -> Vec<SettlementWrite> {
        let Some(p) = PENDING.take().filter(|p| p.block == block_number) else { return Vec::new() };
        let write = |slot, value| SettlementWrite { address: EXECUTE_ADDRESS, slot, value };
        vec![
            write(METER_BLOCK_SLOT, U256::from(p.block)),
            write(METER_USED_SLOT, U256::from(p.used_before.saturating_add(p.gas))),
            write(METER_BASE_FEE_SLOT, U256::from(p.base_fee)),
        ]
    }
}

impl Precompile for ExecutePrecompile {
    fn precompile_id(&self) -> &PrecompileId {
        &self.id
    }

    fn call(&self, mut input: PrecompileInput<'_>) -> PrecompileResult {
        let mut charge = Charge { used: self.l1_gas(input.data.len()), available: input.gas };
        let reservoir = input.reservoir;
        if charge.used > charge.available {
            return Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir));
        }
        match self.run(&mut input, &mut charge) {
            Ok(()) => {
                Ok(PrecompileOutput::new(charge.used, U256::from(1).to_be_bytes::<32>().to_vec().into(), reservoir))
            }
            Err(Failure::OutOfGas) => Ok(PrecompileOutput::halt(PrecompileHalt::OutOfGas, reservoir)),
            Err(Failure::Refused(err)) => {
                tracing::debug!(target: "nrd::execute", "EXECUTE rejected: {err}");
                Ok(PrecompileOutput::revert(
                    charge.used,
                    Error { reason: err.to_string() }.abi_encode().into(),
                    reservoir,
                ))
            }
        }
    }

    fn supports_caching(&self) -> bool {
        false
    }
}
