//! Checkpoint start, end to end: `nrd l1`, `nrd deploy`, a sequencer and a follower as
//! processes. The follower is stopped and its state exported; forged and foreign checkpoints are
//! refused against L1; a new follower starts from the genuine one, follows L1 from there and
//! agrees with the sequencer; blocks before the checkpoint (and bodies past `block_history`)
//! answer "pruned history unavailable" (4444) as geth does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::{
    path::{Path, PathBuf},
    time::{Duration, Instant},
};
use support::{ADDR1, L1, NodeProcess as Node, cast, free_addr, rpc_call};

fn number(v: &Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn head(rpc: &str) -> u64 {
    number(&rpc_call(rpc, "eth_blockNumber", json!([])).unwrap())
}

fn block(rpc: &str, n: u64) -> Result<Value, Value> {
    rpc_call(rpc, "eth_getBlockByNumber", json!([format!("0x{n:x}"), false]))
}

fn wait(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

struct Rollup {
    l1: L1,
    genesis: String,
    deployed_at: String,
    dir: PathBuf,
}

impl Rollup {
    fn config(&self, name: &str, role: &str, rpc: &str, rollup: &str, extra: &str) -> PathBuf {
        let path = self.dir.join(format!("{name}.toml"));
        let sequencer = if role == "sequencer" { support::sequencer_section(300, "") } else { String::new() };
        support::NodeConfig {
            role,
            data: &self.dir.join(name),
            genesis: Path::new(&self.genesis),
            l1: &self.l1,
            rollup,
            start_block: &self.deployed_at,
            rpc: Some(rpc),
            top: extra,
            tail: &format!("confirmations = 0\n{sequencer}"),
        }
        .write(&path);
        path
    }
}

fn import(config: &Path, file: &Path) -> std::process::Output {
    support::nrd(&["checkpoint", "import", "--config", config.to_str().unwrap(), file.to_str().unwrap()], &[])
}

/// A transfer of `value` wei to `ADDR1` from `KEY0` with `nonce`, not waited for.
fn send(rpc: &str, nonce: u64, value: u64) {
    support::send_transfer(rpc, nonce, value);
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_follower_starts_from_a_checkpoint_l1_confirms_and_refuses_forged_ones() {
    let l1 = L1::start(&["--block-time", "1", "--finality-depth", "2"]);
    let genesis = format!("{}/../../config/l2-genesis.json", env!("CARGO_MANIFEST_DIR"));
    let (rollup, deployed_at) = support::deploy(&l1, &genesis, &[]);
    let dir = std::env::temp_dir().join(format!("nrd-checkpoint-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let setup = Rollup { l1, genesis, deployed_at, dir: dir.clone() };

    let seq_rpc = format!("http://{}", free_addr());
    let seq = Node::start(
        &setup.config("sequencer", "sequencer", seq_rpc.trim_start_matches("http://"), &rollup, ""),
        &seq_rpc,
    );
    let a_rpc = format!("http://{}", free_addr());
    let a_config = setup.config("a", "follower", a_rpc.trim_start_matches("http://"), &rollup, "");
    let a = Node::start(&a_config, &a_rpc);
    for nonce in 0..5 {
        send(&seq_rpc, nonce, 1000);
    }
    // The follower has imported the transfers from L1.
    wait("follower A to import the transfers", 90, || {
        cast(&["nonce", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "--rpc-url", &a_rpc]) == "5"
    });
    let exported_head = head(&a_rpc);
    a.interrupt();

    // Export from the stopped follower's data directory.
    let file = dir.join("a.ckpt");
    let out = support::nrd(
        &["checkpoint", "export", "--data-dir", dir.join("a").to_str().unwrap(), "--out", file.to_str().unwrap()],
        &[],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(printed.contains(&format!("exported block {exported_head} ")), "{printed}");

    let b_rpc = format!("http://{}", free_addr());
    let b_config = setup.config(
        "b",
        "follower",
        b_rpc.trim_start_matches("http://"),
        &rollup,
        "[state]\nhistory_blocks = 4\nblock_history = 4\n",
    );
    let bytes = std::fs::read(&file).unwrap();

    // A forged balance: the state root does not match.
    let recipient = alloy_primitives::hex::decode(ADDR1).unwrap();
    let at =
        bytes.windows(21).rposition(|w| w[0] == 1 && w[1..] == recipient[..]).expect("the recipient's account record");
    let mut forged = bytes.clone();
    forged[at + 21 + 8 + 31] ^= 1;
    let forged_file = dir.join("forged.ckpt");
    std::fs::write(&forged_file, &forged).unwrap();
    // L1 must finalize the block first; then the file itself is refused.
    let mut last = String::new();
    wait("the forged checkpoint to be refused for its state", 60, || {
        let out = import(&b_config, &forged_file);
        assert!(!out.status.success());
        last = stderr(&out);
        !last.contains("finalized L1 block")
    });
    assert!(last.contains("its state has root"), "{last}");
    assert!(!dir.join("b/chain.redb").exists(), "a refused import leaves no store");

    // A forged next L1 message index (right after the block record): L1 recorded another.
    let record_len = u64::from_be_bytes(bytes[9..17].try_into().unwrap()) as usize;
    let mut skipped = bytes.clone();
    skipped[17 + record_len + 7] ^= 1;
    std::fs::write(&forged_file, &skipped).unwrap();
    let out = import(&b_config, &forged_file);
    assert!(stderr(&out).contains("next L1 message"), "{}", stderr(&out));

    // The same file against another rollup: L1 has no such block there.
    let other =
        setup.config("other", "follower", &free_addr().to_string(), "0x00000000000000000000000000000000000000aa", "");
    let out = import(&other, &file);
    assert!(stderr(&out).contains("is not posted to rollup"), "{}", stderr(&out));

    // Truncated: a typed error naming the file.
    std::fs::write(&forged_file, &bytes[..bytes.len() / 2]).unwrap();
    let out = import(&b_config, &forged_file);
    assert!(stderr(&out).contains("truncated") && stderr(&out).contains("forged.ckpt"), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));

    // The genuine checkpoint loads, and the follower starts there.
    let out = import(&b_config, &file);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = import(&b_config, &file);
    assert!(stderr(&out).contains("a store is already there"), "{}", stderr(&out));
    let b = Node::start(&b_config, &b_rpc);
    assert!(head(&b_rpc) >= exported_head);
    for nonce in 5..8 {
        send(&seq_rpc, nonce, 1000);
    }
    wait("follower B to import blocks after the checkpoint", 90, || {
        cast(&["nonce", "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "--rpc-url", &b_rpc]) == "8"
    });
    let b_head = head(&b_rpc);
    assert!(b_head > exported_head);
    for n in exported_head..=b_head {
        let ours = block(&b_rpc, n);
        let theirs = block(&seq_rpc, n).unwrap();
        if let Ok(ours) = ours {
            assert_eq!(ours["hash"], theirs["hash"], "block {n}");
            assert_eq!(ours["stateRoot"], theirs["stateRoot"], "block {n}");
        }
    }
    assert_eq!(
        cast(&["balance", ADDR1, "--rpc-url", &b_rpc]),
        cast(&["balance", ADDR1, "--rpc-url", &seq_rpc, "--block", &b_head.to_string()])
    );
    // Before the checkpoint: headers of the ancestors only; bodies answer 4444, states are gone.
    let err = block(&b_rpc, exported_head - 1).unwrap_err();
    assert_eq!(err["code"], 4444, "{err}");
    assert_eq!(err["message"], "pruned history unavailable");
    let err = rpc_call(&b_rpc, "eth_getBalance", json!([ADDR1, format!("0x{:x}", exported_head - 1)])).unwrap_err();
    assert_eq!(err["code"], 4444, "{err}");
    // Logs over pruned blocks: 4444 too.
    let err = rpc_call(&b_rpc, "eth_getLogs", json!([{ "fromBlock": "0x1", "toBlock": "latest" }])).unwrap_err();
    assert_eq!(err["code"], 4444, "{err}");

    // block_history = 4: once L1 finalizes enough, bodies older than the window go too.
    let mut nonce = 8;
    wait("follower B to prune bodies", 120, || {
        send(&seq_rpc, nonce, 1);
        nonce += 1;
        block(&b_rpc, b_head).is_err_and(|e| e["code"] == 4444)
    });
    // Headers and hashes stay: the block is known by hash, its body is not served.
    let hash = block(&seq_rpc, b_head).unwrap()["hash"].clone();
    let err = rpc_call(&b_rpc, "eth_getBlockByHash", json!([hash, false])).unwrap_err();
    assert_eq!(err["code"], 4444, "{err}");
    b.interrupt();
    seq.interrupt();
    std::fs::remove_dir_all(&dir).ok();
}
