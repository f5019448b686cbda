//! The `Verifier` seam behind EXECUTE: re-execution now, proofs later.

use crate::{
    stateless::{VerifiedBlock, VerifyError, verify_block_bounded, verify_run},
    trace::{AnyTrace, RunTrace, Trace, TraceError},
    witness::ExecutionWitness,
};
use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::SolValue;
use nrd_chain::ChainSpec;

/// The inputs of EXECUTE: the four of the proposal plus EIP-8079's anchor, which the L2 chain's
/// anchor system call receives before the block's transactions.
#[derive(Debug, Clone, Copy)]
pub struct ExecuteInput<'a> {
    /// State root the block starts from.
    pub pre_state_root: B256,
    /// State root the block must reach.
    pub post_state_root: B256,
    /// EXECUTE gas: the block's gas used plus the gas limit the chain's anchor rule gives the
    /// anchor (docs/protocol.md §6). It bounds the work: verification stops once execution has
    /// spent more than `gas_used + block gas used / 4` (refunds give back at most a fifth).
    pub gas_used: u64,
    /// The anchor the L1 contract built (L1 block reference and consumed messages). For a run
    /// trace (version 0x01): `abi.encode(bytes[] anchors)`, one per block of the run.
    pub anchor: &'a [u8],
    /// The encoded trace.
    pub trace: &'a [u8],
}

/// Why EXECUTE rejects its input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecuteError {
    /// The trace does not decode.
    #[error("malformed trace: {0}")]
    Trace(#[from] TraceError),
    /// The block's header claims another post-state root than the caller's.
    #[error("block header state root {header} is not the claimed post-state root {claimed}")]
    PostStateRoot {
        /// Claimed by the caller.
        claimed: B256,
        /// In the block header.
        header: B256,
    },
    /// The declared EXECUTE gas is not the block's gas used plus its anchor's gas limit.
    #[error("declared EXECUTE gas {claimed} is not the block's gas used {header} plus the anchor's gas limit {anchor}")]
    GasUsed {
        /// Claimed by the caller.
        claimed: u64,
        /// In the block header.
        header: u64,
        /// The anchor's gas limit under the chain's anchor rule.
        anchor: u64,
    },
    /// The anchor is not one the chain's anchor rule accepts (for a run: not `abi.encode` of a
    /// list of such anchors).
    #[error("the anchor is malformed")]
    MalformedAnchor,
    /// More transactions than the block's gas can pay for (each costs at least 21,000 gas):
    /// refused before recovering any sender.
    #[error("{count} transactions cannot fit in {gas_used} gas")]
    TooManyTransactions {
        /// Transactions in the block.
        count: usize,
        /// The block's gas used.
        gas_used: u64,
    },
    /// The trace's witness is in blobs (version 0x02), which only EXECUTE, inside the L1
    /// transaction carrying them, can read: verify it there, or as a [`crate::RunTrace`] with
    /// the batch's witness.
    #[error("the trace's witness is in the blobs of its L1 transaction")]
    WitnessInBlobs,
    /// Stateless re-execution failed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

impl nrd_chain::Classify for ExecuteError {
    fn severity(&self) -> nrd_chain::Severity {
        // The input is wrong: EXECUTE refuses it whenever it is given.
        nrd_chain::Severity::Critical
    }
}

/// Checks that a trace takes `pre_state_root` to `post_state_root` using `gas_used`.
pub trait Verifier {
    /// Verifies the input; `Ok` only when every claim holds, with the verified blocks in order
    /// (one for a version 0x00 trace, the run's for a run trace).
    fn verify(&self, input: &ExecuteInput<'_>) -> Result<Vec<VerifiedBlock>, ExecuteError>;
}

/// Verification by stateless re-execution of the trace's block over its witness.
#[derive(Debug, Clone)]
pub struct Reexecution {
    spec: ChainSpec,
}

impl Reexecution {
    /// A re-execution verifier for a chain with rules `spec`.
    pub const fn new(spec: ChainSpec) -> Self {
        Self { spec }
    }

    /// The chain rules it verifies with.
    pub const fn spec(&self) -> &ChainSpec {
        &self.spec
    }
}

/// Gas every transaction costs at least (EIP-2's intrinsic gas of a call).
const MIN_TX_GAS: u64 = 21_000;

impl Verifier for Reexecution {
    fn verify(&self, input: &ExecuteInput<'_>) -> Result<Vec<VerifiedBlock>, ExecuteError> {
        match AnyTrace::decode(input.trace)? {
            AnyTrace::Block(trace) => Ok(vec![self.verify_trace(input, &trace)?]),
            AnyTrace::Run(run) => self.verify_run_trace(input, &run),
            AnyTrace::BlobRun(_) => Err(ExecuteError::WitnessInBlobs),
        }
    }
}

/// The anchors of a run: `abi.encode(bytes[])` (how `NativeRollup` passes them).
pub fn decode_run_anchors(anchor: &[u8]) -> Result<Vec<Bytes>, ExecuteError> {
    <Vec<Bytes> as SolValue>::abi_decode(anchor).map_err(|_| ExecuteError::MalformedAnchor)
}

/// `abi.encode(bytes[] anchors)`: the `anchor` input of EXECUTE for a run.
pub fn encode_run_anchors(anchors: &[Bytes]) -> Bytes {
    anchors.to_vec().abi_encode().into()
}

impl Reexecution {
    /// Verifies an already decoded trace (`input.trace` is ignored); EXECUTE uses this after
    /// filling a blob-mode block's transactions from blobs. Cheap checks come first: the claims
    /// against the header, the declared gas against the anchor rule, and the transaction count
    /// against the gas (before any signature is recovered); then re-execution, bounded by the
    /// declared gas.
    pub fn verify_trace(&self, input: &ExecuteInput<'_>, trace: &Trace) -> Result<VerifiedBlock, ExecuteError> {
        let budget = self.check_claims(input, std::slice::from_ref(&trace.block), &[input.anchor])?;
        Ok(verify_block_bounded(&self.spec, input.pre_state_root, &trace.block, input.anchor, &trace.witness, budget)?)
    }

    /// Verifies a decoded run trace (`input.trace` is ignored; blob-mode blocks already hold
    /// their transactions): `input.anchor` decodes to one anchor per block, then the same cheap
    /// checks as [`Self::verify_trace`] over the run ([`Self::check_claims`]), then the run is
    /// re-executed under one work budget of the declared gas plus a quarter of the blocks' gas
    /// used.
    pub fn verify_run_trace(
        &self,
        input: &ExecuteInput<'_>,
        run: &RunTrace,
    ) -> Result<Vec<VerifiedBlock>, ExecuteError> {
        self.verify_run_blocks(input, &run.blocks, &run.witness)
    }

    /// [`Self::verify_run_trace`] for a run's `blocks` (holding their transactions) and its
    /// `witness`, wherever they came from (EXECUTE takes a version 0x02 trace's witness from the
    /// blob batch).
    pub fn verify_run_blocks(
        &self,
        input: &ExecuteInput<'_>,
        blocks: &[Block<TxEnvelope>],
        witness: &ExecutionWitness,
    ) -> Result<Vec<VerifiedBlock>, ExecuteError> {
        let anchors = decode_run_anchors(input.anchor)?;
        if anchors.len() != blocks.len() {
            return Err(ExecuteError::Verify(VerifyError::AnchorCount {
                blocks: blocks.len(),
                anchors: anchors.len(),
            }));
        }
        let anchors: Vec<&[u8]> = anchors.iter().map(|a| a.as_ref()).collect();
        let budget = self.check_claims(input, blocks, &anchors)?;
        Ok(verify_run(&self.spec, input.pre_state_root, blocks, &anchors, witness, Some(budget))?)
    }

    /// The claims checked before any work, in this order, for `blocks` (one, or a run) with one
    /// anchor each: the last block's state root is the claimed post-state root; each anchor is
    /// one the chain's anchor rule accepts; the declared EXECUTE gas is exactly the blocks' gas
    /// used plus their anchors' gas limits; no block holds more transactions than its gas pays
    /// for (before any signature is recovered). Returns the work budget: the declared gas plus
    /// a quarter of the blocks' gas used (refunds give back at most a fifth).
    fn check_claims(
        &self,
        input: &ExecuteInput<'_>,
        blocks: &[Block<TxEnvelope>],
        anchors: &[&[u8]],
    ) -> Result<u64, ExecuteError> {
        let last = blocks.last().ok_or(ExecuteError::Verify(VerifyError::EmptyRun))?;
        if last.header.state_root != input.post_state_root {
            return Err(ExecuteError::PostStateRoot { claimed: input.post_state_root, header: last.header.state_root });
        }
        let (mut gas, mut anchor_gas, mut quarter) = (0u64, 0u64, 0u64);
        for (block, anchor) in blocks.iter().zip(anchors) {
            let limit = self.spec.anchor_gas(anchor).ok_or(ExecuteError::MalformedAnchor)?;
            gas = gas.saturating_add(block.header.gas_used);
            anchor_gas = anchor_gas.saturating_add(limit);
            quarter = quarter.saturating_add(block.header.gas_used / 4);
        }
        if gas.checked_add(anchor_gas) != Some(input.gas_used) {
            return Err(ExecuteError::GasUsed { claimed: input.gas_used, header: gas, anchor: anchor_gas });
        }
        for block in blocks {
            let count = block.body.transactions.len();
            if (count as u64).saturating_mul(MIN_TX_GAS) > block.header.gas_used {
                return Err(ExecuteError::TooManyTransactions { count, gas_used: block.header.gas_used });
            }
        }
        Ok(input.gas_used.saturating_add(quarter))
    }
}
