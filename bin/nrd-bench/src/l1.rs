//! `nrd-bench l1`: transfer throughput and read latency of `nrd l1` next to anvil, with the
//! same load generator (pre-signed transactions over keep-alive HTTP from several threads, the
//! [`harness`](crate::harness) every node benchmark shares).

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
}

struct Report {
    tx_per_s: f64,
    call_p50: f64,
    call_p99: f64,
    balance_p50: f64,
    balance_p99: f64,
}

fn measure(node: &Node, chain_id: u64, txs: usize, threads: usize, reads: usize) -> Result<Report, BenchError> {
    let keys = dev_accounts(TEST_MNEMONIC, threads as u32).map_err(|e| e.to_string())?;
    let mut conn = Conn::to(&node.addr, node.name)?;
    // One sender per thread; wait until every transaction is in a block.
    let transfers = Transfers::sign(chain_id, txs, threads)?;
    let total = transfers.total;
    let mined = transfers.send(&mut conn, node)?;
    let tx_per_s = total as f64 / mined.elapsed.as_secs_f64();

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
        call_p50: percentile(&calls, 0.5),
        call_p99: percentile(&calls, 0.99),
        balance_p50: percentile(&balances, 0.5),
        balance_p99: percentile(&balances, 0.99),
    })
}

/// Runs the comparison and prints a Markdown table.
pub(crate) fn run(args: &Args, nrd: &Nrd) -> Result<(), BenchError> {
    let (txs, reads) = (args.load.txs, args.reads);
    let threads = args.load.threads.clamp(1, 10);
    let nrd_port = free_port();
    // Both seal on a 1 s interval with a gas limit no load reaches: the measure is how fast a
    // node admits, orders and seals, not how many transfers fit a 30M block.
    let mut nrd = nrd.command(["l1", "--block-time", "1", "--gas-limit", GAS_LIMIT, "--chain-id", "31337"]);
    nrd.args(["--rpc-addr", &format!("127.0.0.1:{nrd_port}")])
        .args(["--beacon-addr", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn");
    let anvil_port = free_port();
    let anvil_cmd = args.load.anvil(anvil_port, "1", GAS_LIMIT);

    let mut rows = Vec::new();
    for (name, command, port) in [("anvil", anvil_cmd, anvil_port), ("nrd l1", nrd, nrd_port)] {
        let node = start(name, command, port, None)?;
        let report = measure(&node, 31337, txs, threads, reads)?;
        rows.push((name, report));
    }
    println!("| node | transfers sealed (tx/s) | eth_call p50 / p99 (ms) | eth_getBalance p50 / p99 (ms) |");
    println!("|---|---|---|---|");
    for (name, r) in &rows {
        println!(
            "| {name} | {:.0} | {:.2} / {:.2} | {:.2} / {:.2} |",
            r.tx_per_s, r.call_p50, r.call_p99, r.balance_p50, r.balance_p99
        );
    }
    if let [(_, anvil), (_, nrd)] = &rows[..] {
        println!(
            "\nnrd / anvil: throughput {:.2}x, eth_call p50 {:.2}x, eth_getBalance p50 {:.2}x (latency: lower is better)",
            nrd.tx_per_s / anvil.tx_per_s,
            nrd.call_p50 / anvil.call_p50,
            nrd.balance_p50 / anvil.balance_p50
        );
    }
    Ok(())
}
