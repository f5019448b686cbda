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

/// `nrd genesis generate`: generated accounts and a geth-style `alloc` on top of the devnet
/// genesis; the output loads, its root is the streamed one every node computes, the alloc's
/// accounts are in it, and a bad `--alloc` is an error naming the flag.
#[test]
fn generate_adds_generated_accounts_and_a_geth_alloc() {
    let dir = std::env::temp_dir().join(format!("nrd-genesis-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let alloc = dir.join("alloc.json");
    // A whole geth genesis: its `alloc` is taken (storage and code included).
    std::fs::write(
        &alloc,
        r#"{"config": {"chainId": 1}, "alloc": {
            "0x00000000000000000000000000000000000a110c": {"balance": "0x1234", "nonce": "0x2"},
            "0x00000000000000000000000000000000000a110d": {"balance": "0x0", "code": "0x6000",
                "storage": {"0x0000000000000000000000000000000000000000000000000000000000000001":
                            "0x0000000000000000000000000000000000000000000000000000000000000007"}}}}"#,
    )
    .unwrap();
    let out = nrd(&[
        "genesis",
        "generate",
        "--accounts",
        "2000",
        "--seed",
        &format!("0x{}", "ab".repeat(32)),
        "--alloc",
        alloc.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let generated = dir.join("big.json");
    std::fs::write(&generated, &out.stdout).unwrap();
    let genesis = nrd_derivation::L2Genesis::from_json(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let synthetic = genesis.synthetic().unwrap().unwrap();
    assert_eq!(synthetic.count, 2000);
    let mut state = genesis.state();
    use nrd_chain::StateProvider;
    let added = alloy_primitives::address!("0x00000000000000000000000000000000000a110c");
    assert_eq!(state.account(added).unwrap().unwrap().nonce, 2);
    assert_eq!(state.account(synthetic.address(1999)).unwrap().unwrap().balance, synthetic.balance);
    let root = nrd(&["genesis", "root", "--file", generated.to_str().unwrap()]);
    assert!(root.status.success());
    let printed = String::from_utf8(root.stdout).unwrap();
    assert!(printed.contains(&format!("state root   {}", state.root())), "{printed}");
    assert_ne!(state.root(), nrd_node_builder::devnet_genesis().state_root());

    std::fs::write(&alloc, r#"{"0xnot-an-address": {}}"#).unwrap();
    let out = nrd(&["genesis", "generate", "--alloc", alloc.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--alloc") && err.contains("not a geth-style alloc"), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}
