//! `nrd-bench`: nrd's benchmarks, whose results go in BENCHMARKS.md.
//!
//! - `execute` and `execute-attacks` run in process: stateful execution, witness size and
//!   stateless verification of a ~30M-gas block; EXECUTE's CPU time per L1 gas paid under
//!   attack.
//! - `rollup` runs the in-process rollup of `nrd-testkit`: what posting L2 blocks costs on L1.
//! - `l1`, `l2` and `bridge` run the `nrd` daemon (and anvil) as child processes on free ports
//!   and load them through one shared harness (`harness.rs`). The `nrd` executable is the one
//!   next to `nrd-bench` unless `--nrd` names another: build both with
//!   `cargo build --release -p nrd -p nrd-bench`.

mod attacks;
mod bridge;
mod error;
mod execute;
mod harness;
mod l1;
mod l2;
mod rollup;
mod state;

use clap::{Parser, Subcommand};
use std::{path::PathBuf, process::ExitCode};

pub(crate) use error::BenchError;

#[derive(Debug, Parser)]
#[command(name = "nrd-bench", version, about = "Benchmarks of nrd (results go in BENCHMARKS.md)")]
struct Cli {
    /// The `nrd` executable that `l1`, `l2` and `bridge` run (default: the `nrd` next to this
    /// executable).
    #[arg(long, global = true, value_name = "PATH")]
    nrd: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Stateful execution, witness size and stateless verification of a ~30M-gas block.
    Execute(execute::Args),
    /// EXECUTE under attack: CPU time per L1 gas paid for inputs built to make EXECUTE work
    /// hard (looping blocks declaring little gas, many transactions, repeated blobs, brotli
    /// bombs, padded witnesses, heavy anchors), next to ordinary worst-case L1 transactions.
    ExecuteAttacks(attacks::Args),
    /// Transfer throughput and read latency of `nrd l1` next to anvil, same load generator.
    L1(l1::Args),
    /// The rollup daemon under load: `nrd devnet`'s sequencer next to anvil (transfers sealed,
    /// and posted and verified on L1), L1 gas and bytes per L2 transaction, sealed-to-verified
    /// latency, and a fresh follower's sync speed.
    L2(l2::Args),
    /// Bridge latency and L1-reorg recovery on `nrd devnet`: deposit (L1 receipt to L2 credit),
    /// withdrawal end to end, and the time to recover from L1 reorgs of given depths.
    Bridge(bridge::Args),
    /// L1 cost of posting L2 blocks with `NativeRollup.advance`, calldata vs blob mode, and DA
    /// bytes per transfer after compression.
    Rollup(rollup::Args),
    /// The L2 node over large states (100k to 10M accounts): genesis load, restart, seal and
    /// import time of a ~30M-gas block, memory and disk per account, next to the previous
    /// in-memory design.
    State(state::Args),
}

fn run(cli: &Cli) -> Result<(), BenchError> {
    let nrd = || harness::Nrd::locate(cli.nrd.as_deref());
    match &cli.command {
        Command::Execute(args) => {
            execute::run(args);
            Ok(())
        }
        Command::ExecuteAttacks(args) => attacks::run(args),
        Command::L1(args) => l1::run(args, &nrd()?),
        Command::L2(args) => l2::run(args, &nrd()?),
        Command::Bridge(args) => bridge::run(args, &nrd()?),
        Command::Rollup(args) => rollup::run(args),
        Command::State(args) => state::run(args),
    }
}

fn main() -> ExitCode {
    match run(&Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
