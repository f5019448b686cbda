//! `nrd node --config <file>`: one L2 node, sequencer or follower, against an L1 JSON-RPC URL —
//! the production shape of what `nrd devnet` runs in one process.

use crate::{
    config::{ConfigError, Layers, NodeConfig, Resolved},
    rollup::{Role, open_store, start_node},
};
use clap::Args;
use nrd_derivation::L2Genesis;
use std::{path::PathBuf, process::ExitCode};
use tokio::sync::watch;

/// `nrd node` arguments.
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    #[command(flatten)]
    pub(crate) config: ConfigArgs,
}

/// Where a node's configuration comes from: a TOML file, `NRD_*` variables over it, flags over
/// both (`docs/config.md`).
#[derive(Debug, Args)]
pub(crate) struct ConfigArgs {
    /// The node's TOML configuration (`config/sequencer.toml`, `config/follower.toml`).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Sets any key over the file and the environment (repeatable): `--set sequencer.block_time_ms=500`.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Sets `rpc_addr`.
    #[arg(long, value_name = "ADDR")]
    rpc_addr: Option<String>,
    /// Sets `metrics_addr`.
    #[arg(long, value_name = "ADDR")]
    metrics_addr: Option<String>,
    /// Sets `data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<String>,
    /// Sets `l1.rpc_url`.
    #[arg(long, value_name = "URL")]
    l1_rpc_url: Option<String>,
}

impl ConfigArgs {
    /// The layers these flags, the file and this process's environment make.
    fn layers(&self) -> Result<Layers, ConfigError> {
        let mut flags = Layers::parse_set(&self.set)?;
        for (key, flag, value) in [
            ("rpc_addr", "--rpc-addr", &self.rpc_addr),
            ("metrics_addr", "--metrics-addr", &self.metrics_addr),
            ("data_dir", "--data-dir", &self.data_dir),
            ("l1.rpc_url", "--l1-rpc-url", &self.l1_rpc_url),
        ] {
            if let Some(value) = value {
                flags.push((key.to_string(), value.clone(), flag.to_string()));
            }
        }
        Ok(Layers::new(self.config.clone(), flags))
    }

    /// The effective configuration, checked.
    pub(crate) fn resolve(&self) -> Result<Resolved, String> {
        self.layers().and_then(|layers| NodeConfig::resolve(&layers)).map_err(|e| format!("configuration: {e}"))
    }
}

/// `nrd config …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ConfigCommand {
    /// Prints the effective configuration (file, then `NRD_*` environment, then flags) as TOML,
    /// each value with where it came from; secrets are masked. Fails, naming the key, on a
    /// configuration `nrd node` would refuse.
    Print(ConfigArgs),
}

pub(crate) fn config(command: &ConfigCommand) -> ExitCode {
    let ConfigCommand::Print(args) = command;
    crate::report(args.resolve().map(|resolved| print!("{}", NodeConfig::render(&resolved))))
}

pub(crate) fn run(args: &NodeArgs) -> ExitCode {
    crate::block_on(node(args))
}

async fn node(args: &NodeArgs) -> Result<(), String> {
    let config = args.config.resolve()?.config;
    let json = std::fs::read_to_string(&config.genesis)
        .map_err(|e| format!("`genesis` {}: cannot read it: {e}", config.genesis.display()))?;
    let genesis = L2Genesis::from_json(&json)
        .map_err(|e| format!("`genesis` {}: not an L2 genesis: {e}", config.genesis.display()))?;
    let key = config.signer().map_err(|e| format!("configuration: {e}"))?;
    // Both ports, before anything starts: a port in use is reported as the key that names it.
    for (key, addr) in [("rpc_addr", config.rpc_addr), ("metrics_addr", config.metrics_addr)] {
        std::net::TcpListener::bind(addr).map_err(|e| format!("`{key}` {addr}: cannot listen there: {e}"))?;
    }
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
    crate::ops::serve(config.metrics_addr, ops, stop_rx).await.map_err(|e| format!("`metrics_addr` {e}"))?;
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
