//! What one `NativeRollup.advance` transaction costs on L1, and whether it fits L1's limits.
//!
//! One model, [`advance_cost`], used by both the block producer (a block is sealed only if an
//! `advance` carrying it alone fits) and the submitter (a batch grows only while it fits). It
//! is an upper bound of the L1 gas the transaction uses, checked against the real devnet by
//! `tests/cost.rs` (within 1.5x of what L1 measured, never below):
//!
//! - **intrinsic gas**, exactly as L1 computes it (revm's `calculate_initial_tx_gas` at Prague):
//!   21,000 + 4 gas per calldata token (a zero byte is one token, a non-zero byte four), and the
//!   EIP-7623 floor of 10 gas per token — a transaction uses at least the floor, so a big witness
//!   in calldata is priced at 10/40 gas per zero/non-zero byte;
//! - **EXECUTE's own charge** per block, `base_gas + gas_per_byte × input length` (the
//!   devnet's [`MeterConfig`]), where the input is `abi.encode(pre, post, gasUsed, anchor,
//!   trace)`, plus the 1/64 of it the caller must keep back when it forwards gas (EIP-150);
//! - **the contract's memory**: `abi.encode` copies each block's trace and anchor into memory,
//!   which Solidity never frees within a call, so the memory of a batch grows with the sum of
//!   its traces and its expansion cost is quadratic in it (`3·w + w²/512` for `w` words);
//! - **the contract's fixed work** per transaction, per block (header read and hash, storage
//!   writes, the event) and per L1 message (copy, rolling hash, queue reads), measured on the
//!   devnet and rounded up;
//!
//! with a safety margin on the estimated (not the exact) parts. The EXECUTE gas a batch
//! declares is [`PostedBlock::execute_gas`] summed; L1 meters it per L1 block. EXECUTE also
//! charges its fee as L1 gas ([`execute_fee_gas`]), which depends on the prices of the moment:
//! the submitter adds it to the gas limit when it sends.

use alloy_consensus::TxEnvelope;
use alloy_primitives::B256;
use alloy_sol_types::SolCall;
use nrd_bridge::NativeRollup;
use nrd_derivation::{
    AdvanceTx, DaMode, DerivationError, PostedBlock, anchor_calldata, encode_advance, encode_advance_run,
};
use nrd_execute_client::{ExecutionWitness, MeterConfig, batch_body_len};
use revm::{context_interface::cfg::gas::calculate_initial_tx_gas, primitives::hardfork::SpecId};

/// Contract work of one `advance` call besides its blocks: dispatch, ABI checks, the
/// permission and forced-inclusion reads, `consumed` and `lastAdvanceAt` (measured about 25k).
const TX_OVERHEAD_GAS: u64 = 50_000;
/// Contract work per block besides EXECUTE and memory: the header read and hash, the parent,
/// number, timestamp and anchor checks, `blockhash`, the head's four slots and the two new
/// slots of `stateRoots` and `stateRootPostedAt`, the call to EXECUTE, `BlockAdvanced`
/// (measured about 100k).
const BLOCK_OVERHEAD_GAS: u64 = 130_000;
/// Contract work of an `advanceRun` besides its blocks and EXECUTE: what [`TX_OVERHEAD_GAS`]
/// covers, plus the head's four slots and the two new slots of the last block's state root and
/// posting, written once per run (measured about 90k).
const RUN_OVERHEAD_GAS: u64 = 120_000;
/// Contract work per block of a run: the header read and hash, the parent, number, timestamp
/// and anchor checks, `blockhash`, the anchor's encoding, `BlockAdvanced` (no storage writes;
/// measured about 40k: the header is walked field by field in Solidity).
const RUN_BLOCK_OVERHEAD_GAS: u64 = 50_000;
/// Contract work per L1 message: its copy to memory, hash, rolling hash, anchor encoding and
/// queue reads (measured about 10k for a message without data).
const MESSAGE_OVERHEAD_GAS: u64 = 15_000;
/// Contract work per byte of an L1 message's data (copies and hashing).
const MESSAGE_GAS_PER_BYTE: u64 = 2;
/// Memory the contract uses per block besides the trace and anchor copies (header fields,
/// ABI heads, EXECUTE's output).
const BLOCK_MEMORY_BYTES: u64 = 1_024;
/// Memory per L1 message besides its data (the struct in memory, in the anchor and the list).
const MESSAGE_MEMORY_BYTES: u64 = 1_024;
/// Safety margin on the estimated parts (contract work, memory), in percent.
const MARGIN_PERCENT: u64 = 10;
/// Calldata rules of the L1 (Prague: EIP-7623 floor; Osaka prices calldata the same).
const L1_SPEC: SpecId = SpecId::PRAGUE;

/// What one `advance` transaction may use: the L1's limits, as configured and read from L1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvanceLimits {
    /// L1 gas one `advance` may use (its gas limit): at most L1's block gas limit (and, on an
    /// L1 with EIP-7825, its per-transaction cap).
    pub max_l1_gas: u64,
    /// Bytes of calldata one `advance` may carry (L1 pools and RPC servers bound a
    /// transaction's size).
    pub max_calldata_bytes: usize,
    /// Blobs one `advance` may carry (blob mode).
    pub max_blobs: usize,
    /// EXECUTE gas L1 accepts in one L1 block (its per-block limit): one `advance` lands in one
    /// L1 block, so its blocks' EXECUTE gas together must stay within it.
    pub max_execute_gas: u64,
}

impl Default for AdvanceLimits {
    /// The devnet's: 30M L1 gas per `advance` (half the devnet's 60M block), 4 MiB of calldata,
    /// 6 blobs (Osaka's per-transaction cap; Prague allows 9 per block), EXECUTE's 30M per block.
    fn default() -> Self {
        Self {
            max_l1_gas: 30_000_000,
            max_calldata_bytes: 4 << 20,
            max_blobs: 6,
            max_execute_gas: MeterConfig::default().limit,
        }
    }
}

/// What one `advance` transaction costs (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AdvanceCost {
    /// L2 blocks it carries.
    pub blocks: usize,
    /// Upper bound of the L1 gas it uses: the gas limit to send it with.
    pub l1_gas: u64,
    /// Intrinsic gas (21,000 + 4 per calldata token), exact.
    pub intrinsic_gas: u64,
    /// EIP-7623 floor (21,000 + 10 per calldata token), exact.
    pub floor_gas: u64,
    /// Estimated gas of the call itself: contract work, EXECUTE's charges, memory (with margin).
    pub execution_gas: u64,
    /// Calldata bytes.
    pub calldata_bytes: usize,
    /// Blobs (blob mode).
    pub blobs: usize,
    /// EXECUTE gas the blocks declare together ([`PostedBlock::execute_gas`] summed).
    pub execute_gas: u64,
}

/// Which limit an `advance` does not fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Overrun {
    /// It needs more L1 gas than one `advance` may use.
    #[error("needs {needed} L1 gas, above the {limit} one advance may use")]
    L1Gas {
        /// The model's bound.
        needed: u64,
        /// `max_l1_gas`.
        limit: u64,
    },
    /// Its calldata is too large.
    #[error("carries {bytes} bytes of calldata, above the {limit} one advance may carry")]
    Calldata {
        /// Calldata bytes.
        bytes: usize,
        /// `max_calldata_bytes`.
        limit: usize,
    },
    /// It needs too many blobs.
    #[error("needs {blobs} blobs, above the {limit} one advance may carry")]
    Blobs {
        /// Blobs.
        blobs: usize,
        /// `max_blobs`.
        limit: usize,
    },
    /// Its blocks declare more EXECUTE gas than L1 accepts in one block.
    #[error("declares {gas} EXECUTE gas, above L1's {limit} per L1 block")]
    ExecuteGas {
        /// EXECUTE gas declared.
        gas: u64,
        /// `max_execute_gas`.
        limit: u64,
    },
}

impl Overrun {
    /// A short label for metrics: `l1_gas`, `calldata`, `blobs`, `execute_gas`.
    pub const fn label(&self) -> &'static str {
        match self {
            Self::L1Gas { .. } => "l1_gas",
            Self::Calldata { .. } => "calldata",
            Self::Blobs { .. } => "blobs",
            Self::ExecuteGas { .. } => "execute_gas",
        }
    }
}

impl AdvanceCost {
    /// Whether it fits `limits`; the first limit it does not fit otherwise.
    pub fn check(&self, limits: &AdvanceLimits) -> Result<(), Overrun> {
        if self.l1_gas > limits.max_l1_gas {
            return Err(Overrun::L1Gas { needed: self.l1_gas, limit: limits.max_l1_gas });
        }
        if self.calldata_bytes > limits.max_calldata_bytes {
            return Err(Overrun::Calldata { bytes: self.calldata_bytes, limit: limits.max_calldata_bytes });
        }
        if self.blobs > limits.max_blobs {
            return Err(Overrun::Blobs { blobs: self.blobs, limit: limits.max_blobs });
        }
        if self.execute_gas > limits.max_execute_gas {
            return Err(Overrun::ExecuteGas { gas: self.execute_gas, limit: limits.max_execute_gas });
        }
        Ok(())
    }
}

/// `blocks` encoded as one `advance` in `mode` ([`encode_advance`]) and what it costs.
pub fn advance_cost(blocks: &[PostedBlock], mode: DaMode) -> Result<(AdvanceTx, AdvanceCost), DerivationError> {
    let tx = encode_advance(blocks, mode)?;
    let cost = cost_of(blocks, &tx);
    Ok((tx, cost))
}

/// `blocks` encoded as one `advanceRun` with the run's `witness` in `mode`
/// ([`encode_advance_run`]) and what it costs.
pub fn advance_run_cost(
    blocks: &[PostedBlock],
    witness: &ExecutionWitness,
    mode: DaMode,
) -> Result<(AdvanceTx, AdvanceCost), DerivationError> {
    let tx = encode_advance_run(blocks, witness, mode)?;
    let cost = run_cost_of(blocks, witness, &tx);
    Ok((tx, cost))
}

/// L1 gas EXECUTE charges for the fee of `execute_gas` at an EXECUTE base fee of
/// `execute_base_fee` wei per L2 gas when the transaction pays `gas_price` wei per L1 gas: the
/// precompile converts the fee to L1 gas, `⌈execute_gas × execute_base_fee / gas_price⌉`. Not
/// part of [`AdvanceCost::l1_gas`], which does not depend on prices: the submitter adds it to
/// the gas limit at the prices of the moment (with `gas_price` a lower bound of what the
/// transaction pays, so this is an upper bound).
pub fn execute_fee_gas(execute_gas: u64, execute_base_fee: u128, gas_price: u128) -> u64 {
    MeterConfig::default().fee_gas(execute_gas, execute_base_fee, gas_price)
}

/// Memory expansion cost of `words` 32-byte words (yellow paper: `3·w + w²/512`).
const fn memory_gas(words: u64) -> u64 {
    3 * words + words * words / 512
}

const fn padded(len: u64) -> u64 {
    len.div_ceil(32) * 32
}

/// The cost of `tx`, the encoding of `blocks`.
pub fn cost_of(blocks: &[PostedBlock], tx: &AdvanceTx) -> AdvanceCost {
    let meter = MeterConfig::default();
    // Each block's trace as the call carries it (its length is all that matters here).
    let traces: Vec<u64> = NativeRollup::advanceCall::abi_decode(&tx.calldata)
        .map(|call| call.blocks.iter().map(|b| b.trace.len() as u64).collect())
        // Not decodable cannot happen for what `encode_advance` made; then bound each trace by
        // the whole calldata.
        .unwrap_or_else(|_| vec![tx.calldata.len() as u64; blocks.len()]);
    let mut work = TX_OVERHEAD_GAS;
    let mut memory = 0u64;
    let mut largest_call = 0u64;
    // Blob mode: every block's EXECUTE call pays for its references to the blobs and for the
    // batch's RLP body (decompressed and decoded).
    let batch = batch_gas(&meter, blocks, None, tx);
    for (block, trace) in blocks.iter().zip(traces.iter().chain(std::iter::repeat(&0))) {
        let anchor = anchor_calldata(block.l1_anchor, B256::ZERO, &block.messages).len() as u64;
        // abi.encode(bytes32, bytes32, uint64, bytes, bytes): five head words, then each
        // dynamic argument's length word and padded content.
        let input = 5 * 32 + 32 + padded(anchor) + 32 + padded(*trace);
        let charge = meter.base_gas.saturating_add(meter.gas_per_byte.saturating_mul(input)).saturating_add(batch);
        largest_call = largest_call.max(charge);
        let (message_work, message_memory) = message_costs(block);
        work = work
            .saturating_add(BLOCK_OVERHEAD_GAS)
            .saturating_add(charge)
            // Copying the input into memory (3 gas a word) and the anchor's encoding.
            .saturating_add(3 * (input / 32) + 3 * (padded(anchor) / 32))
            .saturating_add(message_work);
        // The input (with the trace) and the anchor built before it, message structs and
        // their data, fixed scratch.
        memory = memory.saturating_add(input + padded(anchor) + BLOCK_MEMORY_BYTES).saturating_add(message_memory);
    }
    total(blocks, tx, work, memory, largest_call)
}

/// Blob mode: what each EXECUTE call pays for its references to the blobs and for the batch's
/// RLP body (decompressed and decoded) and items, the run's `witness` included when the batch
/// carries it; 0 in calldata mode.
fn batch_gas(meter: &MeterConfig, blocks: &[PostedBlock], witness: Option<&ExecutionWitness>, tx: &AdvanceTx) -> u64 {
    tx.sidecar.as_ref().map_or(0, |sidecar| {
        let txs: Vec<Vec<TxEnvelope>> = blocks.iter().map(|b| b.block.body.transactions.clone()).collect();
        let items = txs.iter().map(Vec::len).sum::<usize>() + witness.map_or(0, ExecutionWitness::items);
        meter.batch_gas(sidecar.blobs.len(), batch_body_len(&txs, witness), items)
    })
}

/// The contract's work and memory (bytes) for a block's L1 messages: their structs, copies,
/// hashes and data.
fn message_costs(block: &PostedBlock) -> (u64, u64) {
    let data: u64 = block.messages.iter().map(|m| m.data.len() as u64).sum();
    let messages = block.messages.len() as u64;
    (messages * MESSAGE_OVERHEAD_GAS + data * MESSAGE_GAS_PER_BYTE, messages * MESSAGE_MEMORY_BYTES + 2 * padded(data))
}

/// The cost from the contract's `work` and `memory` (bytes) and the largest EXECUTE call's
/// charge: memory expansion, the margin, the EIP-150 reserve, intrinsic gas and its floor.
fn total(blocks: &[PostedBlock], tx: &AdvanceTx, work: u64, memory: u64, largest_call: u64) -> AdvanceCost {
    let intrinsic = calculate_initial_tx_gas(L1_SPEC, &tx.calldata, false, 0, 0, 0, None);
    let work = work.saturating_add(memory_gas(memory.div_ceil(32)));
    let execution = work.saturating_add(work * MARGIN_PERCENT / 100);
    // EIP-150: a call forwards at most 63/64 of what is left, so the largest EXECUTE call needs
    // 1/64 more left at that point (given back afterwards).
    let forward_reserve = largest_call / 63 + 1;
    let standard = intrinsic.initial_total_gas().saturating_add(execution).saturating_add(forward_reserve);
    AdvanceCost {
        blocks: blocks.len(),
        l1_gas: standard.max(intrinsic.floor_gas),
        intrinsic_gas: intrinsic.initial_total_gas(),
        floor_gas: intrinsic.floor_gas,
        execution_gas: execution,
        calldata_bytes: tx.calldata.len(),
        blobs: tx.sidecar.as_ref().map_or(0, |s| s.blobs.len()),
        execute_gas: blocks.iter().map(PostedBlock::execute_gas).fold(0, u64::saturating_add),
    }
}

/// The cost of `tx`, the `advanceRun` encoding of `blocks` with the run's `witness`: one
/// EXECUTE call for all of them (its input holds the whole trace and `abi.encode` of every
/// block's anchor), the blob batch (with the witness, in blob mode) decoded once, the head and
/// one state root written once; the contract keeps every block's anchor in memory until the
/// call.
pub fn run_cost_of(blocks: &[PostedBlock], witness: &ExecutionWitness, tx: &AdvanceTx) -> AdvanceCost {
    let meter = MeterConfig::default();
    let trace = NativeRollup::advanceRunCall::abi_decode(&tx.calldata)
        .map_or(tx.calldata.len() as u64, |call| call.trace.len() as u64);
    let batch = batch_gas(&meter, blocks, Some(witness), tx);
    let mut work = RUN_OVERHEAD_GAS;
    // abi.encode(bytes[]): offset, length, one offset per anchor, then each anchor's length word
    // and padded content.
    let mut anchors = 64u64;
    let mut memory = 0u64;
    for block in blocks {
        let anchor = padded(anchor_calldata(block.l1_anchor, B256::ZERO, &block.messages).len() as u64);
        anchors = anchors.saturating_add(64 + anchor);
        let (message_work, message_memory) = message_costs(block);
        work =
            work.saturating_add(RUN_BLOCK_OVERHEAD_GAS).saturating_add(3 * (anchor / 32)).saturating_add(message_work);
        memory = memory.saturating_add(anchor + BLOCK_MEMORY_BYTES).saturating_add(message_memory);
    }
    // abi.encode(pre, post, gasUsed, anchors, trace): five head words, then each dynamic
    // argument's length word and padded content.
    let input = 5 * 32 + 32 + anchors + 32 + padded(trace);
    let charge = meter
        .base_gas
        .saturating_add(meter.gas_per_byte.saturating_mul(input))
        .saturating_add(batch)
        .saturating_add(meter.run_gas(blocks.len()));
    work = work.saturating_add(charge).saturating_add(3 * (input / 32) + 3 * (anchors / 32));
    // The encoded anchors and the input (with the trace) come on top of every block's anchor.
    memory = memory.saturating_add(anchors).saturating_add(input);
    total(blocks, tx, work, memory, charge)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_expansion_is_the_yellow_paper_formula() {
        assert_eq!(memory_gas(0), 0);
        assert_eq!(memory_gas(1), 3);
        assert_eq!(memory_gas(1024), 3 * 1024 + 2048);
    }

    #[test]
    fn each_limit_is_named() {
        let limits = AdvanceLimits { max_l1_gas: 10, max_calldata_bytes: 10, max_blobs: 1, max_execute_gas: 10 };
        let fits = AdvanceCost { l1_gas: 10, calldata_bytes: 10, blobs: 1, execute_gas: 10, ..Default::default() };
        assert_eq!(fits.check(&limits), Ok(()));
        let over = |c: AdvanceCost| c.check(&limits).unwrap_err().label();
        assert_eq!(over(AdvanceCost { l1_gas: 11, ..fits }), "l1_gas");
        assert_eq!(over(AdvanceCost { calldata_bytes: 11, ..fits }), "calldata");
        assert_eq!(over(AdvanceCost { blobs: 2, ..fits }), "blobs");
        assert_eq!(over(AdvanceCost { execute_gas: 11, ..fits }), "execute_gas");
    }
}
