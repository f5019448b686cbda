//! `nrd l1` driven by real clients: foundry's `cast` (pinned, installed by the project's
//! script), Solidity compiled with pinned solc-js, and raw JSON-RPC for malformed input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, TxKind, U256, address, hex, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block, system_contracts};
use nrd_execute_client::{Ancestors, Trace, record_block};
use nrd_test_utils::{key, raw, sign, sign_recovered};
use revm::primitives::hardfork::SpecId;
use serde_json::json;
use support::{ADDR1, KEY0, L1, cast, cast_json, compile, get, post, rpc_call};

/// An L2 block (chain 901, Prague) with its witness: the input EXECUTE verifies.
struct L2Block {
    pre: B256,
    post: B256,
    gas_used: u64,
    trace: String,
    truncated: String,
    other_parent: B256,
}

fn l2_block() -> L2Block {
    let key = key("l2 user");
    let store = address!("0x00000000000000000000000000000000000005e7");
    let spec = ChainSpec::post_merge(901, SpecId::PRAGUE, None);
    let mut alloc = system_contracts();
    alloc.push((key.address(), GenesisAccount { balance: U256::from(10u128.pow(20)), ..Default::default() }));
    // sstore(calldata[0], calldata[32])
    let code = alloy_primitives::Bytes::from_static(&[0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00]);
    alloc.push((store, GenesisAccount { code, ..Default::default() }));
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = alloy_consensus::Sealed::new(spec.genesis_header(state.root(), 30_000_000, 1));
    let txs = (0..3u64)
        .map(|nonce| {
            let input = [U256::from(nonce).to_be_bytes::<32>(), U256::from(nonce + 7).to_be_bytes::<32>()].concat();
            let tx = TxEip1559 {
                chain_id: 901,
                nonce,
                gas_limit: 100_000,
                max_fee_per_gas: 10_000_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(store),
                value: U256::ZERO,
                input: input.into(),
                access_list: Default::default(),
            };
            sign_recovered(&key, tx)
        })
        .collect();
    let ancestors = Ancestors::parent_only(genesis.clone());
    let mut building = state.clone();
    let attrs = BlockAttributes { timestamp: 3, gas_limit: 30_000_000, ..Default::default() };
    let built = build_block(&spec, &genesis, attrs, txs, &mut building, &ancestors).unwrap();
    assert!(built.rejected.is_empty());
    let (_, witness) = record_block(&spec, &built.block, &[], &mut state, &ancestors).unwrap();
    let mut truncated = witness.clone();
    truncated.state.pop();
    let encode = |w| {
        hex::encode_prefixed(
            Trace { block: built.block.clone(), witness: w, blob_refs: vec![], batch_index: 0 }.encode(),
        )
    };
    L2Block {
        pre: genesis.state_root,
        post: built.block.header.state_root,
        gas_used: built.block.header.gas_used,
        trace: encode(witness),
        truncated: encode(truncated),
        other_parent: keccak256("another parent"),
    }
}

fn status(receipt: &serde_json::Value) -> bool {
    receipt["status"] == "0x1"
}

#[test]
fn cast_drives_the_devnet() {
    let l1 = L1::start(&["--l2-anchor", "none", "--block-time", "0"]);
    let r = l1.rpc.as_str();
    assert_eq!(cast(&["chain-id", "--rpc-url", r]), "900");

    // ETH transfer.
    let before: U256 = cast(&["balance", ADDR1, "--rpc-url", r]).parse().unwrap();
    let receipt = cast_json(&["send", "--rpc-url", r, "--private-key", KEY0, ADDR1, "--value", "1ether"]);
    assert!(status(&receipt));
    let after: U256 = cast(&["balance", ADDR1, "--rpc-url", r]).parse().unwrap();
    assert_eq!(after - before, U256::from(10u128.pow(18)));

    // Deploy, call, read logs.
    let bin = compile("Counter.sol", "Counter");
    let deployed = cast_json(&["send", "--rpc-url", r, "--private-key", KEY0, "--create", &bin]);
    assert!(status(&deployed));
    let counter = deployed["contractAddress"].as_str().unwrap().to_string();
    assert!(cast(&["code", &counter, "--rpc-url", r]).len() > 10);
    let inc = cast_json(&["send", "--rpc-url", r, "--private-key", KEY0, &counter, "inc()"]);
    assert!(status(&inc));
    assert_eq!(inc["logs"].as_array().unwrap().len(), 1);
    assert_eq!(cast(&["call", &counter, "count()(uint256)", "--rpc-url", r]), "1");
    let logs: serde_json::Value =
        serde_json::from_str(&cast(&["logs", "--rpc-url", r, "--from-block", "0", "--address", &counter, "--json"]))
            .unwrap();
    let logs = logs.as_array().unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0]["topics"][0], format!("{}", keccak256("Incremented(address,uint256)")));
    let receipt = cast_json(&["receipt", inc["transactionHash"].as_str().unwrap(), "--rpc-url", r]);
    assert_eq!(receipt["blockNumber"], inc["blockNumber"]);

    // Blob transactions, in both sidecar forms, and their blobs on the beacon API.
    let dir = std::env::temp_dir().join(format!("nrd-blob-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let blob_file = dir.join("blob.txt");
    std::fs::write(&blob_file, b"hello from a blob").unwrap();
    let path = blob_file.to_str().unwrap();
    for extra in [&[][..], &["--eip4844"][..]] {
        let mut args = vec!["send", "--rpc-url", r, "--private-key", KEY0, "--blob", "--path", path];
        args.extend_from_slice(extra);
        args.push(ADDR1);
        let receipt = cast_json(&args);
        assert!(status(&receipt), "{receipt}");
        assert_eq!(receipt["type"], "0x3");
        assert_eq!(receipt["blobGasUsed"], "0x20000");
        let block = receipt["blockNumber"].as_str().unwrap();
        let number = u64::from_str_radix(block.trim_start_matches("0x"), 16).unwrap();
        let (code, body) = get(&format!("{}/eth/v1/beacon/blob_sidecars/{number}", l1.beacon));
        assert_eq!(code, 200, "{body}");
        let sidecars: serde_json::Value = serde_json::from_str(&body).unwrap();
        let blob = sidecars["data"][0]["blob"].as_str().unwrap();
        assert!(blob.contains(&hex::encode("hello from a blob")), "blob content served");
    }
    std::fs::remove_dir_all(&dir).ok();
    let (code, _) = get(&format!("{}/eth/v1/beacon/blob_sidecars/nonsense", l1.beacon));
    assert_eq!(code, 400);
}

/// Sends `ExecuteCaller.execute(...)`; with `nonce`, returns at once with the hash (`--async`).
fn send_execute(
    r: &str,
    caller: &str,
    pre: B256,
    post: B256,
    gas: u64,
    trace: &str,
    nonce: Option<u64>,
) -> serde_json::Value {
    let (pre, post, gas) = (pre.to_string(), post.to_string(), gas.to_string());
    let nonce = nonce.map(|n| n.to_string());
    let mut args = vec!["send", "--rpc-url", r, "--private-key", KEY0, "--gas-limit", "5000000"];
    if let Some(n) = &nonce {
        args.extend(["--async", "--nonce", n]);
    }
    let asynchronous = nonce.is_some();
    args.extend([caller, "execute(bytes32,bytes32,uint64,bytes,bytes)", &pre, &post, &gas, "0x", trace]);
    if asynchronous { serde_json::Value::String(cast(&args)) } else { cast_json(&args) }
}

#[test]
fn solidity_calls_execute() {
    let l2 = l2_block();
    let l1 = L1::start(&["--l2-anchor", "none", "--block-time", "0"]);
    let r = l1.rpc.as_str();
    let deployed = cast_json(&[
        "send",
        "--rpc-url",
        r,
        "--private-key",
        KEY0,
        "--create",
        &compile("ExecuteCaller.sol", "ExecuteCaller"),
    ]);
    let caller = deployed["contractAddress"].as_str().unwrap().to_string();

    let ok = send_execute(r, &caller, l2.pre, l2.post, l2.gas_used, &l2.trace, None);
    assert!(status(&ok), "valid trace: {ok}");
    assert_eq!(ok["logs"].as_array().unwrap().len(), 1);
    let forged_root = send_execute(r, &caller, l2.pre, keccak256("forged"), l2.gas_used, &l2.trace, None);
    let wrong_gas = send_execute(r, &caller, l2.pre, l2.post, l2.gas_used + 1, &l2.trace, None);
    let truncated = send_execute(r, &caller, l2.pre, l2.post, l2.gas_used, &l2.truncated, None);
    let other_parent = send_execute(r, &caller, l2.other_parent, l2.post, l2.gas_used, &l2.trace, None);
    for (what, receipt) in [
        ("forged root", forged_root),
        ("wrong gas", wrong_gas),
        ("truncated", truncated),
        ("other parent", other_parent),
    ] {
        assert!(!status(&receipt), "{what} must fail: {receipt}");
    }
    assert_eq!(cast(&["call", &caller, "verified()(uint256)", "--rpc-url", r]), "1");

    // The revert reason says why, through eth_call.
    let data = cast(&[
        "calldata",
        "execute(bytes32,bytes32,uint64,bytes,bytes)",
        &l2.pre.to_string(),
        &l2.post.to_string(),
        &(l2.gas_used + 1).to_string(),
        "0x",
        &l2.trace,
    ]);
    let err = rpc_call(r, "eth_call", json!([{"to": caller, "data": data, "gas": "0x4c4b40"}, "latest"])).unwrap_err();
    assert_eq!(err["code"], 3);
    assert!(err["message"].as_str().unwrap().contains("EXECUTE rejected the trace"), "{err}");

    let gas = rpc_call(r, "nrd_executeGas", json!(["latest"])).unwrap();
    assert_eq!(gas["limit"], 30_000_000);
    assert_eq!(gas["target"], 15_000_000);
}

#[test]
fn execute_gas_is_metered_per_block() {
    let l2 = l2_block();
    let g = l2.gas_used;
    // Limit: one EXECUTE and a half per block; target: half an EXECUTE.
    let (target, limit) = ((g / 2).to_string(), (g * 3 / 2).to_string());
    let l1 = L1::start(&[
        "--l2-anchor",
        "none",
        "--block-time",
        "3600",
        "--execute-target",
        &target,
        "--execute-limit",
        &limit,
    ]);
    let r = l1.rpc.as_str();
    let mine = || rpc_call(r, "evm_mine", json!([])).unwrap();
    let bin = compile("ExecuteCaller.sol", "ExecuteCaller");
    let hash = cast(&["send", "--rpc-url", r, "--private-key", KEY0, "--async", "--create", &bin]);
    mine();
    let caller = cast_json(&["receipt", &hash, "--rpc-url", r])["contractAddress"].as_str().unwrap().to_string();

    let mut fees = Vec::new();
    let mut nonce = 1;
    for _ in 0..3 {
        // Two EXECUTEs in one block: the second passes the limit and fails.
        let first = send_execute(r, &caller, l2.pre, l2.post, g, &l2.trace, Some(nonce));
        let second = send_execute(r, &caller, l2.pre, l2.post, g, &l2.trace, Some(nonce + 1));
        nonce += 2;
        let block = mine();
        let receipt = |h: &serde_json::Value| cast_json(&["receipt", h.as_str().unwrap(), "--rpc-url", r]);
        let (a, b) = (receipt(&first), receipt(&second));
        assert_eq!(a["blockNumber"], b["blockNumber"], "both in one block");
        assert!(status(&a) && !status(&b), "first passes, second fails");
        let gas = rpc_call(r, "nrd_executeGas", json!([block])).unwrap();
        assert_eq!(gas["used"], g);
        fees.push(gas["baseFee"].as_u64().unwrap());
    }
    assert!(fees[0] < fees[1] && fees[1] < fees[2], "above target the fee rises: {fees:?}");
    // Empty blocks: below target, the fee falls.
    let empty = mine();
    let falling = rpc_call(r, "nrd_executeGas", json!([empty])).unwrap()["baseFee"].as_u64().unwrap();
    let later = rpc_call(r, "nrd_executeGas", json!([mine()])).unwrap()["baseFee"].as_u64().unwrap();
    assert!(falling > later, "below target the fee falls: {falling} -> {later}");
}

#[test]
fn bad_rpc_input_gets_standard_errors() {
    let l1 = L1::start(&["--l2-anchor", "none", "--block-time", "0"]);
    let r = l1.rpc.as_str();
    let code = |v: serde_json::Value| v["code"].as_i64().unwrap();
    assert_eq!(code(rpc_call(r, "eth_getBalance", json!(["not an address", "latest"])).unwrap_err()), -32602);
    assert_eq!(code(rpc_call(r, "eth_getBalance", json!([])).unwrap_err()), -32602);
    assert_eq!(code(rpc_call(r, "eth_noSuchMethod", json!([])).unwrap_err()), -32601);
    assert!(rpc_call(r, "eth_getBlockByNumber", json!(["0x99999", false])).unwrap().is_null(), "unknown block is null");
    let parse = post(r, "{not json").unwrap();
    assert_eq!(parse["error"]["code"], -32700);
    let batch: Vec<_> =
        (0..101).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []})).collect();
    let too_big = post(r, &serde_json::to_string(&batch).unwrap()).unwrap();
    assert!(too_big["error"]["code"].is_i64(), "oversized batch is refused: {too_big}");
    let small: Vec<_> =
        (0..3).map(|i| json!({"jsonrpc": "2.0", "id": i, "method": "eth_chainId", "params": []})).collect();
    assert_eq!(post(r, &serde_json::to_string(&small).unwrap()).unwrap().as_array().unwrap().len(), 3);

    // A transaction whose signature was tampered with.
    let key = PrivateKeySigner::from_bytes(&KEY0.parse().unwrap()).unwrap();
    let tx = TxEip1559 {
        chain_id: 900,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 10_000_000_000,
        to: TxKind::Call(Address::ZERO),
        ..Default::default()
    };
    let mut raw = raw(&sign(&key, tx)).to_vec();
    let last = raw.len() - 1;
    raw[last] ^= 0xff;
    let err = rpc_call(r, "eth_sendRawTransaction", json!([hex::encode_prefixed(&raw)])).unwrap_err();
    assert_eq!(code(err.clone()), -32000, "{err}");
    let err = rpc_call(r, "eth_sendRawTransaction", json!(["0x02c0"])).unwrap_err();
    assert_eq!(code(err), -32000);

    // Still serving.
    assert_eq!(rpc_call(r, "eth_blockNumber", json!([])).unwrap(), "0x0");
}
