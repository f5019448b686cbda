//! `nrd node --config <file>`: one L2 node, sequencer or follower, against an L1 JSON-RPC URL —
//! the production shape of what `nrd devnet` runs in one process.

use crate::rollup::{NodeConfig, Role, open_store, start_node};
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use nrd_derivation::L2Genesis;
use std::{path::PathBuf, process::ExitCode};
use tokio::sync::watch;

/// `nrd node` arguments.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// The node's TOML configuration (`config/sequencer.toml`, `config/follower.toml`).
    #[arg(long)]
    config: PathBuf,
}

pub(crate) fn run(args: &NodeArgs) -> ExitCode {
    crate::block_on(node(args))
}

async fn node(args: &NodeArgs) -> Result<(), String> {
    let config = NodeConfig::load(&args.config)?;
    let json = std::fs::read_to_string(&config.genesis).map_err(|e| format!("{}: {e}", config.genesis.display()))?;
    let genesis = L2Genesis::from_json(&json).map_err(|e| format!("{}: {e}", config.genesis.display()))?;
    let key = match config.role {
        Role::Follower if config.proposer.self_propose => {
            let hex = std::env::var("NRD_PROPOSER_KEY")
                .ok()
                .or_else(|| config.proposer.key.clone())
                .or_else(|| config.sequencer.key.clone())
                .ok_or("proposer.self_propose needs a key: proposer.key (or sequencer.key) or NRD_PROPOSER_KEY")?;
            Some(hex.trim().parse::<PrivateKeySigner>().map_err(|_| "proposer.key is not a private key")?)
        }
        Role::Follower => None,
        Role::Sequencer => {
            let hex = std::env::var("NRD_SEQUENCER_KEY")
                .ok()
                .or_else(|| config.sequencer.key.clone())
                .ok_or("a sequencer needs its key: sequencer.key in the config or NRD_SEQUENCER_KEY")?;
            Some(hex.trim().parse::<PrivateKeySigner>().map_err(|_| "sequencer.key is not a private key")?)
        }
    };
    let store = open_store(&config.data_dir)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    nrd_metrics::install();
    let (role, submitter) = match config.role {
        Role::Sequencer => ("sequencer", key.as_ref().map(|k| k.address())),
        Role::Follower => ("follower", None),
    };
    let running = start_node(&config, genesis, store, key, stop_rx.clone()).await?;
    let mut ops = nrd_metrics::Ops::default();
    let ops_task = crate::ops::watch_node(&mut ops, role, &config, &running, submitter, stop_rx.clone())?;
    crate::ops::serve(config.metrics_addr, ops, stop_rx).await;
    tokio::signal::ctrl_c().await.map_err(|e| format!("cannot wait for Ctrl-C: {e}"))?;
    tracing::info!(target: "nrd::node", "shutting down");
    let _ = stop_tx.send(true);
    let _ = running.rpc.handle.stop();
    running.rpc.handle.stopped().await;
    for task in running.tasks {
        let _ = task.await;
    }
    let _ = ops_task.await;
    Ok(())
}
