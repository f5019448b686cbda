//! `nrd-bench l1`: transfer throughput and read latency of `nrd l1` next to anvil, with the
//! same load generator (pre-signed transactions over keep-alive HTTP from several threads, the
//! [`harness`](crate::harness) every node benchmark shares).
//!
//! With `--block-time 0` it measures per-transaction sealing: `nrd l1 --block-time 0` next to
//! anvil in automine and anvil with 1 s blocks (anvil's automine is the like-for-like mode, the
//! interval mode the reference when automine stalls), reporting each send's latency too.

use crate::{
    BenchError,
    harness::{Conn, LoadArgs, Node, Nrd, Transfers, free_port, percentile, start},
};
use alloy_primitives::Address;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};
use serde_json::json;
use std::{
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

/// Block gas limit of both nodes in the throughput run.
const GAS_LIMIT: &str = "3000000000";

/// What `nrd-bench l1` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Reads per thread for the latency probes.
    #[arg(long, default_value_t = 1000)]
    pub(crate) reads: usize,
    /// Seconds between `nrd l1`'s blocks (and anvil's); 0 runs per-transaction sealing: `nrd l1
    /// --block-time 0` next to anvil in automine and anvil with 1 s blocks.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) block_time: f64,
    /// Seconds a node has to get all transfers into blocks; one that does not is reported as
    /// stalled (anvil's automine does, past about a thousand queued transfers on small machines).
    #[arg(long, default_value_t = 120)]
    pub(crate) deadline: u64,
    /// Runs only `nrd l1` (for profiling it).
    #[arg(long)]
    pub(crate) no_anvil: bool,
}

struct Report {
    tx_per_s: f64,
    send_p50: f64,
    send_p99: f64,
    call_p50: f64,
    call_p99: f64,
    balance_p50: f64,
    balance_p99: f64,
}

fn measure(
    node: &Node,
    chain_id: u64,
    txs: usize,
    threads: usize,
    reads: usize,
    deadline: Duration,
) -> Result<Report, BenchError> {
    let keys = dev_accounts(TEST_MNEMONIC, threads as u32).map_err(|e| e.to_string())?;
    let mut conn = Conn::to(&node.addr, node.name)?;
    // One sender per thread; wait until every transaction is in a block.
    let transfers = Transfers::sign(chain_id, txs, threads)?;
    let total = transfers.total;
    let mined = transfers.send_within(&mut conn, node, deadline)?;
    let tx_per_s = total as f64 / mined.elapsed.as_secs_f64();
    let (send_p50, send_p99) = (percentile(&mined.send_latencies, 0.5), percentile(&mined.send_latencies, 0.99));

    // Read latency under concurrent load: eth_call and eth_getBalance from every thread.
    let probe = |method: &'static str| -> Result<Vec<Duration>, BenchError> {
        let barrier = Arc::new(Barrier::new(threads));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (addr, barrier) = (node.addr.clone(), barrier.clone());
                let from = keys[t % keys.len()].address();
                std::thread::spawn(move || -> Result<Vec<Duration>, BenchError> {
                    let mut conn = Conn::to(&addr, "probe")?;
                    let params = match method {
                        "eth_call" => {
                            json!([{"from": from, "to": Address::with_last_byte(0xbb), "value": "0x1"}, "latest"])
                        }
                        _ => json!([from, "latest"]),
                    };
                    barrier.wait();
                    let mut lat = Vec::with_capacity(reads);
                    for _ in 0..reads {
                        let t = Instant::now();
                        conn.rpc("probe", method, &params)?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().map_err(|_| BenchError::ThreadPanicked("probe"))??);
        }
        all.sort();
        Ok(all)
    };
    let calls = probe("eth_call")?;
    let balances = probe("eth_getBalance")?;
    Ok(Report {
        tx_per_s,
        send_p50,
        send_p99,
        call_p50: percentile(&calls, 0.5),
        call_p99: percentile(&calls, 0.99),
        balance_p50: percentile(&balances, 0.5),
        balance_p99: percentile(&balances, 0.99),
    })
}

/// Runs the comparison and prints a Markdown table.
pub(crate) fn run(args: &Args, nrd: &Nrd) -> Result<(), BenchError> {
    let (txs, reads) = (args.load.txs, args.reads);
    if !(args.block_time.is_finite() && args.block_time >= 0.0) {
        return Err("--block-time must be a non-negative number of seconds".to_string().into());
    }
    // Both nodes get as many dev accounts as there are sending threads.
    let threads = args.load.threads.clamp(1, 100);
    let accounts = threads.to_string();
    let block_time = args.block_time.to_string();
    // A gas limit no load reaches: the measure is how fast a node admits, orders and seals, not
    // how many transfers fit a 30M block.
    let nrd_port = free_port();
    let mut nrd = nrd.command(["l1", "--block-time", &block_time, "--gas-limit", GAS_LIMIT, "--chain-id", "31337"]);
    nrd.args(["--accounts", &accounts])
        .args(["--rpc-addr", &format!("127.0.0.1:{nrd_port}")])
        .args(["--beacon-addr", &format!("127.0.0.1:{}", free_port())])
        .args(["--metrics-addr", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn");
    let nrd_name = if args.block_time == 0.0 { "nrd l1 --block-time 0" } else { "nrd l1" };

    let mut nodes = Vec::new();
    let anvil = |port: u16, block_time: Option<&str>| {
        let mut command = match block_time {
            Some(block_time) => args.load.anvil(port, block_time, GAS_LIMIT),
            None => args.load.anvil_automine(port, GAS_LIMIT),
        };
        command.args(["--accounts", &accounts]);
        (command, port)
    };
    if !args.no_anvil {
        if args.block_time == 0.0 {
            let (command, port) = anvil(free_port(), None);
            nodes.push(("anvil (automine)", command, port));
            let (command, port) = anvil(free_port(), Some("1"));
            nodes.push(("anvil --block-time 1", command, port));
        } else {
            let (command, port) = anvil(free_port(), Some(&block_time));
            nodes.push(("anvil", command, port));
        }
    }
    nodes.push((nrd_name, nrd, nrd_port));

    println!("{} transfers from {threads} senders, nrd block time {}s\n", txs / threads * threads, args.block_time);
    let deadline = Duration::from_secs(args.deadline);
    let mut rows = Vec::new();
    let mut stalled = Vec::new();
    for (name, command, port) in nodes {
        let node = start(name, command, port, None)?;
        match measure(&node, 31337, txs, threads, reads, deadline) {
            Ok(report) => rows.push((name, report)),
            // A node that stalls is reported, not the end of the comparison.
            Err(e) if name != nrd_name => stalled.push(e.to_string()),
            Err(e) => return Err(e),
        }
    }
    println!(
        "| node | transfers sealed (tx/s) | send p50 / p99 (ms) | eth_call p50 / p99 (ms) | eth_getBalance p50 / p99 (ms) |"
    );
    println!("|---|---|---|---|---|");
    for (name, r) in &rows {
        println!(
            "| {name} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} | {:.2} / {:.2} |",
            r.tx_per_s, r.send_p50, r.send_p99, r.call_p50, r.call_p99, r.balance_p50, r.balance_p99
        );
    }
    for e in &stalled {
        println!("| stalled: {e} | | | | |");
    }
    if let Some(((_, nrd), anvils)) = rows.split_last() {
        println!();
        for (name, anvil) in anvils {
            println!(
                "nrd / {name}: throughput {:.2}x, send p50 {:.2}x, eth_call p50 {:.2}x, eth_getBalance p50 {:.2}x (latency: lower is better)",
                nrd.tx_per_s / anvil.tx_per_s,
                nrd.send_p50 / anvil.send_p50,
                nrd.call_p50 / anvil.call_p50,
                nrd.balance_p50 / anvil.balance_p50
            );
        }
    }
    Ok(())
}
