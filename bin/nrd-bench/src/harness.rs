//! The load-generation harness every benchmark that runs nodes shares: the `nrd` executable and
//! child processes on free ports, keep-alive JSON-RPC connections, pre-signed transfers sent
//! from several threads, waiting for them to be mined, and percentiles.

use crate::BenchError;
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, TxKind, U256, hex};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde_json::{Value, json};
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Barrier},
    time::{Duration, Instant},
};

/// The `nrd` executable the benchmarks run (`nrd l1`, `nrd devnet`, `nrd node`, `nrd bridge`).
#[derive(Debug, Clone)]
pub(crate) struct Nrd(PathBuf);

impl Nrd {
    /// `path`, or else the `nrd` next to this executable (`target/release/nrd` beside
    /// `target/release/nrd-bench`); an error if there is no file there.
    pub(crate) fn locate(path: Option<&Path>) -> Result<Self, BenchError> {
        let path = match path {
            Some(path) => path.to_path_buf(),
            None => {
                let exe = std::env::current_exe().map_err(BenchError::CurrentExe)?;
                exe.with_file_name(format!("nrd{}", std::env::consts::EXE_SUFFIX))
            }
        };
        if path.is_file() { Ok(Self(path)) } else { Err(BenchError::NrdMissing { path }) }
    }

    /// A command running `nrd` with `args`.
    pub(crate) fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = Command::new(&self.0);
        command.args(args);
        command
    }
}

/// A keep-alive HTTP/1.1 JSON-RPC connection.
#[derive(Debug)]
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

    /// Opens a connection to `what` (a node's name, for errors) at `addr`.
    pub(crate) fn to(addr: &str, what: &str) -> Result<Self, BenchError> {
        Self::open(addr).map_err(|source| BenchError::Connect { what: what.into(), addr: addr.into(), source })
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

    /// [`Conn::call`] with the node's name (`what`) and the method in the error.
    pub(crate) fn rpc(&mut self, what: &str, method: &str, params: &Value) -> Result<Value, BenchError> {
        self.call(method, params).map_err(|source| BenchError::Rpc { what: what.into(), method: method.into(), source })
    }

    /// The node's `nrd_rollupStatus`.
    pub(crate) fn rollup_status(&mut self, what: &str) -> Result<Value, BenchError> {
        self.rpc(what, "nrd_rollupStatus", &json!([]))
    }
}

/// A node running as a child process, killed on drop.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) name: &'static str,
    child: Child,
    /// `host:port` of its JSON-RPC.
    pub(crate) addr: String,
}

impl Node {
    /// A process started elsewhere, killed on drop.
    pub(crate) fn adopt(name: &'static str, child: Child, addr: String) -> Self {
        Self { name, child, addr }
    }

    /// The exit status, if the process has ended.
    pub(crate) fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Stops it as an operator does (SIGINT) and waits up to `timeout` for it to exit; killed
    /// after that. A store closed this way opens without redb's repair.
    pub(crate) fn interrupt(&mut self, timeout: Duration) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let start = Instant::now();
        while self.exited().is_none() && start.elapsed() < timeout {
            std::thread::sleep(Duration::from_millis(20));
        }
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

/// `nrd-bench-<what>-<pid>` in the temporary directory, created.
pub(crate) fn temp_dir(what: &str) -> Result<PathBuf, BenchError> {
    let dir = std::env::temp_dir().join(format!("nrd-bench-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| BenchError::File { path: dir.clone(), source })?;
    Ok(dir)
}

/// Starts `command` (its output to `log`, or discarded) and waits until its JSON-RPC on `port`
/// answers `eth_chainId`.
pub(crate) fn start(
    name: &'static str,
    mut command: Command,
    port: u16,
    log: Option<&Path>,
) -> Result<Node, BenchError> {
    let (stdout, stderr) = match log {
        Some(path) => {
            let file_error = |source| BenchError::File { path: path.to_path_buf(), source };
            let file = std::fs::File::create(path).map_err(file_error)?;
            let copy = file.try_clone().map_err(file_error)?;
            (Stdio::from(copy), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    let child = command
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|source| BenchError::Spawn { name: name.into(), source })?;
    let mut node = Node { name, child, addr: format!("127.0.0.1:{port}") };
    let start = Instant::now();
    while Conn::open(&node.addr).and_then(|mut c| c.call("eth_chainId", &json!([]))).is_err() {
        if let Ok(Some(status)) = node.child.try_wait() {
            return Err(BenchError::Exited { name: name.into(), status, addr: node.addr.clone() });
        }
        if start.elapsed() > Duration::from_secs(60) {
            return Err(BenchError::NoAnswer { name: name.into(), addr: node.addr.clone() });
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
fn sign_transfers(chain_id: u64, keys: &[PrivateKeySigner], per_sender: usize) -> Vec<Vec<String>> {
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
/// connection, all starting together; returns when all are accepted, with the start instant
/// and every send's latency (request written to answer read), sorted. A send not answered
/// within `deadline` is an error.
fn send_all(addr: &str, batches: Vec<Vec<String>>, deadline: Duration) -> Result<(Instant, Vec<Duration>), BenchError> {
    let barrier = Arc::new(Barrier::new(batches.len() + 1));
    let workers: Vec<_> = batches
        .into_iter()
        .map(|batch| {
            let (addr, barrier) = (addr.to_string(), barrier.clone());
            std::thread::spawn(move || -> Result<Vec<Duration>, BenchError> {
                let conn = Conn::to(&addr, "load");
                barrier.wait();
                let mut conn = conn?;
                conn.reader.get_ref().set_read_timeout(Some(deadline)).map_err(|e| format!("load connection: {e}"))?;
                let mut latencies = Vec::with_capacity(batch.len());
                for (i, raw) in batch.into_iter().enumerate() {
                    let sent = Instant::now();
                    conn.call("eth_sendRawTransaction", &json!([raw]))
                        .map_err(|e| format!("transaction {i} of a sender: {e}"))?;
                    latencies.push(sent.elapsed());
                }
                Ok(latencies)
            })
        })
        .collect();
    barrier.wait();
    let started = Instant::now();
    let mut latencies = Vec::new();
    for w in workers {
        latencies.extend(w.join().map_err(|_| BenchError::ThreadPanicked("load"))??);
    }
    latencies.sort();
    Ok((started, latencies))
}

/// Where the sent transactions landed.
#[derive(Debug)]
pub(crate) struct Mined {
    /// The head when sending started.
    pub(crate) start_block: u64,
    /// When the first send started.
    pub(crate) started: Instant,
    /// From the first send until the last transaction was seen in a block.
    pub(crate) elapsed: Duration,
    /// Blocks after `start_block` up to the last with a transaction: (number, transactions).
    pub(crate) blocks: Vec<(u64, usize)>,
    /// Every `eth_sendRawTransaction`'s latency, sorted.
    pub(crate) send_latencies: Vec<Duration>,
}

/// Walks blocks after `start_block` until they hold `total` transactions (an error after
/// `deadline` from `started`).
fn wait_mined(
    conn: &mut Conn,
    name: &str,
    start_block: u64,
    total: usize,
    started: Instant,
    deadline: Duration,
) -> Result<Mined, BenchError> {
    let mut mined = 0usize;
    let mut next = start_block + 1;
    let mut blocks = Vec::new();
    while mined < total {
        let block = conn.rpc(name, "eth_getBlockByNumber", &json!([format!("{next:#x}"), false]))?;
        if block.is_null() {
            if started.elapsed() > deadline {
                return Err(format!(
                    "{name}: only {mined} of {total} transactions mined after {:.0} s",
                    started.elapsed().as_secs_f64()
                )
                .into());
            }
            std::thread::sleep(Duration::from_millis(5));
            continue;
        }
        let txs = block["transactions"].as_array().map_or(0, Vec::len);
        mined += txs;
        blocks.push((next, txs));
        next += 1;
    }
    Ok(Mined { start_block, started, elapsed: started.elapsed(), blocks, send_latencies: Vec::new() })
}

/// The transfer load: `txs / threads` pre-signed transfers from each of the test mnemonic's
/// first `threads` accounts, one sending thread per account (so each sender's nonces arrive in
/// order).
#[derive(Debug)]
pub(crate) struct Transfers {
    batches: Vec<Vec<String>>,
    /// Transfers in all (`txs` rounded down to a multiple of `threads`).
    pub(crate) total: usize,
}

impl Transfers {
    /// Signs the load for chain `chain_id`.
    pub(crate) fn sign(chain_id: u64, txs: usize, threads: usize) -> Result<Self, BenchError> {
        let keys = nrd_l1_devnet::dev_accounts(nrd_l1_devnet::TEST_MNEMONIC, threads as u32)
            .map_err(|e| format!("test accounts: {e}"))?;
        let per_thread = txs / threads;
        Ok(Self { batches: sign_transfers(chain_id, &keys, per_thread), total: per_thread * threads })
    }

    /// Sends it all to `node` and waits until every transfer is in a block after the head at
    /// the start (`conn` is a connection to `node`).
    pub(crate) fn send(self, conn: &mut Conn, node: &Node) -> Result<Mined, BenchError> {
        self.send_within(conn, node, Duration::from_secs(600))
    }

    /// [`Transfers::send`], giving up (an error) when the transfers are not all in blocks
    /// `deadline` after the first send.
    pub(crate) fn send_within(self, conn: &mut Conn, node: &Node, deadline: Duration) -> Result<Mined, BenchError> {
        let start_block = quantity(&conn.rpc(node.name, "eth_blockNumber", &json!([]))?);
        let (started, send_latencies) = send_all(&node.addr, self.batches, deadline)?;
        Ok(Mined { send_latencies, ..wait_mined(conn, node.name, start_block, self.total, started, deadline)? })
    }
}

/// The `p` quantile of sorted durations, in milliseconds.
pub(crate) fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

/// The common load options of the throughput benchmarks.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LoadArgs {
    /// The anvil binary (scripts/install-tools.sh puts one in .tools/bin).
    #[arg(long, default_value = ".tools/bin/anvil")]
    pub(crate) anvil: PathBuf,
    /// Transfers to send (enough that sending, not the block interval, dominates; the L2 pool
    /// holds at most 20,000).
    #[arg(long, default_value_t = 20_000)]
    pub(crate) txs: usize,
    /// Concurrent client threads (one sender account each; at most 10, except in `nrd-bench l1`,
    /// which starts both nodes with as many dev accounts as threads).
    #[arg(long, default_value_t = 10)]
    pub(crate) threads: usize,
}

impl LoadArgs {
    /// An anvil on `port` (Prague, quiet) sealing every `block_time` seconds up to `gas_limit`.
    pub(crate) fn anvil(&self, port: u16, block_time: &str, gas_limit: &str) -> Command {
        let mut command = self.anvil_automine(port, gas_limit);
        command.args(["--block-time", block_time]);
        command
    }

    /// An anvil on `port` (Prague, quiet) in automine: a block per transaction as it arrives.
    pub(crate) fn anvil_automine(&self, port: u16, gas_limit: &str) -> Command {
        let mut command = Command::new(&self.anvil);
        command.args(["--port", &port.to_string(), "--host", "127.0.0.1", "--silent", "--hardfork", "prague"]);
        command.args(["--gas-limit", gas_limit]);
        command
    }
}
