//! `nrd`: the native rollup node daemon and its command line.

mod conformance;

use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

#[derive(Debug, Parser)]
#[command(name = "nrd", version, about = "Native rollup node daemon")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run ethereum/tests BlockchainTests (stateful and stateless) from a file or directory.
    Conformance {
        /// A BlockchainTests JSON file or a directory searched recursively.
        path: PathBuf,
        /// Worker threads (default: available cores).
        #[arg(long)]
        threads: Option<usize>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Conformance { path, threads } => {
            let threads = threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            match conformance::run(&path, threads) {
                Ok(summary) if summary.failed == 0 && summary.passed > 0 => ExitCode::SUCCESS,
                Ok(_) => ExitCode::FAILURE,
                Err(e) => {
                    eprintln!("error: cannot read {}: {e}", path.display());
                    ExitCode::FAILURE
                }
            }
        }
    }
}
