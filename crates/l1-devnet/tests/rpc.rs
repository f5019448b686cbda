//! The devnet behind nrd-rpc's JSON-RPC server, in process, over WebSocket: subscriptions, proofs, witnesses, filters,
//! fee history, gas estimation, access lists and the devnet helpers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::TxEip1559;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, hex, keccak256};
use alloy_signer_local::PrivateKeySigner;
use jsonrpsee::{
    core::client::{ClientT, SubscriptionClientT},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use nrd_execute_client::{ExecutionWitness, verify_block};
use nrd_l1_devnet::{Devnet, DevnetConfig, serve_l1};
use nrd_rpc::RpcLimits;
use nrd_test_utils::{raw, sign};
use serde_json::{Value, json};
use std::sync::Arc;

/// `sstore(0, calldata[0])`, then `log1(0, 0, calldata[0])`.
const STORE: Address = address!("0x0000000000000000000000000000000000005707");

async fn start() -> (Arc<Devnet>, WsClient, nrd_rpc::RunningServer) {
    let devnet = Devnet::new(DevnetConfig { block_time_ms: 60_000, ..Default::default() }).unwrap();
    let server = serve_l1(devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
    let client = WsClientBuilder::default().build(format!("ws://{}", server.addr)).await.unwrap();
    (devnet, client, server)
}

fn signed(key: &PrivateKeySigner, nonce: u64, to: Address, input: Vec<u8>, value: u64) -> Bytes {
    let tx = TxEip1559 {
        chain_id: 900,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: input.into(),
        access_list: Default::default(),
    };
    raw(&sign(key, tx))
}

/// Deploys the STORE contract by sending its init code, returning its address.
async fn deploy(devnet: &Devnet, client: &WsClient, key: &PrivateKeySigner) -> Address {
    // runtime: PUSH1 0 CALLDATALOAD DUP1 PUSH1 0 SSTORE PUSH1 0 PUSH1 0 LOG1 STOP
    let runtime = [0x60, 0x00, 0x35, 0x80, 0x60, 0x00, 0x55, 0x60, 0x00, 0x60, 0x00, 0xa1, 0x00];
    // init: copy runtime to memory and return it
    let mut init =
        vec![0x60, runtime.len() as u8, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, runtime.len() as u8, 0x60, 0x00, 0xf3];
    init.extend_from_slice(&runtime);
    let tx = TxEip1559 {
        chain_id: 900,
        nonce: 0,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1_000_000,
        to: TxKind::Create,
        input: init.into(),
        ..Default::default()
    };
    let hash: B256 = client.request("eth_sendRawTransaction", rpc_params![raw(&sign(key, tx))]).await.unwrap();
    devnet.seal().unwrap();
    let receipt: Value = client.request("eth_getTransactionReceipt", rpc_params![hash]).await.unwrap();
    assert_eq!(receipt["status"], "0x1");
    receipt["contractAddress"].as_str().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_filters_and_logs() {
    let (devnet, client, _server) = start().await;
    let key = devnet.accounts()[0].clone();
    let store = deploy(&devnet, &client, &key).await;
    let _ = STORE;

    let mut heads =
        client.subscribe::<Value, _>("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe").await.unwrap();
    let mut logs = client
        .subscribe::<Value, _>("eth_subscribe", rpc_params!["logs", json!({"address": store})], "eth_unsubscribe")
        .await
        .unwrap();
    let block_filter: U256 = client.request("eth_newBlockFilter", rpc_params![]).await.unwrap();
    let log_filter: U256 = client.request("eth_newFilter", rpc_params![json!({"address": store})]).await.unwrap();

    let value = B256::repeat_byte(0x42);
    let raw = signed(&key, 1, store, value.to_vec(), 0);
    let _: B256 = client.request("eth_sendRawTransaction", rpc_params![raw]).await.unwrap();
    let block = devnet.seal().unwrap();

    let head = heads.next().await.unwrap().unwrap();
    assert_eq!(head["hash"], json!(block.hash));
    let log = logs.next().await.unwrap().unwrap();
    assert_eq!(log["topics"][0], json!(value));
    assert_eq!(log["blockHash"], json!(block.hash));

    let changes: Vec<B256> = client.request("eth_getFilterChanges", rpc_params![block_filter]).await.unwrap();
    assert_eq!(changes, [block.hash]);
    let again: Vec<B256> = client.request("eth_getFilterChanges", rpc_params![block_filter]).await.unwrap();
    assert!(again.is_empty());
    let changes: Vec<Value> = client.request("eth_getFilterChanges", rpc_params![log_filter]).await.unwrap();
    assert_eq!(changes.len(), 1);
    let all: Vec<Value> =
        client.request("eth_getLogs", rpc_params![json!({"fromBlock": "0x0", "topics": [value]})]).await.unwrap();
    assert_eq!(all.len(), 1);
    let none: Vec<Value> =
        client.request("eth_getLogs", rpc_params![json!({"fromBlock": "0x0", "topics": [B256::ZERO]})]).await.unwrap();
    assert!(none.is_empty());
    let removed: bool = client.request("eth_uninstallFilter", rpc_params![log_filter]).await.unwrap();
    assert!(removed);
    let err = client.request::<Value, _>("eth_getFilterChanges", rpc_params![log_filter]).await.unwrap_err();
    assert!(err.to_string().contains("filter not found"), "{err}");
    let err = client
        .request::<Value, _>("eth_getLogs", rpc_params![json!({"fromBlock": "0x5", "toBlock": "0x1"})])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("after"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn proofs_and_witnesses_verify() {
    let (devnet, client, _server) = start().await;
    let key = devnet.accounts()[0].clone();
    let store = deploy(&devnet, &client, &key).await;
    let raw = signed(&key, 1, store, B256::repeat_byte(7).to_vec(), 0);
    let _: B256 = client.request("eth_sendRawTransaction", rpc_params![raw]).await.unwrap();
    let block = devnet.seal().unwrap();

    // eth_getProof against the block's state root, checked with alloy-trie.
    let proof: Value = client.request("eth_getProof", rpc_params![store, vec![B256::ZERO], "latest"]).await.unwrap();
    let nodes = |v: &Value| {
        v.as_array().unwrap().iter().map(|n| Bytes::from(hex::decode(n.as_str().unwrap()).unwrap())).collect::<Vec<_>>()
    };
    let storage_hash: B256 = proof["storageHash"].as_str().unwrap().parse().unwrap();
    let account = alloy_trie::TrieAccount {
        nonce: 1,
        balance: U256::ZERO,
        storage_root: storage_hash,
        code_hash: proof["codeHash"].as_str().unwrap().parse().unwrap(),
    };
    let mut leaf = Vec::new();
    alloy_rlp::Encodable::encode(&account, &mut leaf);
    alloy_trie::proof::verify_proof(
        block.header().state_root,
        alloy_trie::Nibbles::unpack(keccak256(store)),
        Some(leaf),
        nodes(&proof["accountProof"]).iter(),
    )
    .unwrap();
    let slot = &proof["storageProof"][0];
    assert_eq!(slot["value"], "0x707070707070707070707070707070707070707070707070707070707070707");
    let mut value = Vec::new();
    alloy_rlp::Encodable::encode(&U256::from_be_bytes([7u8; 32]), &mut value);
    alloy_trie::proof::verify_proof(
        storage_hash,
        alloy_trie::Nibbles::unpack(keccak256(B256::ZERO)),
        Some(value),
        nodes(&slot["proof"]).iter(),
    )
    .unwrap();

    // debug_executionWitness verifies the block statelessly.
    let witness: ExecutionWitness = client.request("debug_executionWitness", rpc_params!["latest"]).await.unwrap();
    let parent = devnet.block(block.number() - 1).unwrap();
    let verified = verify_block(devnet.spec(), parent.header().state_root, &block.block, &[], &witness).unwrap();
    assert_eq!(verified.hash, block.hash);
}

#[tokio::test(flavor = "multi_thread")]
async fn calls_estimates_fees_and_devnet_helpers() {
    let (devnet, client, _server) = start().await;
    let key = devnet.accounts()[0].clone();
    let store = deploy(&devnet, &client, &key).await;
    let from = key.address();
    let call = json!({"from": from, "to": store, "data": B256::repeat_byte(1)});
    let estimate: U256 = client.request("eth_estimateGas", rpc_params![call.clone()]).await.unwrap();
    assert!(estimate > U256::from(21_000 + 20_000) && estimate < U256::from(60_000), "{estimate}");
    let list: Value = client.request("eth_createAccessList", rpc_params![call.clone()]).await.unwrap();
    assert_eq!(list["accessList"][0]["address"], json!(store));
    assert_eq!(list["accessList"].as_array().unwrap().len(), 1, "{list}");
    let transfer_gas: U256 = client
        .request("eth_estimateGas", rpc_params![json!({"from": from, "to": Address::ZERO, "value": "0x1"})])
        .await
        .unwrap();
    assert_eq!(transfer_gas, U256::from(21_000));

    for _ in 0..3 {
        devnet.seal().unwrap();
    }
    let history: Value =
        client.request("eth_feeHistory", rpc_params!["0x3", "latest", vec![25.0, 75.0]]).await.unwrap();
    assert_eq!(history["baseFeePerGas"].as_array().unwrap().len(), 4);
    assert_eq!(history["reward"].as_array().unwrap().len(), 3);
    let err =
        client.request::<Value, _>("eth_feeHistory", rpc_params!["0x3", "latest", vec![75.0, 25.0]]).await.unwrap_err();
    assert!(err.to_string().contains("ascending"), "{err}");
    let blob_fee: U256 = client.request("eth_blobBaseFee", rpc_params![]).await.unwrap();
    assert_eq!(blob_fee, U256::from(1));
    let version: String = client.request("web3_clientVersion", rpc_params![]).await.unwrap();
    assert!(version.starts_with("nrd/"));

    // Snapshots and set-head.
    let head = devnet.head().number();
    let snap: U256 = client.request("evm_snapshot", rpc_params![]).await.unwrap();
    let _: Value = client.request("evm_mine", rpc_params![]).await.unwrap();
    let _: Value = client.request("evm_mine", rpc_params![]).await.unwrap();
    assert_eq!(devnet.head().number(), head + 2);
    let reverted: bool = client.request("evm_revert", rpc_params![snap]).await.unwrap();
    assert!(reverted);
    assert_eq!(devnet.head().number(), head);
    let _: Value = client.request("debug_setHead", rpc_params![format!("{:#x}", head - 1)]).await.unwrap();
    assert_eq!(devnet.head().number(), head - 1);
    let gone: Option<Value> =
        client.request("eth_getBlockByNumber", rpc_params![format!("{head:#x}"), false]).await.unwrap();
    assert!(gone.is_none());
}
