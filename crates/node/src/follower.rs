//! Following L1: the one loop through which an L2 node learns what happened on L1 — messages
//! enqueued, L2 blocks posted (and, for a follower, imported from them), safe and finalized
//! heads.

use crate::{L2Node, NodeError};
use alloy_primitives::B256;
use nrd_bridge::L1Message;
use nrd_chain::LockExt as _;
use nrd_chain::{Classify, Severity};
use nrd_derivation::L1BlockRef;
use nrd_l1_client::{L1Client, L1Provider};
use nrd_l1_watcher::{L1Event, L1Watcher, WatcherConfig};
use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

/// What the node knows of L1: the newest block seen and the queued messages not yet applied.
#[derive(Debug, Default)]
pub struct L1View {
    /// Newest L1 block seen (after confirmations).
    pub head: L1BlockRef,
    /// Enqueued messages by index (pruned once applied on L2).
    pub messages: BTreeMap<u64, L1Message>,
    /// Hashes of recent L1 blocks, for anchors.
    pub hashes: BTreeMap<u64, B256>,
    /// The L1 block each known message was enqueued in.
    pub enqueued_in: BTreeMap<u64, u64>,
}

impl L1View {
    /// The messages from index `from` on, in order, while contiguous.
    pub fn pending_from(&self, from: u64) -> Vec<L1Message> {
        let mut out = Vec::new();
        let mut next = from;
        while let Some(m) = self.messages.get(&next) {
            out.push(m.clone());
            next += 1;
        }
        out
    }
}

/// How a node follows L1.
#[derive(Debug, Clone)]
pub struct FollowerConfig {
    /// L1 block to start from (the rollup's deployment block).
    pub start_block: u64,
    /// L1 confirmations before a block is used.
    pub confirmations: u64,
    /// Head polling interval (with `ws_url`: the longest wait between looks, and the polling
    /// interval while the subscription is down).
    pub poll_interval: Duration,
    /// L1's WebSocket JSON-RPC endpoint (e.g. `ws://127.0.0.1:8546`): when set, new L1 heads
    /// are followed over an `eth_subscribe("newHeads")` subscription instead of polling alone
    /// (falling back to polling, and resubscribing, while it is down).
    pub ws_url: Option<String>,
    /// Import posted blocks (a follower) or only check them against ours (the sequencer).
    pub import: bool,
}

/// Follows L1 for one node, through an [`L1Provider`] (the [`L1Client`] by default).
#[derive(Debug)]
pub struct Follower<P = L1Client> {
    node: Arc<L2Node>,
    client: P,
    watcher: L1Watcher<P>,
    view: Arc<Mutex<L1View>>,
    config: FollowerConfig,
    /// L2 blocks posted, by the L1 block that posted them (for finality).
    posted_at: BTreeMap<u64, u64>,
    /// Newest L2 block posted by each recent L1 block (for reorgs).
    posted_by_l1: BTreeMap<u64, u64>,
}

impl FollowerConfig {
    fn watcher(&self) -> WatcherConfig {
        WatcherConfig {
            start_block: self.start_block,
            confirmations: self.confirmations,
            poll_interval: self.poll_interval,
        }
    }
}

impl Follower<L1Client> {
    /// A follower of `rollup` on the L1 behind `client`.
    pub fn new(node: Arc<L2Node>, client: L1Client, rollup: alloy_primitives::Address, config: FollowerConfig) -> Self {
        let watcher = L1Watcher::new(client.clone(), rollup, config.watcher());
        Self::with_watcher(node, client, watcher, config)
    }
}

impl<P: L1Provider + Clone> Follower<P> {
    /// A follower of `rollup` on the L1 `provider` reads.
    pub fn with_provider(
        node: Arc<L2Node>,
        provider: P,
        rollup: alloy_primitives::Address,
        config: FollowerConfig,
    ) -> Self {
        let watcher = L1Watcher::with_provider(provider.clone(), rollup, config.watcher());
        Self::with_watcher(node, provider, watcher, config)
    }

    fn with_watcher(node: Arc<L2Node>, client: P, mut watcher: L1Watcher<P>, config: FollowerConfig) -> Self {
        if let Some(url) = &config.ws_url {
            watcher = watcher.with_ws(url.clone());
        }
        Self {
            node,
            client,
            watcher,
            view: Arc::new(Mutex::new(L1View::default())),
            config,
            posted_at: BTreeMap::new(),
            posted_by_l1: BTreeMap::new(),
        }
    }

    /// The shared view of L1 (the sequencer reads messages and the anchor block from it).
    pub fn view(&self) -> Arc<Mutex<L1View>> {
        self.view.clone()
    }

    /// The `node` label of this node's metrics.
    fn role(&self) -> &'static str {
        if self.config.import { "follower" } else { "sequencer" }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, L1View> {
        self.view.lock_or_recover()
    }

    /// Runs until `shutdown` resolves. Temporary L1 errors are retried; a posted block that
    /// differs from one of ours L1 already verified stops the loop with the error; one that
    /// replaces a block of ours not yet posted wins (ours are rewound).
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) -> Result<(), NodeError> {
        tokio::pin!(shutdown);
        loop {
            let event = tokio::select! {
                () = &mut shutdown => return Ok(()),
                event = self.watcher.next() => event,
            };
            match event {
                Ok(L1Event::Block(block)) => self.on_block(block).await?,
                Ok(L1Event::Reorg { common_ancestor }) => self.on_reorg(common_ancestor)?,
                Err(e) if e.severity() == Severity::Temporary => {
                    tracing::warn!(target: "nrd::follower", "L1 unavailable, retrying: {e}");
                    tokio::time::sleep(self.config.poll_interval).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    async fn on_block(&mut self, block: nrd_l1_watcher::L1Block) -> Result<(), NodeError> {
        let chain = self.node.chain().clone();
        {
            let mut view = self.lock();
            view.head = L1BlockRef { number: block.number, hash: block.hash, timestamp: block.timestamp };
            view.hashes.insert(block.number, block.hash);
            let keep = block.number.saturating_sub(512);
            view.hashes.retain(|n, _| *n >= keep);
            for m in &block.messages {
                view.messages.insert(m.index, m.clone());
                view.enqueued_in.insert(m.index, block.number);
            }
        }
        for advance in &block.advances {
            for posted in &advance.posted {
                let number = posted.block.header.number;
                let hash = posted.block.header.hash_slow();
                let head = chain.head().number();
                if number < chain.first_block() && chain.block_hash(number).is_none() {
                    // Before the checkpoint this chain started from (L1 verified it): nothing
                    // of ours to compare.
                    continue;
                }
                let ours = if number <= head { chain.block_hash(number) } else { None };
                if ours.is_some_and(|ours| ours != hash) && number > chain.safe() {
                    // Our own block, not yet posted (a sequencer's, or a self-proposing
                    // follower's), lost to a block someone else posted: L1 decides. Ours are
                    // dropped and their transactions go back to the pool.
                    let dropped = self.node.rewind(number - 1)?;
                    nrd_metrics::blocks_replaced(self.role(), dropped);
                    tracing::warn!(target: "nrd::follower", role = self.role(), number, dropped, "L1 holds another block where ours was not posted yet: importing it");
                }
                let head = chain.head().number();
                if number <= head {
                    let ours = chain.block_hash(number).unwrap_or_default();
                    if ours != hash {
                        nrd_metrics::root_mismatch(self.role());
                        return Err(NodeError::Diverged { number, posted: hash, ours });
                    }
                } else {
                    // A follower imports every posted block; a sequencer the ones another party
                    // posted (a proposer after the window), then builds on them.
                    let l1_hash = self.l1_hash(posted.l1_anchor).await?;
                    let imported = chain.import(posted, l1_hash).inspect_err(|e| {
                        if matches!(e, NodeError::Block(_)) {
                            nrd_metrics::root_mismatch(self.role());
                        }
                    })?;
                    tracing::info!(
                        target: "nrd::follower",
                        number,
                        hash = %imported.hash,
                        txs = imported.tx_hashes.len(),
                        messages = posted.messages.len(),
                        l1_block = block.number,
                        "imported L2 block from L1"
                    );
                }
                chain.set_safe(number);
                self.posted_at.insert(block.number, number);
                self.posted_by_l1.insert(block.number, number);
            }
        }
        // Finality: the L1 block that posted an L2 block is finalized.
        if let Ok(Some(finalized)) = self.client.header(alloy_eips::BlockNumberOrTag::Finalized).await {
            let done: Vec<u64> = self.posted_at.range(..=finalized.number).map(|(_, l2)| *l2).collect();
            if let Some(max) = done.iter().max() {
                chain.set_finalized(*max);
            }
            self.posted_at.retain(|l1, _| *l1 > finalized.number);
        }
        let keep = block.number.saturating_sub(1024);
        self.posted_by_l1.retain(|l1, _| *l1 >= keep);
        let next = chain.next_message();
        let pending = {
            let mut view = self.lock();
            view.messages.retain(|i, _| *i >= next);
            view.enqueued_in.retain(|i, l1| *i >= next || *l1 >= keep);
            view.messages.len() as u64
        };
        self.node.update_status(|s| {
            s.l1_head = block.number;
            s.pending_messages = pending;
        });
        Ok(())
    }

    /// L1 dropped every block after `ancestor`: forget what came from them (messages, hashes,
    /// postings), and rewind the L2 to what the surviving L1 chain supports — for a follower,
    /// the blocks posted up to `ancestor`; for the sequencer, the blocks anchored at or before
    /// it (its later blocks applied messages or referenced L1 blocks that no longer exist; their
    /// transactions return to the pool). The watcher then re-delivers the new L1 blocks.
    fn on_reorg(&mut self, ancestor: u64) -> Result<(), NodeError> {
        nrd_metrics::reorg(self.role(), self.lock().head.number.saturating_sub(ancestor));
        let chain = self.node.chain().clone();
        let posted = self.posted_by_l1.range(..=ancestor).map(|(_, l2)| *l2).max().unwrap_or(0);
        self.posted_by_l1.retain(|l1, _| *l1 <= ancestor);
        self.posted_at.retain(|l1, _| *l1 <= ancestor);
        {
            let mut view = self.lock();
            view.hashes.retain(|n, _| *n <= ancestor);
            let dropped: Vec<u64> =
                view.enqueued_in.iter().filter(|(_, l1)| **l1 > ancestor).map(|(i, _)| *i).collect();
            for index in &dropped {
                view.messages.remove(index);
                view.enqueued_in.remove(index);
            }
            if let Some(hash) = view.hashes.get(&ancestor).copied() {
                view.head = L1BlockRef { number: ancestor, hash, timestamp: view.head.timestamp };
            }
        }
        let target = if self.config.import { posted } else { chain.last_anchored_at_or_before(ancestor) };
        let head = chain.head().number();
        let dropped = self.node.rewind(target.min(head))?;
        chain.reset_safe(posted);
        tracing::warn!(
            target: "nrd::follower",
            common_ancestor = ancestor,
            l2_head = head,
            rewound_to = target.min(head),
            dropped,
            safe = posted,
            "L1 reorg: rewound what the dropped L1 blocks carried"
        );
        Ok(())
    }

    async fn l1_hash(&self, number: u64) -> Result<B256, NodeError> {
        if let Some(hash) = self.lock().hashes.get(&number) {
            return Ok(*hash);
        }
        let header = self
            .client
            .header(alloy_eips::BlockNumberOrTag::Number(number))
            .await?
            .ok_or(NodeError::L1BlockMissing(number))?;
        Ok(header.hash)
    }
}
