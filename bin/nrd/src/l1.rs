//! `nrd l1`: the embedded L1 devnet as a process.

use clap::Args;
use nrd_l1_devnet::{Devnet, DevnetConfig, TEST_MNEMONIC};
use nrd_rpc::RpcLimits;
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
        ..Default::default()
    };
    config.execute.target = args.execute_target;
    config.execute.limit = args.execute_limit.unwrap_or(2 * args.execute_target);
    crate::block_on(serve(config, args.rpc_addr, args.beacon_addr, args.metrics_addr))
}

async fn serve(
    config: DevnetConfig,
    rpc_addr: SocketAddr,
    beacon_addr: SocketAddr,
    metrics_addr: SocketAddr,
) -> Result<(), String> {
    nrd_metrics::install();
    let devnet = Devnet::new(config).map_err(|e| e.to_string())?;
    let rpc = nrd_l1_devnet::serve_l1(devnet.clone(), rpc_addr, RpcLimits::default())
        .await
        .map_err(|e| format!("cannot serve JSON-RPC on {rpc_addr}: {e}"))?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let beacon = nrd_l1_devnet::serve_beacon(devnet.clone(), beacon_addr, wait(stop_rx.clone()))
        .await
        .map_err(|e| format!("cannot serve the beacon API on {beacon_addr}: {e}"))?;
    let mut ops = nrd_metrics::Ops::default();
    nrd_node_builder::watch_l1(&mut ops, devnet.clone());
    nrd_node_builder::serve_ops(metrics_addr, "--metrics-addr", ops, stop_rx.clone())
        .await
        .map_err(|e| e.to_string())?;
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
    if cfg.mnemonic == TEST_MNEMONIC {
        for (i, account) in devnet.accounts().iter().enumerate() {
            // The standard test mnemonic's keys are public knowledge; print them as anvil does.
            tracing::info!(target: "nrd::l1", "account {i}: {} key 0x{}", account.address(), alloy_primitives::hex::encode(account.credential().to_bytes()));
        }
    }
    let producer = tokio::spawn(devnet.clone().run(wait(stop_rx)));
    tokio::signal::ctrl_c().await.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    tracing::info!(target: "nrd::l1", "shutting down");
    let _ = stop_tx.send(true);
    let _ = rpc.handle.stop();
    rpc.handle.stopped().await;
    let _ = producer.await;
    Ok(())
}
