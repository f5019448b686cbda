//! The sequencer's mempool and block production: every block applies the derivation function
//! (pending L1 messages, anchored to the newest L1 block seen), takes transactions from the pool
//! by tip, and is recorded with its witness for posting.

use crate::{AdvanceLimits, Overrun, SequencerError, advance_cost, advance_run_cost};
use alloy_consensus::{TxEnvelope, transaction::Recovered};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, B256, Bytes};
use nrd_chain::LockExt as _;
use nrd_chain::{StateProvider, StoredBlock, build_block};
use nrd_derivation::{DaMode, PostedBlock, SequencingConfig, block_inputs};
use nrd_execute_client::record_block;
use nrd_node::{BackendError, BlockL1Info, L1View, L2Chain, TxSink};
use nrd_txpool::{AdmissionContext, Pool, PoolLimits, decode_pooled};
use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::{SystemTime, UNIX_EPOCH},
};

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The L2 mempool in front of the chain, kept in the store: a transaction is acknowledged
/// ([`TxSink::submit`] returns its hash) only once it is written, so a crash right after loses
/// nothing the node answered for. A write adds and removes single transactions (what changed
/// since the last write), so its cost follows the traffic, not the pool's size.
#[derive(Debug)]
pub struct Mempool {
    chain: Arc<L2Chain>,
    pool: Mutex<Pool>,
    /// Senders whose transactions are refused (a test switch for censorship scenarios).
    censored: Vec<Address>,
    /// Transactions admitted so far (bumped under the pool's lock).
    admitted: AtomicU64,
    /// What the store holds; locked while writing, so writes are ordered and a submission
    /// finds its transaction already written by a concurrent one.
    saved: Mutex<Saved>,
}

/// The pool as last written to the store.
#[derive(Debug, Default)]
struct Saved {
    /// How many admissions the last write covered.
    covered: u64,
    /// The stored transactions and their positions.
    positions: HashMap<B256, u64>,
    /// The position the next stored transaction takes.
    next: u64,
    /// Stored transactions the pool refused when it was restored, to remove.
    stale: Vec<u64>,
}

impl Mempool {
    /// A pool with `limits` over `chain`, restoring transactions a previous run saved.
    pub fn new(chain: Arc<L2Chain>, limits: PoolLimits, censored: Vec<Address>) -> Self {
        let pool = Self {
            chain,
            pool: Mutex::new(Pool::new(limits)),
            censored,
            admitted: AtomicU64::new(0),
            saved: Mutex::new(Saved::default()),
        };
        match pool.chain.store().load_pool() {
            Ok(stored) => {
                // Admitted by nonce, so a sender's transactions come back in order whatever
                // their positions; already on disk, so not written again.
                let mut saved = pool.saved.lock_or_recover();
                saved.next = stored.last().map_or(0, |(position, _)| position + 1);
                let mut decoded: Vec<(u64, &Bytes, u64)> = stored
                    .iter()
                    .map(|(position, raw)| {
                        (
                            *position,
                            raw,
                            decode_pooled(raw).map_or(u64::MAX, |p| alloy_consensus::Transaction::nonce(p.tx.inner())),
                        )
                    })
                    .collect();
                decoded.sort_by_key(|(_, _, nonce)| *nonce);
                let mut restored = 0;
                for (position, raw, _) in decoded {
                    match pool.admit(raw) {
                        Ok((hash, _)) => {
                            restored += 1;
                            saved.positions.insert(hash, position);
                        }
                        // Refused now (included meanwhile, stale, undecodable): removed at the
                        // next write.
                        Err(_) => saved.stale.push(position),
                    }
                }
                saved.covered = pool.admitted.load(Ordering::Acquire);
                if !stored.is_empty() {
                    tracing::info!(target: "nrd::sequencer", restored, saved = stored.len(), "restored the pool");
                }
            }
            Err(e) => tracing::warn!(target: "nrd::sequencer", "could not load the saved pool: {e}"),
        }
        pool
    }

    fn lock(&self) -> MutexGuard<'_, Pool> {
        self.pool.lock_or_recover()
    }

    fn context(&self) -> AdmissionContext {
        let head = self.chain.head();
        let header = head.header();
        let spec = self.chain.spec();
        let timestamp = now().max(header.timestamp + 1);
        AdmissionContext {
            chain_id: spec.chain_id,
            spec: spec.spec_at(header.number + 1, timestamp),
            base_fee: header.next_block_base_fee(spec.base_fee_params()).unwrap_or_default(),
            blob_base_fee: None,
            gas_limit: header.gas_limit,
        }
    }

    /// Writes the pool's changes to the store so a restart keeps it.
    pub fn save(&self) {
        if let Err(e) = self.write(None) {
            tracing::warn!(target: "nrd::sequencer", "could not save the pool: {e}");
        }
    }

    /// Writes what changed in the pool since the last write (transactions added, and those
    /// included, replaced or dropped since), unless a write already covered admission
    /// `covering`.
    fn write(&self, covering: Option<u64>) -> Result<(), nrd_storage::StoreError> {
        let mut saved = self.saved.lock_or_recover();
        if covering.is_some_and(|n| saved.covered >= n) {
            return Ok(());
        }
        let (added, removed, admitted) = {
            let pool = self.lock();
            let mut added = Vec::new();
            for pooled in pool.iter() {
                if !saved.positions.contains_key(&pooled.hash) {
                    added.push((pooled.hash, Bytes::from(pooled.tx.inner().encoded_2718())));
                }
            }
            let removed: Vec<B256> = saved.positions.keys().filter(|hash| pool.get(hash).is_none()).copied().collect();
            (added, removed, self.admitted.load(Ordering::Acquire))
        };
        if !added.is_empty() || !removed.is_empty() || !saved.stale.is_empty() {
            let first = saved.next;
            let rows: Vec<(u64, Bytes)> =
                added.iter().zip(first..).map(|((_, raw), position)| (position, raw.clone())).collect();
            let mut gone: Vec<u64> = removed.iter().filter_map(|hash| saved.positions.get(hash).copied()).collect();
            gone.extend_from_slice(&saved.stale);
            self.chain.store().update_pool(&rows, &gone)?;
            saved.stale.clear();
            saved.next = first + rows.len() as u64;
            for hash in &removed {
                saved.positions.remove(hash);
            }
            for ((hash, _), (position, _)) in added.iter().zip(&rows) {
                saved.positions.insert(*hash, *position);
            }
        }
        saved.covered = admitted;
        Ok(())
    }

    /// Checks and adds a transaction to the pool (in memory only); returns its hash and its
    /// admission number.
    fn admit(&self, raw: &[u8]) -> Result<(B256, u64), BackendError> {
        let pooled = decode_pooled(raw)
            .inspect_err(|e| nrd_metrics::pool_rejected(e.reason()))
            .map_err(BackendError::rejected)?;
        if pooled.sidecar.is_some() {
            nrd_metrics::pool_rejected("blob");
            return Err(BackendError::Rejected(
                "blob transactions are not supported on this L2 (it has no blob data availability)".into(),
            ));
        }
        if self.censored.contains(&pooled.tx.signer()) {
            nrd_metrics::pool_rejected("policy");
            return Err(BackendError::Rejected("transaction refused by this sequencer's policy".into()));
        }
        let hash = pooled.hash;
        let ctx = self.context();
        let mut state = self.chain.head_state().map_err(BackendError::unavailable)?;
        let mut pool = self.lock();
        pool.add(pooled, &mut state, &ctx)
            .inspect_err(|e| nrd_metrics::pool_rejected(e.reason()))
            .map_err(BackendError::rejected)?;
        Ok((hash, self.admitted.fetch_add(1, Ordering::AcqRel) + 1))
    }

    /// Candidates for the next block, by tip.
    fn candidates(&self, base_fee: u64) -> Result<Vec<Recovered<TxEnvelope>>, SequencerError> {
        let mut state = self.chain.head_state()?;
        let mut nonce_of = |a: Address| state.account(a).ok().flatten().map_or(0, |acc| acc.nonce);
        Ok(self.lock().candidates(base_fee, &mut nonce_of).into_iter().map(|p| p.tx.clone()).collect())
    }

    /// Drops included transactions and those the new head made stale.
    fn after_block(&self, block: &StoredBlock, dropped: &[B256]) {
        let mut pool = self.lock();
        for hash in block.tx_hashes.iter().chain(dropped) {
            pool.remove(hash);
        }
        match self.chain.head_state() {
            Ok(mut state) => pool.prune(&mut |a| state.account(a).ok().flatten().map_or(0, |acc| acc.nonce)),
            Err(e) => tracing::error!(target: "nrd::sequencer", "not pruning the pool: reading the head state: {e}"),
        }
    }
}

impl TxSink for Mempool {
    /// Admits the transaction and writes the pool before answering: the hash is an
    /// acknowledgement that survives a crash. Concurrent submissions share a write.
    fn submit(&self, raw: &[u8]) -> Result<B256, BackendError> {
        let (hash, admitted) = self.admit(raw)?;
        // Not written: not acknowledged (it stays pooled; a client sending it again is told
        // "already known" and may be included anyway).
        self.write(Some(admitted)).map_err(BackendError::unavailable)?;
        Ok(hash)
    }

    fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64 {
        self.lock().pending_nonce(address, state_nonce)
    }

    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>> {
        self.lock().get(&hash).map(|p| p.tx.clone())
    }

    fn len(&self) -> usize {
        self.lock().len()
    }
}

/// Seals L2 blocks.
#[derive(Debug)]
pub struct BlockProducer {
    chain: Arc<L2Chain>,
    pool: Arc<Mempool>,
    l1: Arc<Mutex<L1View>>,
    config: SequencingConfig,
    /// What one `advance` may carry: every sealed block fits one on its own.
    limits: AdvanceLimits,
    /// How the submitter posts (the block's cost depends on it).
    mode: DaMode,
    /// Whether the submitter posts runs (a block alone then goes as a run of one when that
    /// fits, as `advance` otherwise).
    runs: bool,
}

/// A block built and its witness recorded, not yet committed.
struct Candidate {
    built: nrd_chain::BuiltBlock,
    imported: nrd_chain::ImportedBlock,
    witness: nrd_execute_client::ExecutionWitness,
    state: nrd_storage::StoreState,
}

/// Fewer transactions than `included` for a block whose cost overran `over`: scaled down by
/// how far over the limit it is, with 10% room for the block's fixed part, and at least one
/// fewer.
fn fewer(included: usize, over: &Overrun) -> usize {
    let (needed, limit) = match *over {
        Overrun::L1Gas { needed, limit } => (u128::from(needed), u128::from(limit)),
        Overrun::Calldata { bytes, limit } => (bytes as u128, limit as u128),
        Overrun::Blobs { blobs, limit } => (blobs as u128, limit as u128),
        Overrun::ExecuteGas { gas, limit } => (u128::from(gas), u128::from(limit)),
    };
    let scaled = (included as u128 * limit * 9 / 10 / needed.max(1)) as usize;
    scaled.min(included.saturating_sub(1))
}

impl BlockProducer {
    /// A producer extending `chain` from `pool`, with L1 as `l1` shows it; blocks are bounded by
    /// the devnet's [`AdvanceLimits`] in blob mode until [`Self::with_limits`] says otherwise.
    pub fn new(chain: Arc<L2Chain>, pool: Arc<Mempool>, l1: Arc<Mutex<L1View>>, config: SequencingConfig) -> Self {
        Self { chain, pool, l1, config, limits: AdvanceLimits::default(), mode: DaMode::default(), runs: false }
    }

    /// Bounds every block by what one `advance` in `mode` within `limits` can carry.
    #[must_use]
    pub fn with_limits(mut self, limits: AdvanceLimits, mode: DaMode) -> Self {
        self.limits = limits;
        self.mode = mode;
        self
    }

    /// Bounds every block by what the submitter can post alone when it posts runs
    /// (`[sequencer] post_runs`): a run of one block (in blob mode its witness travels in the
    /// blobs) or, when that does not fit, an `advance`.
    #[must_use]
    pub const fn with_runs(mut self, runs: bool) -> Self {
        self.runs = runs;
        self
    }

    /// The cost of posting `posted` alone, as the submitter would: a run of one block when runs
    /// are on and it fits the limits, an `advance` otherwise.
    fn alone_cost(&self, posted: &PostedBlock) -> Result<crate::AdvanceCost, SequencerError> {
        let blocks = std::slice::from_ref(posted);
        if self.runs {
            // A run of one block has exactly the block's own witness.
            let (_, cost) = advance_run_cost(blocks, &posted.witness, self.mode)?;
            if cost.check(&self.limits).is_ok() {
                return Ok(cost);
            }
        }
        Ok(advance_cost(blocks, self.mode)?.1)
    }

    /// The messages before the first one from a censored sender.
    fn uncensored(&self, mut pending: Vec<nrd_bridge::L1Message>) -> Vec<nrd_bridge::L1Message> {
        if let Some(at) = pending.iter().position(|m| self.pool.censored.contains(&m.from)) {
            let held = &pending[at];
            tracing::warn!(
                target: "nrd::sequencer",
                index = held.index,
                from = %held.from,
                enqueued_at = held.enqueuedAt,
                waiting = pending.len() - at,
                "censoring: not applying the L1 message from a censored sender (nor any after it)"
            );
            pending.truncate(at);
        }
        pending
    }

    /// Builds the block on the head and records its witness, committing nothing.
    fn build(
        &self,
        parent: &alloy_consensus::Sealed<alloy_consensus::Header>,
        attributes: nrd_chain::BlockAttributes,
        transactions: Vec<Recovered<TxEnvelope>>,
    ) -> Result<Candidate, SequencerError> {
        let anchor = attributes.anchor.clone();
        let ancestors = self.chain.ancestors();
        let on_head = |head: &alloy_consensus::Sealed<alloy_consensus::Header>| {
            if head.hash() == parent.hash() {
                Ok(())
            } else {
                Err(nrd_node::NodeError::NotOnHead { number: parent.number + 1 })
            }
        };
        let prefetch = self.chain.prefetch_transactions(&transactions);
        let (head, mut state) = self.chain.head_with_state()?;
        on_head(&head)?;
        let built = build_block(self.chain.spec(), parent, attributes, transactions, &mut state, &ancestors)?;
        drop(prefetch);
        // Record the witness by importing the built block into a fresh layer over the head.
        let (head, mut state) = self.chain.head_with_state()?;
        on_head(&head)?;
        let (imported, witness) = record_block(self.chain.spec(), &built.block, &anchor, &mut state, &ancestors)?;
        Ok(Candidate { built, imported, witness, state })
    }

    /// Seals the next block now; `None` when L1 has not been seen yet (no anchor).
    ///
    /// The block is one that a single `advance` can post: when the block built from the pool's
    /// candidates does not fit the [`AdvanceLimits`] (L1 gas, calldata, blobs, EXECUTE gas,
    /// by [`crate::advance_cost`]), it is built again with fewer transactions before anything
    /// is stored. A block that does not fit even without transactions is refused
    /// ([`SequencerError::Unpostable`]): nothing is sealed.
    pub fn seal(&self) -> Result<Option<Arc<StoredBlock>>, SequencerError> {
        let parent = self.chain.head_sealed();
        let (l1, pending) = {
            let view = self.l1.lock_or_recover();
            if view.head.hash == B256::ZERO {
                return Ok(None);
            }
            (view.head, view.pending_from(self.chain.next_message()))
        };
        // Test switch: a censoring sequencer applies no message from a censored L1 sender —
        // and, messages applying in queue order, none after it either.
        let pending = self.uncensored(pending);
        // Anchors never go back (the inbox and NativeRollup both refuse it).
        let last_anchor = self.chain.l1_info(parent.number).map_or(0, |i| i.l1_anchor);
        if l1.number < last_anchor {
            return Ok(None);
        }
        let base_fee = parent.next_block_base_fee(self.chain.spec().base_fee_params()).unwrap_or_default();
        let candidates = self.pool.candidates(base_fee)?;
        // Timestamps are whole seconds and must grow: with a sub-second block time, wait for the
        // clock rather than run ahead of it (L1 refuses L2 blocks from its future).
        let timestamp = now();
        if timestamp <= parent.timestamp {
            return Ok(None);
        }
        let inputs = block_inputs(&parent, &pending, candidates, timestamp, l1, &self.config)?;
        let anchor = inputs.attributes.anchor.clone();
        let number = parent.number + 1;
        let mut candidate = self.build(&parent, inputs.attributes.clone(), inputs.transactions)?;
        let dropped: Vec<B256> = candidate
            .built
            .rejected
            .iter()
            .filter(|r| !r.error.may_fit_later())
            .filter_map(|r| match &r.error {
                nrd_chain::BlockError::InvalidTransaction { hash, .. } => Some(*hash),
                _ => None,
            })
            .collect();
        // Only a block one `advance` can carry is sealed: fewer transactions until it fits.
        let mut shrunk_from = None;
        loop {
            let posted = PostedBlock {
                block: candidate.built.block.clone(),
                witness: candidate.witness.clone(),
                l1_anchor: l1.number,
                messages: inputs.messages.clone(),
            };
            let cost = self.alone_cost(&posted)?;
            let Err(over) = cost.check(&self.limits) else { break };
            let included = candidate.built.block.body.transactions.len();
            if included == 0 {
                tracing::error!(
                    target: "nrd::sequencer",
                    number,
                    messages = inputs.messages.len(),
                    l1_gas = cost.l1_gas,
                    calldata_bytes = cost.calldata_bytes,
                    blobs = cost.blobs,
                    execute_gas = cost.execute_gas,
                    limit = over.label(),
                    "refusing to seal an L2 block that no advance can post, even without transactions: {over}"
                );
                nrd_metrics::block_unpostable(over.label());
                return Err(SequencerError::Unpostable { number, overrun: over });
            }
            let keep = fewer(included, &over);
            tracing::info!(
                target: "nrd::sequencer",
                number,
                included,
                keep,
                limit = over.label(),
                "block too large for one advance ({over}): building it again with fewer transactions"
            );
            shrunk_from.get_or_insert(included);
            let built = &candidate.built;
            let prefix: Vec<Recovered<TxEnvelope>> = built.block.body.transactions[..keep]
                .iter()
                .zip(&built.senders)
                .map(|(tx, sender)| Recovered::new_unchecked(tx.clone(), *sender))
                .collect();
            candidate = self.build(&parent, inputs.attributes.clone(), prefix)?;
        }
        if shrunk_from.is_some() {
            nrd_metrics::block_shrunk();
        }
        let Candidate { built, imported, witness, mut state } = candidate;
        let stored = StoredBlock::new(built.block, built.senders, imported.executed.receipts.clone());
        let info = BlockL1Info { l1_anchor: l1.number, messages: inputs.messages, anchor };
        let messages = info.messages.len();
        let witness_bytes = witness.size();
        let stored = self.chain.append(stored, info, Some(witness), &imported.executed.changes, &mut state)?;
        nrd_metrics::block_sealed(stored.tx_hashes.len(), witness_bytes);
        self.pool.after_block(&stored, &dropped);
        tracing::info!(
            target: "nrd::sequencer",
            number = stored.number(),
            hash = %stored.hash,
            txs = stored.tx_hashes.len(),
            gas_used = stored.header().gas_used,
            messages,
            l1_anchor = l1.number,
            shrunk_from,
            "sealed L2 block"
        );
        Ok(Some(stored))
    }

    /// Seals a block every `interval` until `shutdown`; saves the pool on the way out.
    pub async fn run(self, interval: std::time::Duration, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                _ = ticker.tick() => {
                    let producer = &self;
                    match tokio::task::block_in_place(|| producer.seal()) {
                        Ok(_) => producer.pool.save(),
                        Err(e) => tracing::error!(target: "nrd::sequencer", "sealing failed: {e}"),
                    }
                }
            }
        }
        self.pool.save();
    }
}
