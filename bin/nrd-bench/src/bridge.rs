//! `nrd-bench bridge`: bridge latency and L1-reorg recovery on `nrd devnet` (run as a child
//! process on free ports, its log in a temporary directory):
//!
//! - deposit latency: `NativeRollup.deposit` signed here and sent over JSON-RPC, one at a time,
//!   each to a fresh L2 recipient; from the L1 receipt to the recipient's balance credited on
//!   the sequencer's RPC and on the follower's;
//! - a withdrawal end to end with the `nrd bridge` CLI: `withdraw` → `prove-withdrawal` (waits
//!   for the posting) → the withdrawal delay (`claim --dry-run` until it passes) → `claim`;
//! - reorg recovery: L1 `debug_setHead(head − depth)`, then the time until the sequencer's safe
//!   head is back at its pre-reorg value (not halted) and the follower's head matches the
//!   sequencer's block at that height.

use crate::{
    BenchError,
    harness::{Conn, Nrd, free_port, percentile, quantity, start, temp_dir},
};
use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::Encodable2718;
use alloy_primitives::{Address, Bytes, TxKind, U256, hex, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use nrd_bridge::NativeRollup;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};
use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

/// Status polling interval (the resolution of the figures).
const POLL: Duration = Duration::from_millis(5);
/// How long any one wait may take before the run fails.
const TIMEOUT: Duration = Duration::from_secs(300);
/// Wei per deposit (they also fund the withdrawal: L2 genesis balances are not locked on L1).
const DEPOSIT_WEI: u128 = 100_000_000_000_000_000;
/// Wei withdrawn.
const WITHDRAW: &str = "0.05ether";

/// What `nrd-bench bridge` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// Deposits to time, one after another.
    #[arg(long, default_value_t = 10)]
    pub(crate) deposits: usize,
    /// Seconds between L2 blocks.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) block_time: f64,
    /// Seconds between L1 blocks.
    #[arg(long, default_value_t = 1.0)]
    pub(crate) l1_block_time: f64,
    /// Withdrawal delay of the rollup contract, seconds.
    #[arg(long, default_value_t = 5)]
    pub(crate) withdrawal_delay: u64,
    /// L1 reorg depths, comma separated.
    #[arg(long, default_value = "1,8,64", value_delimiter = ',')]
    pub(crate) depths: Vec<u64>,
}

/// The devnet's endpoints (`host:port`), its log, and the `nrd` executable (for `nrd bridge`).
struct Endpoints {
    nrd: Nrd,
    l1: String,
    l2: String,
    follower: String,
    log: PathBuf,
}

impl Endpoints {
    fn url(addr: &str) -> String {
        format!("http://{addr}")
    }
}

fn status(conn: &mut Conn) -> Result<Value, BenchError> {
    conn.rollup_status("sequencer")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The log lines worth showing when something failed (warnings, errors, reorgs, halts).
fn log_excerpt(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            let l = l.to_lowercase();
            ["warn", "error", "reorg", "halt", "rewind"].iter().any(|w| l.contains(w))
        })
        .collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

fn balance(conn: &mut Conn, what: &str, who: Address) -> Result<U256, BenchError> {
    let v = conn.rpc(what, "eth_getBalance", &json!([who, "latest"]))?;
    v.as_str()
        .and_then(|s| U256::from_str_radix(s.trim_start_matches("0x"), 16).ok())
        .ok_or_else(|| format!("{what}: eth_getBalance returned {v}").into())
}

/// One deposit's timeline, relative to the L1 receipt.
struct DepositTiming {
    /// From sending to the receipt being available.
    included: Duration,
    /// From the receipt to the balance on the sequencer.
    sequencer: Duration,
    /// From the receipt to the balance on the follower.
    follower: Duration,
}

fn deposits(
    ep: &Endpoints,
    rollup: Address,
    key: &PrivateKeySigner,
    n: usize,
) -> Result<Vec<DepositTiming>, BenchError> {
    let mut l1 = Conn::to(&ep.l1, "L1")?;
    let mut l2 = Conn::to(&ep.l2, "sequencer")?;
    let mut follower = Conn::to(&ep.follower, "follower")?;
    let chain_id = quantity(&l1.rpc("L1", "eth_chainId", &json!([]))?);
    let first_nonce = quantity(&l1.rpc("L1", "eth_getTransactionCount", &json!([key.address(), "pending"]))?);
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let to = Address::from_word(keccak256(format!("nrd-bench-bridge-{}-{i}", std::process::id())));
        let input = NativeRollup::depositCall { to, gasLimit: 100_000, data: Bytes::new() }.abi_encode();
        let tx = TxEip1559 {
            chain_id,
            nonce: first_nonce + i as u64,
            gas_limit: 300_000,
            max_fee_per_gas: 200_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(rollup),
            value: U256::from(DEPOSIT_WEI),
            input: input.into(),
            ..Default::default()
        };
        let sig = key.sign_hash_sync(&tx.signature_hash()).map_err(|e| e.to_string())?;
        let raw = hex::encode_prefixed(TxEnvelope::from(tx.into_signed(sig)).encoded_2718());
        let sent = Instant::now();
        let hash = l1.rpc("L1", "eth_sendRawTransaction", &json!([raw]))?;
        let receipt = loop {
            let r = l1.rpc("L1", "eth_getTransactionReceipt", &json!([hash]))?;
            if !r.is_null() {
                break r;
            }
            if sent.elapsed() > TIMEOUT {
                return Err(format!("deposit {i} ({hash}) not mined on L1").into());
            }
            std::thread::sleep(POLL);
        };
        let receipt_at = Instant::now();
        if quantity(&receipt["status"]) != 1 {
            return Err(format!("deposit {i} reverted on L1: {receipt}").into());
        }
        let (mut on_l2, mut on_follower) = (None, None);
        while on_l2.is_none() || on_follower.is_none() {
            if on_l2.is_none() && balance(&mut l2, "sequencer", to)? == U256::from(DEPOSIT_WEI) {
                on_l2 = Some(receipt_at.elapsed());
            }
            if on_follower.is_none() && balance(&mut follower, "follower", to)? == U256::from(DEPOSIT_WEI) {
                on_follower = Some(receipt_at.elapsed());
            }
            if receipt_at.elapsed() > TIMEOUT {
                return Err(format!(
                    "deposit {i} not credited (sequencer {on_l2:?}, follower {on_follower:?}); log:\n{}",
                    log_excerpt(&ep.log)
                )
                .into());
            }
            std::thread::sleep(POLL);
        }
        let timing = DepositTiming {
            included: receipt_at.duration_since(sent),
            sequencer: on_l2.unwrap_or_default(),
            follower: on_follower.unwrap_or_default(),
        };
        eprintln!(
            "deposit {i}: L1 block {}, included {:.0} ms, sequencer +{:.0} ms, follower +{:.0} ms",
            quantity(&receipt["blockNumber"]),
            ms(timing.included),
            ms(timing.sequencer),
            ms(timing.follower)
        );
        out.push(timing);
    }
    Ok(out)
}

/// Runs `nrd bridge …` against the devnet; stdout on success, else an error with its output.
fn bridge(ep: &Endpoints, args: &[&str], key: Option<&PrivateKeySigner>) -> Result<String, BenchError> {
    let mut command =
        ep.nrd.command(["bridge", "--l1-rpc-url", &Endpoints::url(&ep.l1), "--l2-rpc-url", &Endpoints::url(&ep.l2)]);
    command.args(args).env("RUST_LOG", "warn").env_remove("NRD_PRIVATE_KEY");
    if let Some(key) = key {
        command.env("NRD_PRIVATE_KEY", hex::encode_prefixed(key.credential().to_bytes()));
    }
    let out = command.output().map_err(|source| BenchError::Spawn { name: "nrd bridge".into(), source })?;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(format!("{stdout}{stderr}"))
    } else {
        Err(BenchError::CommandFailed {
            command: format!("nrd bridge {}", args.first().unwrap_or(&"")),
            status: out.status,
            output: format!("{stdout}{stderr}"),
        })
    }
}

fn field(output: &str, label: &str) -> Result<String, BenchError> {
    output
        .lines()
        .find_map(|line| line.strip_prefix(label).and_then(|rest| rest.strip_prefix(": ")))
        .and_then(|v| v.split_whitespace().next().map(str::to_string))
        .ok_or_else(|| format!("no `{label}` line in:\n{output}").into())
}

struct WithdrawalTiming {
    withdraw: Duration,
    prove: Duration,
    delay: Duration,
    claim: Duration,
    total: Duration,
    l2_block: String,
    proven_block: String,
}

fn withdrawal(
    ep: &Endpoints,
    sender: &PrivateKeySigner,
    claimer: &PrivateKeySigner,
) -> Result<WithdrawalTiming, BenchError> {
    let dir = ep.log.parent().map_or_else(std::env::temp_dir, Path::to_path_buf);
    let proof = dir.join("withdrawal-proof.json");
    let proof = proof.to_str().ok_or("temporary path is not UTF-8")?;
    let target = Address::from_word(keccak256(format!("nrd-bench-bridge-target-{}", std::process::id())));
    let start = Instant::now();
    let out = bridge(ep, &["withdraw", "--to", &target.to_string(), "--value", WITHDRAW], Some(sender))?;
    let withdrawn = Instant::now();
    let tx = field(&out, "l2 tx")?;
    let l2_block = field(&out, "l2 block")?;
    let out = bridge(ep, &["prove-withdrawal", "--tx", &tx, "--out", proof], None)?;
    let proven = Instant::now();
    let proven_block = field(&out, "l2 block")?;
    // The delay: `claim --dry-run` fails with WithdrawalNotReady until the L1 time has passed it.
    let ready = loop {
        match bridge(ep, &["claim", "--proof", proof, "--dry-run"], Some(claimer)) {
            Ok(_) => break Instant::now(),
            Err(BenchError::CommandFailed { output, .. })
                if output.contains("WithdrawalNotReady") && start.elapsed() < TIMEOUT =>
            {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(e) => return Err(e),
        }
    };
    let out = bridge(ep, &["claim", "--proof", proof], Some(claimer))?;
    let claimed = Instant::now();
    if !out.contains("claimed:") {
        return Err(format!("claim printed no `claimed:` line:\n{out}").into());
    }
    let mut l1 = Conn::to(&ep.l1, "L1")?;
    let got = quantity(&l1.rpc("L1", "eth_getBalance", &json!([target, "latest"]))?);
    if got != 50_000_000_000_000_000 {
        return Err(format!("the withdrawal target holds {got} wei after the claim").into());
    }
    Ok(WithdrawalTiming {
        withdraw: withdrawn.duration_since(start),
        prove: proven.duration_since(withdrawn),
        delay: ready.duration_since(proven),
        claim: claimed.duration_since(ready),
        total: claimed.duration_since(start),
        l2_block,
        proven_block,
    })
}

/// One reorg's outcome.
struct ReorgTiming {
    depth: u64,
    l1_head: u64,
    safe_before: u64,
    /// The lowest safe head seen after the reorg, and when.
    dip: Option<(u64, Duration)>,
    /// Sequencer safe head back at `safe_before`, not halted.
    sequencer: Option<Duration>,
    /// Follower head at or past `safe_before`, same hash as the sequencer's block there.
    follower: Option<Duration>,
    /// What went wrong, if recovery did not happen.
    failure: Option<String>,
}

fn block_hash(conn: &mut Conn, what: &str, number: u64) -> Result<Value, BenchError> {
    let b = conn.rpc(what, "eth_getBlockByNumber", &json!([format!("{number:#x}"), false]))?;
    Ok(b["hash"].clone())
}

fn reorg(ep: &Endpoints, depth: u64) -> Result<ReorgTiming, BenchError> {
    let mut l1 = Conn::to(&ep.l1, "L1")?;
    let mut seq = Conn::to(&ep.l2, "sequencer")?;
    let mut fol = Conn::to(&ep.follower, "follower")?;
    // L1 past the depth (with margin), and the sequencer posting.
    let waiting = Instant::now();
    loop {
        let head = quantity(&l1.rpc("L1", "eth_blockNumber", &json!([]))?);
        let s = status(&mut seq)?;
        if !s["halted"].is_null() {
            return Err(format!("the sequencer is halted before the depth-{depth} reorg: {s}").into());
        }
        if head > depth + 4 && s["safeHead"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        if waiting.elapsed() > TIMEOUT {
            return Err(format!("L1 did not pass block {} for the depth-{depth} reorg", depth + 4).into());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let safe_before = status(&mut seq)?["safeHead"].as_u64().unwrap_or(0);
    let l1_head = quantity(&l1.rpc("L1", "eth_blockNumber", &json!([]))?);
    l1.rpc("L1", "debug_setHead", &json!([format!("{:#x}", l1_head - depth)]))?;
    let reorged = Instant::now();
    eprintln!("reorg depth {depth}: L1 head {l1_head} → {}, safe head {safe_before}", l1_head - depth);
    let mut timing =
        ReorgTiming { depth, l1_head, safe_before, dip: None, sequencer: None, follower: None, failure: None };
    let mut last = Value::Null;
    while timing.sequencer.is_none() || timing.follower.is_none() {
        let s = status(&mut seq)?;
        let safe = s["safeHead"].as_u64().unwrap_or(0);
        if safe < safe_before && timing.dip.is_none_or(|(low, _)| safe < low) {
            timing.dip = Some((safe, reorged.elapsed()));
        }
        if !s["halted"].is_null() {
            timing.failure = Some(format!("the sequencer halted: {s}\nlog:\n{}", log_excerpt(&ep.log)));
            break;
        }
        // Recovery counts once the reorg was noticed: the safe head was seen to drop, or the
        // sequencer's L1 head is past the pre-reorg head (it has followed the new branch).
        let noticed = timing.dip.is_some() || s["l1Head"].as_u64().unwrap_or(0) > l1_head;
        if noticed && timing.sequencer.is_none() && safe >= safe_before {
            timing.sequencer = Some(reorged.elapsed());
        }
        if noticed && timing.follower.is_none() {
            let head = quantity(&fol.rpc("follower", "eth_blockNumber", &json!([]))?);
            if head >= safe_before
                && block_hash(&mut fol, "follower", head)? == block_hash(&mut seq, "sequencer", head)?
            {
                timing.follower = Some(reorged.elapsed());
            }
        }
        if reorged.elapsed() > TIMEOUT {
            let f = fol.rpc("follower", "nrd_rollupStatus", &json!([])).unwrap_or_default();
            timing.failure = Some(format!(
                "no recovery within {} s; sequencer status {s}; follower status {f}\nlog:\n{}",
                TIMEOUT.as_secs(),
                log_excerpt(&ep.log)
            ));
            break;
        }
        last = s;
        std::thread::sleep(POLL);
    }
    eprintln!(
        "reorg depth {depth}: dip {:?}, sequencer {:?}, follower {:?}, last status {last}",
        timing.dip, timing.sequencer, timing.follower
    );
    Ok(timing)
}

/// Runs the benchmark and prints Markdown tables.
pub(crate) fn run(opts: &Args, nrd: &Nrd) -> Result<(), BenchError> {
    let dir = temp_dir("bridge")?;
    let log = dir.join("devnet.log");
    let (l2, l1, beacon, follower) = (free_port(), free_port(), free_port(), free_port());
    let mut command = nrd.command(["devnet", "--rpc-addr", &format!("127.0.0.1:{l2}")]);
    command
        .args(["--l1-rpc-addr", &format!("127.0.0.1:{l1}")])
        .args(["--beacon-addr", &format!("127.0.0.1:{beacon}")])
        .args(["--follower-rpc-addr", &format!("127.0.0.1:{follower}")])
        .args(["--block-time", &opts.block_time.to_string(), "--l1-block-time", &opts.l1_block_time.to_string()])
        .args(["--withdrawal-delay", &opts.withdrawal_delay.to_string()])
        .env("RUST_LOG", "info");
    // The follower answers last: the whole devnet is up.
    let mut node = start("nrd devnet", command, follower, Some(&log))?;
    let ep = Endpoints {
        nrd: nrd.clone(),
        l1: format!("127.0.0.1:{l1}"),
        l2: format!("127.0.0.1:{l2}"),
        follower: format!("127.0.0.1:{follower}"),
        log: log.clone(),
    };
    eprintln!("nrd devnet running, log {}", log.display());
    let mut seq = Conn::to(&ep.l2, "sequencer")?;
    let ready = Instant::now();
    let rollup: Address = loop {
        let s = status(&mut seq)?;
        if s["safeHead"].as_u64().unwrap_or(0) >= 1 {
            break serde_json::from_value(s["rollup"].clone()).map_err(|e| format!("rollup address: {e}"))?;
        }
        if ready.elapsed() > Duration::from_secs(120) {
            return Err(format!("no L2 block verified on L1 within 120 s: {s} (log: {})", log.display()).into());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // Accounts 0 and 1 belong to the devnet (sequencer, owner); 2 deposits, 3 withdraws, 4 claims.
    let keys = dev_accounts(TEST_MNEMONIC, 5).map_err(|e| e.to_string())?;

    let mut timings = deposits(&ep, rollup, &keys[2], opts.deposits)?;
    let w = withdrawal(&ep, &keys[3], &keys[4])?;
    let mut reorgs = Vec::new();
    for &depth in &opts.depths {
        reorgs.push(reorg(&ep, depth)?);
        if let Some(status) = node.exited() {
            return Err(format!("nrd devnet exited ({status}); log:\n{}", log_excerpt(&log)).into());
        }
    }
    drop(node);

    println!(
        "L2 block time {} s, L1 block time {} s, withdrawal delay {} s; log {}\n",
        opts.block_time,
        opts.l1_block_time,
        opts.withdrawal_delay,
        log.display()
    );
    let column = |pick: fn(&DepositTiming) -> Duration, t: &mut Vec<DepositTiming>| {
        t.sort_by_key(pick);
        let sorted: Vec<Duration> = t.iter().map(pick).collect();
        (percentile(&sorted, 0.5), sorted.last().map_or(0.0, |d| ms(*d)))
    };
    let (inc50, incmax) = column(|t| t.included, &mut timings);
    let (seq50, seqmax) = column(|t| t.sequencer, &mut timings);
    let (fol50, folmax) = column(|t| t.follower, &mut timings);
    println!("| deposits ({}) | p50 (ms) | max (ms) |", timings.len());
    println!("|---|---|---|");
    println!("| sent → L1 receipt | {inc50:.0} | {incmax:.0} |");
    println!("| L1 receipt → credited on the sequencer | {seq50:.0} | {seqmax:.0} |");
    println!("| L1 receipt → credited on the follower | {fol50:.0} | {folmax:.0} |");
    println!();
    println!("| withdrawal | time (s) |");
    println!("|---|---|");
    println!("| `withdraw` (L2 block {}) | {:.2} |", w.l2_block, w.withdraw.as_secs_f64());
    println!(
        "| `prove-withdrawal` (waits for the posting; proven at L2 block {}) | {:.2} |",
        w.proven_block,
        w.prove.as_secs_f64()
    );
    println!("| withdrawal delay (`claim --dry-run` until it passes) | {:.2} |", w.delay.as_secs_f64());
    println!("| `claim` | {:.2} |", w.claim.as_secs_f64());
    println!("| **total** | **{:.2}** |", w.total.as_secs_f64());
    println!();
    println!(
        "| reorg depth | L1 head → | safe head before | safe head dipped to (at) | sequencer safe again (s) | follower matches (s) |"
    );
    println!("|---|---|---|---|---|---|");
    let secs = |d: Option<Duration>| d.map_or("—".to_string(), |d| format!("{:.2}", d.as_secs_f64()));
    for r in &reorgs {
        let dip = r.dip.map_or("no dip seen".to_string(), |(n, at)| format!("{n} ({:.2} s)", at.as_secs_f64()));
        println!(
            "| {} | {} → {} | {} | {dip} | {} | {} |",
            r.depth,
            r.l1_head,
            r.l1_head - r.depth,
            r.safe_before,
            secs(r.sequencer),
            secs(r.follower)
        );
    }
    for r in &reorgs {
        if let Some(f) = &r.failure {
            println!("\ndepth {}: {f}", r.depth);
        }
    }
    Ok(())
}
