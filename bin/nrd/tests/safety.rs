//! Safety and liveness of the rollup on real `nrd` processes with a 15 s forced-inclusion window,
//! driven with `cast` and the nrd CLI:
//! - a censoring sequencer (`nrd devnet --censor`) refuses an address's L2 transactions and
//!   skips its forced L1 message; past the deadline its `advance` fails with `OverdueMessage`
//!   and it halts, and the self-proposing follower (`--follower-self-propose`) advances the
//!   rollup with the message once the sequencer has been silent for the window;
//! - a killed sequencer: a self-proposing follower (`nrd node`, `[proposer]`) advances the
//!   rollup after the window, applying the L1 messages enqueued meanwhile;
//! - a killed sequencer and no proposer: `nrd bridge advance`, run by a third party, refuses
//!   cleanly within the window (saying when it opens) and after it posts the next block with
//!   the deposit enqueued meanwhile, which a plain follower then imports from L1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_primitives::{Address, B256, keccak256};
use serde_json::{Value, json};
use std::{
    path::Path,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use support::{L1, NodeProcess as Node, RollupDevnet, cast, nrd, rpc_call};

const WINDOW: u64 = 15;
const ETHER: u128 = 1_000_000_000_000_000_000;

/// Test account 0 (the sequencer).
/// Test accounts 2 and 3.
const KEY2: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const ADDR2: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
const KEY3: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
const ADDR3: &str = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";
/// Test account 5: the self-proposing follower's key in the liveness test.
const KEY5: &str = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba";
const ADDR5: &str = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc";
/// Test account 12: `nrd devnet --follower-self-propose`'s proposer.
const ADDR12: &str = "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a";

fn fresh_address(tag: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    Address::from_word(keccak256(format!("{tag}-{}-{nanos}", std::process::id()).as_bytes())).to_string()
}

fn hex_u64(value: &Value) -> u64 {
    u64::from_str_radix(value.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn head_number(l1: &str, rollup: &str) -> u64 {
    cast(&["call", rollup, "headNumber()(uint64)", "--rpc-url", l1]).parse().unwrap()
}

fn l1_time(l1: &str) -> u64 {
    hex_u64(&rpc_call(l1, "eth_getBlockByNumber", json!(["latest", false])).unwrap()["timestamp"])
}

fn balance(rpc: &str, address: &str) -> u128 {
    cast(&["balance", address, "--rpc-url", rpc]).parse().unwrap()
}

/// The `from` of the L1 transaction that advanced the rollup to L2 block `number`.
fn advanced_by(l1: &str, rollup: &str, number: u64) -> Address {
    let topic = keccak256("BlockAdvanced(uint64,bytes32,bytes32,uint64,uint64,uint64)");
    let logs = rpc_call(
        l1,
        "eth_getLogs",
        json!([{"address": rollup, "fromBlock": "0x0", "toBlock": "latest",
                "topics": [topic, B256::left_padding_from(&number.to_be_bytes())]}]),
    )
    .unwrap();
    let tx = logs[0]["transactionHash"].clone();
    let tx = rpc_call(l1, "eth_getTransactionByHash", json!([tx])).unwrap();
    tx["from"].as_str().unwrap().parse().unwrap()
}

/// Waits (up to `limit`) for `done`, polling every 250 ms.
fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The follower's block `number` is what L1 verified: same state root.
fn verified_on_l1(l1: &str, rollup: &str, l2: &str, number: u64) {
    let n = number.to_string();
    let l2_root = cast(&["block", &n, "--field", "stateRoot", "--rpc-url", l2]);
    let l1_root = cast(&["call", rollup, "stateRoots(uint64)(bytes32)", &n, "--rpc-url", l1]);
    assert_eq!(l1_root, l2_root, "state root of L2 block {number} on L1");
}

#[test]
fn a_censoring_sequencer_halts_and_the_self_proposing_follower_includes_the_forced_call() {
    let window = WINDOW.to_string();
    let devnet =
        RollupDevnet::start(&["--forced-inclusion-window", &window, "--censor", ADDR2, "--follower-self-propose"]);
    let rollup = devnet.rollup();

    // ADDR2's L2 transactions are refused at the sequencer's door.
    let raw = cast(&["mktx", "--rpc-url", &devnet.l2, "--private-key", KEY2, ADDR3, "--value", "1"]);
    let refused = rpc_call(&devnet.l2, "eth_sendRawTransaction", json!([raw])).unwrap_err();
    assert!(refused.to_string().contains("refused"), "{refused}");

    // So ADDR2 forces an L2 call through L1: its alias sends 0.5 ether to a fresh address.
    let target = fresh_address("forced");
    let out = nrd(
        &[
            "bridge",
            "--l1-rpc-url",
            &devnet.l1,
            "--l2-rpc-url",
            &devnet.l2,
            "force-include",
            "--to",
            &target,
            "--mint",
            "0.5ether",
            "--value",
            "0.5ether",
        ],
        &[("NRD_PRIVATE_KEY", KEY2)],
    );
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "force-include failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let deadline: u64 = stdout
        .lines()
        .find_map(|l| l.strip_prefix("deadline: L1 time "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .parse()
        .unwrap();

    // Past the deadline the sequencer cannot advance without the message: it halts.
    wait_for(Duration::from_secs(WINDOW + 60), "the sequencer to halt", || {
        devnet.status()["halted"].as_str().is_some()
    });
    let halted = devnet.status()["halted"].as_str().unwrap().to_string();
    assert!(halted.contains("OverdueMessage"), "{halted}");
    assert!(l1_time(&devnet.l1) >= deadline, "halted before the deadline: {halted}");
    assert_eq!(balance(&devnet.l2, &target), 0, "the censoring sequencer applied the message");
    let stuck = head_number(&devnet.l1, &rollup);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(head_number(&devnet.l1, &rollup), stuck, "L1 head moved while the sequencer was halted");

    // Once the sequencer has been silent for the window, the follower advances the rollup with
    // the forced message: the call happened on L2, within deadline + window.
    wait_for(Duration::from_secs(WINDOW + 30), "the follower to apply the forced call", || {
        balance(&devnet.follower, &target) == ETHER / 2
    });
    let applied_at = l1_time(&devnet.l1);
    assert!(applied_at <= deadline + WINDOW + 3, "applied at L1 time {applied_at}, deadline {deadline}");
    let applied_in: u64 = cast(&["block-number", "--rpc-url", &devnet.follower]).parse().unwrap();
    wait_for(Duration::from_secs(30), "the self-proposed block on L1", || {
        head_number(&devnet.l1, &rollup) >= applied_in
    });
    assert!(applied_in > stuck);
    verified_on_l1(&devnet.l1, &rollup, &devnet.follower, applied_in);
    assert_eq!(advanced_by(&devnet.l1, &rollup, stuck + 1), ADDR12.parse::<Address>().unwrap());
    let inbox = "0x4e52000000000000000000000000000000000001";
    let next: u64 = cast(&["call", inbox, "nextIndex()(uint64)", "--rpc-url", &devnet.follower]).parse().unwrap();
    let consumed: u64 = cast(&["call", &rollup, "consumed()(uint64)", "--rpc-url", &devnet.l1]).parse().unwrap();
    assert!(next >= 1 && consumed >= 1, "nextIndex {next}, consumed {consumed}");
}

/// An `nrd l1` (1 s blocks) with `NativeRollup` deployed by `nrd deploy` (forced-inclusion
/// window [`WINDOW`]): the L1, the rollup address and its deployment block.
fn l1_with_rollup() -> (L1, String, String) {
    let l1 = L1::start(&["--block-time", "1"]);
    let genesis = format!("{}/../../config/l2-genesis.json", env!("CARGO_MANIFEST_DIR"));
    let window = WINDOW.to_string();
    let (rollup, block) = support::deploy(&l1, &genesis, &["--forced-inclusion-window", &window]);
    (l1, rollup, block)
}

/// `nrd node` processes on `l1`'s `rollup`: a sequencer (test account 0, 1 s blocks) and a
/// follower whose config ends with `follower_tail` (after the `[l1]` keys); returns each with
/// its RPC URL.
fn sequencer_and_follower(
    l1: &L1,
    rollup: &str,
    block: &str,
    dir: &Path,
    follower_tail: &str,
) -> (Node, String, Node, String) {
    std::fs::create_dir_all(dir).unwrap();
    let (seq_config, seq_rpc) = node_config(dir, "sequencer", l1, rollup, block, &support::sequencer_section(1000, ""));
    let (fol_config, fol_rpc) = node_config(dir, "follower", l1, rollup, block, follower_tail);
    let sequencer = Node::start(&seq_config, &seq_rpc);
    let follower = Node::start(&fol_config, &fol_rpc);
    (sequencer, seq_rpc, follower, fol_rpc)
}

fn node_config(dir: &Path, role: &str, l1: &L1, rollup: &str, block: &str, tail: &str) -> (std::path::PathBuf, String) {
    let genesis = format!("{}/../../config/l2-genesis.json", env!("CARGO_MANIFEST_DIR"));
    let path = dir.join(format!("{role}.toml"));
    let url = support::NodeConfig {
        role,
        data: &dir.join(role),
        genesis: Path::new(&genesis),
        l1,
        rollup,
        start_block: block,
        rpc: None,
        top: "",
        tail,
    }
    .write(&path);
    (path, url)
}

#[test]
fn a_self_proposing_follower_advances_the_rollup_when_the_sequencer_is_gone() {
    let (l1, rollup, block) = l1_with_rollup();
    let follower_tail = format!("\n[proposer]\nself_propose = true\nkey = \"{KEY5}\"");
    let dir = std::env::temp_dir().join(format!("nrd-safety-{}", std::process::id()));
    let (sequencer, seq_rpc, follower, fol_rpc) = sequencer_and_follower(&l1, &rollup, &block, &dir, &follower_tail);

    // The sequencer works: an L2 transfer is posted and the follower imports it.
    let sent = support::cast_json(&["send", "--rpc-url", &seq_rpc, "--private-key", KEY3, ADDR2, "--value", "1"]);
    let sent_in = hex_u64(&sent["blockNumber"]);
    wait_for(Duration::from_secs(60), "the transfer on L1", || head_number(&l1.rpc, &rollup) >= sent_in);
    wait_for(Duration::from_secs(30), "the follower", || {
        cast(&["block-number", "--rpc-url", &fol_rpc]).parse::<u64>().unwrap() >= sent_in
    });

    // The sequencer dies. A deposit is enqueued on L1 meanwhile.
    drop(sequencer);
    let target = fresh_address("deposit");
    let receipt = support::cast_json(&[
        "send",
        "--rpc-url",
        &l1.rpc,
        "--private-key",
        KEY3,
        &rollup,
        "deposit(address,uint64,bytes)",
        &target,
        "200000",
        "0x",
        "--value",
        "1ether",
    ]);
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    let silent_from = cast(&["call", &rollup, "lastAdvanceAt()(uint64)", "--rpc-url", &l1.rpc]);
    let silent_from: u64 = silent_from.split_whitespace().next().unwrap().parse().unwrap();
    let stopped = head_number(&l1.rpc, &rollup);
    // Wait for every block the sequencer had in flight to settle.
    std::thread::sleep(Duration::from_secs(2));
    let stopped = stopped.max(head_number(&l1.rpc, &rollup));

    // After the window the follower advances the rollup with its own key, applying the deposit.
    wait_for(Duration::from_secs(WINDOW + 45), "the follower's advance", || head_number(&l1.rpc, &rollup) > stopped);
    let now = l1_time(&l1.rpc);
    assert!(now > silent_from + WINDOW, "advanced at {now}, last sequencer advance at {silent_from}");
    assert_eq!(advanced_by(&l1.rpc, &rollup, stopped + 1), ADDR5.parse::<Address>().unwrap());
    let head = head_number(&l1.rpc, &rollup);
    wait_for(Duration::from_secs(30), "the follower's head", || {
        cast(&["block-number", "--rpc-url", &fol_rpc]).parse::<u64>().unwrap() >= head
    });
    verified_on_l1(&l1.rpc, &rollup, &fol_rpc, head);
    assert_eq!(balance(&fol_rpc, &target), ETHER, "the deposit was applied");
    let status = rpc_call(&follower.rpc, "nrd_rollupStatus", json!([])).unwrap();
    assert!(status["safeHead"].as_u64().unwrap() >= head, "{status}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Test account 4: the third party running `nrd bridge advance`.
const KEY4: &str = "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a";
const ADDR4: &str = "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65";

/// The text after `prefix` on the line that starts with it, up to the first space.
fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `{prefix}` in:\n{text}"))
}

#[test]
fn anyone_advances_a_silent_sequencers_rollup_with_nrd_bridge_advance() {
    let (l1, rollup, block) = l1_with_rollup();
    let dir = std::env::temp_dir().join(format!("nrd-advance-{}", std::process::id()));
    let (sequencer, seq_rpc, _follower, fol_rpc) = sequencer_and_follower(&l1, &rollup, &block, &dir, "");

    // The sequencer posts an L2 transfer (blob mode), then dies; a deposit is enqueued meanwhile.
    let sent = support::cast_json(&["send", "--rpc-url", &seq_rpc, "--private-key", KEY3, ADDR2, "--value", "1"]);
    let sent_in = hex_u64(&sent["blockNumber"]);
    wait_for(Duration::from_secs(60), "the transfer on L1", || head_number(&l1.rpc, &rollup) >= sent_in);
    drop(sequencer);
    let target = fresh_address("advance");
    let bridge = |command: &[&str]| {
        let mut args = vec!["bridge", "--l1-rpc-url", &l1.rpc, "--l2-rpc-url", &fol_rpc, "--rollup", &rollup];
        args.extend_from_slice(command);
        nrd(&args, &[("NRD_PRIVATE_KEY", KEY4)])
    };
    let out = bridge(&["deposit", "--to", &target, "--value", "1ether"]);
    assert!(out.status.success(), "deposit: {}", String::from_utf8_lossy(&out.stderr));
    std::thread::sleep(Duration::from_secs(2));
    let stopped = head_number(&l1.rpc, &rollup);
    let genesis = format!("{}/../../config/l2-genesis.json", env!("CARGO_MANIFEST_DIR"));
    let advance = || bridge(&["advance", "--beacon-url", &l1.beacon, "--genesis", &genesis]);

    // Within the window: refused before anything is sent, with the time it opens.
    let out = advance();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{}\n{stderr}", String::from_utf8_lossy(&out.stdout));
    assert!(stderr.contains("advance is not open to anyone yet") && !stderr.contains("panicked"), "{stderr}");
    let opens_at: u64 =
        field(&stderr, "error: advance is not open to anyone yet: the rollup last advanced at L1 time ")
            .parse::<u64>()
            .map(|last| last + WINDOW + 1)
            .unwrap();
    assert!(stderr.contains(&format!("anyone may advance from L1 time {opens_at} (in ")), "{stderr}");
    assert_eq!(head_number(&l1.rpc, &rollup), stopped);

    // After it: the third party rebuilds the L2 from L1 and posts the next block, with the deposit.
    wait_for(Duration::from_secs(WINDOW + 30), "the window to pass", || l1_time(&l1.rpc) >= opens_at);
    let out = advance();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "advance failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(&format!("rebuilt the L2 from L1: head {stopped} (")), "{stdout}");
    assert!(stdout.contains(&format!("built l2 block {}: L1 messages 0..=0", stopped + 1)), "{stdout}");
    let head: u64 = field(&stdout, "new head: ").parse().unwrap();
    assert!(head > stopped, "{stdout}");
    assert_eq!(head_number(&l1.rpc, &rollup), head);
    let tx = field(&stdout, "l1 tx: ");
    let receipt = support::cast_json(&["receipt", tx, "--rpc-url", &l1.rpc]);
    assert_eq!(receipt["status"], "0x1", "{receipt}");
    assert_eq!(advanced_by(&l1.rpc, &rollup, stopped + 1), ADDR4.parse::<Address>().unwrap());
    let consumed: u64 = cast(&["call", &rollup, "consumed()(uint64)", "--rpc-url", &l1.rpc]).parse().unwrap();
    assert_eq!(consumed, 1);

    // A plain follower imports it from L1: the same state root, the deposit credited.
    wait_for(Duration::from_secs(30), "the follower's head", || {
        cast(&["block-number", "--rpc-url", &fol_rpc]).parse::<u64>().unwrap() >= head
    });
    verified_on_l1(&l1.rpc, &rollup, &fol_rpc, head);
    assert_eq!(balance(&fol_rpc, &target), ETHER, "the deposit was applied");

    // The window restarted with that advance: another one is refused again.
    let out = advance();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("advance is not open to anyone yet"));
    std::fs::remove_dir_all(&dir).ok();
}
