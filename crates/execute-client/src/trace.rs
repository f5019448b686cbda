//! The EXECUTE trace: what an L2 block's verification carries to L1.
//!
//! ```text
//! trace = version (1 byte) ‖ rlp([block, witness, blobRefs, batchIndex])
//!   version 0x00: raw RLP body (the only version defined so far)
//!   block       standard Ethereum block RLP (header, transactions, ommers, withdrawals)
//!   witness     rlp([state: [node], codes: [code], headers: [header rlp]])
//!   blobRefs    [versioned hash]: blobs of the calling transaction holding a batch (see
//!               `crate::batch`) with the block's transactions (blob mode); empty in calldata mode
//!   batchIndex  uint: which block of that batch this is (blob mode); must be 0 in calldata mode
//! ```
//!
//! In blob mode the block's own transaction list is empty and EXECUTE fills it from block
//! `batchIndex` of the batch; a calldata-mode trace with a non-zero `batchIndex` does not decode
//! ([`TraceError::BatchIndexWithoutBlobs`]).

use crate::witness::ExecutionWitness;
use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// Trace format version: raw RLP body.
pub const TRACE_VERSION_RAW: u8 = 0x00;

/// Why bytes are not a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// No bytes at all.
    #[error("trace is empty")]
    Empty,
    /// The version byte names no known format.
    #[error("trace version {0:#04x} is not supported (expected {TRACE_VERSION_RAW:#04x})")]
    UnsupportedVersion(u8),
    /// The body is not RLP of `[block, witness, blobRefs, batchIndex]`.
    #[error("trace body does not decode: {0}")]
    Rlp(#[source] alloy_rlp::Error),
    /// Bytes follow the RLP body.
    #[error("trace has {0} bytes after its body")]
    TrailingBytes(usize),
    /// A calldata-mode trace (no blob references) names a batch index other than 0.
    #[error("trace without blob references has batch index {0} (must be 0)")]
    BatchIndexWithoutBlobs(u64),
}

impl nrd_chain::Classify for TraceError {
    fn severity(&self) -> nrd_chain::Severity {
        // The bytes are what they are: decoding them again fails again.
        nrd_chain::Severity::Critical
    }
}

/// A decoded trace.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct Trace {
    /// The L2 block.
    pub block: Block<TxEnvelope>,
    /// State-access proofs for re-executing it.
    pub witness: ExecutionWitness,
    /// Versioned hashes of the blobs holding its transactions (blob mode).
    pub blob_refs: Vec<B256>,
    /// Which block of the batch in those blobs this is (blob mode); 0 in calldata mode.
    pub batch_index: u64,
}

impl Trace {
    /// Encodes with the version byte.
    pub fn encode(&self) -> Bytes {
        let mut out = Vec::with_capacity(1 + self.length());
        out.push(TRACE_VERSION_RAW);
        Encodable::encode(self, &mut out);
        out.into()
    }

    /// Decodes a versioned trace; never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TraceError> {
        let (&version, mut body) = bytes.split_first().ok_or(TraceError::Empty)?;
        if version != TRACE_VERSION_RAW {
            return Err(TraceError::UnsupportedVersion(version));
        }
        let trace = <Self as Decodable>::decode(&mut body).map_err(TraceError::Rlp)?;
        if !body.is_empty() {
            return Err(TraceError::TrailingBytes(body.len()));
        }
        if trace.blob_refs.is_empty() && trace.batch_index != 0 {
            return Err(TraceError::BatchIndexWithoutBlobs(trace.batch_index));
        }
        Ok(trace)
    }
}
