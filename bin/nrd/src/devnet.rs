//! `nrd devnet`: a whole native rollup in one process — the L1 devnet with EXECUTE, the rollup
//! contract deployed on it, the L2 genesis, a sequencer (block production and batch submission)
//! and a follower that rebuilds the L2 from L1 alone, each with its JSON-RPC.

use clap::Args;
use nrd_node_builder::{DevnetOptions, RollupParams, run_devnet};
use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

/// `nrd devnet` arguments.
#[derive(Debug, Args)]
pub(crate) struct DevnetArgs {
    /// L2 JSON-RPC (the sequencer's).
    #[arg(long, default_value = "127.0.0.1:8545", env = "NRD_L2_RPC_ADDR")]
    rpc_addr: SocketAddr,
    /// L1 JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8546", env = "NRD_L1_RPC_ADDR")]
    l1_rpc_addr: SocketAddr,
    /// L1 beacon API (blob sidecars).
    #[arg(long, default_value = "127.0.0.1:5052", env = "NRD_L1_BEACON_ADDR")]
    beacon_addr: SocketAddr,
    /// The follower's L2 JSON-RPC.
    #[arg(long, default_value = "127.0.0.1:8547", env = "NRD_FOLLOWER_RPC_ADDR")]
    follower_rpc_addr: SocketAddr,
    /// Seconds between L2 blocks.
    #[arg(long, default_value_t = 1.0)]
    block_time: f64,
    /// Seconds between L1 blocks.
    #[arg(long, default_value_t = 1.0)]
    l1_block_time: f64,
    /// Block gas limit of the L2 (its genesis).
    #[arg(long, default_value_t = nrd_node_builder::DEVNET_L2_GAS_LIMIT)]
    l2_gas_limit: u64,
    /// EXECUTE gas target per L1 block (the limit is twice that); the sequencer's batches carry
    /// at most this much L2 gas.
    #[arg(long, default_value_t = 15_000_000)]
    execute_target: u64,
    /// Where batches' transactions go: `blob` or `calldata`.
    #[arg(long, default_value = "blob")]
    da_mode: String,
    /// Keep the L2 databases here (default: in memory; the embedded L1 starts fresh anyway).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    #[command(flatten)]
    params: RollupParams,
    /// Test switch: the sequencer censors this address (repeatable) — refuses its L2
    /// transactions and applies none of its L1 messages (nor any after them), so its advances
    /// fail with `OverdueMessage` once such a message is past its deadline.
    #[arg(long = "censor", value_name = "ADDRESS")]
    censor: Vec<alloy_primitives::Address>,
    /// The follower advances the rollup itself (with L1 dev account 12) once the sequencer has
    /// posted nothing for the forced-inclusion window.
    #[arg(long)]
    follower_self_propose: bool,
    /// Metrics (`/metrics`), `/health` and `/ready` of both nodes and the L1.
    #[arg(long, default_value = nrd_metrics::DEFAULT_ADDR, env = "NRD_METRICS_ADDR")]
    metrics_addr: SocketAddr,
}

pub(crate) fn run(args: DevnetArgs) -> ExitCode {
    let DevnetArgs {
        rpc_addr,
        l1_rpc_addr,
        beacon_addr,
        follower_rpc_addr,
        block_time,
        l1_block_time,
        l2_gas_limit,
        execute_target,
        da_mode,
        data_dir,
        params,
        censor,
        follower_self_propose,
        metrics_addr,
    } = args;
    let options = DevnetOptions {
        rpc_addr,
        l1_rpc_addr,
        beacon_addr,
        follower_rpc_addr,
        block_time,
        l1_block_time,
        l2_gas_limit,
        execute_target,
        da_mode,
        data_dir,
        params,
        censor,
        follower_self_propose,
        metrics_addr,
    };
    crate::block_on(run_devnet(options, tokio::signal::ctrl_c()))
}
