//! L1 reorgs on `nrd devnet`: the L1 devnet's test RPC (`debug_setHead`) drops the L1 block that
//! carried a deposit (the deposit transaction returns to the L1 pool and is mined again). The
//! sequencer and the follower rewind what they derived from the dropped blocks and follow the
//! new L1 chain: the deposit is credited exactly once, and the L2 block that applied it on the
//! dropped branch is gone from both.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::time::{Duration, Instant};
use support::{KEY0, RollupDevnet, cast, cast_json, rpc_call};

fn hex_u64(v: &serde_json::Value) -> u64 {
    u64::from_str_radix(v.as_str().unwrap().trim_start_matches("0x"), 16).unwrap()
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < Duration::from_secs(90), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn a_deposit_reorged_on_l1_is_applied_exactly_once() {
    let devnet = RollupDevnet::start(&[]);
    let rollup = devnet.status()["rollup"].as_str().unwrap().to_string();
    let recipient = "0x00000000000000000000000000000000000Dec0D";
    let deposit = cast_json(&[
        "send",
        "--rpc-url",
        &devnet.l1,
        "--private-key",
        KEY0,
        &rollup,
        "deposit(address,uint64,bytes)",
        recipient,
        "100000",
        "0x",
        "--value",
        "1ether",
    ]);
    assert_eq!(deposit["status"], "0x1");
    let l1_block = hex_u64(&deposit["blockNumber"]);
    let one_eth = "1000000000000000000";

    // Applied on L2 and seen by the follower.
    wait_for("the deposit on L2", || cast(&["balance", recipient, "--rpc-url", &devnet.l2]) == one_eth);
    wait_for("the deposit on the follower", || cast(&["balance", recipient, "--rpc-url", &devnet.follower]) == one_eth);
    // The L2 block that applied it on this branch.
    let head = cast(&["block-number", "--rpc-url", &devnet.l2]).parse::<u64>().unwrap();
    let applied_in = (0..=head)
        .find(|n| cast(&["balance", recipient, "--rpc-url", &devnet.l2, "--block", &n.to_string()]) == one_eth)
        .unwrap();
    let old_hash = cast(&["block", &applied_in.to_string(), "--field", "hash", "--rpc-url", &devnet.l2]);

    // L1 reorg: the block with the deposit (and everything after it) is dropped.
    rpc_call(&devnet.l1, "debug_setHead", json!([format!("{:#x}", l1_block - 1)])).unwrap();

    // The deposit is mined again on the new L1 branch and applied once.
    wait_for("the old L2 block to be gone", || {
        rpc_call(&devnet.l2, "eth_getBlockByHash", json!([old_hash, false])).unwrap().is_null()
            && rpc_call(&devnet.follower, "eth_getBlockByHash", json!([old_hash, false])).unwrap().is_null()
    });
    wait_for("the re-mined deposit on L2", || cast(&["balance", recipient, "--rpc-url", &devnet.l2]) == one_eth);
    let head = cast(&["block-number", "--rpc-url", &devnet.l2]).parse::<u64>().unwrap();
    devnet.wait_safe(head);
    wait_for("the follower to catch up", || {
        cast(&["block-number", "--rpc-url", &devnet.follower]).parse::<u64>().unwrap() >= head
    });
    assert_eq!(cast(&["balance", recipient, "--rpc-url", &devnet.follower]), one_eth, "credited exactly once");
    for n in 0..=head {
        let n = n.to_string();
        assert_eq!(
            cast(&["block", &n, "--field", "hash", "--rpc-url", &devnet.follower]),
            cast(&["block", &n, "--field", "hash", "--rpc-url", &devnet.l2]),
            "block {n}"
        );
    }
    // One deposit message on the surviving L1 chain, consumed once.
    assert_eq!(cast(&["call", &rollup, "queueLength()(uint64)", "--rpc-url", &devnet.l1]), "1");
    assert_eq!(cast(&["call", &rollup, "consumed()(uint64)", "--rpc-url", &devnet.l1]), "1");
    assert!(devnet.status()["halted"].is_null());
}
