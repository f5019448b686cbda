//! The batch submitter: posts sealed L2 blocks to L1 as `NativeRollup.advance` transactions
//! (blob mode by default), tracks their inclusion, bumps fees when one is stuck, and stops — with
//! the reason — when L1 refuses a batch, so a wrong root is never posted twice.
//!
//! The rollup contract's own head (`headNumber`) is the source of truth for what is posted: a
//! restarted submitter reads it and continues after it, so nothing is posted twice.

use crate::SequencerError;
use alloy_consensus::{
    EthereumTxEnvelope, SignableTransaction, TxEip1559, TxEip4844, TxEip4844WithSidecar, TxEnvelope,
};
use alloy_eips::{BlockNumberOrTag, Encodable2718, eip7594::BlobTransactionSidecarVariant};
use alloy_primitives::{Address, B256, TxKind, U256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolInterface};
use nrd_bridge::NativeRollup;
use nrd_derivation::{DaMode, PostedBlock, encode_advance};
use nrd_l1_watcher::L1Client;
use nrd_node::L2Node;
use std::{sync::Arc, time::Duration};

/// Store key of the last refused batch: first block number, its hash, the reason.
const REFUSED: &str = "submitter.refused";

/// How the submitter posts.
#[derive(Debug, Clone)]
pub struct SubmitterConfig {
    /// The rollup contract on L1.
    pub rollup: Address,
    /// The key that signs `advance` transactions (the sequencer's).
    pub key: PrivateKeySigner,
    /// L1 chain id.
    pub l1_chain_id: u64,
    /// Blob or calldata mode.
    pub mode: DaMode,
    /// Most L2 blocks in one `advance`.
    pub max_blocks: usize,
    /// Most L2 gas in one `advance` (EXECUTE's per-L1-block limit bounds it).
    pub max_l2_gas: u64,
    /// How often to look for work and receipts.
    pub poll: Duration,
    /// Resubmit with higher fees when a transaction is not included after this long.
    pub resubmit_after: Duration,
}

/// A transaction in flight.
#[derive(Debug)]
struct InFlight {
    hash: B256,
    nonce: u64,
    first: u64,
    last: u64,
    sent_at: std::time::Instant,
    fee_multiplier: u128,
    /// L2 gas the batch declares: the EXECUTE gas it uses on L1.
    execute_gas: u64,
}

/// Posts L2 blocks to L1.
#[derive(Debug)]
pub struct Submitter {
    node: Arc<L2Node>,
    client: L1Client,
    config: SubmitterConfig,
    in_flight: Option<InFlight>,
    halted: Option<String>,
}

impl Submitter {
    /// A submitter for `node`'s chain. If L1 refused a batch before (this run or an earlier
    /// one) and the chain still holds the same block there, it starts halted: the same content
    /// is never sent twice.
    pub fn new(node: Arc<L2Node>, client: L1Client, config: SubmitterConfig) -> Self {
        let halted = Self::refusal(&node);
        if let Some(reason) = &halted {
            tracing::error!(target: "nrd::submitter", %reason, "L1 refused this chain's next batch before; not posting");
            node.update_status(|s| s.halted = Some(reason.clone()));
        }
        Self { node, client, config, in_flight: None, halted }
    }

    /// A refusal recorded for a block the chain still has.
    fn refusal(node: &L2Node) -> Option<String> {
        let raw = node.chain().store().meta(REFUSED).ok()??;
        let (number, rest) = raw.split_first_chunk::<8>()?;
        let (hash, reason) = rest.split_first_chunk::<32>()?;
        let block = node.chain().block(u64::from_be_bytes(*number))?;
        (block.hash.0 == *hash).then(|| String::from_utf8_lossy(reason).into_owned())
    }

    fn remember_refusal(&self, first: u64, reason: &str) {
        let Some(block) = self.node.chain().block(first) else { return };
        let mut raw = first.to_be_bytes().to_vec();
        raw.extend_from_slice(block.hash.as_slice());
        raw.extend_from_slice(reason.as_bytes());
        if let Err(e) = self.node.chain().store().put_meta(REFUSED, &raw) {
            tracing::warn!(target: "nrd::submitter", "could not record the refusal: {e}");
        }
    }

    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.poll) => {}
            }
            if self.halted.is_some() {
                continue;
            }
            if let Err(e) = self.step().await {
                match e {
                    SequencerError::Refused { first, reason } => {
                        tracing::error!(target: "nrd::submitter", %reason, "L1 refused the batch; posting stops");
                        self.remember_refusal(first, &reason);
                        nrd_metrics::batch_refused();
                        self.node.update_status(|s| s.halted = Some(reason.clone()));
                        self.halted = Some(reason);
                    }
                    other => tracing::warn!(target: "nrd::submitter", "will retry: {other}"),
                }
            }
        }
    }

    /// Whether a batch transaction is waiting for its receipt.
    pub fn in_flight(&self) -> bool {
        self.in_flight.is_some()
    }

    /// The batch transaction waiting for its receipt: its first and last L2 block and its hash.
    pub fn in_flight_batch(&self) -> Option<(u64, u64, B256)> {
        self.in_flight.as_ref().map(|f| (f.first, f.last, f.hash))
    }

    async fn posted_head(&self) -> Result<u64, SequencerError> {
        let request = TransactionRequest::default()
            .to(self.config.rollup)
            .input(NativeRollup::headNumberCall {}.abi_encode().into());
        let out = self.client.call(&request, BlockNumberOrTag::Latest).await?;
        NativeRollup::headNumberCall::abi_decode_returns(&out).map_err(|e| SequencerError::Decode(e.to_string()))
    }

    /// One round: check the transaction in flight, or post the next batch.
    pub async fn step(&mut self) -> Result<(), SequencerError> {
        if let Some(flight) = &self.in_flight {
            match self.client.transaction_receipt(flight.hash).await? {
                Some(receipt) if receipt.status() => {
                    tracing::info!(
                        target: "nrd::submitter",
                        first = flight.first,
                        last = flight.last,
                        tx = %flight.hash,
                        l1_block = receipt.block_number.unwrap_or_default(),
                        l1_gas = receipt.gas_used,
                        execute_gas = flight.execute_gas,
                        "batch verified by EXECUTE on L1"
                    );
                    nrd_metrics::batch_verified(receipt.gas_used, flight.execute_gas);
                    let chain = self.node.chain();
                    chain.set_safe(flight.last);
                    // Witnesses stay until L1 finalizes the posting: an L1 reorg may drop it and
                    // the blocks must then be posted again.
                    if let Err(e) = chain.store().prune_witnesses(chain.finalized()) {
                        tracing::warn!(target: "nrd::submitter", "pruning witnesses: {e}");
                    }
                    self.in_flight = None;
                }
                Some(receipt) => {
                    let (first, last) = (flight.first, flight.last);
                    let mut reason = format!(
                        "advance of L2 blocks {first}..={last} reverted on L1 (tx {}, block {}, gas used {})",
                        flight.hash,
                        receipt.block_number.unwrap_or_default(),
                        receipt.gas_used
                    );
                    if let Some(why) = self.diagnose(first, last).await {
                        reason.push_str(": ");
                        reason.push_str(&why);
                    }
                    return Err(SequencerError::Refused { first, reason });
                }
                None if flight.sent_at.elapsed() >= self.config.resubmit_after => {
                    let (first, last, nonce, multiplier) =
                        (flight.first, flight.last, flight.nonce, flight.fee_multiplier * 2);
                    let pending = self.client.nonce(self.config.key.address(), BlockNumberOrTag::Pending).await?;
                    if pending <= nonce {
                        // Not pooled any more (an L1 reorg dropped it, or it was evicted):
                        // start again from what L1 holds.
                        tracing::warn!(target: "nrd::submitter", tx = %flight.hash, "batch transaction vanished from L1; posting again from the rollup's head");
                        self.in_flight = None;
                        return Ok(());
                    }
                    tracing::warn!(target: "nrd::submitter", tx = %flight.hash, "not included yet; resubmitting with higher fees");
                    self.post(first, last, nonce, multiplier).await?;
                }
                None => {}
            }
            return Ok(());
        }
        let posted = self.posted_head().await?;
        let chain = self.node.chain().clone();
        let head = chain.head().number();
        if posted > head {
            return Err(SequencerError::Refused {
                first: head + 1,
                reason: format!("L1 holds L2 block {posted}, beyond this node's head {head}: another party advanced"),
            });
        }
        chain.set_safe(posted);
        if posted == head {
            return Ok(());
        }
        // The next run of blocks within the batch limits (at least one).
        let mut last = posted + 1;
        let mut gas = chain.block(last).map_or(0, |b| b.header().gas_used);
        while last < head && ((last - posted) as usize) < self.config.max_blocks {
            let next_gas = chain.block(last + 1).map_or(0, |b| b.header().gas_used);
            if gas + next_gas > self.config.max_l2_gas {
                break;
            }
            gas += next_gas;
            last += 1;
        }
        let nonce = self.client.nonce(self.config.key.address(), BlockNumberOrTag::Pending).await?;
        self.post(posted + 1, last, nonce, 1).await
    }

    /// Why L1 refuses blocks `first..=last` now, as the contract says it: the same blocks in
    /// calldata mode, simulated with `eth_call` (a receipt carries no revert reason, and a blob
    /// transaction cannot be simulated without its blobs).
    async fn diagnose(&self, first: u64, last: u64) -> Option<String> {
        let chain = self.node.chain();
        let mut blocks = Vec::new();
        for number in first..=last {
            let record = chain.store().block(number).ok()??;
            blocks.push(PostedBlock {
                block: record.stored.block.clone(),
                witness: record.witness?,
                l1_anchor: record.l1_anchor,
                messages: record.messages,
            });
        }
        let tx = encode_advance(&blocks, DaMode::Calldata).ok()?;
        let request = TransactionRequest::default()
            .from(self.config.key.address())
            .to(self.config.rollup)
            .input(tx.calldata.into());
        let e = self.client.call(&request, BlockNumberOrTag::Pending).await.err()?;
        let data = e.revert_data()?;
        NativeRollup::NativeRollupErrors::abi_decode(&data).ok().map(|err| format!("{err:?}"))
    }

    async fn post(&mut self, first: u64, last: u64, nonce: u64, fee_multiplier: u128) -> Result<(), SequencerError> {
        let chain = self.node.chain();
        let mut blocks = Vec::with_capacity((last - first + 1) as usize);
        for number in first..=last {
            let record = chain.store().block(number)?.ok_or(SequencerError::Missing(number))?;
            let witness = record.witness.ok_or(SequencerError::Missing(number))?;
            blocks.push(PostedBlock {
                block: record.stored.block.clone(),
                witness,
                l1_anchor: record.l1_anchor,
                messages: record.messages,
            });
        }
        let tx = encode_advance(&blocks, self.config.mode)?;
        let fees = self.client.fee_estimate().await?;
        let max_fee = fees.max_fee_per_gas().saturating_mul(fee_multiplier);
        let tip = fees.priority_fee.max(1_000_000_000).saturating_mul(fee_multiplier);
        let gas_limit = match &tx.sidecar {
            // The blobs are not available to a simulation, so blob mode uses a bound measured
            // on the devnet (about 40 gas per calldata byte, see BENCHMARKS.md) with margin.
            Some(_) => (1_000_000 + 48 * tx.calldata.len() as u64).min(30_000_000),
            None => {
                let request = TransactionRequest::default()
                    .from(self.config.key.address())
                    .to(self.config.rollup)
                    .input(tx.calldata.clone().into());
                match self.client.estimate_gas(&request, BlockNumberOrTag::Pending).await {
                    Ok(gas) => gas + gas / 5,
                    // The batch reverts in simulation: L1 judged it.
                    Err(e) if e.rpc_code() == Some(nrd_l1_watcher::EXECUTION_REVERTED) => {
                        return Err(refusal(first, last, &e));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let blobs = tx.sidecar.as_ref().map_or(0, |s| s.blobs.len());
        let raw = match tx.sidecar {
            None => {
                let unsigned = TxEip1559 {
                    chain_id: self.config.l1_chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip.min(max_fee),
                    to: TxKind::Call(self.config.rollup),
                    value: U256::ZERO,
                    input: tx.calldata,
                    access_list: Default::default(),
                };
                let sig = self.config.key.sign_hash_sync(&unsigned.signature_hash())?;
                TxEnvelope::from(unsigned.into_signed(sig)).encoded_2718()
            }
            Some(sidecar) => {
                let unsigned = TxEip4844 {
                    chain_id: self.config.l1_chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: max_fee,
                    max_priority_fee_per_gas: tip.min(max_fee),
                    to: self.config.rollup,
                    value: U256::ZERO,
                    access_list: Default::default(),
                    blob_versioned_hashes: sidecar.versioned_hashes().collect(),
                    max_fee_per_blob_gas: fees.max_fee_per_blob_gas().saturating_mul(fee_multiplier),
                    input: tx.calldata,
                };
                let sig = self.config.key.sign_hash_sync(&unsigned.signature_hash())?;
                let with_sidecar =
                    TxEip4844WithSidecar { tx: unsigned, sidecar: BlobTransactionSidecarVariant::Eip4844(sidecar) };
                let signed = alloy_consensus::Signed::new_unhashed(with_sidecar, sig);
                EthereumTxEnvelope::<TxEip4844WithSidecar<BlobTransactionSidecarVariant>>::Eip4844(signed)
                    .encoded_2718()
            }
        };
        // A refusal at admission (nonce taken, fee too low, ...) is not L1 judging the batch:
        // it is retried on the next round with a fresh nonce and fees.
        let hash = self.client.send_raw_transaction(&raw).await?;
        tracing::info!(
            target: "nrd::submitter",
            first,
            last,
            tx = %hash,
            mode = ?self.config.mode,
            bytes = raw.len(),
            "posted batch to L1"
        );
        let mode = if blobs > 0 { "blob" } else { "calldata" };
        nrd_metrics::batch_posted(mode, last - first + 1, blobs, raw.len());
        let execute_gas = blocks.iter().map(|b| b.block.header.gas_used).sum();
        self.in_flight = Some(InFlight {
            hash,
            nonce,
            first,
            last,
            sent_at: std::time::Instant::now(),
            fee_multiplier,
            execute_gas,
        });
        Ok(())
    }
}

/// An L1 refusal of blocks `first..=last`, with the contract's reason when it gave one.
fn refusal(first: u64, last: u64, e: &nrd_l1_watcher::L1Error) -> SequencerError {
    let reason = e
        .revert_data()
        .and_then(|data| NativeRollup::NativeRollupErrors::abi_decode(&data).ok())
        .map_or_else(|| e.to_string(), |err| format!("{err:?}"));
    SequencerError::Refused { first, reason: format!("L1 refuses L2 blocks {first}..={last}: {reason}") }
}
