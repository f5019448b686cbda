//! The self-proposer: liveness without the sequencer. A follower that holds an L1 key watches the
//! rollup; once the sequencer has posted nothing for `forcedInclusionWindow` (L1's
//! `block.timestamp > lastAdvanceAt + forcedInclusionWindow`, when `NativeRollup.advance` is
//! open to anyone) and the follower has imported everything L1 holds, it builds the next L2
//! block itself with the derivation function — every pending L1 message within the budget, no
//! L2 transactions — and posts it with a [`Submitter`]. Its chain then continues from its own
//! block; a block someone else posts at a height it built but had not yet posted replaces its
//! own (the follower rewinds and imports, see `nrd_node::Follower`).
//!
//! [`SelfProposer::step`] is one round and says what it did ([`ProposerStep`]): a
//! self-proposing follower runs it forever, `nrd bridge advance` until its batch is on L1.

use crate::{BlockProducer, Mempool, SequencerError, Submitter, SubmitterConfig};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolCall;
use nrd_bridge::NativeRollup;
use nrd_chain::LockExt as _;
use nrd_derivation::SequencingConfig;
use nrd_l1_client::L1Client;
use nrd_node::{L1View, L2Node};
use nrd_txpool::PoolLimits;
use std::sync::{Arc, Mutex};

/// Most blocks one self-proposed batch builds (each applies messages up to the anchor budget).
const MAX_BLOCKS: usize = 8;

/// What one [`SelfProposer::step`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProposerStep {
    /// `advance` is still the sequencer's alone: L1's latest block (at `l1_time`) is not after
    /// `last_advance + window`; anyone may advance from [`ProposerStep::opens_at`] on.
    Closed {
        /// `block.timestamp` of L1's latest block.
        l1_time: u64,
        /// `NativeRollup.lastAdvanceAt()`.
        last_advance: u64,
        /// `NativeRollup.forcedInclusionWindow()`.
        window: u64,
    },
    /// `advance` is open to anyone, but this node has not imported everything L1 holds yet.
    CatchingUp {
        /// L1's latest block.
        l1_head: u64,
        /// The newest L1 block the node has seen.
        seen: u64,
        /// The node's L2 head.
        l2_head: u64,
        /// The L2 head on L1 (`headNumber`).
        posted: u64,
    },
    /// Sealed L2 blocks (L1 messages only) and sent them to L1 in one `advance`.
    Proposed {
        /// First block of the batch.
        first: u64,
        /// Last block of the batch.
        last: u64,
        /// The `advance` transaction.
        tx: B256,
    },
    /// The batch sent is not in an L1 block yet.
    InFlight,
    /// The batch in flight left the pool: included and verified, or dropped (then posted
    /// again in a later round).
    Settled,
    /// L1 refused the batch (someone else advanced first, the window closed): the blocks it
    /// carried were dropped.
    Refused {
        /// Why, as the contract or the submitter says it.
        reason: String,
    },
    /// Nothing to do this round (no block could be sealed yet).
    Idle,
}

impl ProposerStep {
    /// For [`ProposerStep::Closed`], the first L1 time at which anyone may advance
    /// (`lastAdvanceAt + forcedInclusionWindow + 1`, the contract's `openToAllAt`).
    pub fn opens_at(&self) -> Option<u64> {
        match self {
            Self::Closed { last_advance, window, .. } => Some(last_advance.saturating_add(*window).saturating_add(1)),
            _ => None,
        }
    }
}

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
        let producer = BlockProducer::new(chain, pool, view.clone(), sequencing)
            .with_limits(config.limits, config.mode)
            .with_runs(config.runs);
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
        Ok(self.client.view_call(self.config.rollup, &call, BlockNumberOrTag::Latest).await?)
    }

    /// One round: follow the batch in flight, or — when `advance` is open to anyone and this
    /// node is caught up with L1 — build and post the next blocks. Says what it did, so a
    /// one-shot caller (`nrd bridge advance`) can drive it to completion.
    pub async fn step(&mut self) -> Result<ProposerStep, SequencerError> {
        if self.submitter.in_flight() {
            return match self.submitter.step().await {
                Err(e @ SequencerError::Refused { .. }) => self.abandon(e.to_string()).await,
                Err(e) => Err(e),
                Ok(()) if self.submitter.in_flight() => Ok(ProposerStep::InFlight),
                Ok(()) => Ok(ProposerStep::Settled),
            };
        }
        let latest =
            self.client.header(BlockNumberOrTag::Latest).await?.ok_or(SequencerError::L1Missing("a latest block"))?;
        let last_advance = self.view(NativeRollup::lastAdvanceAtCall {}).await?;
        let window = self.view(NativeRollup::forcedInclusionWindowCall {}).await?;
        if latest.timestamp <= last_advance.saturating_add(window) {
            return Ok(ProposerStep::Closed { l1_time: latest.timestamp, last_advance, window });
        }
        // Caught up: every L1 block seen (so every message and posted block), every posted
        // L2 block imported.
        let posted = self.view(NativeRollup::headNumberCall {}).await?;
        let seen = self.view.lock_or_recover().head.number;
        let chain = self.node.chain().clone();
        let head = chain.head().number();
        if seen < latest.number || head < posted {
            return Ok(ProposerStep::CatchingUp { l1_head: latest.number, seen, l2_head: head, posted });
        }
        if head == posted {
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
                let pending = self.view.lock_or_recover().pending_from(chain.next_message());
                if pending.is_empty() {
                    break;
                }
            }
        }
        // Blocks beyond `posted` are ours: just sealed, or sealed in an earlier round whose
        // posting failed before it reached L1 (posted again now).
        match self.submitter.step().await {
            Err(e @ SequencerError::Refused { .. }) => self.abandon(e.to_string()).await,
            Err(e) => Err(e),
            Ok(()) => Ok(match self.submitter.in_flight_batch() {
                Some((first, last, tx)) => ProposerStep::Proposed { first, last, tx },
                None => ProposerStep::Idle,
            }),
        }
    }

    /// L1 refused our batch (someone else advanced first, or the window closed): drop the
    /// blocks we built and did not post, and start again from what L1 holds.
    async fn abandon(&mut self, reason: String) -> Result<ProposerStep, SequencerError> {
        tracing::warn!(target: "nrd::proposer", %reason, "self-proposed batch refused; dropping the unposted blocks");
        self.submitter = Submitter::new(self.node.clone(), self.client.clone(), self.config.clone());
        let posted = self.view(NativeRollup::headNumberCall {}).await?;
        let head = self.node.chain().head().number();
        if posted < head {
            self.node.rewind(posted)?;
        }
        Ok(ProposerStep::Refused { reason })
    }

    /// The key's address.
    pub fn address(&self) -> Address {
        self.config.key.address()
    }
}
