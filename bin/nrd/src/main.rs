//! `nrd`: the native rollup node daemon and its command line.

mod bridge;
mod checkpoint;
mod deploy;
mod devnet;
mod genesis;
mod governance;
mod l1;
mod node;
mod submitter;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(name = "nrd", version, about = "Native rollup node daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the L1 devnet (EXECUTE precompile, blobs, JSON-RPC, beacon blob API).
    L1(l1::L1Args),
    /// A whole native rollup in one process: L1 with EXECUTE, the rollup contract, an L2
    /// sequencer and a follower.
    Devnet(nrd_node_builder::DevnetOptions),
    /// One L2 node (sequencer or follower) against an L1 JSON-RPC URL.
    Node(node::NodeArgs),
    /// A node's configuration: `nrd config print --config config/sequencer.toml` shows what
    /// `nrd node` would run with (file, `NRD_*` environment, flags), secrets masked.
    Config {
        #[command(subcommand)]
        which: node::ConfigCommand,
    },
    /// Deploys the rollup contract for an L2 genesis on L1.
    Deploy(deploy::DeployArgs),
    /// The L2 genesis (`config/l2-genesis.json`): print it, or its state root and hash.
    Genesis {
        #[command(subcommand)]
        which: genesis::GenesisCommand,
    },
    /// The rollup bridge for users: deposits, withdrawals and their proofs, claims, forced
    /// transactions, advancing a silent sequencer's rollup (JSON-RPC to L1 and L2).
    Bridge(bridge::BridgeArgs),
    /// Rollup governance for its owner: timelocked actions on `NativeRollup` (sequencer,
    /// forced-inclusion window, withdrawal delay, deposit pause, L2 parameters) — queue,
    /// execute, cancel — and the current parameters.
    Governance(governance::GovernanceArgs),
    /// Checkpoints: export the state at a block of a stopped node, or start a new node's data
    /// directory from one (checked against L1) instead of replaying the chain.
    Checkpoint {
        #[command(subcommand)]
        which: checkpoint::CheckpointCommand,
    },
    /// The batch submitter's recorded refusal, on a stopped node's data directory: `status`, and
    /// `clear-refusal` once its cause is fixed (the next start posts again).
    Submitter {
        #[command(subcommand)]
        which: submitter::SubmitterCommand,
    },
}

/// The exit code of a command; an error is printed as `error: …`.
pub(crate) fn report<E: std::fmt::Display>(result: Result<(), E>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs an async command on a multi-threaded runtime.
pub(crate) fn block_on<E: std::fmt::Display>(command: impl std::future::Future<Output = Result<(), E>>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => report(runtime.block_on(command)),
        Err(e) => report(Err(format!("cannot start the async runtime: {e}"))),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::L1(args) => l1::run(args),
        Command::Devnet(args) => devnet::run(args),
        Command::Node(args) => node::run(&args),
        Command::Config { which } => node::config(&which),
        Command::Deploy(args) => deploy::run(&args),
        Command::Genesis { which } => genesis::run(&which),
        Command::Bridge(args) => bridge::run(args),
        Command::Governance(args) => governance::run(args),
        Command::Submitter { which } => submitter::run(&which),
        Command::Checkpoint { which } => checkpoint::run(which),
    }
}
