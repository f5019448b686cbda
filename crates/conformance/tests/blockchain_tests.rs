//! The conformance runner on the ethereum/tests fixtures vendored in `tests/fixtures`.
#![allow(clippy::unwrap_used)]

use nrd_conformance::{Report, TestError, run};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ethereum-tests/BlockchainTests")
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn conformance(path: &Path) -> Report {
    run(path, threads()).expect("fixtures readable")
}

/// `basefeeExample.json` with `edit` applied to each of its tests, in a temporary directory.
fn broken_example(edit: impl Fn(&mut serde_json::Value)) -> (tempfile::TempDir, PathBuf) {
    let src = fixtures().join("ValidBlocks/bcExample/basefeeExample.json");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(src).unwrap()).unwrap();
    json.as_object_mut().unwrap().values_mut().for_each(edit);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("broken.json");
    std::fs::write(&file, serde_json::to_string(&json).unwrap()).unwrap();
    (dir, file)
}

#[test]
fn every_blockchain_test_passes_stateful_and_stateless() {
    let report = conformance(&fixtures());
    assert!(report.is_success(), "conformance failed:\n{report}");
    assert_eq!(report.failures.len(), 0, "{report}");
    // SOURCE.md: 442 ValidBlocks and 131 InvalidBlocks Cancun tests.
    assert_eq!(report.passed, 573, "{report}");
}

#[test]
fn a_wrong_expectation_fails_the_run() {
    let (_dir, file) =
        broken_example(|test| test["lastblockhash"] = serde_json::Value::String(format!("0x{}", "11".repeat(32))));
    let report = conformance(&file);
    assert!(!report.is_success(), "a wrong lastblockhash must fail:\n{report}");
    assert_eq!(report.summary().failed, 1);
    assert!(matches!(report.failures[0].error, TestError::LastBlockHash { .. }), "{report}");
    let printed = report.to_string();
    assert!(printed.starts_with(&format!("FAIL {}: ", file.display())), "{printed}");
    assert!(printed.contains("expected lastblockhash") && printed.ends_with("0 passed, 1 failed\n"), "{printed}");
}

#[test]
fn a_wrong_post_state_is_reported_account_by_account() {
    let (_dir, file) = broken_example(|test| {
        let post = test["postState"].as_object_mut().unwrap();
        let first = post.values_mut().next().unwrap();
        first["balance"] = serde_json::Value::String("0x01".into());
    });
    let report = conformance(&file);
    assert!(!report.is_success());
    let failure = &report.failures[0];
    assert!(matches!(failure.error, TestError::PostStateRoot { .. }), "{report}");
    // The beacon-roots contract's balance was set to 1 wei; it really holds 0.
    let message = failure.error.to_string();
    assert!(message.starts_with("post state root"), "{message}");
    assert!(
        message.ends_with("(1 differences: 0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02 nonce/balance 1/0 expected 1/1)"),
        "{message}"
    );
}

#[test]
fn an_unreadable_fixture_file_is_a_failure_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("garbage.json"), "not json").unwrap();
    let report = conformance(dir.path());
    assert_eq!(report.summary(), nrd_conformance::Summary { passed: 0, failed: 1, skipped: 0 });
    assert!(matches!(report.failures[0].error, TestError::ParseFile(_)), "{report}");
    assert!(report.to_string().contains(": cannot read fixture file: "), "{report}");
}
