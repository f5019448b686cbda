//! `nrd`: the native rollup node daemon and its command line.

mod bench;
mod bench_attacks;
mod bench_bridge;
mod bench_l1;
mod bench_l2;
mod bench_rollup;
mod bridge;
mod conformance;
mod deploy;
mod devnet;
mod genesis;
mod governance;
mod l1;
mod node;
mod submitter;

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
    /// Run the L1 devnet (EXECUTE precompile, blobs, JSON-RPC, beacon blob API).
    L1(l1::L1Args),
    /// A whole native rollup in one process: L1 with EXECUTE, the rollup contract, an L2
    /// sequencer and a follower.
    Devnet(devnet::DevnetArgs),
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
    /// The batch submitter's recorded refusal, on a stopped node's data directory: `status`, and
    /// `clear-refusal` once its cause is fixed (the next start posts again).
    Submitter {
        #[command(subcommand)]
        which: submitter::SubmitterCommand,
    },
    /// Benchmarks (results go in BENCHMARKS.md).
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Stateful execution, witness size and stateless verification of a ~30M-gas block.
    Execute {
        /// Accounts in the state besides senders and contracts.
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
        /// Transaction mix.
        #[arg(long, value_enum, default_value = "mixed")]
        mix: bench::Mix,
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// EXECUTE under attack: CPU time per L1 gas paid for inputs built to make EXECUTE work
    /// hard (looping blocks declaring little gas, many transactions, repeated blobs, brotli
    /// bombs, padded witnesses, heavy anchors), next to ordinary worst-case L1 transactions.
    ExecuteAttacks {
        /// Repetitions (the median is reported).
        #[arg(long, default_value_t = 7)]
        runs: usize,
    },
    /// Transfer throughput and read latency of `nrd l1` next to anvil, same load generator.
    L1 {
        /// The anvil binary (scripts/install-tools.sh puts one in .tools/bin).
        #[arg(long, default_value = ".tools/bin/anvil")]
        anvil: PathBuf,
        /// Transfers to send (enough that sending, not the 1 s block interval, dominates).
        #[arg(long, default_value_t = 20_000)]
        txs: usize,
        /// Concurrent client threads (one sender account each, at most 10).
        #[arg(long, default_value_t = 10)]
        threads: usize,
        /// Reads per thread for the latency probes.
        #[arg(long, default_value_t = 1000)]
        reads: usize,
    },
    /// The rollup daemon under load: `nrd devnet`'s sequencer next to anvil (transfers sealed,
    /// and posted and verified on L1), L1 gas and bytes per L2 transaction, sealed-to-verified
    /// latency, and a fresh follower's sync speed.
    L2 {
        /// The anvil binary (scripts/install-tools.sh puts one in .tools/bin).
        #[arg(long, default_value = ".tools/bin/anvil")]
        anvil: PathBuf,
        /// Transfers to send (the L2 pool holds at most 20,000).
        #[arg(long, default_value_t = 20_000)]
        txs: usize,
        /// Concurrent client threads (one sender account each, at most 10).
        #[arg(long, default_value_t = 10)]
        threads: usize,
        /// Seconds between blocks, for anvil and the L2 (the L1 seals every second).
        #[arg(long, default_value_t = 1.0)]
        block_time: f64,
        /// Where the sequencer puts batches' transactions: `blob` or `calldata`.
        #[arg(long, default_value = "blob")]
        da_mode: String,
        /// The L2's block gas limit.
        #[arg(long, default_value_t = genesis::DEVNET_L2_GAS_LIMIT)]
        l2_gas_limit: u64,
        /// L1's EXECUTE gas target per block (limit: twice that).
        #[arg(long, default_value_t = 15_000_000)]
        execute_target: u64,
    },
    /// Bridge latency and L1-reorg recovery on `nrd devnet`: deposit (L1 receipt to L2 credit),
    /// withdrawal end to end, and the time to recover from L1 reorgs of given depths.
    Bridge(bench_bridge::Options),
    /// L1 cost of posting L2 blocks with `NativeRollup.advance`, calldata vs blob mode, and DA
    /// bytes per transfer after compression.
    Rollup {
        /// Batch shapes `BLOCKSxTRANSFERS`, comma separated.
        #[arg(long, default_value = "1x100,4x100,1x600", value_delimiter = ',', value_parser = parse_shape)]
        shapes: Vec<(usize, usize)>,
        /// Distinct L2 senders.
        #[arg(long, default_value_t = 50)]
        senders: usize,
        /// Other accounts in the L2 state (recipients are drawn among them).
        #[arg(long, default_value_t = 100_000)]
        accounts: usize,
    },
}

fn parse_shape(value: &str) -> Result<(usize, usize), String> {
    let (blocks, txs) = value.split_once('x').ok_or_else(|| format!("`{value}` is not BLOCKSxTRANSFERS"))?;
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|e| format!("`{value}`: {e}"));
    match (parse(blocks)?, parse(txs)?) {
        (0, _) => Err(format!("`{value}`: at least one block")),
        shape => Ok(shape),
    }
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
        Command::Bench { which: BenchCommand::Execute { accounts, mix, runs } } => {
            bench::execute(accounts, mix, runs);
            ExitCode::SUCCESS
        }
        Command::Bench { which: BenchCommand::ExecuteAttacks { runs } } => report(bench_attacks::run(runs)),
        Command::Bench { which: BenchCommand::L1 { anvil, txs, threads, reads } } => {
            report(bench_l1::run(&anvil, txs, threads, reads))
        }
        Command::Bench {
            which: BenchCommand::L2 { anvil, txs, threads, block_time, da_mode, l2_gas_limit, execute_target },
        } => report(bench_l2::run(&bench_l2::Options {
            anvil,
            txs,
            threads,
            block_time,
            da_mode,
            l2_gas_limit,
            execute_target,
        })),
        Command::Bench { which: BenchCommand::Bridge(options) } => report(bench_bridge::run(&options)),
        Command::Bench { which: BenchCommand::Rollup { shapes, senders, accounts } } => {
            report(bench_rollup::run(&shapes, senders, accounts))
        }
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
