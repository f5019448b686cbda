//! [`L1Watcher`]: follows L1 block by block for one `NativeRollup`, with confirmations and
//! reorg detection, woken by polling or by a WebSocket `newHeads` subscription.

use crate::{
    WatcherError,
    decode::{advance_input, decode_message, message_filter},
    heads::{HeadSource, Heads},
};
use alloy_consensus::Transaction as _;
use alloy_eips::{BlockNumberOrTag, eip4844::Blob};
use alloy_primitives::{Address, B256, Bytes, map::HashMap};
use alloy_rpc_types_eth::{Block, Transaction};
use nrd_bridge::L1Message;
use nrd_derivation::{PostedBlock, decode_advance};
use nrd_l1_client::{L1Client, L1Provider};
use std::{collections::VecDeque, time::Duration};

/// How many yielded block hashes the watcher remembers by default (reorgs up to this depth are
/// located; deeper ones are [`WatcherError::ReorgTooDeep`]).
pub const DEFAULT_HISTORY: usize = 256;

/// How long opening a head subscription may take by default ([`L1Watcher::with_subscribe_timeout`]).
pub const DEFAULT_SUBSCRIBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Where to start and how carefully to follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatcherConfig {
    /// The first L1 block to yield.
    pub start_block: u64,
    /// Blocks that must be built on a block before it is yielded (0: yield the head).
    pub confirmations: u64,
    /// How often to look for a new head when caught up (with a head subscription: at the
    /// latest this long after the last look, and while the subscription is down).
    pub poll_interval: Duration,
}

/// A successful `advance` transaction to the rollup, decoded into the L2 blocks it posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Advance {
    /// The L1 transaction.
    pub tx_hash: B256,
    /// Its sender.
    pub from: Address,
    /// The L2 blocks, in order (blob-mode transactions filled from the blobs).
    pub posted: Vec<PostedBlock>,
}

/// One L1 block as the rollup sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Block {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp.
    pub timestamp: u64,
    /// Messages enqueued in this block (`MessageEnqueued` events), in log order.
    pub messages: Vec<L1Message>,
    /// Successful `advance` transactions sent to the rollup, in block order.
    pub advances: Vec<Advance>,
}

/// What [`L1Watcher::next`] reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L1Event {
    /// The next block (number = the previous one's + 1, parent = its hash).
    Block(L1Block),
    /// L1 reorganised: blocks after `common_ancestor` that were yielded are no longer canonical.
    /// The watcher continues with `common_ancestor + 1` on the new chain.
    Reorg {
        /// The newest remembered block still canonical: the last yielded one that survived, or
        /// the parent of the first block yielded (or the last block given to
        /// [`L1Watcher::resume_after`]).
        common_ancestor: u64,
    },
}

/// Follows L1 for one `NativeRollup` address, through an [`L1Provider`] (the [`L1Client`] by
/// default, an in-memory chain in tests): yields each L1 block once it has
/// `confirmations` blocks on top, in order, with the rollup's messages and decoded `advance`
/// calls, and reports a reorg when the chain it yielded is replaced.
///
/// Caught up, it waits for the next head by polling every `poll_interval`, or, with
/// [`Self::with_ws`], for `newHeads` notifications of a WebSocket subscription (falling back to
/// polling while the subscription is down). Blocks are read the same way in both modes.
///
/// [`Self::next`], [`Self::poll`] and [`Self::wait_for_head`] are cancel safe: the watcher's
/// state changes only when an event is returned.
#[derive(Debug)]
pub struct L1Watcher<P = L1Client> {
    provider: P,
    rollup: Address,
    config: WatcherConfig,
    /// Next block number to yield.
    next: u64,
    /// Yielded (number, hash), oldest first, consecutive; the first entry may be the parent of
    /// the first yielded block.
    recent: VecDeque<(u64, B256)>,
    history: usize,
    heads: Heads,
    /// Timeout of opening the head subscription.
    subscribe_timeout: Duration,
}

impl L1Watcher<L1Client> {
    /// Follows `rollup` through `client` from `config.start_block` (head subscriptions time
    /// out after the client's request timeout).
    pub fn new(client: L1Client, rollup: Address, config: WatcherConfig) -> Self {
        let timeout = client.config().request_timeout;
        Self::with_provider(client, rollup, config).with_subscribe_timeout(timeout)
    }
}

impl<P: L1Provider> L1Watcher<P> {
    /// Follows `rollup` through `provider` from `config.start_block`.
    pub fn with_provider(provider: P, rollup: Address, config: WatcherConfig) -> Self {
        Self {
            provider,
            rollup,
            config,
            next: config.start_block,
            recent: VecDeque::new(),
            history: DEFAULT_HISTORY,
            heads: Heads::new(HeadSource::Poll, DEFAULT_SUBSCRIBE_TIMEOUT),
            subscribe_timeout: DEFAULT_SUBSCRIBE_TIMEOUT,
        }
    }

    /// Gives up opening a head subscription after `timeout` (connection and `eth_subscribe`)
    /// instead of [`DEFAULT_SUBSCRIBE_TIMEOUT`].
    #[must_use]
    pub fn with_subscribe_timeout(mut self, timeout: Duration) -> Self {
        self.subscribe_timeout = timeout;
        self.heads = Heads::new(self.heads.source().clone(), timeout);
        self
    }

    /// Wakes on `newHeads` notifications of a WebSocket subscription at `url` (e.g.
    /// `ws://127.0.0.1:8546`) instead of sleeping `poll_interval`; see [`HeadSource::ws`].
    #[must_use]
    pub fn with_ws(self, url: impl Into<String>) -> Self {
        self.with_head_source(HeadSource::ws(url))
    }

    /// Wakes as `source` says (the default is [`HeadSource::Poll`]).
    #[must_use]
    pub fn with_head_source(mut self, source: HeadSource) -> Self {
        self.heads = Heads::new(source, self.subscribe_timeout);
        self
    }

    /// Remembers `history` block hashes (at least 1) instead of [`DEFAULT_HISTORY`].
    #[must_use]
    pub fn with_history(mut self, history: usize) -> Self {
        self.history = history.max(1);
        self
    }

    /// Resumes after a restart: `blocks` are (number, hash) of the last blocks the caller
    /// processed, consecutive and oldest first, ending just before the cursor (so the first
    /// block yielded is checked against them). Other entries are ignored.
    pub fn resume_after(&mut self, blocks: impl IntoIterator<Item = (u64, B256)>) {
        self.recent.clear();
        for (number, hash) in blocks {
            if self.recent.back().is_some_and(|(n, _)| *n + 1 != number) {
                self.recent.clear();
            }
            self.remember(number, hash);
        }
        if self.recent.back().is_some_and(|(n, _)| *n + 1 != self.next) {
            self.recent.clear();
        }
    }

    /// The next L1 block number to yield (persist it to resume).
    pub const fn cursor(&self) -> u64 {
        self.next
    }

    /// The last block yielded (or remembered), if any.
    pub fn last(&self) -> Option<(u64, B256)> {
        self.recent.back().copied()
    }

    /// The remembered (number, hash) pairs, oldest first.
    pub fn recent(&self) -> impl Iterator<Item = (u64, B256)> + '_ {
        self.recent.iter().copied()
    }

    /// The rollup followed.
    pub const fn rollup(&self) -> Address {
        self.rollup
    }

    /// The provider L1 is read through.
    pub const fn provider(&self) -> &P {
        &self.provider
    }

    /// The configuration.
    pub const fn config(&self) -> &WatcherConfig {
        &self.config
    }

    /// What wakes the watcher when caught up.
    pub const fn head_source(&self) -> &HeadSource {
        self.heads.source()
    }

    /// Whether the head subscription is open now (always `false` when polling).
    pub const fn subscribed(&self) -> bool {
        self.heads.subscribed()
    }

    /// Why the head subscription last failed to open or dropped
    /// ([`WatcherError::Subscription`]), until it is open again.
    pub const fn subscription_error(&self) -> Option<&WatcherError> {
        self.heads.last_error()
    }

    /// Waits for and returns the next event: [`Self::poll`], and when caught up
    /// [`Self::wait_for_head`] before looking again. Errors are returned as they happen (the
    /// watcher does not move): retry the call when the error's
    /// [`nrd_chain::Classify::severity`] is temporary.
    pub async fn next(&mut self) -> Result<L1Event, WatcherError> {
        loop {
            if let Some(event) = self.poll().await? {
                return Ok(event);
            }
            self.wait_for_head().await;
        }
    }

    /// Returns when a new L1 head may be there: after `poll_interval` when polling; with a
    /// head subscription, at the next `newHeads` notification (or one already received, or
    /// `poll_interval` after the call at the latest). While the subscription is down it polls
    /// and reopens it when due; it returns right after (re)opening it, since heads may have
    /// come meanwhile. Never fails: subscription trouble is logged as a warning and kept in
    /// [`Self::subscription_error`].
    pub async fn wait_for_head(&mut self) {
        self.heads.wait(self.config.poll_interval).await;
    }

    /// Looks once: the next event if there is one now, `None` when caught up.
    pub async fn poll(&mut self) -> Result<Option<L1Event>, WatcherError> {
        let head = self.provider.block_number().await?;
        if self.next.checked_add(self.config.confirmations).is_some_and(|ready| ready <= head)
            && let Some(block) = self.provider.block(BlockNumberOrTag::Number(self.next)).await?
        {
            if let Some(&(number, hash)) = self.recent.back()
                && number + 1 == block.header.number
                && hash != block.header.parent_hash
            {
                return self.rewind().await.map(Some);
            }
            // A block replaced while read falls through to the check below.
            if let Some(block) = self.read(&block).await? {
                self.record(&block);
                return Ok(Some(L1Event::Block(block)));
            }
        }
        // Nothing new to yield: is the last block yielded still canonical?
        if let Some(&(number, hash)) = self.recent.back()
            && !self.canonical(number, hash).await?
        {
            return self.rewind().await.map(Some);
        }
        Ok(None)
    }

    fn remember(&mut self, number: u64, hash: B256) {
        self.recent.push_back((number, hash));
        while self.recent.len() > self.history {
            self.recent.pop_front();
        }
    }

    fn record(&mut self, block: &L1Block) {
        if self.recent.is_empty() && block.number > 0 {
            // The parent of the first block: a reorg replacing every yielded block still has a
            // known common ancestor.
            self.remember(block.number - 1, block.parent_hash);
        }
        self.remember(block.number, block.hash);
        self.next = block.number + 1;
    }

    /// Whether block `number` on the node's chain is `hash`.
    async fn canonical(&self, number: u64, hash: B256) -> Result<bool, WatcherError> {
        Ok(self.provider.header(BlockNumberOrTag::Number(number)).await?.is_some_and(|h| h.hash == hash))
    }

    /// Walks the remembered blocks back to the newest one still canonical.
    async fn rewind(&mut self) -> Result<L1Event, WatcherError> {
        let mut ancestor = None;
        for &(number, hash) in self.recent.iter().rev() {
            if self.canonical(number, hash).await? {
                ancestor = Some(number);
                break;
            }
        }
        let Some(common_ancestor) = ancestor else {
            let oldest = self.recent.front().map_or(self.next, |(n, _)| *n);
            return Err(WatcherError::ReorgTooDeep { oldest });
        };
        while self.recent.back().is_some_and(|(n, _)| *n > common_ancestor) {
            self.recent.pop_back();
        }
        self.next = common_ancestor + 1;
        tracing::info!(target: "nrd::l1_watcher", common_ancestor, "L1 reorg");
        Ok(L1Event::Reorg { common_ancestor })
    }

    /// The rollup's view of `block`: its messages and advances; `None` when the block was
    /// replaced while being read.
    async fn read(&self, block: &Block) -> Result<Option<L1Block>, WatcherError> {
        let (number, hash) = (block.header.number, block.header.hash);
        match self.contents(block).await {
            Ok(Some((messages, advances))) => Ok(Some(L1Block {
                number,
                hash,
                parent_hash: block.header.parent_hash,
                timestamp: block.header.timestamp,
                messages,
                advances,
            })),
            Ok(None) => Ok(None),
            // Parts read by block hash fail when a reorg dropped the block meanwhile: then the
            // error is not the caller's business.
            Err(e) if !self.canonical(number, hash).await? => {
                tracing::debug!(target: "nrd::l1_watcher", number, %hash, "block replaced while read: {e}");
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    async fn contents(&self, block: &Block) -> Result<Option<(Vec<L1Message>, Vec<Advance>)>, WatcherError> {
        let hash = block.header.hash;
        let filter = message_filter(self.rollup, hash);
        let messages = if filter.matches_bloom(block.header.logs_bloom) {
            let mut logs = self.provider.logs(&filter).await?;
            if logs.iter().any(|l| l.block_hash.is_some_and(|h| h != hash)) {
                return Ok(None);
            }
            logs.sort_by_key(|l| l.log_index);
            logs.iter().map(|l| decode_message(&l.inner)).collect::<Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };

        let mut candidates: Vec<(&Transaction, &Bytes)> = Vec::new();
        for tx in block.transactions.txns() {
            if let Some(input) = advance_input(tx, self.rollup) {
                candidates.push((tx, input));
            }
        }
        if candidates.is_empty() {
            return Ok(Some((messages, Vec::new())));
        }
        let Some(receipts) = self.provider.block_receipts(hash.into()).await? else { return Ok(None) };
        if receipts.iter().any(|r| r.block_hash.is_some_and(|h| h != hash)) {
            return Ok(None);
        }
        let succeeded: HashMap<B256, bool> = receipts.iter().map(|r| (r.transaction_hash, r.status())).collect();
        let mut advances = Vec::with_capacity(candidates.len());
        for (tx, input) in candidates {
            let tx_hash = *tx.inner.tx_hash();
            match succeeded.get(&tx_hash) {
                Some(true) => advances.push((tx, input)),
                Some(false) => {}
                None => return Err(WatcherError::MissingReceipt { tx: tx_hash, block: hash }),
            }
        }

        let mut blobs: HashMap<B256, Blob> = HashMap::default();
        if advances.iter().any(|(tx, _)| (**tx).blob_versioned_hashes().is_some_and(|h| !h.is_empty())) {
            blobs.extend(self.provider.blob_sidecars(block.header.number).await?);
        }
        // Decoding (RLP, brotli) is CPU work: keep it off the async workers.
        let calls: Vec<(B256, Address, Bytes)> =
            advances.into_iter().map(|(tx, input)| (*tx.inner.tx_hash(), tx.inner.signer(), input.clone())).collect();
        let out = tokio::task::spawn_blocking(move || {
            let lookup = |h: &B256| blobs.get(h).copied();
            calls
                .into_iter()
                .map(|(tx_hash, from, input)| {
                    decode_advance(&input, &lookup)
                        .map(|posted| Advance { tx_hash, from, posted })
                        .map_err(|source| WatcherError::Derivation { tx: tx_hash, source })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(|e| WatcherError::Task(std::sync::Arc::new(e)))??;
        Ok(Some((messages, out)))
    }
}
