//! `nrd genesis`: the committed `config/l2-genesis.json` is the devnet genesis the binary
//! builds from the compiled predeploys, and a file whose predeploys drift is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn nrd(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_nrd")).args(args).env("RUST_LOG", "warn").output().unwrap()
}

fn repo_file(path: &str) -> String {
    format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_l2_genesis_is_what_nrd_builds() {
    let printed = nrd(&["genesis", "print"]);
    assert!(printed.status.success());
    let committed = std::fs::read_to_string(repo_file("config/l2-genesis.json")).unwrap();
    assert!(
        String::from_utf8(printed.stdout).unwrap() == committed,
        "config/l2-genesis.json is stale: regenerate with `cargo run -- genesis print > config/l2-genesis.json`"
    );
    let from_file = nrd(&["genesis", "root", "--file", &repo_file("config/l2-genesis.json")]);
    let built = nrd(&["genesis", "root"]);
    assert!(from_file.status.success() && built.status.success());
    assert_eq!(from_file.stdout, built.stdout);
    let out = String::from_utf8(built.stdout).unwrap();
    assert!(out.contains("chain id     901"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("state root   0x") && l.len() == 13 + 66), "{out}");
}

#[test]
fn a_genesis_with_drifted_predeploys_or_bad_json_is_refused() {
    let committed = std::fs::read_to_string(repo_file("config/l2-genesis.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&committed).unwrap();
    json["alloc"]["0x4e52000000000000000000000000000000000001"]["code"] = "0x00".into();
    let dir = std::env::temp_dir().join(format!("nrd-genesis-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let drifted = dir.join("drifted.json");
    std::fs::write(&drifted, serde_json::to_string(&json).unwrap()).unwrap();
    let out = nrd(&["genesis", "root", "--file", drifted.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("predeploy L1MessageInbox"), "{err}");

    let garbage = dir.join("garbage.json");
    std::fs::write(&garbage, "{ not json").unwrap();
    let out = nrd(&["genesis", "print", "--file", garbage.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8(out.stderr).unwrap().contains("genesis does not parse"));
    std::fs::remove_dir_all(&dir).ok();
}
