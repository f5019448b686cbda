//! `nrd devnet` end to end, driven with the real `cast`: L2 transfers and a contract deployment
//! are sealed, posted to L1, verified there by EXECUTE (the rollup contract stores their state
//! roots), and the follower — which reads only L1 — reports the same blocks and state roots.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::{ADDR1, KEY0, RollupDevnet, cast, cast_json, compile, rpc_call};

#[test]
fn cast_transactions_are_verified_on_l1_and_the_follower_agrees() {
    let devnet = RollupDevnet::start(&[]);
    assert_eq!(cast(&["chain-id", "--rpc-url", &devnet.l2]), "901");
    assert_eq!(cast(&["chain-id", "--rpc-url", &devnet.follower]), "901");

    // A transfer and a deployment on L2.
    let before = cast(&["balance", ADDR1, "--rpc-url", &devnet.l2]);
    let transfer = cast_json(&["send", "--rpc-url", &devnet.l2, "--private-key", KEY0, ADDR1, "--value", "1ether"]);
    assert_eq!(transfer["status"], "0x1", "{transfer}");
    let code = compile("Counter.sol", "Counter");
    let deploy = cast_json(&["send", "--rpc-url", &devnet.l2, "--private-key", KEY0, "--create", &code]);
    assert_eq!(deploy["status"], "0x1", "{deploy}");
    let counter = deploy["contractAddress"].as_str().unwrap().to_string();
    let bump = cast_json(&["send", "--rpc-url", &devnet.l2, "--private-key", KEY0, &counter, "inc()"]);
    assert_eq!(bump["status"], "0x1", "{bump}");
    let last = u64::from_str_radix(bump["blockNumber"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();

    // Posted and verified on L1 in runs (one EXECUTE each): the rollup contract holds the state
    // root of each run's last block (the head's among them), and no other root.
    devnet.wait_safe(last);
    let rollup = devnet.status()["rollup"].as_str().unwrap().to_string();
    let l1_head: u64 = cast(&["call", &rollup, "headNumber()(uint64)", "--rpc-url", &devnet.l1]).parse().unwrap();
    assert!(l1_head >= last);
    let zero = format!("0x{}", "0".repeat(64));
    let mut stored = Vec::new();
    for number in 1..=l1_head {
        let n = number.to_string();
        let l2_root = cast(&["block", &n, "--field", "stateRoot", "--rpc-url", &devnet.l2]);
        let l1_root = cast(&["call", &rollup, "stateRoots(uint64)(bytes32)", &n, "--rpc-url", &devnet.l1]);
        if l1_root != zero {
            assert_eq!(l1_root, l2_root, "state root of L2 block {number} on L1");
            stored.push(number);
        }
    }
    assert_eq!(stored.last(), Some(&l1_head), "the head's root is stored: {stored:?}");

    // The follower, from L1 alone, has the same chain.
    let start = std::time::Instant::now();
    while cast(&["block-number", "--rpc-url", &devnet.follower]).parse::<u64>().unwrap() < last {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "follower did not catch up");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    for number in 0..=last {
        let n = number.to_string();
        assert_eq!(
            cast(&["block", &n, "--field", "hash", "--rpc-url", &devnet.follower]),
            cast(&["block", &n, "--field", "hash", "--rpc-url", &devnet.l2]),
            "block {number}"
        );
    }
    let after = cast(&["balance", ADDR1, "--rpc-url", &devnet.follower, "--block", &last.to_string()]);
    let gained = after.parse::<u128>().unwrap() - before.parse::<u128>().unwrap();
    assert_eq!(gained, 1_000_000_000_000_000_000);
    assert_eq!(cast(&["call", &counter, "count()(uint256)", "--rpc-url", &devnet.follower]), "1");
    // The follower does not sequence: it says where to send transactions.
    let refused = rpc_call(&devnet.follower, "eth_sendRawTransaction", json!(["0x02"])).unwrap_err();
    assert!(refused.to_string().contains("sequencer") || refused.to_string().contains("rlp"), "{refused}");
    // Safe and finalized tags follow L1.
    let safe = cast(&["block", "safe", "--field", "number", "--rpc-url", &devnet.l2]).parse::<u64>().unwrap();
    assert!(safe >= last);
}
