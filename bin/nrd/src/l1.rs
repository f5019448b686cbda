//! `nrd l1`: the embedded L1 devnet as a process.

use clap::Args;
use nrd_l1_devnet::{DevnetConfig, TEST_MNEMONIC};
use std::{net::SocketAddr, process::ExitCode, time::Duration};

/// Flags of `nrd l1`.
#[derive(Debug, Args)]
pub(crate) struct L1Args {
    /// JSON-RPC (HTTP and WebSocket) listen address.
    #[arg(long, default_value = "127.0.0.1:8546", env = "NRD_L1_RPC_ADDR")]
    rpc_addr: SocketAddr,
    /// Beacon API (blob sidecars) listen address.
    #[arg(long, default_value = "127.0.0.1:5052", env = "NRD_L1_BEACON_ADDR")]
    beacon_addr: SocketAddr,
    /// Chain id.
    #[arg(long, default_value_t = 900)]
    chain_id: u64,
    /// Chain id of the L2 EXECUTE verifies.
    #[arg(long, default_value_t = 901)]
    l2_chain_id: u64,
    /// Target of the L2's anchor system call (the `L1MessageInbox` predeploy), or `none` for an
    /// L2 without the rollup protocol (EXECUTE then takes an empty anchor).
    #[arg(long, default_value = "0x4e52000000000000000000000000000000000001", value_parser = parse_anchor)]
    l2_anchor: Anchor,
    /// Seconds between blocks (fractions allowed); 0 seals one block per transaction.
    #[arg(long, default_value_t = 2.0)]
    block_time: f64,
    /// Block gas limit.
    #[arg(long, default_value_t = 60_000_000)]
    gas_limit: u64,
    /// Prefunded accounts from the mnemonic.
    #[arg(long, default_value_t = 10)]
    accounts: u32,
    /// Mnemonic of the prefunded accounts.
    #[arg(long, default_value = TEST_MNEMONIC)]
    mnemonic: String,
    /// EXECUTE gas target per block.
    #[arg(long, default_value_t = 15_000_000)]
    execute_target: u64,
    /// EXECUTE gas limit per block (default: 2x target).
    #[arg(long)]
    execute_limit: Option<u64>,
    /// Blocks below the head the `finalized` (and `safe`) block is: the devnet has no
    /// consensus, so this is how deep a reorg may go.
    #[arg(long, default_value_t = 64)]
    finality_depth: u64,
    /// Metrics (`/metrics`), `/health` and `/ready` listen address.
    #[arg(long, default_value = nrd_metrics::DEFAULT_ADDR, env = "NRD_METRICS_ADDR")]
    metrics_addr: SocketAddr,
}

/// `--l2-anchor`: an address or `none`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Anchor(Option<alloy_primitives::Address>);

fn parse_anchor(value: &str) -> Result<Anchor, String> {
    if value.eq_ignore_ascii_case("none") {
        return Ok(Anchor(None));
    }
    value.parse().map(|a| Anchor(Some(a))).map_err(|e| format!("not an address or `none`: {e}"))
}

pub(crate) fn run(args: L1Args) -> ExitCode {
    if !(args.block_time.is_finite() && args.block_time >= 0.0) {
        eprintln!("error: --block-time must be a non-negative number of seconds");
        return ExitCode::FAILURE;
    }
    let mut config = DevnetConfig {
        chain_id: args.chain_id,
        l2_chain_id: args.l2_chain_id,
        l2_anchor: args.l2_anchor.0,
        block_time_ms: Duration::from_secs_f64(args.block_time).as_millis() as u64,
        gas_limit: args.gas_limit,
        accounts: args.accounts,
        mnemonic: args.mnemonic,
        finality_depth: args.finality_depth,
        ..Default::default()
    };
    config.execute.target = args.execute_target;
    config.execute.limit = args.execute_limit.unwrap_or(2 * args.execute_target);
    crate::block_on(nrd_node_builder::run_l1(
        config,
        args.rpc_addr,
        args.beacon_addr,
        args.metrics_addr,
        tokio::signal::ctrl_c(),
    ))
}
