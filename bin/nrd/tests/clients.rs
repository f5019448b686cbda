//! `nrd l1` driven by real client libraries: viem (JS, run with node) and web3.py (in the
//! pinned venv), both installed, pinned, by `scripts/install-tools.sh`. Each client script in
//! `tests/clients/` checks chain id, balances, an EIP-1559 transfer with library-filled gas and
//! fees, eth_estimateGas and eth_feeHistory, a contract deployment and its logs, prints a JSON
//! summary and exits non-zero on any failed check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{
    path::{Path, PathBuf},
    process::Command,
};
use support::{L1, RollupDevnet};

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Runs a client script against a fresh `nrd l1 --block-time 0`; panics with its summary on failure.
fn drive(program: &Path, script: &Path, envs: &[(&str, &Path)]) -> serde_json::Value {
    let l1 = L1::start(&["--block-time", "0"]);
    run(program, script, &l1.rpc, envs, 900)
}

/// Runs a client script against the L2 of a fresh `nrd devnet`, then checks that what it did
/// was posted to L1 and verified there.
fn drive_l2(program: &Path, script: &Path, envs: &[(&str, &Path)]) -> serde_json::Value {
    let devnet = RollupDevnet::start(&[]);
    let summary = run(program, script, &devnet.l2, envs, 901);
    let head = support::rpc_call(&devnet.l2, "eth_blockNumber", serde_json::json!([])).unwrap();
    let head = u64::from_str_radix(head.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    devnet.wait_safe(head);
    summary
}

fn run(program: &Path, script: &Path, url: &str, envs: &[(&str, &Path)], chain_id: u64) -> serde_json::Value {
    let out = Command::new(program)
        .arg(script)
        .arg(url)
        .env("NRD_EXPECT_CHAIN_ID", chain_id.to_string())
        .env("NRD_INTERVAL_BLOCKS", if chain_id == 901 { "1" } else { "0" })
        .envs(envs.iter().copied())
        .output()
        .unwrap_or_else(|e| panic!("run {} {}: {e}", program.display(), script.display()));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} failed ({}):\n{stdout}\n{stderr}", script.display(), out.status);
    let summary: serde_json::Value = serde_json::from_str(&stdout).expect("JSON summary");
    assert_eq!(summary["ok"], true, "{summary:#}");
    summary
}

#[test]
fn viem_drives_the_devnet() {
    let modules = support::node_modules();
    let summary = drive(&support::node(), &script("viem_smoke.mjs"), &[("NRD_TOOLS_NODE_MODULES", &modules)]);
    assert_eq!(summary["checks"]["chainId"]["detail"], 900);
    assert!(summary["client"].as_str().unwrap().starts_with("viem "));
}

#[test]
fn web3py_drives_the_devnet() {
    let summary = drive(&support::python_web3(), &script("web3_smoke.py"), &[]);
    assert_eq!(summary["checks"]["chainId"]["detail"], 900);
    assert!(summary["client"].as_str().unwrap().starts_with("web3.py "));
}

#[test]
fn viem_drives_the_rollup_l2() {
    let modules = support::node_modules();
    let summary = drive_l2(&support::node(), &script("viem_smoke.mjs"), &[("NRD_TOOLS_NODE_MODULES", &modules)]);
    assert_eq!(summary["checks"]["chainId"]["detail"], 901);
}

#[test]
fn web3py_drives_the_rollup_l2() {
    let summary = drive_l2(&support::python_web3(), &script("web3_smoke.py"), &[]);
    assert_eq!(summary["checks"]["chainId"]["detail"], 901);
}
