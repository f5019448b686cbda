//! `nrd-conformance`: runs ethereum/tests BlockchainTests, statefully and statelessly, with the
//! [`nrd_conformance`] library, prints a line per failure and the totals, and exits with 0 only
//! if every test passed and at least one ran.

use clap::Parser;
use std::{path::PathBuf, process::ExitCode};

/// Run ethereum/tests BlockchainTests (stateful and stateless) from a file or directory.
#[derive(Debug, Parser)]
#[command(name = "nrd-conformance", version)]
struct Cli {
    /// A BlockchainTests JSON file or a directory searched recursively.
    path: PathBuf,
    /// Worker threads (default: available cores).
    #[arg(long)]
    threads: Option<usize>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let threads = cli.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    match nrd_conformance::run(&cli.path, threads) {
        Ok(report) => {
            for skipped in &report.skipped {
                tracing::debug!(
                    file = %skipped.file.display(),
                    "skipped: {}: network {} is not post-merge",
                    skipped.test,
                    skipped.network
                );
            }
            print!("{report}");
            if report.is_success() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
