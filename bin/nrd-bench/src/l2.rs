//! `nrd-bench l2`: the rollup daemon under load. `nrd devnet` (embedded L1, `NativeRollup`, L2
//! sequencer posting every block with `advance`) runs as a child process next to anvil, both fed
//! by the [`harness`](crate::harness)'s load generator, as in `nrd-bench l1`; then:
//!
//! - transfers per second until all are sealed (both), and for nrd until all are posted and
//!   verified by EXECUTE on L1 (the sequencer's safe head passes the last block with one);
//! - L1 gas, calldata bytes and blobs per L2 transaction, summed over the `advance` transactions
//!   that posted the loaded L2 blocks (read back from L1 blocks, receipts and `BlockAdvanced`);
//! - latency from an L2 block sealed (first seen in `nrd_rollupStatus`) to verified on L1;
//! - follower sync speed: a fresh `nrd node` follower rebuilds the L2 from the L1 data alone.

use crate::{
    BenchError,
    harness::{Conn, LoadArgs, Node, Nrd, Transfers, free_port, percentile, quantity, start, temp_dir},
};
use alloy_primitives::{Address, B256};
use alloy_sol_types::SolEvent;
use nrd_bridge::NativeRollup;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};
use nrd_node_builder::SEQUENCER_ACCOUNT;
use serde_json::{Value, json};
use std::{
    collections::BTreeSet,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// anvil's block gas limit in the main comparison (no load fills it, as in `nrd-bench l1`).
const ANVIL_LARGE_GAS_LIMIT: u64 = 3_000_000_000;
/// anvil's own default block gas limit.
const ANVIL_DEFAULT_GAS_LIMIT: u64 = 30_000_000;
/// How long to wait for sealing, posting or syncing before giving up.
const TIMEOUT: Duration = Duration::from_secs(900);
/// Status polling interval (the resolution of the latency figures).
const POLL: Duration = Duration::from_millis(5);

/// What `nrd-bench l2` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    #[command(flatten)]
    pub(crate) load: LoadArgs,
    /// Seconds between blocks, for anvil and the L2 (the L1 seals every second).
    #[arg(long, default_value_t = 1.0)]
    pub(crate) block_time: f64,
    /// Where the sequencer puts batches' transactions: `blob` or `calldata`.
    #[arg(long, default_value = "blob")]
    pub(crate) da_mode: String,
    /// The L2's block gas limit (`nrd devnet --l2-gas-limit`).
    #[arg(long, default_value_t = nrd_node_builder::DEVNET_L2_GAS_LIMIT)]
    pub(crate) l2_gas_limit: u64,
    /// L1's EXECUTE gas target per block, limit twice that (`nrd devnet --execute-target`).
    #[arg(long, default_value_t = 15_000_000)]
    pub(crate) execute_target: u64,
    /// Batches the devnet's submitter keeps in flight (`nrd devnet --batches-in-flight`).
    #[arg(long, default_value_t = 1)]
    pub(crate) batches_in_flight: usize,
}

/// One `(instant, unsafe head, safe head)` sample of the sequencer's `nrd_rollupStatus`.
type Sample = (Instant, u64, u64);

/// An `advance` transaction found on L1.
#[derive(Debug)]
struct Advance {
    l1_block: u64,
    gas_used: u64,
    calldata_bytes: usize,
    blobs: usize,
    /// L2 blocks it posted (its `BlockAdvanced` events).
    l2_blocks: Vec<u64>,
}

struct NrdReport {
    sealed_tx_per_s: f64,
    posted_tx_per_s: f64,
    sealed_s: f64,
    posted_s: f64,
    /// L2 blocks holding the load: (number, transactions).
    loaded: Vec<(u64, usize)>,
    /// Sealed→verified latency of each loaded block, ms, sorted.
    latency: Vec<Duration>,
}

/// Sealing throughput of a plain node (anvil): transfers / time until all are in blocks.
fn measure_sealed(node: &Node, chain_id: u64, txs: usize, threads: usize) -> Result<f64, BenchError> {
    let mut conn = Conn::to(&node.addr, node.name)?;
    let transfers = Transfers::sign(chain_id, txs, threads)?;
    let total = transfers.total;
    let mined = transfers.send(&mut conn, node)?;
    Ok(total as f64 / mined.elapsed.as_secs_f64())
}

fn halted(status: &Value, log: &Path) -> Result<(), BenchError> {
    match status.get("halted") {
        Some(reason) if !reason.is_null() => {
            Err(format!("the sequencer stopped posting: {reason} (log: {})", log.display()).into())
        }
        _ => Ok(()),
    }
}

/// Polls the sequencer's status until `stop`, keeping the samples where a head moved.
fn monitor(addr: &str, stop: &AtomicBool) -> Result<Vec<Sample>, BenchError> {
    let mut conn = Conn::to(addr, "monitor")?;
    let mut samples: Vec<Sample> = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        let s = conn.rollup_status("monitor")?;
        let (unsafe_head, safe_head) = (s["unsafeHead"].as_u64().unwrap_or(0), s["safeHead"].as_u64().unwrap_or(0));
        if samples.last().is_none_or(|&(_, u, f)| u != unsafe_head || f != safe_head) {
            samples.push((Instant::now(), unsafe_head, safe_head));
        }
        std::thread::sleep(POLL);
    }
    Ok(samples)
}

/// The first sample where `head(sample) >= number`.
fn first_seen(samples: &[Sample], number: u64, head: impl Fn(&Sample) -> u64) -> Option<Instant> {
    samples.iter().find(|s| head(s) >= number).map(|s| s.0)
}

/// The load on the devnet's sequencer: sealed, then posted and verified.
fn measure_nrd(node: &Node, txs: usize, threads: usize, log: &Path) -> Result<NrdReport, BenchError> {
    let name = node.name;
    let mut conn = Conn::to(&node.addr, name)?;
    // Start from a moving chain whose first batch is verified on L1: the first post loads the
    // KZG trusted setup (seconds), a one-time cost kept out of the latency figures.
    let ready = Instant::now();
    loop {
        let s = conn.rollup_status(name)?;
        halted(&s, log)?;
        if s["safeHead"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        if ready.elapsed() > Duration::from_secs(120) {
            return Err(format!("{name}: no L2 block verified on L1 within 120 s (log: {})", log.display()).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let transfers = Transfers::sign(nrd_node_builder::DEVNET_L2_CHAIN_ID, txs, threads)?;
    let total = transfers.total;

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (addr, stop) = (node.addr.clone(), stop.clone());
        std::thread::spawn(move || monitor(&addr, &stop))
    };
    let mined = transfers.send(&mut conn, node).map_err(|e| format!("{name}: {e} (log: {})", log.display()))?;
    let (start_block, started) = (mined.start_block, mined.started);
    let loaded: Vec<(u64, usize)> = mined.blocks.iter().copied().filter(|&(_, n)| n > 0).collect();
    let last = loaded.last().map_or(start_block, |b| b.0);
    // Posted and verified: the sequencer marks a block safe when the `advance` holding it
    // succeeded on L1, i.e. EXECUTE re-executed it from its witness.
    let (posted, seen) = loop {
        let s = conn.rollup_status(name)?;
        halted(&s, log)?;
        if s["safeHead"].as_u64().unwrap_or(0) >= last {
            let sample = (Instant::now(), s["unsafeHead"].as_u64().unwrap_or(0), s["safeHead"].as_u64().unwrap_or(0));
            break (started.elapsed(), sample);
        }
        if started.elapsed() > TIMEOUT {
            return Err(format!(
                "{name}: safe head {} short of L2 block {last} (log: {})",
                s["safeHead"],
                log.display()
            )
            .into());
        }
        std::thread::sleep(POLL);
    };
    stop.store(true, Ordering::Relaxed);
    let mut samples = watcher.join().map_err(|_| BenchError::ThreadPanicked("monitor"))??;
    // The monitor may not have sampled the last block verified yet; this thread did.
    samples.push(seen);
    let mut latency: Vec<Duration> = loaded
        .iter()
        .filter_map(|&(n, _)| {
            let sealed = first_seen(&samples, n, |s| s.1)?;
            let verified = first_seen(&samples, n, |s| s.2)?;
            Some(verified.saturating_duration_since(sealed))
        })
        .collect();
    latency.sort();
    Ok(NrdReport {
        sealed_tx_per_s: total as f64 / mined.elapsed.as_secs_f64(),
        posted_tx_per_s: total as f64 / posted.as_secs_f64(),
        sealed_s: mined.elapsed.as_secs_f64(),
        posted_s: posted.as_secs_f64(),
        loaded,
        latency,
    })
}

/// What L1 holds of the rollup: its address and deployment block, the sequencer's `advance`
/// transactions, and EXECUTE gas by L1 block.
/// `nrd_executeGas` of one L1 block.
#[derive(Debug, Clone, Copy)]
struct ExecuteGas {
    l1_block: u64,
    used: u64,
    limit: u64,
    /// Wei per L2 gas.
    base_fee: f64,
}

struct L1Record {
    rollup: Address,
    deployed_at: u64,
    advances: Vec<Advance>,
    /// EXECUTE metering of the L1 blocks with an advance.
    execute_gas: Vec<ExecuteGas>,
}

fn read_l1(l1: &str, sequencer: Address) -> Result<L1Record, BenchError> {
    let what = "L1";
    let mut conn = Conn::to(l1, "L1")?;
    let head = quantity(&conn.rpc(what, "eth_blockNumber", &json!([]))?);
    let topic = format!("{:#x}", NativeRollup::BlockAdvanced::SIGNATURE_HASH);
    let mut advances = Vec::new();
    let mut rollups = BTreeSet::new();
    let mut creations = Vec::new();
    for number in 0..=head {
        let block = conn.rpc(what, "eth_getBlockByNumber", &json!([format!("{number:#x}"), true]))?;
        for tx in block["transactions"].as_array().into_iter().flatten() {
            let from: Address = serde_json::from_value(tx["from"].clone()).map_err(|e| format!("L1 tx from: {e}"))?;
            let hash = tx["hash"].clone();
            if tx["to"].is_null() {
                creations.push((number, hash));
                continue;
            }
            if from != sequencer {
                continue;
            }
            let to: Address = serde_json::from_value(tx["to"].clone()).map_err(|e| format!("L1 tx to: {e}"))?;
            rollups.insert(to);
            let receipt = conn.rpc(what, "eth_getTransactionReceipt", &json!([hash]))?;
            if quantity(&receipt["status"]) != 1 {
                continue;
            }
            let l2_blocks = receipt["logs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|log| log["topics"][0].as_str() == Some(topic.as_str()))
                .filter_map(|log| log["topics"][1].as_str()?.parse::<B256>().ok())
                .map(|t| u64::from_be_bytes(t[24..].try_into().unwrap_or_default()))
                .collect();
            advances.push(Advance {
                l1_block: number,
                gas_used: quantity(&receipt["gasUsed"]),
                calldata_bytes: tx["input"].as_str().map_or(0, |s| s.trim_start_matches("0x").len() / 2),
                blobs: tx["blobVersionedHashes"].as_array().map_or(0, Vec::len),
                l2_blocks,
            });
        }
    }
    let rollup = match rollups.len() {
        1 => rollups.into_iter().next().unwrap_or_default(),
        n => return Err(format!("expected the sequencer {sequencer} to send to one rollup contract, found {n}").into()),
    };
    let mut deployed_at = None;
    for (number, hash) in creations {
        let receipt = conn.rpc(what, "eth_getTransactionReceipt", &json!([hash]))?;
        if serde_json::from_value::<Address>(receipt["contractAddress"].clone()).ok() == Some(rollup) {
            deployed_at = Some(number);
        }
    }
    let deployed_at = deployed_at.ok_or_else(|| format!("no L1 transaction created the rollup {rollup}"))?;
    let blocks: BTreeSet<u64> = advances.iter().map(|a| a.l1_block).collect();
    let mut execute_gas = Vec::new();
    for number in blocks {
        // Old blocks' state may be pruned; the figure is then missing.
        let Ok(gas) = conn.call("nrd_executeGas", &json!([format!("{number:#x}")])) else { continue };
        let field = |k: &str| gas[k].as_u64().unwrap_or_else(|| quantity(&gas[k]));
        let base_fee = gas["baseFee"].as_f64().unwrap_or_else(|| quantity(&gas["baseFee"]) as f64);
        execute_gas.push(ExecuteGas { l1_block: number, used: field("used"), limit: field("limit"), base_fee });
    }
    Ok(L1Record { rollup, deployed_at, advances, execute_gas })
}

struct Sync {
    target: u64,
    startup_s: f64,
    /// Until block 1 was imported (the first blob fetch loads the KZG trusted setup).
    first_import_s: f64,
    total_s: f64,
    /// Time to import the loaded blocks (from the one before the first to the last).
    loaded_s: f64,
    matches: bool,
}

/// What a fresh follower needs to join the devnet.
#[derive(Debug, Clone, Copy)]
struct Joining<'a> {
    /// The `nrd` executable.
    nrd: &'a Nrd,
    /// For its configuration, genesis, store and log.
    dir: &'a Path,
    /// The devnet's L1 JSON-RPC and beacon API, `host:port`.
    l1_rpc: &'a str,
    beacon: &'a str,
    /// The devnet's L2 block gas limit (its genesis).
    l2_gas_limit: u64,
}

/// Starts a fresh follower from L1 data alone and times it to the sequencer's safe head.
fn follower_sync(
    joining: Joining<'_>,
    seq: &mut Conn,
    record: &L1Record,
    loaded: &[(u64, usize)],
) -> Result<Sync, BenchError> {
    let Joining { nrd, dir, l1_rpc, beacon, l2_gas_limit } = joining;
    let genesis = dir.join("l2-genesis.json");
    std::fs::write(&genesis, nrd_node_builder::devnet_genesis_with_gas_limit(l2_gas_limit).to_json())
        .map_err(|source| BenchError::File { path: genesis.clone(), source })?;
    let (port, metrics_port) = (free_port(), free_port());
    let config = dir.join("follower.toml");
    let toml = format!(
        "role = \"follower\"\ndata_dir = {:?}\ngenesis = {:?}\nrpc_addr = \"127.0.0.1:{port}\"\nmetrics_addr = \"127.0.0.1:{metrics_port}\"\n\n[l1]\nrpc_url = \"http://{l1_rpc}\"\nbeacon_url = \"http://{beacon}\"\nrollup = \"{}\"\nstart_block = {}\nconfirmations = 0\npoll_interval_ms = 50\n",
        dir.join("follower-db").display().to_string(),
        genesis.display().to_string(),
        record.rollup,
        record.deployed_at,
    );
    std::fs::write(&config, toml).map_err(|source| BenchError::File { path: config.clone(), source })?;
    let target = seq.rollup_status("sequencer")?["safeHead"].as_u64().unwrap_or(0);
    let log = dir.join("follower.log");
    let mut command = nrd.command(["node", "--config"]);
    command.arg(&config).env("RUST_LOG", "info");
    let spawned = Instant::now();
    let node = start("nrd node (follower)", command, port, Some(&log))?;
    let startup_s = spawned.elapsed().as_secs_f64();
    let mut conn = Conn::to(&node.addr, "follower")?;
    let (first, last) = (loaded.first().map_or(1, |b| b.0), loaded.last().map_or(1, |b| b.0));
    let (mut first_import, mut before_first, mut at_last) = (None, None, None);
    let total_s = loop {
        let head = conn.rollup_status("follower")?["unsafeHead"].as_u64().unwrap_or(0);
        let now = Instant::now();
        if head >= 1 && first_import.is_none() {
            first_import = Some(now);
        }
        if head + 1 >= first && before_first.is_none() {
            before_first = Some(now);
        }
        if head >= last && at_last.is_none() {
            at_last = Some(now);
        }
        if head >= target {
            break spawned.elapsed().as_secs_f64();
        }
        if spawned.elapsed() > TIMEOUT {
            return Err(
                format!("follower at L2 block {head} of {target} after {TIMEOUT:?} (log: {})", log.display()).into()
            );
        }
        std::thread::sleep(POLL);
    };
    let loaded_s = match (before_first, at_last) {
        (Some(a), Some(b)) => b.saturating_duration_since(a).as_secs_f64(),
        _ => f64::NAN,
    };
    let hash = |conn: &mut Conn, what: &str| -> Result<Value, BenchError> {
        Ok(conn.rpc(what, "eth_getBlockByNumber", &json!([format!("{target:#x}"), false]))?["hash"].clone())
    };
    let matches = hash(&mut conn, "follower")? == hash(seq, "sequencer")?;
    drop(node);
    let first_import_s = first_import.map_or(f64::NAN, |t| t.saturating_duration_since(spawned).as_secs_f64());
    Ok(Sync { target, startup_s, first_import_s, total_s, loaded_s, matches })
}

/// Runs the comparison and prints Markdown tables.
pub(crate) fn run(options: &Args, binary: &Nrd) -> Result<(), BenchError> {
    let threads = options.load.threads.clamp(1, 10);
    if !(options.block_time.is_finite() && options.block_time > 0.0) {
        return Err("--block-time must be a positive number of seconds".into());
    }
    let block_time = options.block_time.to_string();
    let dir = temp_dir("l2")?;
    eprintln!("logs and the follower's data in {}", dir.display());

    // anvil, with a gas limit no load reaches, and with the L2's 30M (same block capacity).
    let l2_gas_limit = options.l2_gas_limit;
    let mut anvils = vec![
        ("anvil, 3G gas limit".to_string(), ANVIL_LARGE_GAS_LIMIT),
        ("anvil, 30M gas limit (its default)".to_string(), ANVIL_DEFAULT_GAS_LIMIT),
    ];
    if ![ANVIL_LARGE_GAS_LIMIT, ANVIL_DEFAULT_GAS_LIMIT].contains(&l2_gas_limit) {
        anvils.push((format!("anvil, {}M gas limit (the L2's)", l2_gas_limit / 1_000_000), l2_gas_limit));
    }
    let mut anvil_rows = Vec::new();
    for (name, gas_limit) in anvils {
        let port = free_port();
        let command = options.load.anvil(port, &block_time, &gas_limit.to_string());
        let node = start("anvil", command, port, None)?;
        let tx_per_s = measure_sealed(&node, 31337, options.load.txs, threads)?;
        eprintln!("{name}: {tx_per_s:.0} tx/s sealed");
        anvil_rows.push((name, tx_per_s));
    }

    // nrd devnet.
    let (l2_port, l1_port, beacon_port, follower_port) = (free_port(), free_port(), free_port(), free_port());
    let (l1_addr, beacon_addr) = (format!("127.0.0.1:{l1_port}"), format!("127.0.0.1:{beacon_port}"));
    let log = dir.join("devnet.log");
    let mut command = binary.command(["devnet", "--block-time", &block_time, "--da-mode", &options.da_mode]);
    command
        .args(["--l2-gas-limit", &l2_gas_limit.to_string(), "--execute-target", &options.execute_target.to_string()])
        .args(["--batches-in-flight", &options.batches_in_flight.to_string()])
        .args(["--rpc-addr", &format!("127.0.0.1:{l2_port}")])
        .args(["--l1-rpc-addr", &l1_addr])
        .args(["--beacon-addr", &beacon_addr])
        .args(["--follower-rpc-addr", &format!("127.0.0.1:{follower_port}")])
        .env("RUST_LOG", "info");
    let mut devnet = start("nrd devnet", command, l2_port, Some(&log))?;
    let nrd = match measure_nrd(&devnet, options.load.txs, threads, &log) {
        Ok(report) => report,
        Err(e) => {
            // Say whether the devnet died (its log then shows how) or only a call failed.
            std::thread::sleep(Duration::from_millis(200));
            return Err(match devnet.exited() {
                Some(status) => format!("{e}; nrd devnet exited with {status} (log: {})", log.display()),
                None => format!("{e}; nrd devnet still running (log: {})", log.display()),
            }
            .into());
        }
    };
    eprintln!("nrd devnet: {:.0} tx/s sealed, {:.0} tx/s posted", nrd.sealed_tx_per_s, nrd.posted_tx_per_s);
    let sequencer = dev_accounts(TEST_MNEMONIC, SEQUENCER_ACCOUNT as u32 + 1).map_err(|e| e.to_string())?
        [SEQUENCER_ACCOUNT]
        .address();
    let record = read_l1(&l1_addr, sequencer)?;
    let mut seq = Conn::to(&devnet.addr, "sequencer")?;
    let sync = follower_sync(
        Joining { nrd: binary, dir: &dir, l1_rpc: &l1_addr, beacon: &beacon_addr, l2_gas_limit },
        &mut seq,
        &record,
        &nrd.loaded,
    )?;
    drop(devnet);

    // Report.
    let total: usize = nrd.loaded.iter().map(|b| b.1).sum();
    let (first, last) = (nrd.loaded.first().map_or(0, |b| b.0), nrd.loaded.last().map_or(0, |b| b.0));
    println!(
        "{total} transfers from {threads} senders, {}s blocks, L2 blocks {first}..={last} held them ({} blocks with transfers, at most {} in one)\n",
        options.block_time,
        nrd.loaded.len(),
        nrd.loaded.iter().map(|b| b.1).max().unwrap_or(0)
    );
    println!("| node | transfers sealed (tx/s) | sealed and verified on L1 (tx/s) |");
    println!("|---|---|---|");
    for (name, tx_per_s) in &anvil_rows {
        println!("| {name} | {tx_per_s:.0} | — |");
    }
    println!(
        "| nrd devnet ({} DA, L2 gas limit {}M, EXECUTE target {}M) | {:.0} ({:.1} s) | {:.0} ({:.1} s) |",
        options.da_mode,
        l2_gas_limit / 1_000_000,
        options.execute_target / 1_000_000,
        nrd.sealed_tx_per_s,
        nrd.sealed_s,
        nrd.posted_tx_per_s,
        nrd.posted_s
    );
    println!();
    for (name, tx_per_s) in &anvil_rows {
        println!(
            "nrd / {name}: sealed {:.2}x, sealed and verified on L1 {:.2}x",
            nrd.sealed_tx_per_s / tx_per_s,
            nrd.posted_tx_per_s / tx_per_s
        );
    }

    // L1 cost of the loaded blocks: every advance that posted one of them.
    let window: Vec<&Advance> =
        record.advances.iter().filter(|a| a.l2_blocks.iter().any(|n| (first..=last).contains(n))).collect();
    let idle: Vec<&Advance> =
        record.advances.iter().filter(|a| !a.l2_blocks.is_empty() && a.l2_blocks.iter().all(|n| *n < first)).collect();
    let l2_blocks: usize = window.iter().map(|a| a.l2_blocks.len()).sum();
    let gas: u64 = window.iter().map(|a| a.gas_used).sum();
    let calldata: usize = window.iter().map(|a| a.calldata_bytes).sum();
    let blobs: usize = window.iter().map(|a| a.blobs).sum();
    let per_tx = |x: f64| x / total.max(1) as f64;
    let window_l1: BTreeSet<u64> = window.iter().map(|a| a.l1_block).collect();
    let execute: Vec<ExecuteGas> =
        record.execute_gas.iter().copied().filter(|e| window_l1.contains(&e.l1_block)).collect();
    let execute_max = execute.iter().map(|e| e.used).max().unwrap_or(0);
    let execute_limit = execute.first().map_or(0, |e| e.limit);
    let l1_span = window_l1.last().zip(window_l1.first()).map_or(0, |(a, b)| a - b + 1);
    println!("\nL1 cost of the loaded L2 blocks (every `advance` that posted one; rollup {}):\n", record.rollup);
    println!(
        "| advances | L2 blocks | L2 txs | L1 blocks spanned | L1 gas | L1 gas / L2 tx | calldata bytes / L2 tx | blobs (bytes / L2 tx) | EXECUTE gas, most in one L1 block (limit) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {l2_blocks} | {total} | {l1_span} | {gas} | {:.0} | {:.1} | {blobs} ({:.1}) | {execute_max} ({execute_limit}) |",
        window.len(),
        per_tx(gas as f64),
        per_tx(calldata as f64),
        per_tx((blobs * 131_072) as f64),
    );
    let range = |f: &dyn Fn(&Advance) -> u64| {
        let values: Vec<u64> = window.iter().map(|a| f(a)).collect();
        (values.iter().min().copied().unwrap_or(0), values.iter().max().copied().unwrap_or(0))
    };
    let (gas_min, gas_max) = range(&|a| a.gas_used);
    let (cd_min, cd_max) = range(&|a| a.calldata_bytes as u64);
    let (blocks_min, blocks_max) = range(&|a| a.l2_blocks.len() as u64);
    println!(
        "\nPer advance: {blocks_min}–{blocks_max} L2 blocks, {gas_min}–{gas_max} L1 gas, {cd_min}–{cd_max} calldata bytes, at most {} blob(s).",
        window.iter().map(|a| a.blobs).max().unwrap_or(0)
    );
    if let (Some(a), Some(b)) = (execute.first(), execute.last()) {
        println!(
            "EXECUTE base fee (wei per L2 gas): {:.0} in L1 block {}, {:.0} in L1 block {} (it rises 12.5% per L1 block above the {} target).",
            a.base_fee, a.l1_block, b.base_fee, b.l1_block, options.execute_target
        );
    }
    if !idle.is_empty() {
        let idle_blocks: usize = idle.iter().map(|a| a.l2_blocks.len()).sum();
        let idle_gas: u64 = idle.iter().map(|a| a.gas_used).sum();
        println!(
            "\nBefore the load: {} advances posted {idle_blocks} empty L2 blocks for {idle_gas} L1 gas ({:.0} per empty block).",
            idle.len(),
            idle_gas as f64 / idle_blocks.max(1) as f64
        );
    }
    let lat = &nrd.latency;
    println!(
        "\nL2 block sealed → verified by EXECUTE on L1 (first seen in nrd_rollupStatus, {} ms polling), over the {} loaded blocks: min {:.0} ms, p50 {:.0} ms, max {:.0} ms",
        POLL.as_millis(),
        lat.len(),
        percentile(lat, 0.0),
        percentile(lat, 0.5),
        percentile(lat, 1.0)
    );
    println!(
        "\nFresh follower (`nrd node`, role follower, L1 poll 50 ms) to the sequencer's safe head {}: {:.1} s from spawn ({:.1} s until its RPC answered, {:.1} s until block 1 was imported) = {:.1} L2 blocks/s overall, {:.1} blocks/s after block 1; the {} loaded blocks ({total} txs) in {:.2} s = {:.1} blocks/s, {:.0} tx/s; same block hash as the sequencer: {}",
        sync.target,
        sync.total_s,
        sync.startup_s,
        sync.first_import_s,
        sync.target as f64 / sync.total_s,
        (sync.target - 1) as f64 / (sync.total_s - sync.first_import_s),
        last - first + 1,
        sync.loaded_s,
        (last - first + 1) as f64 / sync.loaded_s,
        total as f64 / sync.loaded_s,
        sync.matches
    );
    Ok(())
}
