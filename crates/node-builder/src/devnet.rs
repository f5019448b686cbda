//! `nrd devnet`: a whole native rollup in one process — the L1 devnet with EXECUTE, the rollup
//! contract deployed on it, the L2 genesis, a sequencer (block production and batch submission)
//! and a follower that rebuilds the L2 from L1 alone, each with its JSON-RPC.

use crate::{
    L1Section, LaunchError, NodeBuilder, NodeConfig, ProposerSection, Role, RollupParams, RunningNode,
    SequencerSection, deploy_rollup,
    error::LaunchResult,
    launch::{memory_store, open_store},
    ops::{serve_ops, watch_l1, watch_node},
};
use alloy_primitives::Address;
use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_l1_devnet::{Devnet, DevnetConfig, TEST_MNEMONIC};
use nrd_rpc::RpcLimits;
use nrd_storage::ChainStore;
use std::{future::Future, net::SocketAddr, path::PathBuf, sync::Arc, time::Duration};
use tokio::sync::watch;

/// Where the devnet sequencer's L2 fees go.
const SEQUENCER_FEE_VAULT: Address = alloy_primitives::address!("0x4e520000000000000000000000000000000fee00");

/// L1 dev accounts: 0–9 are the users' (funded on both chains); the sequencer (10), the rollup
/// owner (11) and the self-proposing follower (12) have their own, so a user's transaction
/// never races the submitter for a nonce.
const L1_ACCOUNTS: u32 = 13;
/// The L1 dev account that signs the devnet sequencer's `advance` transactions.
pub const SEQUENCER_ACCOUNT: usize = 10;
const OWNER_ACCOUNT: usize = 11;
const PROPOSER_ACCOUNT: usize = 12;

/// What `nrd devnet` runs: its flags.
#[derive(Debug, Clone, clap::Args)]
pub struct DevnetOptions {
    /// L2 JSON-RPC (the sequencer's).
    #[arg(long, default_value = "127.0.0.1:8545", env = "NRD_L2_RPC_ADDR")]
    pub rpc_addr: SocketAddr,
    /// L1 JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8546", env = "NRD_L1_RPC_ADDR")]
    pub l1_rpc_addr: SocketAddr,
    /// L1 beacon API (blob sidecars).
    #[arg(long, default_value = "127.0.0.1:5052", env = "NRD_L1_BEACON_ADDR")]
    pub beacon_addr: SocketAddr,
    /// The follower's L2 JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8547", env = "NRD_FOLLOWER_RPC_ADDR")]
    pub follower_rpc_addr: SocketAddr,
    /// Seconds between L2 blocks.
    #[arg(long, default_value_t = 1.0)]
    pub block_time: f64,
    /// Seconds between L1 blocks.
    #[arg(long, default_value_t = 1.0)]
    pub l1_block_time: f64,
    /// Block gas limit of the L2 (its genesis).
    #[arg(long, default_value_t = crate::DEVNET_L2_GAS_LIMIT)]
    pub l2_gas_limit: u64,
    /// EXECUTE gas target per L1 block (the limit is twice that); the sequencer's batches carry
    /// at most this much L2 gas.
    #[arg(long, default_value_t = 15_000_000)]
    pub execute_target: u64,
    /// Where batches' transactions go: `blob` or `calldata`.
    #[arg(long, default_value = "blob")]
    pub da_mode: String,
    /// Most batches the sequencer's submitter keeps waiting for L1 at once
    /// (`sequencer.max_batches_in_flight`).
    #[arg(long, default_value_t = 1)]
    pub batches_in_flight: usize,
    /// Milliseconds a sealed block may wait for more blocks to share its batch
    /// (`sequencer.max_batch_delay_ms`; 0: post at once).
    #[arg(long, default_value_t = 0)]
    pub batch_delay_ms: u64,
    /// Keep the L2 databases here (default: in memory; the embedded L1 starts fresh anyway).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// The rollup contract's parameters.
    #[command(flatten)]
    pub params: RollupParams,
    /// Test switch: the sequencer censors this address (repeatable) — refuses its L2
    /// transactions and applies none of its L1 messages (nor any after them), so its advances
    /// fail with `OverdueMessage` once such a message is past its deadline.
    #[arg(long = "censor", value_name = "ADDRESS")]
    pub censor: Vec<Address>,
    /// The follower advances the rollup itself (with L1 dev account 12) once the sequencer has
    /// posted nothing for the forced-inclusion window.
    #[arg(long)]
    pub follower_self_propose: bool,
    /// Metrics (`/metrics`), `/health` and `/ready` of both nodes and the L1.
    #[arg(long, default_value = nrd_metrics::DEFAULT_ADDR, env = "NRD_METRICS_ADDR")]
    pub metrics_addr: SocketAddr,
}

fn seconds(value: f64, flag: &'static str) -> LaunchResult<Duration> {
    if value.is_finite() && value > 0.0 {
        Ok(Duration::from_secs_f64(value))
    } else {
        Err(LaunchError::Option { flag, problem: "must be a positive number of seconds".into() })
    }
}

fn store(data_dir: Option<&PathBuf>, name: &str) -> LaunchResult<Arc<dyn ChainStore>> {
    match data_dir {
        Some(dir) => open_store(&dir.join(name), Default::default()),
        None => memory_store(),
    }
}

/// Runs `nrd devnet` until `shutdown` completes.
pub async fn run_devnet(args: DevnetOptions, shutdown: impl Future<Output = std::io::Result<()>>) -> LaunchResult<()> {
    nrd_metrics::install();
    let l2_block_time = seconds(args.block_time, "--block-time")?;
    let l1_block_time = seconds(args.l1_block_time, "--l1-block-time")?;
    let (stop_tx, stop_rx) = watch::channel(false);

    // L1.
    if args.l2_gas_limit < 21_000 {
        return Err(LaunchError::Option {
            flag: "--l2-gas-limit",
            problem: format!("{} does not fit one transfer (21000 gas)", args.l2_gas_limit),
        });
    }
    if args.l2_gas_limit > args.execute_target.saturating_mul(2) {
        return Err(LaunchError::Option {
            flag: "--l2-gas-limit",
            problem: format!(
                "{} needs --execute-target of at least half of it (a full L2 block must fit the EXECUTE limit, twice the target)",
                args.l2_gas_limit
            ),
        });
    }
    let mut l1_config =
        DevnetConfig { block_time_ms: l1_block_time.as_millis() as u64, accounts: L1_ACCOUNTS, ..Default::default() };
    l1_config.execute.target = args.execute_target;
    l1_config.execute.limit = args.execute_target.saturating_mul(2);
    let RunningL1 { devnet: l1, rpc: l1_rpc, beacon, task: l1_task } =
        start_l1(l1_config, args.l1_rpc_addr, args.beacon_addr, stop_rx.clone()).await?;
    let (l1_url, beacon_url) = (format!("http://{}", l1_rpc.addr), format!("http://{beacon}"));

    // The rollup contract.
    let genesis = crate::devnet_genesis_with_gas_limit(args.l2_gas_limit);
    let client = L1Client::new(L1ClientConfig::new(&l1_url).with_beacon(&beacon_url))
        .map_err(|source| LaunchError::l1_config(l1_url.clone(), source))?;
    let sequencer_key = l1.accounts()[SEQUENCER_ACCOUNT].clone();
    let sequencer_address = sequencer_key.address();
    let owner = l1.accounts()[OWNER_ACCOUNT].clone();
    let (rollup, deployed_at) = deploy_rollup(&client, &owner, sequencer_key.address(), &genesis, args.params).await?;
    tracing::info!(target: "nrd::devnet", %rollup, l1_block = deployed_at, sequencer = %sequencer_key.address(), owner = %owner.address(), "NativeRollup deployed");

    // The sequencer and the follower.
    let l1_section = L1Section {
        rpc_url: l1_url.clone(),
        // The embedded L1 serves WebSocket on its RPC port: heads arrive by subscription.
        ws_url: Some(format!("ws://{}", l1_rpc.addr)),
        beacon_url: beacon_url.clone(),
        rollup,
        start_block: deployed_at,
        confirmations: 0,
        poll_interval_ms: 200,
    };
    let sequencer_section = SequencerSection {
        block_time_ms: l2_block_time.as_millis() as u64,
        max_batch_l2_gas: args.execute_target,
        max_batches_in_flight: args.batches_in_flight.max(1),
        max_batch_delay_ms: args.batch_delay_ms,
        da_mode: args.da_mode.clone(),
        // Fees go to a vault, not to a test account (wallet balance checks stay exact).
        fee_recipient: Some(SEQUENCER_FEE_VAULT),
        censor: args.censor.clone(),
        ..Default::default()
    };
    let sequencer_config = NodeConfig {
        role: Role::Sequencer,
        data_dir: PathBuf::new(),
        genesis: PathBuf::new(),
        rpc_addr: args.rpc_addr,
        l1: l1_section.clone(),
        sequencer: sequencer_section.clone(),
        proposer: ProposerSection::default(),
        metrics_addr: args.metrics_addr,
        state: crate::StateSection::default(),
    };
    sequencer_config.da_mode()?;
    let follower_config = NodeConfig {
        role: Role::Follower,
        rpc_addr: args.follower_rpc_addr,
        sequencer: SequencerSection { censor: Vec::new(), ..sequencer_section.clone() },
        proposer: ProposerSection { self_propose: args.follower_self_propose, key: None },
        ..sequencer_config.clone()
    };
    let proposer_key = args.follower_self_propose.then(|| l1.accounts()[PROPOSER_ACCOUNT].clone());
    let sequencer = NodeBuilder::new(sequencer_config.clone())
        .with_genesis(genesis.clone())
        .with_store(store(args.data_dir.as_ref(), "sequencer")?)
        .with_key(Some(sequencer_key))
        .launch(stop_rx.clone())
        .await?;
    let follower = NodeBuilder::new(follower_config.clone())
        .with_genesis(genesis)
        .with_store(store(args.data_dir.as_ref(), "follower")?)
        .with_key(proposer_key)
        .launch(stop_rx.clone())
        .await?;
    print_accounts(&l1);
    tracing::info!(
        target: "nrd::devnet",
        l2 = %rpc_url(&sequencer),
        follower = %rpc_url(&follower),
        l1 = %l1_url,
        "native rollup devnet running (Ctrl-C to stop)"
    );

    // Metrics, /health and /ready: one server for both nodes (label `node`).
    let mut ops = nrd_metrics::Ops::default();
    let ops_tasks = [
        watch_node(&mut ops, "sequencer", &sequencer_config, &sequencer, Some(sequencer_address), stop_rx.clone())?,
        watch_node(&mut ops, "follower", &follower_config, &follower, None, stop_rx.clone())?,
    ];
    watch_l1(&mut ops, l1.clone());
    serve_ops(args.metrics_addr, "--metrics-addr", ops, stop_rx.clone()).await?;

    // Progress report.
    let (seq_node, fol_node) = (sequencer.node.clone(), follower.node.clone());
    let monitor_stop = stop_rx.clone();
    let monitor = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(Duration::from_secs(10));
        let mut stop = monitor_stop;
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = ticker.tick() => {}
            }
            let s = seq_node.status();
            let f = fol_node.status();
            let same = fol_node.chain().block(f.unsafe_head).map(|b| b.hash)
                == seq_node.chain().block(f.unsafe_head).map(|b| b.hash);
            tracing::info!(
                target: "nrd::devnet",
                l1_head = s.l1_head,
                l2_head = s.unsafe_head,
                safe = s.safe_head,
                finalized = s.finalized_head,
                follower_head = f.unsafe_head,
                follower_matches = same,
                pending_messages = s.pending_messages,
                pool = s.pool_size,
                "status"
            );
        }
    });

    let signal = shutdown.await;
    tracing::info!(target: "nrd::devnet", "shutting down");
    let _ = stop_tx.send(true);
    for running in [sequencer, follower] {
        running.stopped().await;
    }
    let _ = l1_rpc.handle.stop();
    let _ = monitor.await;
    for task in ops_tasks {
        let _ = task.await;
    }
    let _ = l1_task.await;
    signal.map_err(LaunchError::Signal)
}

fn rpc_url(node: &RunningNode) -> String {
    node.rpc.as_ref().map_or_else(|| "none".into(), |rpc| format!("http://{}", rpc.addr))
}

/// The L1 devnet, served: its JSON-RPC (HTTP and WebSocket), its beacon API and its block
/// producer.
struct RunningL1 {
    devnet: Arc<Devnet>,
    rpc: nrd_rpc::RunningServer,
    beacon: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

async fn start_l1(
    config: DevnetConfig,
    rpc_addr: SocketAddr,
    beacon_addr: SocketAddr,
    stop: watch::Receiver<bool>,
) -> LaunchResult<RunningL1> {
    let wait = |mut rx: watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let devnet = Devnet::new(config)?;
    let rpc = nrd_l1_devnet::serve_l1(devnet.clone(), rpc_addr, RpcLimits::default())
        .await
        .map_err(|source| LaunchError::Listen { key: "--l1-rpc-addr", addr: rpc_addr, source })?;
    let beacon = nrd_l1_devnet::serve_beacon(devnet.clone(), beacon_addr, wait(stop.clone()))
        .await
        .map_err(|source| LaunchError::Listen { key: "--beacon-addr", addr: beacon_addr, source })?;
    let task = tokio::spawn(devnet.clone().run(wait(stop)));
    let cfg = devnet.config();
    tracing::info!(
        target: "nrd::l1",
        rpc = %format!("http://{}", rpc.addr),
        ws = %format!("ws://{}", rpc.addr),
        beacon = %format!("http://{beacon}"),
        chain_id = cfg.chain_id,
        block_time_ms = cfg.block_time_ms,
        execute_target = cfg.execute.target,
        execute_limit = cfg.execute.limit,
        "L1 devnet running"
    );
    Ok(RunningL1 { devnet, rpc, beacon, task })
}

/// Prints the dev accounts with their keys, as anvil does — only for the standard test mnemonic,
/// whose keys are public knowledge.
fn print_accounts(devnet: &Devnet) {
    if devnet.config().mnemonic == TEST_MNEMONIC {
        for (i, account) in devnet.accounts().iter().enumerate() {
            tracing::info!(target: "nrd::l1", "account {i}: {} key 0x{}", account.address(), alloy_primitives::hex::encode(account.credential().to_bytes()));
        }
    }
}

/// `nrd l1`: the L1 devnet as a process — JSON-RPC on `rpc_addr`, the beacon API on
/// `beacon_addr`, metrics on `metrics_addr` — until `shutdown` completes.
pub async fn run_l1(
    config: DevnetConfig,
    rpc_addr: SocketAddr,
    beacon_addr: SocketAddr,
    metrics_addr: SocketAddr,
    shutdown: impl Future<Output = std::io::Result<()>>,
) -> LaunchResult<()> {
    nrd_metrics::install();
    let (stop_tx, stop_rx) = watch::channel(false);
    let RunningL1 { devnet, rpc, task, .. } = start_l1(config, rpc_addr, beacon_addr, stop_rx.clone()).await?;
    let mut ops = nrd_metrics::Ops::default();
    watch_l1(&mut ops, devnet.clone());
    serve_ops(metrics_addr, "--metrics-addr", ops, stop_rx).await?;
    print_accounts(&devnet);
    let signal = shutdown.await;
    tracing::info!(target: "nrd::l1", "shutting down");
    let _ = stop_tx.send(true);
    let _ = rpc.handle.stop();
    rpc.handle.stopped().await;
    let _ = task.await;
    signal.map_err(LaunchError::Signal)
}
