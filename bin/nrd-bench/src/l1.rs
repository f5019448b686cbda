//! `nrd bench l1`: transfer throughput and read latency of `nrd l1` next to anvil, with the
//! same load generator (pre-signed transactions over keep-alive HTTP from several threads).
//! The load generator and the child-process plumbing are shared with `nrd bench l2`.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, TxKind, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::Path,
    process::{Child, Command, Stdio},
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

/// Block gas limit of both nodes in the throughput run.
const GAS_LIMIT: &str = "3000000000";

/// A keep-alive HTTP/1.1 JSON-RPC connection.
pub(crate) struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
}

impl Conn {
    pub(crate) fn open(addr: &str) -> std::io::Result<Self> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Self { reader: BufReader::new(stream), host: addr.to_string() })
    }

    pub(crate) fn call(&mut self, method: &str, params: &Value) -> std::io::Result<Value> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let request = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        self.reader.get_mut().write_all(request.as_bytes())?;
        let mut length = None;
        let mut line = String::new();
        loop {
            line.clear();
            if self.reader.read_line(&mut line)? == 0 {
                return Err(std::io::Error::other("connection closed"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse::<usize>().ok();
            }
        }
        let mut buf = vec![0; length.ok_or_else(|| std::io::Error::other("no content-length"))?];
        self.reader.read_exact(&mut buf)?;
        let response: Value = serde_json::from_slice(&buf).map_err(std::io::Error::other)?;
        match response.get("error") {
            Some(e) => Err(std::io::Error::other(e.to_string())),
            None => Ok(response["result"].clone()),
        }
    }
}

/// A node running as a child process, killed on drop.
pub(crate) struct Node {
    pub(crate) name: &'static str,
    child: Child,
    /// `host:port` of its JSON-RPC.
    pub(crate) addr: String,
}

impl Node {
    /// The exit status, if the process has ended.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on now.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map_or(18_999, |a| a.port())
}

/// Starts `command` (its output to `log`, or discarded) and waits until its JSON-RPC on `port`
/// answers `eth_chainId`.
pub(crate) fn start(name: &'static str, mut command: Command, port: u16, log: Option<&Path>) -> Result<Node, String> {
    let (stdout, stderr) = match log {
        Some(path) => {
            let file = std::fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let copy = file.try_clone().map_err(|e| format!("{}: {e}", path.display()))?;
            (Stdio::from(copy), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let child = command.stdout(stdout).stderr(stderr).spawn().map_err(|e| format!("cannot start {name}: {e}"))?;
    let mut node = Node { name, child, addr: format!("127.0.0.1:{port}") };
    let start = Instant::now();
    while Conn::open(&node.addr).and_then(|mut c| c.call("eth_chainId", &json!([]))).is_err() {
        if let Ok(Some(status)) = node.child.try_wait() {
            return Err(format!("{name} exited ({status}) before answering on {}", node.addr));
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(format!("{name} did not answer on {}", node.addr));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(node)
}

/// A JSON-RPC quantity (`"0x…"`) as a number (0 when absent or malformed).
pub(crate) fn quantity(value: &Value) -> u64 {
    value.as_str().and_then(|s| u64::from_str_radix(s.trim_start_matches("0x"), 16).ok()).unwrap_or(0)
}

/// `per_sender` pre-signed EIP-1559 transfers (1 wei to `0x…bb`) from each of `keys`, nonces
/// from 0, in the network encoding as hex.
pub(crate) fn sign_transfers(chain_id: u64, keys: &[PrivateKeySigner], per_sender: usize) -> Vec<Vec<String>> {
    keys.iter()
        .map(|key| {
            (0..per_sender as u64)
                .map(|nonce| {
                    let tx = TxEip1559 {
                        chain_id,
                        nonce,
                        gas_limit: 21_000,
                        max_fee_per_gas: 100_000_000_000,
                        max_priority_fee_per_gas: 1_000_000_000,
                        to: TxKind::Call(Address::with_last_byte(0xbb)),
                        value: U256::from(1),
                        ..Default::default()
                    };
                    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("local key signs");
                    hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718())
                })
                .collect()
        })
        .collect()
}

/// Sends each batch with `eth_sendRawTransaction` from its own thread and keep-alive
/// connection, all starting together; returns when all are accepted, with the start instant.
pub(crate) fn send_all(addr: &str, batches: Vec<Vec<String>>) -> Result<Instant, String> {
    let barrier = Arc::new(Barrier::new(batches.len() + 1));
    let workers: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let (addr, barrier) = (addr.to_string(), barrier.clone());
            std::thread::spawn(move || -> Result<(), String> {
                let conn = Conn::open(&addr);
                barrier.wait();
                let mut conn = conn.map_err(|e| e.to_string())?;
                for (i, raw) in batch.into_iter().enumerate() {
                    conn.call("eth_sendRawTransaction", &json!([raw]))
                        .map_err(|e| format!("transaction {i} of a sender: {e}"))?;
                }
                Ok(())
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    for w in workers {
        w.join().map_err(|_| "load thread panicked".to_string())??;
    }
    Ok(started)
}

/// Where the sent transactions landed.
pub(crate) struct Mined {
    /// From the first send until the last transaction was seen in a block.
    pub(crate) elapsed: Duration,
    /// Blocks after `start_block` up to the last with a transaction: (number, transactions).
    pub(crate) blocks: Vec<(u64, usize)>,
}

/// Walks blocks after `start_block` until they hold `total` transactions.
pub(crate) fn wait_mined(
    conn: &mut Conn,
    name: &str,
    start_block: u64,
    total: usize,
    started: Instant,
) -> Result<Mined, String> {
    let mut mined = 0usize;
    let mut next = start_block + 1;
    let mut blocks = Vec::new();
    while mined < total {
        let block = conn
            .call("eth_getBlockByNumber", &json!([format!("{next:#x}"), false]))
            .map_err(|e| format!("{name}: {e}"))?;
        if block.is_null() {
            if started.elapsed() > Duration::from_secs(600) {
                return Err(format!("{name}: only {mined} of {total} transactions mined"));
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let txs = block["transactions"].as_array().map_or(0, Vec::len);
        mined += txs;
        blocks.push((next, txs));
        next += 1;
    }
    Ok(Mined { elapsed: started.elapsed(), blocks })
}

/// The `p` quantile of sorted durations, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

struct Report {
    tx_per_s: f64,
    call_p50: f64,
    call_p99: f64,
    balance_p50: f64,
    balance_p99: f64,
}

fn measure(node: &Node, chain_id: u64, txs: usize, threads: usize, reads: usize) -> Result<Report, String> {
    let io = |e: std::io::Error| format!("{}: {e}", node.name);
    let keys = dev_accounts(TEST_MNEMONIC, threads as u32).map_err(|e| e.to_string())?;
    let mut conn = Conn::open(&node.addr).map_err(io)?;
    let start_block = quantity(&conn.call("eth_blockNumber", &json!([])).map_err(io)?);
    // One sender per thread, so each thread's nonces arrive in order.
    let per_thread = txs / threads;
    let batches = sign_transfers(chain_id, &keys, per_thread);
    let total = per_thread * threads;
    let started = send_all(&node.addr, batches)?;
    // Wait until every transaction is in a block.
    let mined = wait_mined(&mut conn, node.name, start_block, total, started)?;
    let tx_per_s = total as f64 / mined.elapsed.as_secs_f64();

    // Read latency under concurrent load: eth_call and eth_getBalance from every thread.
    let probe = |method: &'static str| -> Result<Vec<Duration>, String> {
        let barrier = Arc::new(Barrier::new(threads));
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (addr, barrier) = (node.addr.clone(), barrier.clone());
                let from = keys[t % keys.len()].address();
                std::thread::spawn(move || -> Result<Vec<Duration>, String> {
                    let mut conn = Conn::open(&addr).map_err(|e| e.to_string())?;
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
                        conn.call(method, &params).map_err(|e| e.to_string())?;
                        lat.push(t.elapsed());
                    }
                    Ok(lat)
                })
            })
            .collect();
        let mut all = Vec::new();
        for w in workers {
            all.extend(w.join().map_err(|_| "probe thread panicked".to_string())??);
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
pub(crate) fn run(anvil: &std::path::Path, txs: usize, threads: usize, reads: usize) -> Result<(), String> {
    let threads = threads.clamp(1, 10);
    let nrd_port = free_port();
    let mut nrd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    // Both seal on a 1 s interval with a gas limit no load reaches: the measure is how fast a
    // node admits, orders and seals, not how many transfers fit a 30M block.
    nrd.args(["l1", "--block-time", "1", "--gas-limit", GAS_LIMIT, "--chain-id", "31337"])
        .args(["--rpc-addr", &format!("127.0.0.1:{nrd_port}")])
        .args(["--beacon-addr", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn");
    let anvil_port = free_port();
    let mut anvil_cmd = Command::new(anvil);
    anvil_cmd.args(["--port", &anvil_port.to_string(), "--host", "127.0.0.1", "--silent", "--hardfork", "prague"]);
    anvil_cmd.args(["--block-time", "1", "--gas-limit", GAS_LIMIT]);

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
