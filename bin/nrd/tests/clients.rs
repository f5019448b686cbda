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
use support::L1;

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/clients").join(name)
}

/// Runs a client script against a fresh `nrd l1 --block-time 0`; panics with its summary on failure.
fn drive(program: &Path, script: &Path, envs: &[(&str, &Path)]) -> serde_json::Value {
    let l1 = L1::start(&["--block-time", "0"]);
    let out = Command::new(program)
        .arg(script)
        .arg(&l1.rpc)
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
