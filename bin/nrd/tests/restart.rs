//! Production shape: `nrd l1`, `nrd deploy`, and a sequencer `nrd node --config …` with its redb
//! store. The sequencer is stopped mid-stream and started again: no transaction is lost, and the
//! rollup contract sees every L2 block posted exactly once (no failed or repeated `advance`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::{
    collections::BTreeSet,
    time::{Duration, Instant},
};
use support::{L1, NodeProcess as Node, cast, rpc_call};

const SEQUENCER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

fn send_async(rpc: &str, nonce: u64) -> String {
    support::send_transfer(rpc, nonce, 1000)
}

fn receipt_block(rpc: &str, hash: &str) -> Option<u64> {
    let receipt = rpc_call(rpc, "eth_getTransactionReceipt", json!([hash])).ok()?;
    let number = receipt.get("blockNumber")?.as_str()?;
    Some(u64::from_str_radix(number.trim_start_matches("0x"), 16).unwrap())
}

#[test]
fn a_restarted_sequencer_loses_nothing_and_posts_nothing_twice() {
    let l1 = L1::start(&["--block-time", "1"]);
    let genesis = format!("{}/../../config/l2-genesis.json", env!("CARGO_MANIFEST_DIR"));
    let (rollup, block) = support::deploy(&l1, &genesis, &[]);

    let dir = std::env::temp_dir().join(format!("nrd-restart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("sequencer.toml");
    let url = support::NodeConfig {
        role: "sequencer",
        data: &dir.join("data"),
        genesis: std::path::Path::new(&genesis),
        l1: &l1,
        rollup: &rollup,
        start_block: &block,
        rpc: None,
        top: "",
        tail: &support::sequencer_section(500, "da_mode = \"blob\"\n"),
    }
    .write(&config);

    // First run: a stream of transfers, interrupted while some are still pooled or unposted.
    let node = Node::start(&config, &url);
    let mut hashes: Vec<String> = (0..6).map(|nonce| send_async(&url, nonce)).collect();
    // Nonce 8 waits in the pool behind the gap at 6 and 7: it must survive the restart.
    hashes.push(send_async(&url, 8));
    std::thread::sleep(Duration::from_millis(700));
    let before = node.status();
    assert!(before["poolSize"].as_u64().unwrap() >= 1, "{before}");
    node.interrupt();

    // Second run: same store, more transfers.
    let node = Node::start(&config, &url);
    let resumed = node.status();
    assert!(resumed["unsafeHead"].as_u64() >= before["unsafeHead"].as_u64(), "{resumed} vs {before}");
    assert!(resumed["poolSize"].as_u64().unwrap() >= 1, "the pool survived: {resumed}");
    hashes.extend([6, 7, 9].map(|nonce| send_async(&url, nonce)));

    // Nothing lost: every transaction is mined.
    let start = Instant::now();
    let last = loop {
        let blocks: Vec<Option<u64>> = hashes.iter().map(|h| receipt_block(&url, h)).collect();
        if blocks.iter().all(Option::is_some) {
            break blocks.into_iter().flatten().max().unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "transactions lost: {blocks:?}");
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(cast(&["nonce", SEQUENCER, "--rpc-url", &url]), "10");

    // Everything posted and verified.
    let start = Instant::now();
    while node.status()["safeHead"].as_u64().unwrap() < last {
        let status = node.status();
        assert!(status["halted"].is_null(), "posting halted: {status}");
        assert!(start.elapsed() < Duration::from_secs(60), "not posted: {status}");
        std::thread::sleep(Duration::from_millis(200));
    }

    // Posted exactly once: one BlockAdvanced per L2 block, in order, and every advance the
    // sequencer ever sent succeeded (its L1 nonce counts them).
    let logs = support::cast_json(&[
        "logs",
        "--rpc-url",
        &l1.rpc,
        "--from-block",
        "0",
        "--address",
        &rollup,
        "BlockAdvanced(uint64,bytes32,bytes32,uint64,uint64,uint64)",
    ]);
    let logs = logs.as_array().unwrap();
    let numbers: Vec<u64> = logs
        .iter()
        .map(|l| u64::from_str_radix(l["topics"][1].as_str().unwrap().trim_start_matches("0x"), 16).unwrap())
        .collect();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(numbers, expected, "each L2 block advanced once, in order");
    assert!(*numbers.last().unwrap() >= last);
    for (log, number) in logs.iter().zip(&numbers) {
        let hash = cast(&["block", &number.to_string(), "--field", "hash", "--rpc-url", &url]);
        assert_eq!(log["topics"][2].as_str().unwrap(), hash, "L2 block {number}");
    }
    let advances: BTreeSet<&str> = logs.iter().map(|l| l["transactionHash"].as_str().unwrap()).collect();
    let sent: usize = cast(&["nonce", SEQUENCER, "--rpc-url", &l1.rpc]).parse().unwrap();
    assert_eq!(sent, advances.len(), "every advance sent succeeded, none repeated");
    node.interrupt();
    std::fs::remove_dir_all(&dir).ok();
}
