//! The batch submitter: posts sealed L2 blocks to L1 as `NativeRollup.advance` transactions
//! (blob mode by default), tracks their inclusion, bumps fees (up to a cap) when one is stuck,
//! and classifies every refusal ([`Refusal`]): a temporary one (EXECUTE capacity taken by
//! someone else, fees, gas, the clock, another party advancing) is retried with backoff; only
//! one that proves the node's own block wrong or unpostable stops posting, is recorded in the
//! store (so a restart does not post the same content again) and can be cleared by an operator
//! ([`clear_refusal`], `nrd submitter clear-refusal`).
//!
//! Batches are cut by the same cost model as blocks ([`crate::advance_cost`]): as many blocks
//! as `max_blocks` and `max_l2_gas` allow and one `advance` within [`AdvanceLimits`] carries.
//!
//! The rollup contract's own head (`headNumber`) is the source of truth for what is posted: a
//! restarted submitter reads it and continues after it, so nothing is posted twice — once an
//! `advance` its previous run left in L1's pool is mined (or dropped): it waits for that first.

use crate::{
    AdvanceCost, AdvanceLimits, Refusal, SequencerError, Severity, advance_cost, advance_run_cost, execute_fee_gas,
};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolError, SolInterface};
use nrd_bridge::NativeRollup::{self, NativeRollupErrors};
use nrd_derivation::{AdvanceTx, DaMode, PostedBlock, encode_advance};
use nrd_execute_client::{
    EXECUTE_ADDRESS, METER_BASE_FEE_SLOT, METER_BLOCK_SLOT, METER_USED_SLOT, MeterConfig, StoredMeter,
};
use nrd_l1_client::{L1Client, L1Tx, TxError, TxFees, TxSender, TxSenderConfig};
use nrd_node::{L2Chain, L2Node};
use nrd_storage::{ChainStore, StoreError};
use std::{
    collections::VecDeque,
    sync::Arc,
    time::{Duration, Instant},
};

/// Store key of the last critical refusal: first block number, its hash, the reason. An empty
/// value means none (cleared).
const REFUSED: &str = "submitter.refused";
/// The longest wait between retries of a temporary refusal.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

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
    /// Post each batch as one run (`advanceRun`: one EXECUTE for all its blocks, one merged
    /// witness) rather than one EXECUTE per block (`advance`).
    pub runs: bool,
    /// Most L2 blocks in one `advance`.
    pub max_blocks: usize,
    /// Most L2 gas in one `advance` (a single larger block goes alone); keep it at or below
    /// L1's EXECUTE gas target.
    pub max_l2_gas: u64,
    /// What one `advance` may carry (the cost model's limits).
    pub limits: AdvanceLimits,
    /// Highest `maxFeePerGas` the submitter offers, in wei: fee bumps stop there.
    pub max_fee_per_gas: u128,
    /// Highest `maxFeePerBlobGas` the submitter offers, in wei.
    pub max_fee_per_blob_gas: u128,
    /// How often to look for work and receipts.
    pub poll: Duration,
    /// Resubmit with higher fees when a transaction is not included after this long.
    pub resubmit_after: Duration,
    /// Most batches sent and not yet mined (at least 1): with more than one, the next batch is
    /// sent right behind the last (next nonce) before L1 mines it, so one L1 block can verify
    /// several (within EXECUTE's per-block limit) when the L2 produces more than one `advance`
    /// carries.
    pub max_in_flight: usize,
    /// Longest a sealed block waits for more blocks to share its batch (zero: post what is
    /// there at once). A batch that is full — the next block would pass `max_blocks`,
    /// `max_l2_gas` or what one `advance` carries — goes at once; otherwise it waits this long
    /// (timed from when the submitter first sees its first block waiting), so the fixed cost of
    /// a posting (the transaction, EXECUTE's call, the state root) is shared by more
    /// transactions.
    pub max_delay: Duration,
}

/// Default `max_fee_per_gas` and `max_fee_per_blob_gas`: 1,000 gwei.
pub const DEFAULT_MAX_FEE: u128 = 1_000_000_000_000;

/// The lowest tip the submitter offers (before fee bumps): 1 gwei.
const MIN_PRIORITY_FEE: u128 = 1_000_000_000;

impl SubmitterConfig {
    /// How the submitter's [`TxSender`] prices its transactions: the configured caps, at least a
    /// 1 gwei tip, estimates (calldata mode) plus 20%, replacement after `resubmit_after`.
    pub fn sender_config(&self) -> TxSenderConfig {
        TxSenderConfig {
            max_fee_per_gas: self.max_fee_per_gas,
            max_fee_per_blob_gas: self.max_fee_per_blob_gas,
            min_priority_fee: MIN_PRIORITY_FEE,
            gas_margin_percent: 20,
            gas_margin_extra: 0,
            poll_interval: self.poll,
            replace_after: Some(self.resubmit_after),
            ..TxSenderConfig::default()
        }
    }
}

/// A transaction in flight.
#[derive(Debug)]
struct InFlight {
    hash: B256,
    nonce: u64,
    first: u64,
    last: u64,
    sent_at: Instant,
    fee_multiplier: u128,
    /// The fees it offers (a replacement offers more).
    fees: TxFees,
    gas_limit: u64,
    /// L2 gas the batch declares: the EXECUTE gas it uses on L1.
    execute_gas: u64,
}

/// A batch that fits one `advance` with room to spare, waiting for more blocks (its encoding
/// kept, so that waiting costs no re-encoding until the head moves).
#[derive(Debug)]
struct Filling {
    first: u64,
    last: u64,
    tx: AdvanceTx,
    cost: AdvanceCost,
}

/// When to try again after a temporary refusal.
#[derive(Debug, Clone, Copy)]
struct Backoff {
    /// Not before this instant.
    until: Instant,
    /// Not before L1 has a block after this one (EXECUTE capacity is per L1 block).
    after_l1_block: Option<u64>,
    /// Temporary refusals in a row.
    attempts: u32,
}

/// A refusal recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRefusal {
    /// First L2 block of the refused batch.
    pub number: u64,
    /// Its hash when it was refused.
    pub hash: B256,
    /// Why (the typed reason's label, then its words).
    pub reason: String,
}

impl RecordedRefusal {
    fn decode(raw: &[u8]) -> Option<Self> {
        let (number, rest) = raw.split_first_chunk::<8>()?;
        let (hash, reason) = rest.split_first_chunk::<32>()?;
        Some(Self {
            number: u64::from_be_bytes(*number),
            hash: B256::from(*hash),
            reason: String::from_utf8_lossy(reason).into_owned(),
        })
    }

    /// Records this refusal in `store` (replacing any other).
    pub fn save(&self, store: &dyn ChainStore) -> Result<(), StoreError> {
        let mut raw = self.number.to_be_bytes().to_vec();
        raw.extend_from_slice(self.hash.as_slice());
        raw.extend_from_slice(self.reason.as_bytes());
        store.put_meta(REFUSED, &raw)
    }

    /// The refusal recorded in `store`, if any.
    pub fn load(store: &dyn ChainStore) -> Result<Option<Self>, StoreError> {
        Ok(store.meta(REFUSED)?.as_deref().and_then(Self::decode))
    }

    /// The refusal recorded for a block `chain` still has (same number and hash): posting stays
    /// halted on it.
    pub fn for_chain(chain: &L2Chain) -> Option<Self> {
        let recorded = Self::load(chain.store().as_ref()).ok()??;
        chain.block(recorded.number).is_some_and(|b| b.hash == recorded.hash).then_some(recorded)
    }
}

/// Clears the refusal recorded in `store` (the operator fixed its cause, or judged it not the
/// node's fault): a submitter started afterwards posts that content again. Returns what was
/// cleared.
pub fn clear_refusal(store: &dyn ChainStore) -> Result<Option<RecordedRefusal>, StoreError> {
    let recorded = RecordedRefusal::load(store)?;
    if recorded.is_some() {
        store.put_meta(REFUSED, &[])?;
    }
    Ok(recorded)
}

/// Posts L2 blocks to L1.
#[derive(Debug)]
pub struct Submitter {
    node: Arc<L2Node>,
    client: L1Client,
    sender: TxSender,
    config: SubmitterConfig,
    /// Batches sent and not yet mined, oldest (lowest nonce) first.
    in_flight: VecDeque<InFlight>,
    /// The highest nonce of the batches sent behind one that reverted: they build on it, so
    /// they revert too when mined; posting goes on behind them without waiting.
    orphaned: Option<u64>,
    halted: Option<String>,
    backoff: Option<Backoff>,
    /// Reverts in a row that nothing explains.
    unexplained: u32,
    /// Out-of-gas reverts in a row: each adds half the model's gas.
    gas_bumps: u32,
    /// Since when a transaction of the key that this submitter did not send (an earlier run's
    /// advance) is pending on L1, and whether waiting for it has been given up.
    earlier: Option<(Instant, bool)>,
    /// The batch waiting for more blocks (`max_delay`).
    filling: Option<Filling>,
    /// The first block of the batch waiting for more, and since when it waits.
    waiting_since: Option<(u64, Instant)>,
}

impl Submitter {
    /// A submitter for `node`'s chain. If L1 refused a batch before for a reason that proves
    /// the block wrong (this run or an earlier one) and the chain still holds the same block
    /// there, it starts halted: the same content is never sent twice, until an operator clears
    /// the refusal ([`clear_refusal`]).
    pub fn new(node: Arc<L2Node>, client: L1Client, config: SubmitterConfig) -> Self {
        let halted = RecordedRefusal::for_chain(node.chain()).map(|r| r.reason);
        if let Some(reason) = &halted {
            tracing::error!(target: "nrd::submitter", %reason, "L1 refused this chain's next batch before; not posting (clear with `nrd submitter clear-refusal`)");
            node.update_status(|s| s.halted = Some(reason.clone()));
        }
        let sender = TxSender::new(client.clone(), config.key.clone(), config.l1_chain_id, config.sender_config());
        Self {
            node,
            client,
            sender,
            config,
            in_flight: VecDeque::new(),
            orphaned: None,
            halted,
            backoff: None,
            unexplained: 0,
            gas_bumps: 0,
            earlier: None,
            filling: None,
            waiting_since: None,
        }
    }

    fn remember_refusal(&self, first: u64, reason: &str) {
        let Some(block) = self.node.chain().block(first) else { return };
        let record = RecordedRefusal { number: first, hash: block.hash, reason: reason.to_string() };
        if let Err(e) = record.save(self.node.chain().store().as_ref()) {
            tracing::warn!(target: "nrd::submitter", "could not record the refusal: {e}");
        }
    }

    /// Why posting stopped, if it did.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
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
            match self.step().await {
                Ok(()) => {}
                Err(e @ SequencerError::Refused { .. }) if e.severity() == Severity::Critical => {
                    let SequencerError::Refused { first, refusal, .. } = &e else { continue };
                    let reason = format!("{}: {e}", refusal.label());
                    tracing::error!(target: "nrd::submitter", %reason, "L1 refuses the node's own batch; posting stops (clear with `nrd submitter clear-refusal` once fixed)");
                    self.remember_refusal(*first, &reason);
                    nrd_metrics::batch_refused(refusal.label());
                    self.node.update_status(|s| s.halted = Some(reason.clone()));
                    self.halted = Some(reason);
                }
                Err(e @ SequencerError::Refused { .. }) if e.severity() == Severity::Reset => {
                    // Not the node's fault and not recorded: posting resumes once the chain
                    // is rebuilt from what L1 holds.
                    tracing::error!(target: "nrd::submitter", "{e}; waiting for the chain to follow L1");
                    self.node.update_status(|s| s.halted = Some(format!("head_moved: {e}")));
                }
                Err(e) => tracing::warn!(target: "nrd::submitter", "will retry: {e}"),
            }
        }
    }

    /// Whether a batch transaction is waiting for its receipt.
    pub fn in_flight(&self) -> bool {
        !self.in_flight.is_empty()
    }

    /// The oldest batch transaction waiting for its receipt: its first and last L2 block and
    /// its hash.
    pub fn in_flight_batch(&self) -> Option<(u64, u64, B256)> {
        self.in_flight.front().map(|f| (f.first, f.last, f.hash))
    }

    /// Every batch transaction waiting for its receipt, oldest first.
    pub fn in_flight_batches(&self) -> Vec<(u64, u64, B256)> {
        self.in_flight.iter().map(|f| (f.first, f.last, f.hash)).collect()
    }

    /// A batch in flight reverted: the ones sent behind it build on it and will revert too.
    /// They are forgotten (their nonces stay taken; posting continues behind them).
    fn orphan_later_batches(&mut self) {
        if let Some(last) = self.in_flight.back() {
            tracing::warn!(target: "nrd::submitter", batches = self.in_flight.len(), first = self.in_flight.front().map_or(0, |f| f.first), "batches sent behind the reverted one build on it: they will revert too; posting again from the rollup's head");
            self.orphaned = Some(last.nonce);
        }
        self.in_flight.clear();
    }

    async fn posted_head(&self) -> Result<u64, SequencerError> {
        let call = NativeRollup::headNumberCall {};
        Ok(self.client.view_call(self.config.rollup, &call, BlockNumberOrTag::Latest).await?)
    }

    /// A refusal of blocks `first..=last`: temporary ones set the backoff (EXECUTE capacity
    /// waits for an L1 block after `l1_block`) and are counted.
    fn refused(&mut self, first: u64, last: u64, refusal: Refusal, l1_block: Option<u64>) -> SequencerError {
        if refusal.severity() != Severity::Critical {
            let attempts = self.backoff.map_or(0, |b| b.attempts).saturating_add(1);
            let (until, after_l1_block) = match refusal {
                Refusal::ExecuteCapacity { .. } => (Instant::now(), l1_block),
                _ => {
                    let wait = self.config.poll.saturating_mul(1 << attempts.min(16)).min(MAX_BACKOFF);
                    (Instant::now() + wait, None)
                }
            };
            self.backoff = Some(Backoff { until, after_l1_block, attempts });
            nrd_metrics::submitter_retry(refusal.label());
            tracing::warn!(target: "nrd::submitter", first, last, kind = refusal.label(), attempts, "L1 refused the batch for now ({refusal}); retrying");
        }
        SequencerError::Refused { first, last, refusal }
    }

    /// A batch landed: temporary trouble is over.
    fn settled(&mut self) {
        self.backoff = None;
        self.unexplained = 0;
        self.gas_bumps = 0;
        self.node.update_status(|s| {
            if s.halted.as_deref().is_some_and(|h| h.starts_with("head_moved")) {
                s.halted = None;
            }
        });
    }

    /// One round: check the transactions in flight (oldest first), then, with room for another
    /// (`max_in_flight`), post the next batch after the last one sent.
    pub async fn step(&mut self) -> Result<(), SequencerError> {
        let mut settled = false;
        while let Some(flight) = self.in_flight.front() {
            match self.client.transaction_receipt(flight.hash).await? {
                Some(receipt) if receipt.status() => {
                    tracing::info!(
                        target: "nrd::submitter",
                        first = flight.first,
                        last = flight.last,
                        tx = %flight.hash,
                        l1_block = receipt.block_number.unwrap_or_default(),
                        l1_gas = receipt.gas_used,
                        gas_limit = flight.gas_limit,
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
                    self.in_flight.pop_front();
                    self.settled();
                    settled = true;
                }
                Some(receipt) => {
                    let (first, last, gas_limit, execute_gas) =
                        (flight.first, flight.last, flight.gas_limit, flight.execute_gas);
                    let l1_block = receipt.block_number.unwrap_or_default();
                    tracing::warn!(
                        target: "nrd::submitter",
                        first,
                        last,
                        tx = %flight.hash,
                        l1_block,
                        gas_used = receipt.gas_used,
                        gas_limit,
                        "advance reverted on L1"
                    );
                    self.in_flight.pop_front();
                    self.orphan_later_batches();
                    let refusal =
                        self.explain_revert(first, last, gas_limit, receipt.gas_used, execute_gas, l1_block).await?;
                    return Err(self.refused(first, last, refusal, Some(l1_block)));
                }
                None if flight.sent_at.elapsed() >= self.config.resubmit_after => {
                    let pending = self.sender.pending_nonce().await?;
                    // Replace every batch in flight, in order, with higher fees (a later one
                    // cannot be mined before an earlier one of the same key anyway).
                    for index in 0..self.in_flight.len() {
                        let Some(flight) = self.in_flight.get(index) else { break };
                        let (first, last, nonce, multiplier, fees, hash) = (
                            flight.first,
                            flight.last,
                            flight.nonce,
                            flight.fee_multiplier.saturating_mul(2),
                            flight.fees,
                            flight.hash,
                        );
                        if pending <= nonce {
                            // Not pooled any more (an L1 reorg dropped it, or it was evicted):
                            // start again from what L1 holds.
                            tracing::warn!(target: "nrd::submitter", tx = %hash, "batch transaction vanished from L1; posting again from the rollup's head");
                            self.in_flight.truncate(index);
                            return Ok(());
                        }
                        tracing::warn!(target: "nrd::submitter", tx = %hash, first, last, "not included yet; resubmitting with higher fees");
                        let (tx, cost) = self.encode(first, last)?;
                        self.send(first, last, tx, cost, nonce, multiplier, Some(fees)).await?;
                    }
                    return Ok(());
                }
                None => break,
            }
        }
        // A round that settled batches ends there (the next one posts, as with one in flight);
        // otherwise the next batch may go behind those still in flight, while there is room.
        if settled || self.in_flight.len() >= self.config.max_in_flight.max(1) {
            return Ok(());
        }
        if let Some(backoff) = self.backoff {
            if Instant::now() < backoff.until {
                return Ok(());
            }
            if let Some(after) = backoff.after_l1_block
                && self.client.block_number().await? <= after
            {
                return Ok(());
            }
        }
        let posted = self.posted_head().await?;
        let chain = self.node.chain().clone();
        let head = chain.head().number();
        if posted > head {
            return Err(self.refused(head + 1, head + 1, Refusal::HeadMoved { posted, first: head + 1 }, None));
        }
        chain.set_safe(posted);
        // Blocks already on their way (batches in flight) are not posted again.
        let sent = self.in_flight.back().map_or(posted, |f| f.last.max(posted));
        if sent >= head {
            return Ok(());
        }
        let nonce = match self.in_flight.back() {
            // The next batch goes right behind the last one in flight.
            Some(flight) => flight.nonce + 1,
            // An advance sent before a restart may still wait in L1's pool: posting the same
            // blocks again would revert once it lands. Wait until L1 mines (or drops) it.
            None => match self.nonce_unless_earlier_pending().await? {
                Some(nonce) => nonce,
                None => return Ok(()),
            },
        };
        // The next run of blocks within the batch preferences (at least one)…
        let posted = sent;
        let first = posted + 1;
        let mut last = first;
        let mut gas = chain.block(last).map_or(0, |b| b.header().gas_used);
        while last < head && ((last - posted) as usize) < self.config.max_blocks {
            let next_gas = chain.block(last + 1).map_or(0, |b| b.header().gas_used);
            if gas + next_gas > self.config.max_l2_gas {
                break;
            }
            gas += next_gas;
            last += 1;
        }
        let preferred = last;
        // …and within what one `advance` carries: halve the run until it fits (the encoding of
        // a batch waiting for more blocks is kept while the head stays).
        let kept = self.filling.take().filter(|f| f.first == first && f.last == last);
        let (tx, cost) = match kept {
            Some(Filling { tx, cost, .. }) => (tx, cost),
            None => loop {
                let (tx, cost) = self.encode(first, last)?;
                match cost.check(&self.config.limits) {
                    Ok(()) => break (tx, cost),
                    Err(overrun) if last == first => {
                        tracing::error!(
                            target: "nrd::submitter",
                            number = first,
                            l1_gas = cost.l1_gas,
                            calldata_bytes = cost.calldata_bytes,
                            blobs = cost.blobs,
                            execute_gas = cost.execute_gas,
                            "stored L2 block {first} is too large for any advance: {overrun}"
                        );
                        return Err(self.refused(first, last, Refusal::Unpostable { number: first, overrun }, None));
                    }
                    Err(overrun) => {
                        let count = (last - first).div_ceil(2); // half of the last - first + 1 blocks
                        tracing::debug!(target: "nrd::submitter", first, last, "batch does not fit one advance ({overrun}); trying {count} blocks");
                        last = first + count.max(1) - 1;
                    }
                }
            },
        };
        // A batch with room for more blocks waits for them, up to `max_delay` after its oldest
        // block: the fixed cost of a posting is then shared by more transactions.
        let full = preferred < head || last < preferred;
        // Timed from when this submitter first saw the batch's first block waiting (the L2
        // timestamp may not follow this machine's clock; after a restart the wait starts again).
        let since = match self.waiting_since {
            Some((block, since)) if block == first => since,
            _ => Instant::now(),
        };
        self.waiting_since = Some((first, since));
        let age = since.elapsed();
        if !full && age < self.config.max_delay {
            tracing::debug!(target: "nrd::submitter", first, last, ?age, "batch has room for more blocks: waiting (sequencer.max_batch_delay_ms)");
            self.filling = Some(Filling { first, last, tx, cost });
            return Ok(());
        }
        nrd_metrics::batch_delay(age.as_secs_f64(), full);
        self.send(first, last, tx, cost, nonce, 1, None).await
    }

    /// The key's pending nonce on L1 (the next advance's), or `None` while a transaction of the
    /// key that this submitter did not send is pending there (its pending nonce is above its
    /// mined one): an advance an earlier run sent just before it stopped, which this one has no
    /// record of. Worth waiting for up to `resubmit_after`; after that, posting goes on behind
    /// it (as it would have before).
    async fn nonce_unless_earlier_pending(&mut self) -> Result<Option<u64>, SequencerError> {
        let pending = self.sender.pending_nonce().await?;
        let mined = self.client.nonce(self.sender.address(), BlockNumberOrTag::Latest).await?;
        if pending <= mined {
            self.earlier = None;
            self.orphaned = None;
            return Ok(Some(pending));
        }
        // What is pending is this run's own batches sent behind one that reverted: they revert
        // when mined, posting goes on behind them.
        if self.orphaned.is_some_and(|last| pending == last + 1) {
            return Ok(Some(pending));
        }
        let (since, given_up) = self.earlier.get_or_insert_with(|| {
            tracing::info!(target: "nrd::submitter", mined, pending, "a transaction of this key sent before (by an earlier run?) is pending on L1: waiting for it before posting");
            (Instant::now(), false)
        });
        if since.elapsed() < self.config.resubmit_after {
            return Ok(None);
        }
        if !*given_up {
            *given_up = true;
            tracing::warn!(target: "nrd::submitter", mined, pending, waited = ?since.elapsed(), "an earlier transaction of this key is still pending on L1: posting behind it");
        }
        Ok(Some(pending))
    }

    /// Blocks `first..=last` as one `advanceRun` (with the run's witness, recorded now) or, with
    /// `runs` off, one `advance`, and what it costs. A single block that a run cannot carry
    /// within the limits goes as `advance`, which the producer checked it fits before sealing
    /// it (the encodings' overheads differ a little). Deterministic: a resubmission re-encodes
    /// the same way.
    fn encode(&self, first: u64, last: u64) -> Result<(AdvanceTx, AdvanceCost), SequencerError> {
        let blocks = self.load(first, last)?;
        if self.config.runs {
            let witness = self.node.chain().run_witness(first, last)?;
            let run = advance_run_cost(&blocks, &witness, self.config.mode)?;
            if first < last || run.1.check(&self.config.limits).is_ok() {
                return Ok(run);
            }
        }
        Ok(advance_cost(&blocks, self.config.mode)?)
    }

    /// Blocks `first..=last` with their witnesses, from the store.
    fn load(&self, first: u64, last: u64) -> Result<Vec<PostedBlock>, SequencerError> {
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
        Ok(blocks)
    }

    /// Why the `advance` of blocks `first..=last` (sent with `gas_limit`, declaring
    /// `execute_gas`) reverted in L1 block `l1_block` after using `used` gas: out of gas,
    /// another party advancing, what the contract says of the same blocks now (simulated in
    /// calldata mode: an invalid block fails again), or — when the simulation passes — EXECUTE's
    /// capacity of that L1 block taken by others (its meter, read at that block).
    async fn explain_revert(
        &mut self,
        first: u64,
        last: u64,
        gas_limit: u64,
        used: u64,
        execute_gas: u64,
        l1_block: u64,
    ) -> Result<Refusal, SequencerError> {
        // A call that ran out of gas (EXECUTE included, which keeps 1/64 back) used it all.
        if u128::from(used) * 64 >= u128::from(gas_limit) * 63 {
            self.gas_bumps = self.gas_bumps.saturating_add(1);
            return Ok(Refusal::OutOfGas { gas_limit, used });
        }
        let posted = self.posted_head().await?;
        if posted + 1 != first {
            return Ok(Refusal::HeadMoved { posted, first });
        }
        if let Some(data) = self.simulate(first, last).await? {
            return self.classify(first, &data, Some(gas_limit)).await;
        }
        // The meter counts every call charged in that block, reverted ones too; a call refused
        // for capacity is not charged.
        let others = self.execute_gas_used(l1_block).await?;
        let limit = self.config.limits.max_execute_gas;
        if others.saturating_add(execute_gas) > limit {
            return Ok(Refusal::ExecuteCapacity { used: others, requested: execute_gas, limit });
        }
        self.unexplained = self.unexplained.saturating_add(1);
        Ok(Refusal::Unexplained { attempts: self.unexplained })
    }

    /// EXECUTE's base fee for the next L1 block, from its meter slots at L1's latest block and
    /// the precompile's own rule (the devnet's [`MeterConfig`]).
    async fn next_execute_base_fee(&self) -> Result<u128, SequencerError> {
        let latest = self.client.block_number().await?;
        let slot = |slot: U256| self.client.storage_at(EXECUTE_ADDRESS, slot, BlockNumberOrTag::Number(latest));
        let stored = StoredMeter {
            block: slot(METER_BLOCK_SLOT).await?.saturating_to(),
            used: slot(METER_USED_SLOT).await?.saturating_to(),
            base_fee: slot(METER_BASE_FEE_SLOT).await?.saturating_to(),
        };
        Ok(MeterConfig::default().at_block(latest + 1, stored).base_fee)
    }

    /// EXECUTE gas used in L1 block `number` by the calls that stayed (a reverted call leaves
    /// no trace in the meter), read from EXECUTE's meter slots at that block.
    async fn execute_gas_used(&self, number: u64) -> Result<u64, SequencerError> {
        let slot = |slot: U256| self.client.storage_at(EXECUTE_ADDRESS, slot, BlockNumberOrTag::Number(number));
        let metered: u64 = slot(METER_BLOCK_SLOT).await?.saturating_to();
        if metered != number {
            return Ok(0);
        }
        Ok(slot(METER_USED_SLOT).await?.saturating_to())
    }

    /// The contract's revert data for blocks `first..=last` posted now in calldata mode
    /// (`eth_call`; a blob transaction cannot be simulated without its blobs), or `None` when
    /// it would succeed.
    async fn simulate(&self, first: u64, last: u64) -> Result<Option<Bytes>, SequencerError> {
        let blocks = self.load(first, last)?;
        let tx = encode_advance(&blocks, DaMode::Calldata)?;
        let request = TransactionRequest::default()
            .from(self.config.key.address())
            .to(self.config.rollup)
            .input(tx.calldata.into());
        match self.client.call(&request, BlockNumberOrTag::Pending).await {
            Ok(_) => Ok(None),
            Err(e) if e.is_revert() => Ok(Some(e.revert_data().unwrap_or_default())),
            Err(e) => Err(e.into()),
        }
    }

    /// The refusal `data` (the contract's revert data for a batch starting at `first`) means.
    async fn classify(&self, first: u64, data: &[u8], gas_limit: Option<u64>) -> Result<Refusal, SequencerError> {
        let Ok(error) = NativeRollupErrors::abi_decode(data) else {
            return Ok(Refusal::Unknown(format!("revert data {}", Bytes::copy_from_slice(data))));
        };
        Ok(match error {
            NativeRollupErrors::WrongParent(_) | NativeRollupErrors::WrongNumber(_) => {
                Refusal::HeadMoved { posted: self.posted_head().await?, first }
            }
            NativeRollupErrors::NotSequencer(e) => Refusal::NotSequencer { caller: e.caller, open_at: e.openToAllAt },
            NativeRollupErrors::FutureBlock(e) => {
                Refusal::FutureBlock { timestamp: e.timestamp, l1_time: e.now.saturating_to() }
            }
            NativeRollupErrors::ExecuteFailed(e) => execute_refusal(e.number, &e.reason, gas_limit),
            // Someone else advanced since the batch was cut: the messages it consumed are gone.
            NativeRollupErrors::MessageOutOfOrder(_) if self.posted_head().await? + 1 != first => {
                Refusal::HeadMoved { posted: self.posted_head().await?, first }
            }
            other => Refusal::ContractRule(Box::new(other)),
        })
    }

    /// Signs and sends `tx` (blocks `first..=last`, costing `cost`) with `nonce`, at the
    /// current fees times `fee_multiplier`, capped; a replacement of a transaction offering
    /// `previous` offers at least what nodes require to replace it.
    #[allow(clippy::too_many_arguments)]
    async fn send(
        &mut self,
        first: u64,
        last: u64,
        tx: AdvanceTx,
        cost: AdvanceCost,
        nonce: u64,
        fee_multiplier: u128,
        previous: Option<TxFees>,
    ) -> Result<(), SequencerError> {
        let blob = tx.sidecar.is_some();
        let priced = match self.sender.price(fee_multiplier, blob).await {
            Err(TxError::FeeAboveCap { base_fee, cap }) => {
                nrd_metrics::submitter_fee_capped();
                tracing::warn!(target: "nrd::submitter", base_fee, cap, "L1 base fee above sequencer.max_fee_per_gas: not posting until it falls");
                return Err(SequencerError::FeeAboveCap { base_fee, cap });
            }
            priced => priced?,
        };
        if priced.capped {
            nrd_metrics::submitter_fee_capped();
            tracing::warn!(
                target: "nrd::submitter",
                first,
                last,
                fee_multiplier,
                max_fee_per_gas = priced.estimate.max_fee_per_gas().saturating_mul(fee_multiplier),
                max_fee_per_blob_gas = priced.estimate.max_fee_per_blob_gas().saturating_mul(fee_multiplier),
                cap = self.config.max_fee_per_gas,
                blob_cap = self.config.max_fee_per_blob_gas,
                "fee bump reaches the configured cap: offering the cap"
            );
        }
        let fees = match previous {
            Some(previous) => self.sender.replacement_fees(&previous, priced.fees),
            None => priced.fees,
        };
        let tip = fees.max_priority_fee_per_gas;
        // The model bounds the gas `advance` uses (tests/cost.rs); each out-of-gas revert in a
        // row adds half of it again, up to what one advance may use.
        let model = cost.l1_gas.saturating_add(cost.l1_gas / 2 * u64::from(self.gas_bumps));
        // EXECUTE charges its fee as L1 gas at the transaction's price (at least the tip), at
        // the next L1 block's EXECUTE base fee — with room for one more block of increase.
        let execute_base_fee = self.next_execute_base_fee().await?;
        let fee_gas = execute_fee_gas(cost.execute_gas, execute_base_fee.saturating_mul(9) / 8 + 1, tip);
        let mut gas_limit = model.min(self.config.limits.max_l1_gas.max(cost.l1_gas)).saturating_add(fee_gas);
        let mut l1_tx = L1Tx::call(self.config.rollup, tx.calldata);
        if let Some(sidecar) = tx.sidecar {
            l1_tx = l1_tx.with_sidecar(sidecar);
        } else if self.in_flight.iter().all(|f| f.nonce >= nonce) {
            // Calldata mode can be simulated: a batch L1 refuses now is not sent (not behind
            // a batch in flight: L1 does not hold its parent yet).
            match self.sender.estimate_gas(&l1_tx).await {
                Ok(estimate) if estimate > gas_limit => {
                    tracing::warn!(target: "nrd::submitter", estimate, model = cost.l1_gas, "L1 estimates more gas than the cost model: using the estimate");
                    gas_limit = self.sender.with_margin(estimate).min(self.config.limits.max_l1_gas.max(estimate));
                }
                Ok(_) => {}
                Err(e) if e.is_revert() => {
                    let data = e.revert_data().unwrap_or_default();
                    let posted = self.posted_head().await?;
                    let refusal = if posted + 1 != first {
                        Refusal::HeadMoved { posted, first }
                    } else {
                        self.classify(first, &data, None).await?
                    };
                    let l1_block = self.client.block_number().await.ok();
                    return Err(self.refused(first, last, refusal, l1_block));
                }
                Err(e) => return Err(e.into()),
            }
        }
        let blobs = l1_tx.blobs();
        // A refusal at admission (nonce taken, fee too low, ...) is not L1 judging the batch:
        // it is retried on the next round with a fresh nonce and fees.
        let sent = self.sender.send_with(l1_tx.with_gas_limit(gas_limit), nonce, gas_limit, fees).await?;
        let (hash, bytes) = (sent.hash, sent.encoded_len);
        let execute_gas = cost.execute_gas;
        tracing::info!(
            target: "nrd::submitter",
            first,
            last,
            tx = %hash,
            mode = %self.config.mode,
            bytes,
            gas_limit,
            execute_gas,
            "posted batch to L1"
        );
        let mode = if blobs > 0 { "blob" } else { "calldata" };
        nrd_metrics::batch_posted(mode, last - first + 1, blobs, bytes);
        let flight = InFlight {
            hash,
            nonce,
            first,
            last,
            sent_at: Instant::now(),
            fee_multiplier,
            fees,
            gas_limit,
            execute_gas,
        };
        match self.in_flight.iter_mut().find(|f| f.nonce == nonce) {
            // A replacement (same nonce, higher fees).
            Some(slot) => *slot = flight,
            None => self.in_flight.push_back(flight),
        }
        Ok(())
    }
}

/// The words EXECUTE's `ExecuteCallError::LimitExceeded` starts with: the one refusal that is
/// not about the block (checked against the precompile's own message by a test).
const CAPACITY_PREFIX: &str = "EXECUTE gas limit exceeded";

/// What `ExecuteFailed(number, reason)` means: EXECUTE's revert reason (`Error(string)`) says
/// whether the block failed verification or the L1 block's capacity was the problem; an empty
/// reason is EXECUTE running out of gas (its fee is charged as L1 gas, so a fee the transaction
/// did not bring gas for is this too).
fn execute_refusal(number: u64, reason: &[u8], gas_limit: Option<u64>) -> Refusal {
    if reason.is_empty() {
        return Refusal::OutOfGas { gas_limit: gas_limit.unwrap_or_default(), used: gas_limit.unwrap_or_default() };
    }
    let text = match alloy_sol_types::Revert::abi_decode(reason) {
        Ok(e) => e.reason,
        Err(_) => {
            return Refusal::InvalidBlock {
                number,
                reason: format!("undecodable EXECUTE output {}", Bytes::copy_from_slice(reason)),
            };
        }
    };
    if let Some(rest) = text.strip_prefix(CAPACITY_PREFIX) {
        // ": {used} used + {requested} requested > {limit}"
        let numbers: Vec<u64> = rest.split(|c: char| !c.is_ascii_digit()).filter_map(|n| n.parse().ok()).collect();
        let [used, requested, limit] = numbers[..] else {
            return Refusal::ExecuteCapacity { used: 0, requested: 0, limit: 0 };
        };
        return Refusal::ExecuteCapacity { used, requested, limit };
    }
    Refusal::InvalidBlock { number, reason: text }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::MAX_UNEXPLAINED;
    use nrd_execute_client::ExecuteCallError;

    #[test]
    fn execute_reasons_are_classified_by_the_precompile_s_own_words() {
        let capacity = ExecuteCallError::LimitExceeded { used: 20, requested: 15, limit: 30 }.to_string();
        assert!(capacity.starts_with(CAPACITY_PREFIX), "{capacity}");
        let encode = |text: String| alloy_sol_types::Revert { reason: text }.abi_encode();
        assert_eq!(
            execute_refusal(3, &encode(capacity), None),
            Refusal::ExecuteCapacity { used: 20, requested: 15, limit: 30 }
        );
        let verify = ExecuteCallError::Verify(nrd_execute_client::ExecuteError::MalformedAnchor).to_string();
        assert_eq!(
            execute_refusal(3, &encode(verify), None),
            Refusal::InvalidBlock { number: 3, reason: "the anchor is malformed".into() }
        );
        assert!(matches!(execute_refusal(3, &[], Some(9)), Refusal::OutOfGas { gas_limit: 9, .. }));
        for temporary in
            [Refusal::ExecuteCapacity { used: 0, requested: 0, limit: 0 }, Refusal::Unexplained { attempts: 1 }]
        {
            assert_eq!(temporary.severity(), Severity::Temporary);
        }
        assert_eq!(Refusal::Unexplained { attempts: MAX_UNEXPLAINED }.severity(), Severity::Critical);
        assert_eq!(Refusal::InvalidBlock { number: 1, reason: String::new() }.severity(), Severity::Critical);
    }
}
