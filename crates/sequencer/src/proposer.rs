//! The self-proposer: liveness without the sequencer. A follower that holds an L1 key watches the
//! rollup; once the sequencer has posted nothing for `forcedInclusionWindow` (L1's
//! `block.timestamp > lastAdvanceAt + forcedInclusionWindow`, when `NativeRollup.advance` is
//! open to anyone) and the follower has imported everything L1 holds, it builds the next L2
//! block itself with the derivation function — every pending L1 message within the budget, no
//! L2 transactions — and posts it with a [`Submitter`]. Its chain then continues from its own
//! block; a block someone else posts at a height it built but had not yet posted replaces its
//! own (the follower rewinds and imports, see `nrd_node::Follower`).

use crate::{BlockProducer, Mempool, SequencerError, Submitter, SubmitterConfig};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::Address;
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::SolCall;
use nrd_bridge::NativeRollup;
use nrd_derivation::SequencingConfig;
use nrd_l1_watcher::L1Client;
use nrd_node::{L1View, L2Node};
use nrd_txpool::PoolLimits;
use std::sync::{Arc, Mutex};

/// Most blocks one self-proposed batch builds (each applies messages up to the anchor budget).
const MAX_BLOCKS: usize = 8;

/// Advances the rollup from a follower when the sequencer is silent.
#[derive(Debug)]
pub struct SelfProposer {
    node: Arc<L2Node>,
    client: L1Client,
    view: Arc<Mutex<L1View>>,
    producer: BlockProducer,
    config: SubmitterConfig,
    submitter: Submitter,
}

impl SelfProposer {
    /// A self-proposer for the follower `node`, which sees L1 as `view`; `config.key` signs
    /// the `advance` transactions.
    pub fn new(
        node: Arc<L2Node>,
        client: L1Client,
        view: Arc<Mutex<L1View>>,
        sequencing: SequencingConfig,
        mut config: SubmitterConfig,
    ) -> Self {
        config.max_blocks = config.max_blocks.max(MAX_BLOCKS);
        let chain = node.chain().clone();
        // An empty pool nobody can reach: the blocks carry L1 messages only.
        let pool = Arc::new(Mempool::new(chain.clone(), PoolLimits::default(), Vec::new()));
        let producer = BlockProducer::new(chain, pool, view.clone(), sequencing);
        let submitter = Submitter::new(node.clone(), client.clone(), config.clone());
        Self { node, client, view, producer, config, submitter }
    }

    /// Runs until `shutdown`.
    pub async fn run(mut self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        tracing::info!(target: "nrd::proposer", key = %self.config.key.address(), "self-proposing when the sequencer is silent");
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(self.config.poll) => {}
            }
            if let Err(e) = self.step().await {
                tracing::warn!(target: "nrd::proposer", "will retry: {e}");
            }
        }
    }

    async fn view<C: SolCall>(&self, call: C) -> Result<C::Return, SequencerError> {
        let request = TransactionRequest::default().to(self.config.rollup).input(call.abi_encode().into());
        let out = self.client.call(&request, BlockNumberOrTag::Latest).await?;
        C::abi_decode_returns(&out).map_err(|e| SequencerError::Decode(e.to_string()))
    }

    /// One round: follow the batch in flight, or — when `advance` is open to anyone and this
    /// node is caught up with L1 — build and post the next blocks.
    pub async fn step(&mut self) -> Result<(), SequencerError> {
        if self.submitter.in_flight() {
            return match self.submitter.step().await {
                Err(SequencerError::Refused { reason, .. }) => self.abandon(&reason).await,
                other => other,
            };
        }
        let latest =
            self.client.header(BlockNumberOrTag::Latest).await?.ok_or(SequencerError::Decode("no L1 head".into()))?;
        let last_advance = self.view(NativeRollup::lastAdvanceAtCall {}).await?;
        let window = self.view(NativeRollup::forcedInclusionWindowCall {}).await?;
        if latest.timestamp <= last_advance.saturating_add(window) {
            return Ok(());
        }
        // Caught up: every L1 block seen (so every message and posted block), every posted
        // L2 block imported.
        let posted = self.view(NativeRollup::headNumberCall {}).await?;
        let seen = self.view.lock().unwrap_or_else(|e| e.into_inner()).head.number;
        let chain = self.node.chain().clone();
        if seen < latest.number || chain.head().number() != posted {
            return Ok(());
        }
        tracing::info!(
            target: "nrd::proposer",
            l1_time = latest.timestamp,
            last_advance,
            window,
            l2_head = posted,
            "the sequencer has been silent for the forced-inclusion window: proposing"
        );
        for _ in 0..MAX_BLOCKS {
            if self.producer.seal()?.is_none() {
                break;
            }
            let pending = self.view.lock().unwrap_or_else(|e| e.into_inner()).pending_from(chain.next_message());
            if pending.is_empty() {
                break;
            }
        }
        match self.submitter.step().await {
            Err(SequencerError::Refused { reason, .. }) => self.abandon(&reason).await,
            other => other,
        }
    }

    /// L1 refused our batch (someone else advanced first, or the window closed): drop the
    /// blocks we built and did not post, and start again from what L1 holds.
    async fn abandon(&mut self, reason: &str) -> Result<(), SequencerError> {
        tracing::warn!(target: "nrd::proposer", %reason, "self-proposed batch refused; dropping the unposted blocks");
        self.submitter = Submitter::new(self.node.clone(), self.client.clone(), self.config.clone());
        let posted = self.view(NativeRollup::headNumberCall {}).await?;
        let head = self.node.chain().head().number();
        if posted < head {
            self.node.rewind(posted)?;
        }
        Ok(())
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.config.key.address()
    }
}
