//! Crash safety at scale (issue 14): `nrd l1`, `nrd deploy`, a sequencer and a follower
//! `nrd node` on a genesis of tens of thousands of accounts, under a stream of transfers, are
//! killed with SIGKILL at random moments and restarted on the same data directories, round after
//! round. Afterwards no transaction the sequencer acknowledged is lost or included twice, no L2
//! block is posted twice (every `advance` the sequencer sent succeeded), and L1's state root, the
//! sequencer's and the follower's agree — with the balances the transfers add up to.
//!
//! A damaged database file (truncated, overwritten in the middle) is refused with an error that
//! names it, or read correctly: never a panic, a wrong block or a wrong root.
//!
//! The kill points and the damage come from a seeded generator: the seed is printed, and
//! `NRD_CRASH_SEED=<seed>` replays a run's schedule. `NRD_CRASH_ACCOUNTS` sets the harness's genesis size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, B256, Bytes, U256, hex};
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::SyntheticAccounts;
use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet, HashMap},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use support::{L1, NodeProcess as Node, cast, cast_json, free_addr, rpc_call};

/// The sequencer's L1 address (`KEY0`): its L1 nonce counts the `advance` transactions it sent.
const SEQUENCER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// The L2 chain id of `config/l2-genesis.json`.
const CHAIN_ID: u64 = 901;
/// Wei each generated genesis account holds.
const SYNTHETIC_BALANCE: u64 = 1_000_000_000_000_000_000;
/// How long a node may take to start (the first start loads the genesis into its store).
const START: Duration = Duration::from_secs(180);

/// splitmix64: a small seeded generator, the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
}

/// `NRD_CRASH_SEED`, else the clock; printed so that a failing run can be replayed.
fn seed(test: &str) -> u64 {
    let seed = std::env::var("NRD_CRASH_SEED").map_or_else(
        |_| SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64,
        |s| s.parse().expect("NRD_CRASH_SEED is a u64"),
    );
    eprintln!("{test}: NRD_CRASH_SEED={seed}");
    seed
}

fn accounts(default: u64) -> u64 {
    std::env::var("NRD_CRASH_ACCOUNTS").map_or(default, |s| s.parse().expect("NRD_CRASH_ACCOUNTS is a u64"))
}

fn num(value: &Value) -> u64 {
    u64::from_str_radix(
        value.as_str().unwrap_or_else(|| panic!("not a quantity: {value}")).trim_start_matches("0x"),
        16,
    )
    .unwrap()
}

fn quantity(value: &Value) -> U256 {
    value.as_str().unwrap_or_else(|| panic!("not a quantity: {value}")).parse().unwrap()
}

fn hex_of(address: Address) -> String {
    format!("0x{}", hex::encode(address))
}

/// An L1 with `NativeRollup` deployed for a genesis of `accounts` generated accounts plus
/// `funded` ones, and the directory the nodes keep their data and configuration in.
struct Rollup {
    l1: L1,
    dir: tempfile::TempDir,
    genesis: PathBuf,
    rollup: String,
    block: String,
    synthetic: SyntheticAccounts,
}

impl Rollup {
    fn start(accounts: u64, funded: &[Address]) -> Self {
        let l1 = L1::start(&["--block-time", "1"]);
        let dir = tempfile::Builder::new().prefix("nrd-crash-").tempdir().unwrap();
        let synthetic = SyntheticAccounts {
            count: accounts,
            balance: U256::from(SYNTHETIC_BALANCE),
            seed: B256::repeat_byte(0xc5),
        };
        let base = support::repo().join("config/l2-genesis.json");
        let out = support::nrd(
            &[
                "genesis",
                "generate",
                "--file",
                base.to_str().unwrap(),
                "--accounts",
                &accounts.to_string(),
                "--balance",
                &SYNTHETIC_BALANCE.to_string(),
                "--seed",
                &synthetic.seed.to_string(),
            ],
            &[],
        );
        assert!(out.status.success(), "nrd genesis generate: {}", String::from_utf8_lossy(&out.stderr));
        let mut genesis: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(genesis["config"]["nrdSyntheticAccounts"]["count"], json!(accounts), "{}", genesis["config"]);
        for address in funded {
            // 1,000 ETH each.
            genesis["alloc"][hex_of(*address)] = json!({ "balance": "0x3635c9adc5dea00000" });
        }
        let path = dir.path().join("l2-genesis.json");
        std::fs::write(&path, serde_json::to_string_pretty(&genesis).unwrap()).unwrap();

        let (rollup, block) = support::deploy(&l1, path.to_str().unwrap(), &[]);
        Self { l1, dir, genesis: path, rollup, block, synthetic }
    }

    /// Writes `<name>.toml` for a node of `role` keeping its store in `data`; returns the file
    /// and the node's JSON-RPC URL (the same on every restart).
    fn config(&self, name: &str, role: &str, data: &Path) -> (PathBuf, String) {
        // Blocks have whole-second timestamps: one block a second, sealing tried every 250 ms.
        let tail =
            if role == "sequencer" { support::sequencer_section(250, "da_mode = \"blob\"\n") } else { String::new() };
        let path = self.dir.path().join(format!("{name}.toml"));
        let url = support::NodeConfig {
            role,
            data,
            genesis: &self.genesis,
            l1: &self.l1,
            rollup: &self.rollup,
            start_block: &self.block,
            rpc: None,
            top: "",
            tail: &tail,
        }
        .write(&path);
        (path, url)
    }
}

/// Block `number` (transaction hashes only); `None` when the node has no such block.
fn block(url: &str, number: u64) -> Option<Value> {
    let block = rpc_call(url, "eth_getBlockByNumber", json!([format!("0x{number:x}"), false]))
        .unwrap_or_else(|e| panic!("eth_getBlockByNumber {number} at {url}: {e}"));
    (!block.is_null()).then_some(block)
}

/// The head block's number and hash.
fn head(url: &str) -> (u64, String) {
    let head = rpc_call(url, "eth_getBlockByNumber", json!(["latest", false])).unwrap();
    (num(&head["number"]), head["hash"].as_str().unwrap().to_string())
}

fn status(url: &str) -> Value {
    rpc_call(url, "nrd_rollupStatus", json!([])).unwrap()
}

fn receipt_block(url: &str, hash: B256) -> Option<u64> {
    let receipt = rpc_call(url, "eth_getTransactionReceipt", json!([hash])).ok()?;
    receipt.get("blockNumber").map(num)
}

fn balance(url: &str, address: Address, number: u64) -> Result<U256, Value> {
    rpc_call(url, "eth_getBalance", json!([address, format!("0x{number:x}")])).map(|v| quantity(&v))
}

/// Polls `done` until it holds; fails with `what` and the last `detail` after `limit`.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> Result<(), String>) {
    let start = Instant::now();
    loop {
        match done() {
            Ok(()) => return,
            Err(detail) => assert!(start.elapsed() < limit, "{what} after {limit:?}: {detail}"),
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// One transfer signed by a load sender.
#[derive(Debug, Clone, Copy)]
struct Transfer {
    hash: B256,
    to: Address,
    value: U256,
}

/// What one load sender did.
#[derive(Debug, Default)]
struct Sent {
    /// Every transfer it signed, by nonce (a nonce is re-sent as the same transaction until it
    /// is acknowledged or mined, so each nonce has one).
    signed: BTreeMap<u64, Transfer>,
    /// Nonces the sequencer acknowledged (answered `eth_sendRawTransaction` with the hash), and
    /// when.
    acknowledged: Vec<(u64, Instant)>,
    /// Answers that were neither a hash, "already known" nor "nonce too low".
    refusals: Vec<String>,
}

/// Sends transfers from `key` to random generated accounts until `stop`, nonce after nonce: a
/// nonce is sent again (the same transaction) until the sequencer acknowledges it, says it
/// holds it ("already known"), or says it is mined ("nonce too low": an answer lost in a kill).
fn send_load(url: &str, key: &PrivateKeySigner, synthetic: SyntheticAccounts, seed: u64, stop: &AtomicBool) -> Sent {
    let mut rng = Rng(seed);
    let mut sent = Sent::default();
    let mut nonce = 0;
    let mut pending: Option<(Transfer, Bytes)> = None;
    while !stop.load(Ordering::Relaxed) {
        let (transfer, raw) = pending
            .get_or_insert_with(|| {
                let to = synthetic.address(rng.below(synthetic.count));
                let value = U256::from(1_000 + rng.below(1_000_000));
                let tx = nrd_test_utils::sign(key, nrd_test_utils::eip1559(CHAIN_ID, nonce, to, value, Bytes::new()));
                (Transfer { hash: *tx.tx_hash(), to, value }, nrd_test_utils::raw(&tx))
            })
            .clone();
        sent.signed.insert(nonce, transfer);
        match rpc_call(url, "eth_sendRawTransaction", json!([raw])) {
            Ok(answer) => {
                assert_eq!(answer, json!(transfer.hash), "the acknowledged hash is the transaction's");
                sent.acknowledged.push((nonce, Instant::now()));
                nonce += 1;
                pending = None;
            }
            // The node is down (killed, restarting) or the connection died with it.
            Err(e) if e.get("io").is_some() => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let message = e["message"].as_str().unwrap_or_default();
                if message.contains("already known") {
                    sent.acknowledged.push((nonce, Instant::now()));
                    nonce += 1;
                    pending = None;
                } else if message.contains("nonce too low") {
                    nonce += 1;
                    pending = None;
                } else {
                    sent.refusals.push(format!("nonce {nonce}: {e}"));
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        std::thread::sleep(Duration::from_millis(rng.between(20, 120)));
    }
    sent
}

/// A node of the harness: its configuration, URL, the running process, and its kills.
struct Victim {
    name: &'static str,
    config: PathBuf,
    url: String,
    process: Option<Node>,
    kills: Vec<Instant>,
}

impl Victim {
    fn start(name: &'static str, (config, url): (PathBuf, String)) -> Self {
        let process = Some(Node::start_within(&config, &url, START));
        Self { name, config, url, process, kills: Vec::new() }
    }

    /// SIGKILL; returns the head it served just before.
    fn kill(&mut self) -> (u64, String) {
        let served = head(&self.url);
        self.process.take().unwrap().kill9();
        self.kills.push(Instant::now());
        served
    }

    /// Starts it again on the same data directory: the head it `served` before the kill is
    /// still there, unchanged.
    fn restart(&mut self, (number, hash): (u64, String)) -> String {
        let started = Instant::now();
        self.process = Some(Node::start_within(&self.config, &self.url, START));
        let back = block(&self.url, number)
            .unwrap_or_else(|| panic!("the {} lost block {number} it served before the kill", self.name));
        assert_eq!(back["hash"], json!(hash), "the {}'s block {number} changed across the kill", self.name);
        format!("killed the {} at L2 block {number}; serving again after {:?}", self.name, started.elapsed())
    }
}

#[test]
fn sequencer_and_follower_survive_kill_9_under_load() {
    let mut rng = Rng(seed("sequencer_and_follower_survive_kill_9_under_load"));
    let keys: Vec<PrivateKeySigner> = (0..4).map(|i| nrd_test_utils::key(&format!("crash sender {i}"))).collect();
    let funded: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
    let started = Instant::now();
    let rollup = Rollup::start(accounts(50_000), &funded);
    let dir = rollup.dir.path().to_path_buf();
    let mut sequencer =
        Victim::start("sequencer", rollup.config("sequencer", "sequencer", &dir.join("sequencer-data")));
    let mut follower = Victim::start("follower", rollup.config("follower", "follower", &dir.join("follower-data")));
    eprintln!("{} generated accounts; both nodes up after {:?}", rollup.synthetic.count, started.elapsed());

    // Load: one thread per sender, all through the sequencer's RPC (which dies and comes back).
    let stop = Arc::new(AtomicBool::new(false));
    let senders: Vec<_> = keys
        .iter()
        .map(|key| {
            let (url, key, stop, synthetic, seed) =
                (sequencer.url.clone(), key.clone(), stop.clone(), rollup.synthetic, rng.next());
            std::thread::spawn(move || send_load(&url, &key, synthetic, seed, &stop))
        })
        .collect();

    // Rounds of a random 0.5–3 s of load, then a kill: the sequencer five times, the follower
    // five times, both at once twice, in a random order.
    let mut schedule: Vec<(bool, bool)> = [[(true, false); 5], [(false, true); 5]].concat();
    schedule.extend([(true, true); 2]);
    for i in (1..schedule.len()).rev() {
        schedule.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let load_started = Instant::now();
    for (round, (kill_sequencer, kill_follower)) in schedule.into_iter().enumerate() {
        std::thread::sleep(Duration::from_millis(rng.between(500, 3000)));
        let at = load_started.elapsed();
        let sequencer_head = kill_sequencer.then(|| sequencer.kill());
        let follower_head = kill_follower.then(|| follower.kill());
        if let Some(served) = sequencer_head {
            eprintln!("round {round} at {at:?}: {}", sequencer.restart(served));
        }
        if let Some(served) = follower_head {
            eprintln!("round {round} at {at:?}: {}", follower.restart(served));
        }
    }
    // A last stretch of load on the restarted nodes, then stop it.
    std::thread::sleep(Duration::from_millis(rng.between(500, 3000)));
    stop.store(true, Ordering::Relaxed);
    let sent: Vec<Sent> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    let acknowledged: usize = sent.iter().map(|s| s.acknowledged.len()).sum();
    eprintln!("load done after {:?}: {acknowledged} transfers acknowledged", load_started.elapsed());
    for (key, s) in keys.iter().zip(&sent) {
        assert!(!s.acknowledged.is_empty(), "sender {} got nothing acknowledged", key.address());
    }

    // Every acknowledged transfer is mined.
    let seq = sequencer.url.clone();
    wait_for(Duration::from_secs(90), "acknowledged transactions not mined", || {
        let mut missing = Vec::new();
        for (key, s) in keys.iter().zip(&sent) {
            for (nonce, at) in &s.acknowledged {
                let transfer = &s.signed[nonce];
                if receipt_block(&seq, transfer.hash).is_none() {
                    let pooled =
                        rpc_call(&seq, "eth_getTransactionByHash", json!([transfer.hash])).is_ok_and(|t| !t.is_null());
                    let next_kill = sequencer.kills.iter().find(|k| *k > at).map(|k| k.duration_since(*at));
                    missing.push(format!(
                        "{} nonce {nonce} {}: {}, acknowledged {next_kill:?} before the next sequencer kill",
                        key.address(),
                        transfer.hash,
                        if pooled { "still pooled" } else { "unknown to the sequencer" },
                    ));
                }
            }
        }
        if missing.is_empty() {
            Ok(())
        } else {
            let refusals: Vec<&String> = sent.iter().filter_map(|s| s.refusals.first()).collect();
            Err(format!("{} missing:\n{}\nfirst refusals: {refusals:#?}", missing.len(), missing.join("\n")))
        }
    });
    for (key, s) in keys.iter().zip(&sent) {
        assert!(
            s.refusals.is_empty(),
            "sender {} was refused {} times: {:#?}",
            key.address(),
            s.refusals.len(),
            s.refusals.first()
        );
    }

    // Per sender, the nonces the chain consumed are exactly the transfers signed for them, each
    // once; together with the acknowledged ones nothing is missing.
    let mut expected: HashMap<Address, U256> = HashMap::new();
    let mut ours: HashMap<B256, u64> = HashMap::new();
    for (key, s) in keys.iter().zip(&sent) {
        let count = num(&rpc_call(&seq, "eth_getTransactionCount", json!([key.address(), "latest"])).unwrap());
        let acked_to = s.acknowledged.iter().map(|(n, _)| n + 1).max().unwrap();
        assert!(count >= acked_to, "{}: chain nonce {count}, acknowledged up to nonce {acked_to}", key.address());
        for nonce in 0..count {
            let transfer =
                s.signed.get(&nonce).unwrap_or_else(|| panic!("{} nonce {nonce} was never signed", key.address()));
            let mined = receipt_block(&seq, transfer.hash)
                .unwrap_or_else(|| panic!("{} nonce {nonce} consumed, not by {}", key.address(), transfer.hash));
            ours.insert(transfer.hash, mined);
            *expected.entry(transfer.to).or_insert(U256::from(SYNTHETIC_BALANCE)) += transfer.value;
        }
    }

    // Included exactly once: every mined transfer appears in one block of the chain, the one its
    // receipt names.
    let (last, _) = head(&seq);
    let mut hashes = Vec::new();
    let mut seen: HashMap<B256, Vec<u64>> = HashMap::new();
    for number in 0..=last {
        let b = block(&seq, number).unwrap();
        hashes.push(b["hash"].as_str().unwrap().to_string());
        for tx in b["transactions"].as_array().unwrap() {
            seen.entry(tx.as_str().unwrap().parse().unwrap()).or_default().push(number);
        }
    }
    for (hash, mined) in &ours {
        assert_eq!(seen.get(hash), Some(&vec![*mined]), "transfer {hash}: in blocks {:?}", seen.get(hash));
    }

    // Everything up to `last` posted, every block once, in order, with the sequencer's hashes;
    // every `advance` the sequencer ever sent succeeded.
    wait_for(Duration::from_secs(120), "not posted", || {
        let status = status(&seq);
        if !status["halted"].is_null() {
            panic!("posting halted: {status}");
        }
        if status["safeHead"].as_u64().unwrap() >= last { Ok(()) } else { Err(status.to_string()) }
    });
    let logs = cast_json(&[
        "logs",
        "--rpc-url",
        &rollup.l1.rpc,
        "--from-block",
        "0",
        "--address",
        &rollup.rollup,
        "BlockAdvanced(uint64,bytes32,bytes32,uint64,uint64,uint64)",
    ]);
    let logs = logs.as_array().unwrap();
    let numbers: Vec<u64> = logs.iter().map(|l| num(&l["topics"][1])).collect();
    assert_eq!(numbers, (1..=numbers.len() as u64).collect::<Vec<_>>(), "each L2 block advanced once, in order");
    assert!(numbers.len() as u64 >= last, "posted {} of {last}", numbers.len());
    for (log, number) in logs.iter().zip(&numbers) {
        let hash = block(&seq, *number).unwrap()["hash"].clone();
        assert_eq!(log["topics"][2], hash, "L2 block {number} posted with another hash");
    }
    let advances: BTreeSet<&str> = logs.iter().map(|l| l["transactionHash"].as_str().unwrap()).collect();
    let sent_advances: usize = cast(&["nonce", SEQUENCER, "--rpc-url", &rollup.l1.rpc]).parse().unwrap();
    assert_eq!(sent_advances, advances.len(), "every advance the sequencer sent succeeded, none repeated");

    // L1 verified the sequencer's state root (in its `BlockAdvanced`: blocks inside a run have no
    // stored root of their own).
    let root = block(&seq, last).unwrap()["stateRoot"].as_str().unwrap().to_string();
    let advanced = logs.iter().zip(&numbers).find(|(_, n)| **n == last).map(|(l, _)| l).unwrap();
    let data = advanced["data"].as_str().unwrap();
    assert_eq!(format!("0x{}", &data[2..66]), root, "BlockAdvanced({last}).stateRoot");

    // The follower, killed in between, rebuilt the same chain and state.
    let fol = follower.url.clone();
    wait_for(Duration::from_secs(90), "follower behind", || {
        let (number, _) = head(&fol);
        if number >= last {
            Ok(())
        } else {
            let l1 = rpc_call(&rollup.l1.rpc, "eth_blockNumber", json!([])).map(|n| num(&n));
            Err(format!("at {number} of {last}: {} (L1 at {l1:?})", status(&fol)))
        }
    });
    for (number, hash) in hashes.iter().enumerate() {
        let theirs = block(&fol, number as u64).unwrap();
        assert_eq!(theirs["hash"], json!(hash), "follower block {number}");
    }
    assert_eq!(block(&fol, last).unwrap()["stateRoot"], json!(root));
    // The balances are what the transfers add up to, on both nodes.
    for (address, want) in &expected {
        assert_eq!(balance(&seq, *address, last).unwrap(), *want, "sequencer balance of {address}");
        assert_eq!(balance(&fol, *address, last).unwrap(), *want, "follower balance of {address}");
    }
    for address in &funded {
        assert_eq!(balance(&seq, *address, last).unwrap(), balance(&fol, *address, last).unwrap(), "{address}");
    }
    eprintln!(
        "{} transfers to {} accounts in {} blocks, {} advances; {} sequencer and {} follower kills; {:?} in all",
        ours.len(),
        expected.len(),
        last,
        advances.len(),
        sequencer.kills.len(),
        follower.kills.len(),
        started.elapsed()
    );
    // After all that, both still stop cleanly.
    sequencer.process.take().unwrap().interrupt();
    follower.process.take().unwrap().interrupt();
}

/// What the intact store serves, read through a follower on a copy of it.
#[derive(Debug)]
struct Baseline {
    hashes: Vec<Value>,
    roots: Vec<Value>,
    balances: Vec<(Address, U256)>,
}

/// How a node on a damaged store behaved.
#[derive(Debug)]
enum Outcome {
    /// It exited with this error (naming the file).
    Refused(String),
    /// It served its head `head`; `errors` reads were refused with an error, the rest were right.
    Served { head: u64, errors: usize },
}

/// Starts `nrd node --config config` (stderr to `log`): it must either exit with an error that
/// names `file`, or serve only what `baseline` says — blocks, roots, balances — or errors.
/// Never a panic. `Err` says what went wrong.
fn judge(config: &Path, url: &str, file: &Path, log: &Path, baseline: &Baseline) -> Result<Outcome, String> {
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_nrd"))
        .args(["node", "--config", config.to_str().unwrap(), "--metrics-addr", &free_addr().to_string()])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let served = serve_or_refuse(&mut child, url, file, log, baseline);
    let _ = child.kill();
    let _ = child.wait();
    let text = std::fs::read_to_string(log).unwrap();
    let panic = text.lines().find(|l| l.contains("panicked at"));
    match (served, panic) {
        (Err(e), _) => Err(e),
        (Ok(_), Some(panic)) => {
            // The panic, its message and the frames of nrd and redb in its backtrace.
            let at = text.find(panic).unwrap_or_default();
            let frames: Vec<&str> = text[at..]
                .lines()
                .skip(1)
                .filter(|l| {
                    !l.trim_start().starts_with(|c: char| c.is_ascii_digit()) || l.contains("nrd") || l.contains("redb")
                })
                .filter(|l| !l.trim_start().starts_with("at "))
                .take(25)
                .collect();
            Err(format!("{panic}\n{}", frames.join("\n")))
        }
        (Ok(outcome), None) => Ok(outcome),
    }
}

fn serve_or_refuse(
    child: &mut Child,
    url: &str,
    file: &Path,
    log: &Path,
    baseline: &Baseline,
) -> Result<Outcome, String> {
    let start = Instant::now();
    let served = loop {
        if let Some(status) = child.try_wait().unwrap() {
            let text = std::fs::read_to_string(log).unwrap();
            let error = text.lines().find(|l| l.starts_with("error: ")).unwrap_or_default().to_string();
            if status.success() {
                return Err(format!("exited 0: {text}"));
            }
            if !error.contains(file.to_str().unwrap()) {
                return Err(format!("exited with {status}, the error does not name the file: {text}"));
            }
            return Ok(Outcome::Refused(error));
        }
        if let Ok(number) = rpc_call(url, "eth_blockNumber", json!([])) {
            break num(&number);
        }
        if start.elapsed() > START {
            return Err("neither served nor exited".into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let known = baseline.hashes.len() as u64 - 1;
    if served > known {
        return Err(format!("serves head {served}, the store had {known}"));
    }
    let mut errors = 0;
    for number in 0..=served {
        match rpc_call(url, "eth_getBlockByNumber", json!([format!("0x{number:x}"), false])) {
            Ok(b) if b.is_null() => return Err(format!("block {number} missing below the head {served}")),
            Ok(b) if b["hash"] != baseline.hashes[number as usize] => {
                return Err(format!("wrong block {number}: {}", b["hash"]));
            }
            Ok(b) if b["stateRoot"] != baseline.roots[number as usize] => {
                return Err(format!("wrong state root at block {number}: {}", b["stateRoot"]));
            }
            Ok(_) => {}
            Err(_) => errors += 1,
        }
    }
    if served == known {
        for (address, want) in &baseline.balances {
            match balance(url, *address, served) {
                Ok(got) if got != *want => return Err(format!("balance of {address} at {served}: {got}, not {want}")),
                Ok(_) => {}
                Err(_) => errors += 1,
            }
        }
    }
    Ok(Outcome::Served { head: served, errors })
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// Truncations and overwrites of a cleanly stopped node's `chain.redb`, each on its own copy,
/// opened by a follower. In this (debug) build redb walks every page while opening, so damage to
/// any page in use is found at open; a release build finds it only when the page is read — the
/// limit docs/security.md describes.
#[test]
fn a_damaged_database_file_is_refused_by_name_never_misread() {
    let mut rng = Rng(seed("a_damaged_database_file_is_refused_by_name_never_misread"));
    let key = nrd_test_utils::key("crash damage sender");
    let rollup = Rollup::start(5_000, &[key.address()]);
    let dir = rollup.dir.path().to_path_buf();
    let data = dir.join("sequencer-data");
    let (config, url) = rollup.config("sequencer", "sequencer", &data);

    // A store with some history: 30 transfers mined and posted, then a clean stop.
    let node = Node::start_within(&config, &url, START);
    let mut recipients = Vec::new();
    let mut hashes = Vec::new();
    for nonce in 0..30 {
        let to = rollup.synthetic.address(rng.below(rollup.synthetic.count));
        let tx = nrd_test_utils::sign(
            &key,
            nrd_test_utils::eip1559(CHAIN_ID, nonce, to, U256::from(1_000 + nonce), Bytes::new()),
        );
        hashes.push(rpc_call(&url, "eth_sendRawTransaction", json!([nrd_test_utils::raw(&tx)])).unwrap());
        recipients.push(to);
    }
    wait_for(Duration::from_secs(60), "transfers not mined", || {
        let pending = hashes.iter().filter(|h| receipt_block(&url, h.as_str().unwrap().parse().unwrap()).is_none());
        match pending.count() {
            0 => Ok(()),
            n => Err(format!("{n} pending")),
        }
    });
    let (mined, _) = head(&url);
    wait_for(Duration::from_secs(60), "not posted", || {
        let status = status(&url);
        if status["safeHead"].as_u64().unwrap() >= mined { Ok(()) } else { Err(status.to_string()) }
    });
    node.interrupt();
    let file = data.join("chain.redb");
    let size = std::fs::metadata(&file).unwrap().len();

    // What the intact store serves, through a follower on a copy (followers post nothing).
    let intact = dir.join("intact");
    copy_dir(&data, &intact);
    let (follower, follower_url) = rollup.config("intact", "follower", &intact);
    let reader = Node::start_within(&follower, &follower_url, START);
    let (top, _) = head(&follower_url);
    assert!(top >= mined, "the copy serves {top}, below {mined}");
    let blocks: Vec<Value> = (0..=top).map(|n| block(&follower_url, n).unwrap()).collect();
    let mut balances = Vec::new();
    for address in recipients.iter().chain([&key.address()]) {
        balances.push((*address, balance(&follower_url, *address, top).unwrap()));
    }
    let baseline = Baseline {
        hashes: blocks.iter().map(|b| b["hash"].clone()).collect(),
        roots: blocks.iter().map(|b| b["stateRoot"].clone()).collect(),
        balances,
    };
    reader.interrupt();

    // Each damage on its own copy. Garbage: 16 KiB of random bytes at a random page-aligned
    // offset in the given part of the file.
    let page = 4096;
    let garbage = |rng: &mut Rng, from: u64, to: u64, len: u64| {
        let at = (rng.between(from, to.saturating_sub(len).max(from)) / page) * page;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        (at.max(from), bytes)
    };
    type Damage = Box<dyn Fn(&Path)>;
    let overwrite = |(at, bytes): (u64, Vec<u8>)| -> Damage {
        Box::new(move |path: &Path| {
            use std::os::unix::fs::FileExt;
            std::fs::OpenOptions::new().write(true).open(path).unwrap().write_all_at(&bytes, at).unwrap();
        })
    };
    let truncate = |len: u64| -> Damage {
        Box::new(move |path: &Path| std::fs::OpenOptions::new().write(true).open(path).unwrap().set_len(len).unwrap())
    };
    let cases: Vec<(String, Damage)> = vec![
        ("truncated to half".into(), truncate(size / 2)),
        ("truncated to 3/4".into(), truncate(size * 3 / 4)),
        ("truncated to one page".into(), truncate(page)),
        ("truncated to 10 bytes".into(), truncate(10)),
        ("emptied".into(), truncate(0)),
        ("garbage over the header".into(), overwrite(garbage(&mut rng, 9, 9, page - 9))),
        ("garbage in the first quarter".into(), overwrite(garbage(&mut rng, page, size / 4, 16 * 1024))),
        ("garbage in the middle".into(), overwrite(garbage(&mut rng, size / 4, size * 3 / 4, 16 * 1024))),
        ("garbage in the last quarter".into(), overwrite(garbage(&mut rng, size * 3 / 4, size, 16 * 1024))),
    ];
    let (mut report, mut failed) = (Vec::new(), false);
    for (i, (name, damage)) in cases.iter().enumerate() {
        let copy = dir.join(format!("damaged-{i}"));
        copy_dir(&data, &copy);
        let damaged = copy.join("chain.redb");
        damage(&damaged);
        let (config, url) = rollup.config(&format!("damaged-{i}"), "follower", &copy);
        let outcome = judge(&config, &url, &damaged, &dir.join(format!("damaged-{i}.log")), &baseline);
        failed |= outcome.is_err();
        report.push(match outcome {
            Ok(Outcome::Refused(error)) => format!("{name}: refused: {error}"),
            Ok(Outcome::Served { head, errors }) => {
                format!("{name}: served head {head} right ({errors} reads refused)")
            }
            Err(e) => format!("{name}: FAILED: {e}"),
        });
    }
    let report = format!("store of {size} bytes, head {top}:\n{}", report.join("\n"));
    eprintln!("{report}");
    assert!(!failed, "{report}");
}
