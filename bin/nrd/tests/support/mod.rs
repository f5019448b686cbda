//! Helpers for end-to-end tests: pinned tools, an `nrd l1` process, raw JSON-RPC.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used, clippy::needless_pass_by_value)]

use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::{Duration, Instant},
};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Directory of the pinned tools (cast, anvil, solcjs, python-web3), installed by the project's script.
pub fn tools() -> &'static Path {
    static TOOLS: OnceLock<PathBuf> = OnceLock::new();
    TOOLS.get_or_init(|| {
        let out = Command::new(repo().join("scripts/install-tools.sh"))
            .arg("--quiet")
            .output()
            .expect("run install-tools.sh");
        assert!(out.status.success(), "install-tools.sh failed: {}", String::from_utf8_lossy(&out.stderr));
        let dir = String::from_utf8_lossy(&out.stdout).trim().lines().last().expect("bin dir").to_string();
        PathBuf::from(dir)
    })
}

/// `node_modules` of the pinned tools (viem), next to the tools bin directory.
pub fn node_modules() -> PathBuf {
    tools().parent().expect("tools dir").join("node_modules")
}

/// The node binary: `$NODE`, else `node` on PATH (what install-tools.sh uses).
pub fn node() -> PathBuf {
    std::env::var_os("NODE").map_or_else(|| PathBuf::from("node"), PathBuf::from)
}

/// The pinned web3.py venv's python (`.tools/bin/python-web3`).
pub fn python_web3() -> PathBuf {
    tools().join("python-web3")
}

/// Runs pinned `cast`; returns stdout, panicking with stderr on failure.
pub fn cast(args: &[&str]) -> String {
    let out = Command::new(tools().join("cast")).args(args).output().expect("run cast");
    assert!(out.status.success(), "cast {:?} failed: {}", args.first(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs `cast` with `--json` output and parses it.
pub fn cast_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    serde_json::from_str(&cast(&all)).expect("cast json")
}

/// Compiles a Solidity file under `tests/contracts` with pinned solcjs; returns the bytecode.
pub fn compile(file: &str, contract: &str) -> String {
    let out_dir = std::env::temp_dir().join(format!("nrd-sol-{}-{contract}", std::process::id()));
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/contracts");
    let out = Command::new(repo().join("scripts/compile-solidity.sh"))
        .arg(&out_dir)
        .arg(file)
        .current_dir(&src)
        .env("SOLCJS_EXTRA_ARGS", "--base-path .")
        .output()
        .expect("run compile-solidity.sh");
    assert!(out.status.success(), "solc failed: {}", String::from_utf8_lossy(&out.stderr));
    let stem = file.trim_end_matches(".sol");
    let bin = std::fs::read_to_string(out_dir.join(format!("{stem}_sol_{contract}.bin"))).expect("bytecode");
    std::fs::remove_dir_all(&out_dir).ok();
    format!("0x{}", bin.trim())
}

/// A free loopback port, never one this test process handed out before: tests run side by
/// side as threads of one process, and a port released here is free again until the child that
/// was given it binds it, so without this two tests could be given the same port.
pub fn free_addr() -> SocketAddr {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = nrd_chain::LockExt::lock_or_recover(&GIVEN);
    loop {
        let addr = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        if !given.contains(&addr.port()) {
            given.push(addr.port());
            return addr;
        }
    }
}

/// `--metrics-addr <a free port>` unless `extra` has its own: a port taken is an error, and
/// tests run side by side.
pub fn metrics_flag(extra: &[&str]) -> Vec<String> {
    if extra.contains(&"--metrics-addr") { Vec::new() } else { vec!["--metrics-addr".into(), free_addr().to_string()] }
}

/// An `nrd l1` process, killed on drop.
pub struct L1 {
    child: Child,
    pub rpc: String,
    pub beacon: String,
}

impl L1 {
    /// Starts `nrd l1` with extra flags and waits until it answers.
    pub fn start(extra: &[&str]) -> Self {
        let (rpc, beacon) = (free_addr(), free_addr());
        let child = Command::new(env!("CARGO_BIN_EXE_nrd"))
            .args(["l1", "--rpc-addr", &rpc.to_string(), "--beacon-addr", &beacon.to_string()])
            .args(metrics_flag(extra))
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn nrd l1");
        let l1 = Self { child, rpc: format!("http://{rpc}"), beacon: format!("http://{beacon}") };
        let start = Instant::now();
        while rpc_call(&l1.rpc, "eth_chainId", json!([])).is_err() {
            assert!(start.elapsed() < Duration::from_secs(30), "nrd l1 did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        l1
    }
}

impl Drop for L1 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// POSTs a raw body to a JSON-RPC URL; returns the parsed response.
pub fn post(url: &str, body: &str) -> std::io::Result<Value> {
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or_default();
    serde_json::from_str(body).map_err(std::io::Error::other)
}

/// GETs a URL; returns status and body.
pub fn get(url: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_once('/').map(|(a, p)| (a, format!("/{p}"))).unwrap_or((rest, "/".into()));
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// One JSON-RPC call; `Ok(result)` or `Err(error object)`.
pub fn rpc_call(url: &str, method: &str, params: Value) -> Result<Value, Value> {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let response = post(url, &body).map_err(|e| json!({"io": e.to_string()}))?;
    match response.get("error") {
        Some(err) => Err(err.clone()),
        None => Ok(response["result"].clone()),
    }
}

/// Standard test mnemonic key 0 and 1.
pub const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const ADDR1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// An `nrd devnet` process (L1, rollup contract, L2 sequencer and follower), killed on drop.
pub struct RollupDevnet {
    child: Child,
    /// The sequencer's L2 JSON-RPC.
    pub l2: String,
    /// The follower's L2 JSON-RPC.
    pub follower: String,
    /// L1 JSON-RPC.
    pub l1: String,
}

impl RollupDevnet {
    /// Starts `nrd devnet` on free ports with extra flags and waits until the L2 answers.
    pub fn start(extra: &[&str]) -> Self {
        let (l2, follower, l1, beacon) = (free_addr(), free_addr(), free_addr(), free_addr());
        let child = Command::new(env!("CARGO_BIN_EXE_nrd"))
            .args(["devnet", "--rpc-addr", &l2.to_string(), "--follower-rpc-addr", &follower.to_string()])
            .args(["--l1-rpc-addr", &l1.to_string(), "--beacon-addr", &beacon.to_string()])
            .args(metrics_flag(extra))
            .args(extra)
            .env("RUST_LOG", std::env::var("NRD_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn nrd devnet");
        let devnet = Self {
            child,
            l2: format!("http://{l2}"),
            follower: format!("http://{follower}"),
            l1: format!("http://{l1}"),
        };
        let start = Instant::now();
        while rpc_call(&devnet.follower, "eth_chainId", json!([])).is_err() {
            assert!(start.elapsed() < Duration::from_secs(60), "nrd devnet did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        devnet
    }

    /// `nrd_rollupStatus` of the sequencer.
    pub fn status(&self) -> Value {
        rpc_call(&self.l2, "nrd_rollupStatus", json!([])).expect("nrd_rollupStatus")
    }

    /// Waits until the sequencer's safe head (posted and verified on L1) reaches `number`.
    pub fn wait_safe(&self, number: u64) {
        let start = Instant::now();
        loop {
            let status = self.status();
            if status["safeHead"].as_u64().unwrap() >= number {
                return;
            }
            assert!(status["halted"].is_null(), "posting halted: {status}");
            assert!(start.elapsed() < Duration::from_secs(120), "block {number} not posted: {status}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for RollupDevnet {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the `nrd` binary with `args` and extra environment `envs` (the caller's `NRD_*`
/// variables removed); returns its output whatever the exit status.
pub fn nrd(args: &[&str], envs: &[(&str, &str)]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nrd"));
    for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("NRD_")) {
        command.env_remove(name);
    }
    command.args(args).envs(envs.iter().copied()).env("RUST_LOG", "warn").output().expect("run nrd")
}

/// `nrd deploy` of `NativeRollup` for the L2 genesis at `genesis` on `l1` (with `extra` flags);
/// returns the rollup's address and its deployment block, as `nrd deploy` prints them.
pub fn deploy(l1: &L1, genesis: &str, extra: &[&str]) -> (String, String) {
    let mut args = vec!["deploy", "--l1-rpc-url", &l1.rpc, "--genesis", genesis];
    args.extend_from_slice(extra);
    let out = nrd(&args, &[]);
    assert!(out.status.success(), "nrd deploy: {}", String::from_utf8_lossy(&out.stderr));
    let printed = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| printed.lines().find_map(|l| l.strip_prefix(name)).unwrap().trim().to_string();
    (field("rollup "), field("block "))
}

impl RollupDevnet {
    /// The `NativeRollup` address (from `nrd_rollupStatus`).
    pub fn rollup(&self) -> String {
        self.status()["rollup"].as_str().expect("rollup address").to_string()
    }
}

/// An `nrd node --config …` process, killed on drop.
pub struct NodeProcess {
    child: Child,
    /// Its L2 JSON-RPC.
    pub rpc: String,
}

impl NodeProcess {
    /// Starts `nrd node` with `config` (keys only from the file; metrics on a free port unless
    /// the file names one) and waits for its RPC at `rpc`.
    pub fn start(config: &std::path::Path, rpc: &str) -> Self {
        Self::start_within(config, rpc, Duration::from_secs(30))
    }

    /// [`Self::start`], waiting up to `timeout` for the RPC (a large genesis loads first); fails
    /// at once if the process exits before it answers.
    pub fn start_within(config: &std::path::Path, rpc: &str, timeout: Duration) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_nrd"));
        for (name, _) in std::env::vars_os().filter(|(n, _)| n.to_string_lossy().starts_with("NRD_")) {
            command.env_remove(name);
        }
        command.args(["node", "--config", config.to_str().unwrap()]);
        let text = std::fs::read_to_string(config).unwrap();
        if !text.lines().any(|line| line.trim_start().starts_with("metrics_addr")) {
            command.args(["--metrics-addr", &free_addr().to_string()]);
        }
        let child = command
            .env("RUST_LOG", std::env::var("NRD_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn nrd node");
        let mut node = Self { child, rpc: rpc.to_string() };
        let start = Instant::now();
        while rpc_call(&node.rpc, "eth_chainId", json!([])).is_err() {
            if let Some(status) = node.child.try_wait().unwrap() {
                panic!("nrd node exited with {status} before serving its RPC");
            }
            assert!(start.elapsed() < timeout, "nrd node did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        node
    }

    /// `kill -9`: the process stops at once, wherever it is (mid-commit, mid-request), as in a
    /// crash or an OOM kill; waits until it is gone.
    pub fn kill9(mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("nrd node exited by itself ({status}) before the kill");
        }
        self.child.kill().unwrap(); // SIGKILL on Unix
        let status = self.child.wait().unwrap();
        assert_eq!(std::os::unix::process::ExitStatusExt::signal(&status), Some(9), "{status}");
    }

    /// Ctrl-C, as an operator stops it; waits for a clean exit.
    pub fn interrupt(mut self) {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "nrd node exited with {status}");
    }

    /// `nrd_rollupStatus`.
    pub fn status(&self) -> Value {
        rpc_call(&self.rpc, "nrd_rollupStatus", json!([])).unwrap()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A Prometheus server (the pinned one of install-tools.sh) on loopback, killed on drop.
pub struct Prometheus {
    child: Child,
    pub addr: String,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Prometheus {
    /// Starts Prometheus with `config` as `prometheus.yml` in a directory of its own, next to
    /// `files` (name, contents) — the rule files it names, as in the container.
    pub fn start(config: &str, files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("prometheus.yml"), config).unwrap();
        for (name, contents) in files {
            std::fs::write(dir.path().join(name), contents).unwrap();
        }
        let addr = free_addr().to_string();
        let child = Command::new(tools().join("prometheus"))
            .arg("--config.file=prometheus.yml")
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        Self { child, addr, _dir: dir }
    }

    /// `GET /api/v1/<path>?query=<query>`: the answer's JSON (errors included), if it answers.
    pub fn api(&self, path: &str, query: &str) -> Option<Value> {
        let encoded: String = query
            .bytes()
            .map(|b| if b.is_ascii_alphanumeric() || b == b'_' { (b as char).to_string() } else { format!("%{b:02X}") })
            .collect();
        // HTTP/1.0: Prometheus answers HTTP/1.1 requests chunked.
        let mut stream = TcpStream::connect(&self.addr).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        write!(stream, "GET /api/v1/{path}?query={encoded} HTTP/1.0\r\nHost: {}\r\n\r\n", self.addr).ok()?;
        let mut response = String::new();
        stream.read_to_string(&mut response).ok()?;
        serde_json::from_str(response.split_once("\r\n\r\n")?.1).ok()
    }

    /// An instant query's result vector, when it succeeded.
    pub fn query(&self, query: &str) -> Option<Vec<Value>> {
        let answer = self.api("query", query)?;
        (answer["status"] == "success").then(|| answer["data"]["result"].as_array().cloned()).flatten()
    }
}

/// A transfer of `value` wei from `KEY0` to `ADDR1` with `nonce`, sent with `cast send --async`
/// (not waited for); returns the transaction hash.
pub fn send_transfer(rpc: &str, nonce: u64, value: u64) -> String {
    cast(&[
        "send",
        "--async",
        "--rpc-url",
        rpc,
        "--private-key",
        KEY0,
        "--nonce",
        &nonce.to_string(),
        ADDR1,
        "--value",
        &value.to_string(),
    ])
}

/// The TOML file of an `nrd node` that follows `rollup` (deployed at L1 block `start_block`)
/// on `l1`. `top` is added to the top-level keys, `tail` after the `[l1]` keys (more `[l1]`
/// keys, then further sections).
pub struct NodeConfig<'a> {
    pub role: &'a str,
    pub data: &'a std::path::Path,
    pub genesis: &'a std::path::Path,
    pub l1: &'a L1,
    pub rollup: &'a str,
    pub start_block: &'a str,
    /// The JSON-RPC address (`free_addr()` when `None`).
    pub rpc: Option<&'a str>,
    pub top: &'a str,
    pub tail: &'a str,
}

impl NodeConfig<'_> {
    /// Writes the file to `path`; returns the node's JSON-RPC URL.
    pub fn write(&self, path: &std::path::Path) -> String {
        let rpc = self.rpc.map_or_else(|| free_addr().to_string(), str::to_string);
        let text = format!(
            "role = \"{role}\"\ndata_dir = \"{data}\"\ngenesis = \"{genesis}\"\nrpc_addr = \"{rpc}\"\n{top}\n\n\
             [l1]\nrpc_url = \"{l1}\"\nbeacon_url = \"{beacon}\"\nrollup = \"{rollup}\"\nstart_block = {block}\n\
             poll_interval_ms = 100\n{tail}\n",
            role = self.role,
            data = self.data.display(),
            genesis = self.genesis.display(),
            top = self.top,
            l1 = self.l1.rpc,
            beacon = self.l1.beacon,
            rollup = self.rollup,
            block = self.start_block,
            tail = self.tail,
        );
        std::fs::write(path, text).unwrap();
        format!("http://{rpc}")
    }
}

/// A `[sequencer]` section: test key 0, `block_time_ms`, the devnet's fee recipient, then `extra`.
pub fn sequencer_section(block_time_ms: u64, extra: &str) -> String {
    format!(
        "\n[sequencer]\nblock_time_ms = {block_time_ms}\nkey = \"{KEY0}\"\n\
         fee_recipient = \"0x4e520000000000000000000000000000000fee00\"\n{extra}"
    )
}
