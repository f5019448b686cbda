//! `nrd node --config <file>`: one L2 node, sequencer or follower, against an L1 JSON-RPC URL —
//! the production shape of what `nrd devnet` runs in one process.

use clap::Args;
use nrd_node_builder::{ConfigError, Layers, NodeConfig, Resolved, run_node};
use std::{path::PathBuf, process::ExitCode};

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
    pub(crate) fn resolve(&self) -> Result<Resolved, ConfigError> {
        self.layers().and_then(|layers| NodeConfig::resolve(&layers))
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
    crate::report(
        args.resolve()
            .map(|resolved| print!("{}", NodeConfig::render(&resolved)))
            .map_err(nrd_node_builder::LaunchError::from),
    )
}

pub(crate) fn run(args: &NodeArgs) -> ExitCode {
    crate::block_on(async {
        let config = args.config.resolve()?.config;
        run_node(config, tokio::signal::ctrl_c()).await
    })
}
