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
//!
//! A **run** of consecutive blocks verified by one EXECUTE call ([`RunTrace`]):
//!
//! ```text
//! trace = 0x01 ‖ rlp([blocks, witness, blobRefs, firstBatchIndex])
//!   blocks           [block, …]: 1 to MAX_RUN_BLOCKS consecutive blocks, each on the one before
//!   witness          one witness for the whole run (pre-state nodes and codes, each once)
//!   blobRefs         as above; block i's transactions are entry firstBatchIndex + i of the batch
//!   firstBatchIndex  uint; 0 in calldata mode
//! ```
//!
//! A run whose **witness travels in the blobs** too ([`BlobRunTrace`]): calldata keeps only what
//! the L1 contract reads (the blocks' headers) and EXECUTE takes the witness from the batch,
//! which must be a version `0x02` batch (`crate::encode_witness_batch`):
//!
//! ```text
//! trace = 0x02 ‖ rlp([blocks, blobRefs, firstBatchIndex])
//!   blocks           as for 0x01, each with an empty transaction list
//!   blobRefs         at least one blob
//!   firstBatchIndex  uint
//! ```

use crate::witness::ExecutionWitness;
use alloy_consensus::{Block, TxEnvelope};
use alloy_primitives::{B256, Bytes};
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};

/// Trace format version: raw RLP body.
pub const TRACE_VERSION_RAW: u8 = 0x00;
/// Trace format version of a run of blocks ([`RunTrace`]).
pub const TRACE_VERSION_RUN: u8 = 0x01;
/// Trace format version of a run whose witness is in the blobs ([`BlobRunTrace`]).
pub const TRACE_VERSION_BLOB_RUN: u8 = 0x02;
/// The most blocks a run may hold (bounds what the L1 contract walks per call; 256 is also how
/// far back an L1 block hash reaches, so no run could anchor more blocks usefully).
pub const MAX_RUN_BLOCKS: usize = 256;

/// Why bytes are not a trace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// No bytes at all.
    #[error("trace is empty")]
    Empty,
    /// The version byte names no known format.
    #[error(
        "trace version {0:#04x} is not supported (expected {TRACE_VERSION_RAW:#04x}, {TRACE_VERSION_RUN:#04x} or {TRACE_VERSION_BLOB_RUN:#04x})"
    )]
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
    /// A trace whose witness is in the blobs names no blob.
    #[error("trace version {TRACE_VERSION_BLOB_RUN:#04x} references no blob")]
    NoBlobRefs,
    /// A run holds no block, or more than [`MAX_RUN_BLOCKS`].
    #[error("a run holds {0} blocks (1 to {MAX_RUN_BLOCKS})")]
    RunLength(usize),
    /// The version byte is a valid one, but not the one expected here.
    #[error("trace version {got:#04x} where {expected:#04x} is expected")]
    WrongVersion {
        /// What the bytes say.
        got: u8,
        /// What the caller decodes.
        expected: u8,
    },
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
        versioned(TRACE_VERSION_RAW, self)
    }

    /// Decodes a versioned trace; never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TraceError> {
        match AnyTrace::decode(bytes)? {
            AnyTrace::Block(trace) => Ok(*trace),
            AnyTrace::Run(_) => Err(TraceError::WrongVersion { got: TRACE_VERSION_RUN, expected: TRACE_VERSION_RAW }),
            AnyTrace::BlobRun(_) => {
                Err(TraceError::WrongVersion { got: TRACE_VERSION_BLOB_RUN, expected: TRACE_VERSION_RAW })
            }
        }
    }
}

/// A decoded run trace: consecutive blocks verified by one EXECUTE call, with one witness.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct RunTrace {
    /// The blocks, in order (blob mode: without their transactions).
    pub blocks: Vec<Block<TxEnvelope>>,
    /// One witness for the whole run.
    pub witness: ExecutionWitness,
    /// Versioned hashes of the blobs holding the blocks' transactions (blob mode).
    pub blob_refs: Vec<B256>,
    /// Which entry of the batch the first block's transactions are (blob mode); 0 in calldata
    /// mode.
    pub first_batch_index: u64,
}

impl RunTrace {
    /// Encodes with the version byte.
    pub fn encode(&self) -> Bytes {
        versioned(TRACE_VERSION_RUN, self)
    }
}

/// A decoded run trace whose witness (and transactions) are in the blobs.
#[derive(Debug, Clone, PartialEq, Eq, RlpEncodable, RlpDecodable)]
pub struct BlobRunTrace {
    /// The blocks, in order, without their transactions.
    pub blocks: Vec<Block<TxEnvelope>>,
    /// Versioned hashes of the blobs holding the batch (at least one).
    pub blob_refs: Vec<B256>,
    /// Which entry of the batch the first block's transactions are.
    pub first_batch_index: u64,
}

impl BlobRunTrace {
    /// Encodes with the version byte.
    pub fn encode(&self) -> Bytes {
        versioned(TRACE_VERSION_BLOB_RUN, self)
    }

    /// The run with `witness` (the batch's).
    pub fn with_witness(self, witness: ExecutionWitness) -> RunTrace {
        RunTrace { blocks: self.blocks, witness, blob_refs: self.blob_refs, first_batch_index: self.first_batch_index }
    }
}

/// `version ‖ rlp(body)`.
fn versioned(version: u8, body: &impl Encodable) -> Bytes {
    let mut out = Vec::with_capacity(1 + body.length());
    out.push(version);
    body.encode(&mut out);
    out.into()
}

/// A trace of either version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyTrace {
    /// Version 0x00: one block.
    Block(Box<Trace>),
    /// Version 0x01: a run of blocks.
    Run(RunTrace),
    /// Version 0x02: a run of blocks whose witness is in the blobs.
    BlobRun(BlobRunTrace),
}

impl AnyTrace {
    /// Decodes a trace of any version; never panics, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, TraceError> {
        let (&version, mut body) = bytes.split_first().ok_or(TraceError::Empty)?;
        let decoded = match version {
            TRACE_VERSION_RAW => {
                let trace = <Trace as Decodable>::decode(&mut body).map_err(TraceError::Rlp)?;
                if trace.blob_refs.is_empty() && trace.batch_index != 0 {
                    return Err(TraceError::BatchIndexWithoutBlobs(trace.batch_index));
                }
                Self::Block(Box::new(trace))
            }
            TRACE_VERSION_RUN => {
                // The block count is checked on the RLP list header before any block decodes.
                let count = count_list_items(body, 0).map_err(TraceError::Rlp)?;
                if count == 0 || count > MAX_RUN_BLOCKS {
                    return Err(TraceError::RunLength(count));
                }
                let trace = <RunTrace as Decodable>::decode(&mut body).map_err(TraceError::Rlp)?;
                if trace.blob_refs.is_empty() && trace.first_batch_index != 0 {
                    return Err(TraceError::BatchIndexWithoutBlobs(trace.first_batch_index));
                }
                Self::Run(trace)
            }
            TRACE_VERSION_BLOB_RUN => {
                let count = count_list_items(body, 0).map_err(TraceError::Rlp)?;
                if count == 0 || count > MAX_RUN_BLOCKS {
                    return Err(TraceError::RunLength(count));
                }
                let trace = <BlobRunTrace as Decodable>::decode(&mut body).map_err(TraceError::Rlp)?;
                if trace.blob_refs.is_empty() {
                    return Err(TraceError::NoBlobRefs);
                }
                Self::BlobRun(trace)
            }
            other => return Err(TraceError::UnsupportedVersion(other)),
        };
        if !body.is_empty() {
            return Err(TraceError::TrailingBytes(body.len()));
        }
        Ok(decoded)
    }
}

/// The number of items of the list that is field `field` of the RLP list `body` starts with,
/// counted by walking item headers only (nothing is decoded or copied).
fn count_list_items(mut body: &[u8], field: usize) -> Result<usize, alloy_rlp::Error> {
    let outer = alloy_rlp::Header::decode(&mut body)?;
    if !outer.list {
        return Err(alloy_rlp::Error::UnexpectedString);
    }
    let mut fields = body.get(..outer.payload_length).ok_or(alloy_rlp::Error::InputTooShort)?;
    for _ in 0..field {
        let h = alloy_rlp::Header::decode(&mut fields)?;
        fields = fields.get(h.payload_length..).ok_or(alloy_rlp::Error::InputTooShort)?;
    }
    let list = alloy_rlp::Header::decode(&mut fields)?;
    if !list.list {
        return Err(alloy_rlp::Error::UnexpectedString);
    }
    let mut items = fields.get(..list.payload_length).ok_or(alloy_rlp::Error::InputTooShort)?;
    let mut count = 0;
    while !items.is_empty() {
        let h = alloy_rlp::Header::decode(&mut items)?;
        items = items.get(h.payload_length..).ok_or(alloy_rlp::Error::InputTooShort)?;
        count += 1;
    }
    Ok(count)
}
