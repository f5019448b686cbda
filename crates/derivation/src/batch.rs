//! L1 data side: how a run of L2 blocks is posted in one `NativeRollup.advance` transaction,
//! and how a follower turns that transaction (and its blobs) back into the L2 blocks and the L1
//! messages each applied.
//!
//! Calldata mode: each block's trace carries the whole block. Blob mode: the transactions of
//! all blocks travel as one compressed batch in the transaction's blobs (format:
//! `nrd_execute_client::encode_batch`, docs/protocol.md §6.1) and each trace carries the block
//! with an empty transaction list, the blobs' versioned hashes and its index in the batch; a
//! run's batch also holds the run's witness, so its calldata keeps only the headers.

use crate::DerivationError;
use alloy_consensus::{Block, TxEnvelope};
use alloy_eips::eip4844::{Blob, BlobTransactionSidecar};
use alloy_primitives::{B256, Bytes};
use alloy_sol_types::SolCall;
use nrd_bridge::{L1Message, NativeRollup};
use nrd_execute_client::{
    AnyTrace, BlobRunTrace, Compression, ExecutionWitness, RunTrace, Trace, TraceError, decode_batch_blobs,
    encode_batch_blobs, encode_witness_batch, payload_to_blobs,
};

/// Where a batch's transactions travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DaMode {
    /// In the traces, in calldata.
    Calldata,
    /// In blobs of the `advance` transaction (compressed).
    #[default]
    Blob,
}

impl DaMode {
    /// Its name in configuration and flags: `calldata` or `blob`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Calldata => "calldata",
            Self::Blob => "blob",
        }
    }
}

impl std::fmt::Display for DaMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a [`DaMode`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not `blob` or `calldata`")]
pub struct UnknownDaMode(pub String);

impl nrd_chain::Classify for UnknownDaMode {
    fn severity(&self) -> nrd_chain::Severity {
        // A configuration or flag value: an operator must correct it.
        nrd_chain::Severity::Critical
    }
}

impl std::str::FromStr for DaMode {
    type Err = UnknownDaMode;

    /// `blob` or `calldata`.
    fn from_str(text: &str) -> Result<Self, UnknownDaMode> {
        match text {
            "blob" => Ok(Self::Blob),
            "calldata" => Ok(Self::Calldata),
            other => Err(UnknownDaMode(other.to_owned())),
        }
    }
}

/// One L2 block as posted: the block, its witness, the L1 block its anchor references, and
/// the L1 messages it applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedBlock {
    /// The block.
    pub block: Block<TxEnvelope>,
    /// Its witness (for EXECUTE's stateless re-execution).
    pub witness: ExecutionWitness,
    /// The L1 block number its anchor references.
    pub l1_anchor: u64,
    /// The L1 messages it applies, in order.
    pub messages: Vec<L1Message>,
}

impl PostedBlock {
    /// The EXECUTE gas `advance` declares for this block: what the EXECUTE meter counts against
    /// its per-L1-block limit and what the EXECUTE fee is paid on — the block's gas used plus
    /// the gas limit of its anchor system call (`nrd_bridge::anchor_gas_of`).
    pub fn execute_gas(&self) -> u64 {
        self.block.header.gas_used.saturating_add(nrd_bridge::anchor_gas_of(&self.messages))
    }
}

/// An `advance` transaction's payload.
#[derive(Debug, Clone)]
pub struct AdvanceTx {
    /// Calldata of `NativeRollup.advance`.
    pub calldata: Bytes,
    /// The blob sidecar (blob mode; `None` in calldata mode).
    pub sidecar: Option<BlobTransactionSidecar>,
}

/// Blob mode: the blocks' transactions (and, for a run, its `witness`) as one batch in blobs,
/// with their versioned hashes.
fn batch_sidecar(
    blocks: &[PostedBlock],
    witness: Option<&ExecutionWitness>,
    mode: DaMode,
) -> Result<(Vec<B256>, Option<BlobTransactionSidecar>), DerivationError> {
    match mode {
        DaMode::Calldata => Ok((Vec::new(), None)),
        DaMode::Blob => {
            let txs: Vec<Vec<TxEnvelope>> = blocks.iter().map(|b| b.block.body.transactions.clone()).collect();
            let blobs = match witness {
                None => encode_batch_blobs(&txs, Compression::Brotli),
                Some(witness) => payload_to_blobs(&encode_witness_batch(&txs, witness)),
            };
            let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
                blobs,
                alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get(),
            )
            .map_err(|e| DerivationError::Kzg(e.into()))?;
            Ok((sidecar.versioned_hashes().collect::<Vec<B256>>(), Some(sidecar)))
        }
    }
}

/// Encodes `blocks` (consecutive, first on the rollup's head) as one `advance` call.
pub fn encode_advance(blocks: &[PostedBlock], mode: DaMode) -> Result<AdvanceTx, DerivationError> {
    if blocks.is_empty() {
        return Err(DerivationError::EmptyBatch);
    }
    let (blob_refs, sidecar) = batch_sidecar(blocks, None, mode)?;
    let mut commitments = Vec::with_capacity(blocks.len());
    let mut messages = Vec::new();
    for (index, posted) in blocks.iter().enumerate() {
        let mut block = posted.block.clone();
        if mode == DaMode::Blob {
            block.body.transactions.clear();
        }
        let trace = Trace {
            block,
            witness: posted.witness.clone(),
            blob_refs: blob_refs.clone(),
            batch_index: if mode == DaMode::Blob { index as u64 } else { 0 },
        };
        let count = u32::try_from(posted.messages.len()).map_err(|_| DerivationError::TooManyMessages)?;
        commitments.push(NativeRollup::BlockCommitment {
            l1Anchor: posted.l1_anchor,
            messageCount: count,
            trace: trace.encode(),
        });
        messages.extend(posted.messages.iter().cloned());
    }
    let calldata = NativeRollup::advanceCall { blocks: commitments, messages }.abi_encode().into();
    Ok(AdvanceTx { calldata, sidecar })
}

/// Encodes `blocks` (consecutive, first on the rollup's head) as one `advanceRun` call: one
/// EXECUTE for all of them, with `witness` the run's (`nrd_execute_client::record_run`; the
/// blocks' own witnesses are not used). Calldata mode: a version 0x01 trace carrying everything.
/// Blob mode: a version 0x02 trace carrying the headers only; the blocks' transactions are
/// entries 0, 1, … of a version 0x02 batch in the blobs, which also holds the witness.
pub fn encode_advance_run(
    blocks: &[PostedBlock],
    witness: &ExecutionWitness,
    mode: DaMode,
) -> Result<AdvanceTx, DerivationError> {
    if blocks.is_empty() {
        return Err(DerivationError::EmptyBatch);
    }
    let (blob_refs, sidecar) = batch_sidecar(blocks, Some(witness), mode)?;
    let mut run_blocks = Vec::with_capacity(blocks.len());
    let mut committed = Vec::with_capacity(blocks.len());
    let mut messages = Vec::new();
    for posted in blocks {
        let mut block = posted.block.clone();
        if mode == DaMode::Blob {
            block.body.transactions.clear();
        }
        run_blocks.push(block);
        let count = u32::try_from(posted.messages.len()).map_err(|_| DerivationError::TooManyMessages)?;
        committed.push(NativeRollup::RunBlock { l1Anchor: posted.l1_anchor, messageCount: count });
        messages.extend(posted.messages.iter().cloned());
    }
    let trace = match mode {
        DaMode::Calldata => {
            RunTrace { blocks: run_blocks, witness: witness.clone(), blob_refs, first_batch_index: 0 }.encode()
        }
        DaMode::Blob => BlobRunTrace { blocks: run_blocks, blob_refs, first_batch_index: 0 }.encode(),
    };
    let calldata = NativeRollup::advanceRunCall { blocks: committed, messages, trace }.abi_encode().into();
    Ok(AdvanceTx { calldata, sidecar })
}

/// The batch in `refs`' blobs.
fn blob_batch(refs: &[B256], blob: &dyn Fn(&B256) -> Option<Blob>) -> Result<Vec<Vec<TxEnvelope>>, DerivationError> {
    let blobs: Vec<Blob> =
        refs.iter().map(|h| blob(h).ok_or(DerivationError::MissingBlob(*h))).collect::<Result<_, _>>()?;
    let refs: Vec<&Blob> = blobs.iter().collect();
    decode_batch_blobs(&refs).map_err(DerivationError::Batch)
}

/// Rebuilds the posted blocks from an `advance` or `advanceRun` call's calldata; `blob`
/// resolves a versioned hash to the blob the L1 transaction carried (from the beacon API or a
/// local store). Blocks of a run come with an empty witness (the run's is one for all of them,
/// and a follower, which holds the state, does not need it).
pub fn decode_advance(
    calldata: &[u8],
    blob: &dyn Fn(&B256) -> Option<Blob>,
) -> Result<Vec<PostedBlock>, DerivationError> {
    if calldata.starts_with(&NativeRollup::advanceRunCall::SELECTOR) {
        return decode_advance_run(calldata, blob);
    }
    let call = NativeRollup::advanceCall::abi_decode(calldata).map_err(|e| DerivationError::Calldata(e.into()))?;
    let mut messages = call.messages.into_iter();
    let mut batch: Option<(Vec<B256>, Vec<Vec<TxEnvelope>>)> = None;
    let mut out = Vec::with_capacity(call.blocks.len());
    for (position, commitment) in call.blocks.into_iter().enumerate() {
        let trace = Trace::decode(&commitment.trace).map_err(|source| DerivationError::Trace { position, source })?;
        let Trace { mut block, witness, blob_refs, batch_index } = trace;
        if !blob_refs.is_empty() {
            if !block.body.transactions.is_empty() {
                return Err(DerivationError::TransactionsInBlobMode { position });
            }
            let fresh = batch.as_ref().is_none_or(|(refs, _)| *refs != blob_refs);
            if fresh {
                let txs = blob_batch(&blob_refs, blob)?;
                batch = Some((blob_refs, txs));
            }
            let txs = batch.as_ref().map(|(_, txs)| txs).ok_or(DerivationError::EmptyBatch)?;
            let index = usize::try_from(batch_index).unwrap_or(usize::MAX);
            block.body.transactions = txs.get(index).cloned().ok_or(DerivationError::BatchIndex {
                position,
                index: batch_index,
                blocks: txs.len(),
            })?;
        }
        let applied = take_messages(&mut messages, commitment.messageCount, position)?;
        out.push(PostedBlock { block, witness, l1_anchor: commitment.l1Anchor, messages: applied });
    }
    if messages.next().is_some() {
        return Err(DerivationError::MessagesLeftOver);
    }
    Ok(out)
}

/// The next `count` messages of the call for the block at `position`.
fn take_messages(
    messages: &mut impl Iterator<Item = L1Message>,
    count: u32,
    position: usize,
) -> Result<Vec<L1Message>, DerivationError> {
    let count = count as usize;
    let applied: Vec<L1Message> = messages.by_ref().take(count).collect();
    if applied.len() != count {
        return Err(DerivationError::MessagesBeyondList { position, count });
    }
    Ok(applied)
}

fn decode_advance_run(
    calldata: &[u8],
    blob: &dyn Fn(&B256) -> Option<Blob>,
) -> Result<Vec<PostedBlock>, DerivationError> {
    let call = NativeRollup::advanceRunCall::abi_decode(calldata).map_err(|e| DerivationError::Calldata(e.into()))?;
    // Versions 0x01 and 0x02 differ only in where the witness is, which a follower, holding the
    // state, does not need.
    let (blocks, blob_refs, first_batch_index) =
        match AnyTrace::decode(&call.trace).map_err(|source| DerivationError::Trace { position: 0, source })? {
            AnyTrace::Run(run) => (run.blocks, run.blob_refs, run.first_batch_index),
            AnyTrace::BlobRun(run) => (run.blocks, run.blob_refs, run.first_batch_index),
            AnyTrace::Block(_) => {
                return Err(DerivationError::Trace {
                    position: 0,
                    source: TraceError::WrongVersion {
                        got: nrd_execute_client::TRACE_VERSION_RAW,
                        expected: nrd_execute_client::TRACE_VERSION_RUN,
                    },
                });
            }
        };
    if blocks.len() != call.blocks.len() {
        return Err(DerivationError::RunLength { committed: call.blocks.len(), traced: blocks.len() });
    }
    let batch = if blob_refs.is_empty() { None } else { Some(blob_batch(&blob_refs, blob)?) };
    let mut messages = call.messages.into_iter();
    let mut out = Vec::with_capacity(blocks.len());
    for (position, (mut block, committed)) in blocks.into_iter().zip(call.blocks).enumerate() {
        if let Some(txs) = &batch {
            if !block.body.transactions.is_empty() {
                return Err(DerivationError::TransactionsInBlobMode { position });
            }
            let index = first_batch_index.saturating_add(position as u64);
            block.body.transactions = usize::try_from(index)
                .ok()
                .and_then(|i| txs.get(i))
                .cloned()
                .ok_or(DerivationError::BatchIndex { position, index, blocks: txs.len() })?;
        }
        let applied = take_messages(&mut messages, committed.messageCount, position)?;
        out.push(PostedBlock {
            block,
            witness: ExecutionWitness::default(),
            l1_anchor: committed.l1Anchor,
            messages: applied,
        });
    }
    if messages.next().is_some() {
        return Err(DerivationError::MessagesLeftOver);
    }
    Ok(out)
}
