//! The `nrd-conformance` binary: its report and exit code (the full fixture run is
//! `nrd-conformance`'s library test).

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ethereum-tests/BlockchainTests")
}

fn conformance(path: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nrd-conformance")).arg(path).args(["--threads", "1"]).output().expect("run")
}

#[test]
fn a_passing_file_exits_zero_with_the_totals() {
    let out = conformance(&fixtures().join("ValidBlocks/bcExample/basefeeExample.json"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert_eq!(stdout.lines().last(), Some("1 passed, 0 failed"), "{stdout}");
}

#[test]
fn no_test_run_is_a_failure() {
    let dir = tempfile::tempdir().expect("tmp dir");
    let out = conformance(dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert_eq!(stdout, "0 passed, 0 failed\n");
}

#[test]
fn a_missing_path_is_an_error() {
    let out = conformance(Path::new("/nonexistent/blockchain-tests"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.starts_with("error: cannot read /nonexistent/blockchain-tests: "), "{stderr}");
}

#[test]
fn a_wrong_expectation_prints_a_fail_line() {
    let src = fixtures().join("ValidBlocks/bcExample/basefeeExample.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(src).expect("fixture")).expect("json");
    for test in json.as_object_mut().expect("object").values_mut() {
        test["lastblockhash"] = serde_json::Value::String(format!("0x{}", "11".repeat(32)));
    }
    let dir = tempfile::tempdir().expect("tmp dir");
    let file = dir.path().join("broken.json");
    std::fs::write(&file, serde_json::to_string(&json).expect("json")).expect("write");
    let out = conformance(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    let fail = format!("FAIL {}: ", file.display());
    assert!(stdout.starts_with(&fail) && stdout.contains("expected lastblockhash"), "{stdout}");
    assert!(stdout.ends_with("0 passed, 1 failed\n"), "{stdout}");
}
