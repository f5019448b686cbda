//! `nrd bridge` end to end on a real `nrd devnet`, driven with the nrd CLI and `cast`: deposits
//! reach L2 (calls from the sender's alias), forced messages too, and a withdrawal is proven
//! against a state root L1 verified and claimed after the delay — with the contract's refusals
//! (too early, twice, wrong root, unknown root) reported by the CLI, decoded.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, keccak256};
use nrd_bridge::alias_of;
use serde_json::{Value, json};
use std::{
    path::Path,
    process::Output,
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use support::{KEY0, RollupDevnet, cast, cast_json, compile, nrd, rpc_call};

/// Test accounts 2, 3 and 4 of the standard mnemonic (the devnet's sequencer and owner are 10 and 11:
/// their L1 nonces belong to the devnet).
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const ADDR2: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const KEY3: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ADDR3: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
const KEY4: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";

const ETHER: u128 = 1_000_000_000_000_000_000;

/// An address nobody used: a fresh recipient.
fn fresh_address(tag: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let seed = format!("{tag}-{}-{nanos}", std::process::id());
    Address::from_word(keccak256(seed.as_bytes())).to_string()
}

/// `nrd bridge` against `devnet`, as the holder of `key` (given in `NRD_PRIVATE_KEY`).
struct Bridge<'a> {
    devnet: &'a RollupDevnet,
}

impl Bridge<'_> {
    fn run(&self, args: &[&str], key: Option<&str>) -> Output {
        let mut all = vec!["bridge", "--l1-rpc-url", &self.devnet.l1, "--l2-rpc-url", &self.devnet.l2];
        all.extend_from_slice(args);
        let envs: Vec<(&str, &str)> = key.map(|k| ("NRD_PRIVATE_KEY", k)).into_iter().collect();
        nrd(&all, &envs)
    }

    /// Runs and expects success; returns stdout.
    fn ok(&self, args: &[&str], key: Option<&str>) -> String {
        let out = self.run(args, key);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success(), "nrd bridge {args:?} failed ({}):\n{stdout}\n{stderr}", out.status);
        stdout.into_owned()
    }

    /// Runs and expects a clean failure (exit code 1, not a panic); returns stderr.
    fn fails(&self, args: &[&str], key: Option<&str>) -> String {
        let out = self.run(args, key);
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "nrd bridge {args:?}:\n{stdout}\n{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr.into_owned()
    }
}

/// The value of the first `label: value` line.
fn field(output: &str, label: &str) -> String {
    output
        .lines()
        .find(|line| line.starts_with(label))
        .and_then(|line| line.split_once(": "))
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_else(|| panic!("no `{label}` line in:\n{output}"))
}

fn number(text: &str) -> u64 {
    text.split_whitespace().next().unwrap().parse().unwrap_or_else(|_| panic!("not a number: {text}"))
}

fn block_number(rpc: &str) -> u64 {
    cast(&["block-number", "--rpc-url", rpc]).parse().unwrap()
}

fn same_address(a: &str, b: &str) {
    assert_eq!(a.to_lowercase(), b.to_lowercase());
}

#[test]
fn deposits_and_forced_messages_reach_l2_from_the_alias() {
    let devnet = RollupDevnet::start(&[]);
    let bridge = Bridge { devnet: &devnet };
    let alias2 = alias_of(ADDR2.parse().unwrap()).to_string();
    let alias3 = alias_of(ADDR3.parse().unwrap()).to_string();

    // A plain deposit to a fresh L2 address, waited for.
    let recipient = fresh_address("recipient");
    let start = block_number(&devnet.l2);
    let out = bridge.ok(&["deposit", "--to", &recipient, "--value", "1.5ether", "--wait"], Some(KEY2));
    assert_eq!(number(&field(&out, "message index")), 0, "{out}");
    same_address(field(&out, "l2 sender").as_str(), &alias2);
    let applied = number(&field(&out, "applied in l2 block"));
    assert!(applied >= start && applied - start <= 30, "applied in L2 block {applied}, {start} when sent");
    assert_eq!(cast(&["balance", &recipient, "--rpc-url", &devnet.l2]), (3 * ETHER / 2).to_string());
    assert_eq!(cast(&["balance", &recipient, "--rpc-url", &devnet.l2, "--block", &(applied - 1).to_string()]), "0");

    // Without --wait: the balance shows up within a bounded number of L2 blocks.
    let recipient = fresh_address("recipient-2");
    let start = block_number(&devnet.l2);
    let out = bridge.ok(&["deposit", "--to", &recipient, "--value", "1000"], Some(KEY2));
    assert_eq!(number(&field(&out, "message index")), 1, "{out}");
    assert!(out.contains("next:"), "{out}");
    while cast(&["balance", &recipient, "--rpc-url", &devnet.l2]) != "1000" {
        assert!(block_number(&devnet.l2) < start + 30, "deposit not applied within 30 L2 blocks");
        std::thread::sleep(Duration::from_millis(200));
    }

    // A deposit with calldata calls an L2 contract, which sees the aliased sender.
    let code = compile("SenderRecorder.sol", "SenderRecorder");
    let deploy = cast_json(&["send", "--rpc-url", &devnet.l2, "--private-key", KEY0, "--create", &code]);
    assert_eq!(deploy["status"], "0x1", "{deploy}");
    let recorder = deploy["contractAddress"].as_str().unwrap().to_string();
    let call = cast(&["calldata", "record(uint256)", "42"]);
    let out = bridge.ok(
        &["deposit", "--to", &recorder, "--value", "0.25ether", "--data", &call, "--gas-limit", "200000", "--wait"],
        Some(KEY2),
    );
    assert!(out.contains("applied in l2 block"), "{out}");
    let read = |what: &str| cast(&["call", &recorder, what, "--rpc-url", &devnet.l2]);
    same_address(&read("lastSender()(address)"), &alias2);
    assert_ne!(alias2.to_lowercase(), ADDR2.to_lowercase());
    assert!(read("lastValue()(uint256)").starts_with(&(ETHER / 4).to_string()));
    assert_eq!(read("lastTag()(uint256)"), "42");
    let shown = bridge.ok(&["alias", ADDR2], None);
    same_address(&field(&shown, "l2 alias"), &alias2);

    // A forced message (sendMessage) from another L1 account: its own alias calls, and the CLI
    // says by when the sequencer must include it.
    let window: u64 =
        cast(&["call", &devnet.rollup(), "forcedInclusionWindow()(uint64)", "--rpc-url", &devnet.l1]).parse().unwrap();
    let call = cast(&["calldata", "record(uint256)", "7"]);
    let out = bridge
        .ok(&["force-include", "--to", &recorder, "--data", &call, "--gas-limit", "200000", "--wait"], Some(KEY3));
    same_address(field(&out, "l2 sender").as_str(), &alias3);
    let enqueued = number(&field(&out, "enqueued at").replace("L1 time ", ""));
    let deadline = number(&field(&out, "deadline").replace("L1 time ", ""));
    assert_eq!(deadline, enqueued + window, "{out}");
    same_address(&read("lastSender()(address)"), &alias3);
    assert_eq!(read("lastTag()(uint256)"), "7");
    assert_eq!(read("calls()(uint256)"), "2");

    // Contract refusals come back decoded, before anything is sent.
    let err = bridge.fails(&["deposit", "--to", &recipient, "--value", "1", "--gas-limit", "5000001"], Some(KEY2));
    assert!(err.contains("MessageGasTooHigh"), "{err}");
}

#[test]
fn withdrawal_is_proven_and_claimed_after_the_delay() {
    let devnet = RollupDevnet::start(&["--withdrawal-delay", "600"]);
    let bridge = Bridge { devnet: &devnet };

    // The L2 genesis funds test accounts with ETH L1 never locked: deposit some so the rollup
    // contract can pay the withdrawal out.
    bridge.ok(&["deposit", "--to", ADDR3, "--value", "2ether", "--wait"], Some(KEY2));

    // Withdraw on L2 to a fresh L1 address.
    let target = fresh_address("target");
    let out = bridge.ok(&["withdraw", "--to", &target, "--value", "0.5ether"], Some(KEY3));
    let tx = field(&out, "l2 tx");
    let withdrawn_in = number(&field(&out, "l2 block"));
    let hash = field(&out, "withdrawal hash");
    let json_start = out.find('{').unwrap();
    let json_end = out.rfind('}').unwrap();
    let shown: Value = serde_json::from_str(&out[json_start..=json_end]).unwrap();
    assert_eq!(shown["withdrawal"]["value"], (ETHER / 2).to_string());
    same_address(shown["withdrawal"]["sender"].as_str().unwrap(), ADDR3);
    same_address(shown["withdrawal"]["target"].as_str().unwrap(), &target);
    assert_eq!(shown["withdrawalHash"], hash);

    // Prove: waits for L1 to hold a state root at or after the withdrawal's block.
    let dir = tempdir("withdrawal");
    let proof_path = dir.join("proof.json");
    let proof_file = proof_path.to_str().unwrap();
    let out = bridge.ok(&["prove-withdrawal", "--tx", &tx, "--out", proof_file], None);
    assert!(out.contains("claimable from"), "{out}");
    let proof: Value = serde_json::from_str(&std::fs::read_to_string(&proof_path).unwrap()).unwrap();
    let l2_block = proof["l2Block"].as_u64().unwrap();
    assert!(l2_block >= withdrawn_in, "{proof}");
    assert_eq!(proof["withdrawalHash"], hash);
    assert!(
        !proof["accountProof"].as_array().unwrap().is_empty() && !proof["storageProof"].as_array().unwrap().is_empty()
    );
    let root = cast(&[
        "call",
        &devnet.rollup(),
        "stateRoots(uint64)(bytes32)",
        &l2_block.to_string(),
        "--rpc-url",
        &devnet.l1,
    ]);
    assert_eq!(proof["stateRoot"], root);
    // Without --out the proof itself is stdout.
    let printed: Value =
        serde_json::from_str(&bridge.ok(&["prove-withdrawal", "--tx", &tx, "--l2-block", &l2_block.to_string()], None))
            .unwrap();
    assert_eq!(printed["accountProof"], proof["accountProof"]);

    // Too early.
    let claim = ["claim", "--proof", proof_file];
    let err = bridge.fails(&claim, Some(KEY4));
    assert!(err.contains("WithdrawalNotReady") && err.contains("in "), "{err}");
    // A block L1 never verified.
    let unknown = edited(&dir, "unknown.json", &proof, 1_000_000);
    let err = bridge.fails(&["claim", "--proof", &unknown], Some(KEY4));
    assert!(err.contains("UnknownStateRoot"), "{err}");

    // After the delay (the L1 devnet's clock moved on).
    let moved = rpc_call(&devnet.l1, "evm_increaseTime", json!([600])).unwrap();
    assert!(moved.as_str().is_some(), "{moved}");
    // The proof pointed at another verified state root (the genesis one; blocks inside a run
    // have none stored) does not verify.
    let wrong = edited(&dir, "wrong-root.json", &proof, 0);
    let err = bridge.fails(&["claim", "--proof", &wrong], Some(KEY4));
    assert!(err.contains("MerkleProofInvalid"), "{err}");
    let err = bridge.fails(&claim, None);
    assert!(err.contains("--private-key"), "{err}");

    // The claim, signed from an encrypted keystore: the target's L1 balance rises by the value.
    assert_eq!(cast(&["balance", &target, "--rpc-url", &devnet.l1]), "0");
    let keystores = dir.join("keystores");
    cast(&[
        "wallet",
        "import",
        "claimer",
        "--private-key",
        KEY4,
        "--keystore-dir",
        keystores.to_str().unwrap(),
        "--unsafe-password",
        "correct horse",
    ]);
    let keystore = keystores.join("claimer");
    let keystore = keystore.to_str().unwrap();
    let err = bridge.fails(&["claim", "--proof", proof_file, "--keystore", keystore, "--password", "wrong"], None);
    assert!(err.contains("keystore"), "{err}");
    let out = bridge.ok(&["claim", "--proof", proof_file, "--keystore", keystore, "--password", "correct horse"], None);
    assert!(out.contains("claimed: 0.5 ETH"), "{out}");
    assert_eq!(cast(&["balance", &target, "--rpc-url", &devnet.l1]), (ETHER / 2).to_string());

    // Only once.
    let err = bridge.fails(&claim, Some(KEY4));
    assert!(err.contains("AlreadyClaimed"), "{err}");
    assert_eq!(cast(&["balance", &target, "--rpc-url", &devnet.l1]), (ETHER / 2).to_string());
    std::fs::remove_dir_all(&dir).ok();
}

/// Bad input and unreachable nodes fail cleanly (exit code 1 or clap's 2), never print the key.
#[test]
fn errors_are_clear_and_keys_stay_secret() {
    let dead = "http://127.0.0.1:1";
    let common = ["bridge", "--l1-rpc-url", dead, "--l2-rpc-url", dead];
    let run = |args: &[&str], envs: &[(&str, &str)]| {
        let mut all = common.to_vec();
        all.extend_from_slice(args);
        let out = nrd(&all, envs);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(!text.contains(&KEY2[2..]), "the key was printed: {text}");
        assert!(!text.contains("panicked"), "{text}");
        (out.status.code(), text)
    };
    let to = ["--to", ADDR2, "--value", "1ether"];
    let rollup = ["--rollup", "0x8464135c8F25Da09e49BC8782676a84730C318bC"];
    let (code, text) = run(&[&["deposit"][..], &to, &rollup].concat(), &[("NRD_PRIVATE_KEY", KEY2)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach the L1 node at http://127.0.0.1:1"), "{text}");
    let (code, text) = run(&[&["deposit", "--private-key", KEY2][..], &to].concat(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach the L2 node") && text.contains("--rollup"), "{text}");
    let (code, text) = run(&[&["withdraw"][..], &to].concat(), &[("NRD_PRIVATE_KEY", KEY2)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach the L2 node"), "{text}");
    let (code, text) = run(&[&["deposit"][..], &to, &rollup].concat(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("--private-key"), "{text}");
    let (code, text) = run(&[&["deposit", "--private-key", "0x1234"][..], &to, &rollup].concat(), &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not a 32-byte hex private key"), "{text}");
    let (code, text) = run(&["deposit", "--to", ADDR2, "--value", "1foo"], &[("NRD_PRIVATE_KEY", KEY2)]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("not an amount"), "{text}");
    let (code, text) = run(&["claim", "--proof", "/nonexistent/proof.json"], &[("NRD_PRIVATE_KEY", KEY2)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot read /nonexistent/proof.json"), "{text}");
    let (code, text) = run(&["prove-withdrawal", "--tx", &format!("0x{}", "11".repeat(32))], &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach the L2 node"), "{text}");
}

fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("nrd-bridge-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `proof` with `l2Block` replaced, written to `dir/name`.
fn edited(dir: &Path, name: &str, proof: &Value, l2_block: u64) -> String {
    let mut proof = proof.clone();
    proof["l2Block"] = json!(l2_block);
    let path = dir.join(name);
    std::fs::write(&path, proof.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}
