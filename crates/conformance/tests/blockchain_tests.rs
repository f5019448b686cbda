//! `nrd conformance` on the ethereum/tests fixtures vendored in `tests/fixtures`.
#![allow(clippy::unwrap_used)]

use std::{path::PathBuf, process::Command};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ethereum-tests/BlockchainTests")
}

fn conformance(path: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nrd")).arg("conformance").arg(path).output().expect("run nrd");
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn summary(stdout: &str) -> (usize, usize) {
    let last = stdout.lines().last().expect("summary line");
    let mut nums = last.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().unwrap());
    assert!(last.ends_with(" failed") && last.contains(" passed, "), "unexpected summary line {last:?}");
    (nums.next().unwrap(), nums.next().unwrap())
}

#[test]
fn every_blockchain_test_passes_stateful_and_stateless() {
    let (ok, stdout) = conformance(&fixtures());
    let (passed, failed) = summary(&stdout);
    assert!(ok, "conformance failed:\n{stdout}");
    assert_eq!(failed, 0, "{stdout}");
    // SOURCE.md: 442 ValidBlocks and 131 InvalidBlocks Cancun tests.
    assert_eq!(passed, 573, "{stdout}");
}

#[test]
fn a_wrong_expectation_fails_the_run() {
    let src = fixtures().join("ValidBlocks/bcExample/basefeeExample.json");
    let text = std::fs::read_to_string(&src).expect("fixture");
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    for test in json.as_object_mut().expect("object").values_mut() {
        test["lastblockhash"] = serde_json::Value::String(format!("0x{}", "11".repeat(32)));
    }
    let dir = std::env::temp_dir().join(format!("nrd-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("tmp dir");
    let file = dir.join("broken.json");
    std::fs::write(&file, serde_json::to_string(&json).expect("json")).expect("write");
    let (ok, stdout) = conformance(&file);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!ok, "a wrong lastblockhash must fail:\n{stdout}");
    assert!(stdout.contains("FAIL") && stdout.contains("expected lastblockhash"), "{stdout}");
    assert_eq!(summary(&stdout).1, 1);
}

#[test]
fn a_wrong_post_state_is_reported_account_by_account() {
    let src = fixtures().join("ValidBlocks/bcExample/basefeeExample.json");
    let mut json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&src).unwrap()).unwrap();
    for test in json.as_object_mut().unwrap().values_mut() {
        let post = test["postState"].as_object_mut().unwrap();
        let first = post.values_mut().next().unwrap();
        first["balance"] = serde_json::Value::String("0x01".into());
    }
    let dir = std::env::temp_dir().join(format!("nrd-conformance-post-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken-post.json");
    std::fs::write(&file, serde_json::to_string(&json).unwrap()).unwrap();
    let (ok, stdout) = conformance(&file);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!ok);
    // The beacon-roots contract's balance was set to 1 wei; it really holds 0.
    assert!(stdout.contains("post state root"), "{stdout}");
    assert!(
        stdout.contains("(1 differences: 0x000F3df6D732807Ef1319fB7B8bB8522d0Beac02 nonce/balance 1/0 expected 1/1)"),
        "{stdout}"
    );
}
