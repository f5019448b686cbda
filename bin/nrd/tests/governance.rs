//! `nrd governance` against a real `nrd devnet` with a 30 s timelock, driven as the rollup owner
//! (L1 dev account 11, its key derived from the test mnemonic with `cast`) and checked with
//! `cast`: a withdrawal-delay change is refused before the delay with a decoded
//! `TimelockNotElapsed`, executed after it (events on L1, new value read back), not twice; a
//! cancelled action cannot run; a stranger cannot queue; an L2 parameter set by a governance
//! message shows on the sequencer and the follower.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_pass_by_value)]

mod support;

use serde_json::{Value, json};
use std::{
    process::Output,
    time::{Duration, Instant},
};
use support::{RollupDevnet, cast, nrd, rpc_call};

const MNEMONIC: &str = "test test test test test test test test test test test junk";
const L2_GOVERNANCE: &str = "0x4e52000000000000000000000000000000000004";

/// Key and address of dev account `index` of the test mnemonic.
fn account(index: u32) -> (String, String) {
    let index = index.to_string();
    let key = cast(&["wallet", "private-key", "--mnemonic", MNEMONIC, "--mnemonic-index", &index]);
    let address = cast(&["wallet", "address", "--mnemonic", MNEMONIC, "--mnemonic-index", &index]);
    (key, address)
}

fn governance(devnet: &RollupDevnet, args: &[&str], key: Option<&str>) -> Output {
    let mut all = vec!["governance", "--l1-rpc-url", &devnet.l1, "--l2-rpc-url", &devnet.l2];
    all.extend_from_slice(args);
    nrd(&all, &key.map(|k| vec![("NRD_PRIVATE_KEY", k)]).unwrap_or_default())
}

/// stdout of a command that must succeed.
fn ok(out: Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "failed:\n{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    stdout
}

/// stderr of a command that must fail cleanly (exit status 1, no panic).
fn fails(out: Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "expected a clean failure:\n{}\n{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

/// The text after `prefix` on the line that starts with it, up to the first space.
fn field<'a>(text: &'a str, prefix: &str) -> &'a str {
    text.lines()
        .find_map(|l| l.strip_prefix(prefix))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no `{prefix}` in:\n{text}"))
}

fn l1_time(l1: &str) -> u64 {
    let block = rpc_call(l1, "eth_getBlockByNumber", json!(["latest", false])).unwrap();
    u64::from_str_radix(block["timestamp"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn call(rpc: &str, to: &str, signature: &str, args: &[&str]) -> String {
    let mut all = vec!["call", to, signature];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--rpc-url", rpc]);
    // `cast` prints large numbers with a scientific hint after them: keep the number.
    cast(&all).split_whitespace().next().unwrap_or_default().to_string()
}

#[test]
fn owner_actions_wait_for_the_timelock_and_governance_messages_reach_l2() {
    let devnet =
        RollupDevnet::start(&["--timelock-delay", "30", "--withdrawal-delay", "10", "--forced-inclusion-window", "20"]);
    let rollup = devnet.rollup();
    let (owner, owner_address) = account(11);
    let (stranger, _) = account(4);

    let status = ok(governance(&devnet, &["status"], None));
    assert!(status.contains(&format!("owner: {owner_address}")), "{status}");
    assert!(status.contains("withdrawal delay: 10 s") && status.contains("timelock delay: 30 s"), "{status}");
    assert!(status.contains("queued actions: 0"), "{status}");

    // Only the owner queues; the refusal is decoded.
    let refused = fails(governance(&devnet, &["queue", "set-withdrawal-delay", "5"], Some(&stranger)));
    assert!(refused.contains("NotOwner"), "{refused}");

    // The owner queues a withdrawal-delay change, an L2 parameter, and a pause it then cancels.
    let queued = ok(governance(&devnet, &["queue", "set-withdrawal-delay", "5"], Some(&owner)));
    assert!(queued.contains("action: SetWithdrawalDelay(5 s)"), "{queued}");
    let delay_id = field(&queued, "action id: ").to_string();
    let executable_at: u64 = field(&queued, "executable at: L1 time ").parse().unwrap();
    let queued = ok(governance(&devnet, &["queue", "set-l2-parameter", "l2.gasLimit", "12345"], Some(&owner)));
    let l2_id = field(&queued, "action id: ").to_string();
    let l2_executable_at: u64 = field(&queued, "executable at: L1 time ").parse().unwrap();
    let queued = ok(governance(&devnet, &["queue", "pause-deposits"], Some(&owner)));
    let pause_id = field(&queued, "action id: ").to_string();
    let cancelled = ok(governance(&devnet, &["cancel", &pause_id], Some(&owner)));
    assert!(cancelled.contains(&format!("event ActionCancelled: {pause_id}")), "{cancelled}");

    // Too early: refused with the time it becomes executable; nothing changed.
    let early = fails(governance(&devnet, &["execute", &delay_id], Some(&owner)));
    assert!(early.contains("TimelockNotElapsed"), "{early}");
    assert!(early.contains(&format!("becomes executable at L1 time {executable_at} (in ")), "{early}");
    assert_eq!(call(&devnet.l1, &rollup, "withdrawalDelay()(uint64)", &[]), "10");

    let status = ok(governance(&devnet, &["status"], None));
    assert!(status.contains("queued actions: 2"), "{status}");
    assert!(status.contains(&format!("{delay_id} SetWithdrawalDelay(5 s) nonce 0 executable ")), "{status}");
    assert!(status.contains(&l2_id) && status.contains(&format!("{pause_id} SetDepositsPaused(true)")), "{status}");
    assert!(status.contains("cancelled in L1 block"), "{status}");

    // After the delay it runs: the event says what changed, and L1 holds the new value.
    wait_for(Duration::from_secs(60), "the timelock", || l1_time(&devnet.l1) >= executable_at.max(l2_executable_at));
    let executed = ok(governance(&devnet, &["execute", &delay_id], Some(&owner)));
    assert!(executed.contains("event ParameterChanged: withdrawalDelay 10 -> 5"), "{executed}");
    assert!(executed.contains(&format!("event ActionExecuted: {delay_id} SetWithdrawalDelay(5 s)")), "{executed}");
    assert_eq!(call(&devnet.l1, &rollup, "withdrawalDelay()(uint64)", &[]), "5");
    let logs: Value = serde_json::from_str(&cast(&[
        "logs",
        "--rpc-url",
        &devnet.l1,
        "--from-block",
        "0",
        "--address",
        &rollup,
        "ParameterChanged(bytes32,uint256,uint256)",
        "--json",
    ]))
    .unwrap();
    let name = format!("0x{:0<64}", alloy_primitives::hex::encode("withdrawalDelay"));
    let log = logs.as_array().unwrap().iter().find(|l| l["topics"][1] == name.as_str()).expect("ParameterChanged");
    assert_eq!(log["data"], format!("0x{:064x}{:064x}", 10, 5), "{log}");

    // Once only; a cancelled action never.
    let again = fails(governance(&devnet, &["execute", &delay_id], Some(&owner)));
    assert!(again.contains("NotScheduled") && again.contains("it was executed in L1 block"), "{again}");
    let never = fails(governance(&devnet, &["execute", &pause_id], Some(&owner)));
    assert!(never.contains("NotScheduled") && never.contains("it was cancelled in L1 block"), "{never}");
    assert_eq!(call(&devnet.l1, &rollup, "depositsPaused()(bool)", &[]), "false");

    // A governance message: L2Governance holds the parameter on L2, on the sequencer and on the
    // follower (which has it from L1 alone).
    let executed = ok(governance(&devnet, &["execute", &l2_id, "--wait"], Some(&owner)));
    assert!(executed.contains("event MessageEnqueued: L1 message"), "{executed}");
    let key = cast(&["keccak", "l2.gasLimit"]);
    assert!(executed.contains(&format!("l2 parameter {key}: 12345")), "{executed}");
    assert_eq!(call(&devnet.l2, L2_GOVERNANCE, "parameters(bytes32)(uint256)", &[&key]), "12345");
    wait_for(Duration::from_secs(60), "the follower to apply the governance message", || {
        call(&devnet.follower, L2_GOVERNANCE, "parameters(bytes32)(uint256)", &[&key]) == "12345"
    });
    let read = ok(governance(&devnet, &["l2-parameter", "l2.gasLimit"], None));
    assert!(read.contains("value: 12345"), "{read}");

    let status = ok(governance(&devnet, &["status"], None));
    assert!(status.contains("withdrawal delay: 5 s") && status.contains("queued actions: 0"), "{status}");
    assert!(status.contains("past actions: 3"), "{status}");
}
