//! The `Verifier` seam behind EXECUTE: re-execution now, proofs later.

use crate::{
    stateless::{VerifiedBlock, VerifyError, verify_block},
    trace::{Trace, TraceError},
};
use alloy_primitives::B256;
use nrd_chain::ChainSpec;

/// The inputs of EXECUTE: the four of the proposal plus EIP-8079's anchor, which the L2 chain's
/// anchor system call receives before the block's transactions.
#[derive(Debug, Clone, Copy)]
pub struct ExecuteInput<'a> {
    /// State root the block starts from.
    pub pre_state_root: B256,
    /// State root the block must reach.
    pub post_state_root: B256,
    /// Gas the block must use.
    pub gas_used: u64,
    /// The anchor the L1 contract built (L1 block reference and consumed messages).
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
    /// The block's header claims another gas used than the caller's.
    #[error("block header gas used {header} is not the claimed gas used {claimed}")]
    GasUsed {
        /// Claimed by the caller.
        claimed: u64,
        /// In the block header.
        header: u64,
    },
    /// Stateless re-execution failed.
    #[error(transparent)]
    Verify(#[from] VerifyError),
}

/// Checks that a trace takes `pre_state_root` to `post_state_root` using `gas_used`.
pub trait Verifier {
    /// Verifies the input; `Ok` only when every claim holds.
    fn verify(&self, input: &ExecuteInput<'_>) -> Result<VerifiedBlock, ExecuteError>;
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
}

impl Verifier for Reexecution {
    fn verify(&self, input: &ExecuteInput<'_>) -> Result<VerifiedBlock, ExecuteError> {
        self.verify_trace(input, &Trace::decode(input.trace)?)
    }
}

impl Reexecution {
    /// Verifies an already decoded trace (`input.trace` is ignored); EXECUTE uses this after
    /// filling a blob-mode block's transactions from blobs.
    pub fn verify_trace(&self, input: &ExecuteInput<'_>, trace: &Trace) -> Result<VerifiedBlock, ExecuteError> {
        let header = &trace.block.header;
        if header.state_root != input.post_state_root {
            return Err(ExecuteError::PostStateRoot { claimed: input.post_state_root, header: header.state_root });
        }
        if header.gas_used != input.gas_used {
            return Err(ExecuteError::GasUsed { claimed: input.gas_used, header: header.gas_used });
        }
        Ok(verify_block(&self.spec, input.pre_state_root, &trace.block, input.anchor, &trace.witness)?)
    }
}
