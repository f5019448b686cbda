//! `nrd bridge advance`: liveness for anyone with an L1 key. When the sequencer has posted
//! nothing for the forced-inclusion window (`NativeRollup.advance` is then open to anyone,
//! docs/protocol.md §8.4 step 1), this rebuilds the L2 chain from L1 alone — in process, in
//! an in-memory store, from the L2 genesis file — with the follower of `nrd node`
//! ([`nrd_node::Follower`]), then builds the next blocks with the pending L1 messages and posts
//! them with the self-proposer of `nrd node`'s `[proposer]` ([`nrd_sequencer::SelfProposer`]),
//! waiting until L1 verified them. No L2 node is trusted: every imported block is checked
//! against the hash L1 recorded, and the genesis against `stateRoots(0)`.

use super::{BridgeError, Context, POLL, until};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::Filter;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolEvent;
use clap::Args;
use nrd_bridge::NativeRollup;
use nrd_chain::LockExt as _;
use nrd_derivation::DaMode;
use nrd_node::L2Chain;
use nrd_node_builder::{
    L1Section, NodeBuilder, NodeConfig, ProposerSection, Role, RunningNode, SequencerSection, memory_store,
    read_genesis,
};
use nrd_sequencer::{ProposerStep, SelfProposer};
use std::{
    net::SocketAddr,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::sync::watch;

/// `nrd bridge advance` flags (besides the common ones and the key).
#[derive(Debug, Args)]
pub(crate) struct AdvanceArgs {
    /// The L2 genesis the rollup started from (checked against `NativeRollup.stateRoots(0)`).
    #[arg(long, default_value = "config/l2-genesis.json")]
    genesis: PathBuf,
    /// L1 beacon API, for the blobs of blob-mode batches.
    #[arg(long, env = "NRD_L1_BEACON_URL", default_value = "http://127.0.0.1:5052")]
    beacon_url: String,
    /// First L1 block to read (default: the rollup's deployment block, found from headers).
    #[arg(long)]
    start_block: Option<u64>,
    /// Where the posted blocks' transactions go: `calldata` or `blob`. The blocks carry none
    /// (only L1 messages, which `advance` carries in calldata either way), so calldata spares
    /// the blob fee of an empty batch.
    #[arg(long, default_value = "calldata", value_parser = str::parse::<DaMode>)]
    da_mode: DaMode,
    /// Fee recipient of the L2 blocks built (default: the sender).
    #[arg(long)]
    fee_recipient: Option<Address>,
}

/// The in-process follower: the node rebuilt from L1 and how to stop it.
struct Following {
    running: RunningNode,
    stop: watch::Sender<bool>,
}

impl Following {
    /// The follower's error, if it stopped.
    async fn failure(&mut self) -> Option<BridgeError> {
        if !self.running.follower.is_finished() {
            return None;
        }
        let why = match (&mut self.running.follower).await {
            Ok(Ok(())) => "it stopped".to_string(),
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        Some(BridgeError::Invalid(format!("rebuilding the L2 from L1 failed: {why}")))
    }

    async fn stop(self) {
        let _ = self.stop.send(true);
        self.running.stopped().await;
    }
}

/// What one `nrd bridge advance` works with.
struct Session<'a> {
    ctx: &'a Context,
    rollup: Address,
    signer: &'a PrivateKeySigner,
    mode: DaMode,
    /// The L2 as rebuilt from L1.
    chain: Arc<L2Chain>,
    /// First L1 block read.
    start_block: u64,
}

/// Runs `nrd bridge advance`.
pub(crate) async fn advance(ctx: &Context, signer: &PrivateKeySigner, args: &AdvanceArgs) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let genesis = read_genesis(&args.genesis)?;
    let root = genesis.state_root();
    let started_from = ctx.l1.view(rollup, NativeRollup::stateRootsCall(0), BlockNumberOrTag::Latest).await?;
    if started_from != root {
        return Err(BridgeError::Invalid(format!(
            "--genesis {} has state root {root}, but the rollup at {rollup} started from {started_from}: not its genesis",
            args.genesis.display()
        )));
    }
    let start_block = match args.start_block {
        Some(block) => block,
        None => ctx.l1.deployment_block(rollup).await?,
    };

    // The L2, from L1 alone, with the follower and self-proposer of `nrd node`, configured as a
    // self-proposing follower's defaults would have it.
    let config = NodeConfig {
        role: Role::Follower,
        data_dir: PathBuf::new(),
        genesis: args.genesis.clone(),
        rpc_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        metrics_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        l1: L1Section {
            rpc_url: ctx.l1.url.clone(),
            ws_url: None,
            beacon_url: args.beacon_url.clone(),
            rollup,
            start_block,
            confirmations: 0,
            poll_interval_ms: (POLL / 2).as_millis() as u64,
        },
        sequencer: SequencerSection {
            da_mode: args.da_mode.to_string(),
            fee_recipient: args.fee_recipient,
            ..Default::default()
        },
        proposer: ProposerSection { self_propose: true, key: None },
        state: Default::default(),
    };
    let (stop, stopped) = watch::channel(false);
    let (running, proposer) = NodeBuilder::new(config)
        .with_genesis(genesis)
        .with_store(memory_store()?)
        .with_key(Some(signer.clone()))
        .with_l1_timeout(Duration::from_secs(30))
        .without_rpc()
        .launch_proposer(stopped)
        .await?;
    let (chain, view) = (running.node.chain().clone(), running.view.clone());
    let mut following = Following { running, stop };
    let session = Session { ctx, rollup, signer, mode: args.da_mode, chain: chain.clone(), start_block };
    let result = session.propose(proposer, &mut following).await;
    following.stop().await;
    let (first, last) = result?;

    // What L1 now holds.
    session.report(first, last).await?;
    let left = view.lock_or_recover().pending_from(chain.next_message()).len();
    if left > 0 {
        println!(
            "note: {left} L1 message(s) still pending (beyond this batch's anchor budget): the sequencer may \
             include them now, or anyone after the next window (run `nrd bridge advance` again)"
        );
    }
    Ok(())
}

impl Session<'_> {
    /// Steps the self-proposer until its batch is verified on L1; returns the batch's blocks.
    async fn propose(&self, mut proposer: SelfProposer, following: &mut Following) -> Result<(u64, u64), BridgeError> {
        let Self { ctx, rollup, signer, mode, chain, start_block } = self;
        let (rollup, mode, start_block) = (*rollup, *mode, *start_block);
        let start = Instant::now();
        let mut batch: Option<(u64, u64)> = None;
        let mut announced = false;
        let mut last_error: Option<String> = None;
        loop {
            if let Some(e) = following.failure().await {
                return Err(e);
            }
            match proposer.step().await {
                Ok(step @ ProposerStep::Closed { l1_time, last_advance, window }) => {
                    let opens_at = step.opens_at().unwrap_or_default();
                    return Err(match batch {
                        None => BridgeError::Invalid(format!(
                            "advance is not open to anyone yet: the rollup last advanced at L1 time {last_advance} and \
                             the sequencer keeps it alone for forcedInclusionWindow {window} s, so anyone may \
                             advance from L1 time {opens_at} ({}; L1 time now {l1_time})",
                            until(l1_time, opens_at)
                        )),
                        Some((first, last)) => BridgeError::Invalid(format!(
                            "the batch of L2 blocks {first}..={last} left the L1 pool without reaching L1, and the \
                             rollup advanced meanwhile (last advance at L1 time {last_advance}): nothing posted"
                        )),
                    });
                }
                Ok(ProposerStep::CatchingUp { l1_head, seen, l2_head, posted }) => {
                    if !announced {
                        println!(
                            "advance is open to anyone; rebuilding the L2 from L1 blocks {start_block}..={l1_head} \
                             (L1 holds L2 blocks up to {posted}) ..."
                        );
                        announced = true;
                    }
                    last_error = Some(format!("L1 blocks seen up to {seen}, L2 head {l2_head} of {posted}"));
                }
                Ok(ProposerStep::Proposed { first, last, tx }) => {
                    let parent = first.saturating_sub(1);
                    if let Some(head) = chain.block(parent) {
                        println!("rebuilt the L2 from L1: head {parent} ({}, as L1 recorded it)", head.hash);
                    }
                    for number in first..=last {
                        let messages = chain.l1_info(number).map(|i| i.messages.clone()).unwrap_or_default();
                        let anchor = chain.l1_info(number).map_or(0, |i| i.l1_anchor);
                        let applied = match (messages.first(), messages.last()) {
                            (Some(a), Some(b)) => format!("L1 messages {}..={}", a.index, b.index),
                            _ => "no L1 messages".into(),
                        };
                        println!("built l2 block {number}: {applied}, anchored to L1 block {anchor}");
                    }
                    println!(
                        "sent NativeRollup.advance on L1 from {} (L2 blocks {first}..={last}, {mode} mode): {tx}",
                        signer.address(),
                    );
                    println!("waiting for L1 to verify them ...");
                    batch = Some((first, last));
                }
                Ok(ProposerStep::Refused { reason }) => {
                    return Err(BridgeError::Invalid(format!("L1 refused the batch: {reason}")));
                }
                Ok(ProposerStep::InFlight | ProposerStep::Settled | ProposerStep::Idle) => {}
                Err(e) => last_error = Some(e.to_string()),
            }
            if let Some((first, last)) = batch {
                let head = ctx.l1.view(rollup, NativeRollup::headNumberCall {}, BlockNumberOrTag::Latest).await?;
                if head >= last {
                    return Ok((first, last));
                }
            }
            if start.elapsed() >= ctx.timeout {
                let what = match batch {
                    Some((first, last)) => format!("L1 to verify L2 blocks {first}..={last}"),
                    None => "the L2 to be rebuilt from L1 and the next block posted".into(),
                };
                let what = match last_error {
                    Some(e) => format!("{what} (last: {e})"),
                    None => what,
                };
                return Err(BridgeError::Timeout { what, seconds: ctx.timeout.as_secs() });
            }
            tokio::time::sleep(POLL / 2).await;
        }
    }

    /// Prints the `advance` that posted `first..=last` as L1 recorded it (`BlockAdvanced` events).
    async fn report(&self, first: u64, last: u64) -> Result<(), BridgeError> {
        let Self { ctx, rollup, signer, chain, start_block, .. } = self;
        let (rollup, sender, start_block) = (*rollup, signer.address(), *start_block);
        let l1_head = ctx.l1.block_number().await?;
        let filter = Filter::new()
            .address(rollup)
            .event_signature(NativeRollup::BlockAdvanced::SIGNATURE_HASH)
            .topic1(B256::left_padding_from(&last.to_be_bytes()))
            .from_block(start_block.max(l1_head.saturating_sub(9_000)))
            .to_block(l1_head);
        let logs = ctx.l1.client.logs(&filter).await.map_err(|e| ctx.l1.err(e))?;
        let log = logs.last().ok_or_else(|| {
            BridgeError::Invalid(format!("L1 holds L2 block {last} but no BlockAdvanced event for it was found"))
        })?;
        let event = NativeRollup::BlockAdvanced::decode_log_data(log.data())
            .map_err(|e| BridgeError::Invalid(format!("BlockAdvanced event of L2 block {last}: {e}")))?;
        let tx = log.transaction_hash.unwrap_or_default();
        let receipt = ctx.l1.receipt(tx).await?;
        let from = receipt.as_ref().map(|r| r.from);
        let ours = chain.block(last).map(|b| b.hash);
        if ours != Some(event.blockHash) || from != Some(sender) {
            return Err(BridgeError::Invalid(format!(
                "L1 holds another L2 block {last} ({}, posted by {} in tx {tx}): someone else advanced first",
                event.blockHash,
                from.map_or_else(|| "?".into(), |a| a.to_string())
            )));
        }
        println!("l1 tx: {tx}");
        match &receipt {
            Some(r) => println!("l1 block: {} (gas used {})", r.block_number.unwrap_or_default(), r.gas_used),
            None => println!("l1 block: {}", log.block_number.unwrap_or_default()),
        }
        println!("advanced: L2 blocks {first}..={last}, verified by EXECUTE on L1 (posted by {sender})");
        let consumed = ctx.l1.view(rollup, NativeRollup::consumedCall {}, BlockNumberOrTag::Latest).await?;
        println!("l1 messages applied so far: {consumed} (NativeRollup.consumed)");
        println!("new head: {last} ({}, state root {})", event.blockHash, event.stateRoot);
        let window = ctx.l1.view(rollup, NativeRollup::forcedInclusionWindowCall {}, BlockNumberOrTag::Latest).await?;
        let now = ctx.l1.now().await?;
        let last_advance = ctx.l1.view(rollup, NativeRollup::lastAdvanceAtCall {}, BlockNumberOrTag::Latest).await?;
        let opens_at = last_advance.saturating_add(window).saturating_add(1);
        println!(
            "next: the sequencer may advance again at any time; anyone may from L1 time {opens_at} ({}) if it stays silent",
            until(now, opens_at)
        );
        Ok(())
    }
}
