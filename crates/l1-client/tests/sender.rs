//! The client's typed view calls and the transaction sender against the real L1 devnet, served
//! in process over JSON-RPC on 127.0.0.1 with `NativeRollup` deployed (the in-process rollup
//! harness), sealing blocks as a test needs them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_eips::{
    BlockNumberOrTag,
    eip4844::{Blob, BlobTransactionSidecar, env_settings::EnvKzgSettings},
};
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::SolCall;
use nrd_bridge::NativeRollup::{self, NativeRollupErrors};
use nrd_chain::{Classify, Severity};
use nrd_l1_client::{L1Client, L1ClientConfig, L1Error, L1Tx, TxError, TxSender, TxSenderConfig};
use nrd_l1_devnet::serve_l1;
use nrd_rpc::{RpcLimits, RunningServer};
use nrd_testkit::{ETH, Rollup};
use std::{sync::Arc, time::Duration};

struct Served {
    rollup: Rollup,
    rpc: RunningServer,
}

impl Served {
    async fn start() -> Self {
        let rollup = Rollup::new(&[]);
        let rpc =
            serve_l1(rollup.l1.devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
        Self { rollup, rpc }
    }

    fn client(&self) -> L1Client {
        L1Client::new(L1ClientConfig::new(format!("http://{}", self.rpc.addr))).unwrap()
    }

    fn sender(&self, account: usize, config: TxSenderConfig) -> TxSender {
        TxSender::new(self.client(), self.rollup.l1.key(account), self.rollup.l1.devnet.spec().chain_id, config)
    }

    fn seal(&self) {
        self.rollup.l1.devnet.seal().unwrap();
    }

    /// Seals a block every 20 ms until the returned handle is dropped.
    fn mine(&self) -> Miner {
        let devnet = Arc::clone(&self.rollup.l1.devnet);
        Miner(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(20)).await;
                devnet.seal().unwrap();
            }
        }))
    }
}

struct Miner(tokio::task::JoinHandle<()>);

impl Drop for Miner {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn fast() -> TxSenderConfig {
    TxSenderConfig {
        poll_interval: Duration::from_millis(10),
        receipt_timeout: Duration::from_secs(20),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn view_calls_decode_returns_and_reverts() {
    let net = Served::start().await;
    let client = net.client();
    let latest = BlockNumberOrTag::Latest;
    let head = client.view_call(net.rollup.address, &NativeRollup::headNumberCall {}, latest).await.unwrap();
    assert_eq!(head, 0);
    // Not the contract: the empty answer does not decode.
    let err = client.view_call(Address::repeat_byte(9), &NativeRollup::headNumberCall {}, latest).await.unwrap_err();
    assert!(matches!(&err, L1Error::Decode { call, .. } if *call == NativeRollup::headNumberCall::SIGNATURE), "{err}");
    assert_eq!(err.severity(), Severity::Critical);
    // A reverting view: the contract's error, decoded.
    let advance = NativeRollup::advanceCall { blocks: vec![], messages: vec![] };
    let err = client.view_call(net.rollup.address, &advance, latest).await.unwrap_err();
    assert!(err.is_revert(), "{err}");
    assert!(matches!(err.revert::<NativeRollupErrors>(), Some(NativeRollupErrors::NotSequencer(_))), "{err}");
    assert!(err.revert_reason().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_counts_nonces_estimates_gas_and_waits_for_receipts() {
    let net = Served::start().await;
    let sender = net.sender(2, fast());
    assert_eq!(sender.address(), net.rollup.l1.key(2).address());
    let deposit = NativeRollup::depositCall { to: sender.address(), gasLimit: 100_000, data: Bytes::new() };
    let tx = L1Tx::call(net.rollup.address, deposit.abi_encode()).with_value(U256::from(ETH));

    // Two sends before any block: consecutive nonces from the pending one.
    let first = sender.send(tx.clone()).await.unwrap();
    let second = sender.send(tx.clone()).await.unwrap();
    assert_eq!(second.nonce, first.nonce + 1);
    assert!(first.gas_limit > 21_000 && first.fees.max_fee_per_gas > 0);
    net.seal();
    for sent in [&first, &second] {
        let receipt = sender.wait(sent.hash, Duration::from_secs(5)).await.unwrap();
        assert!(receipt.status());
        assert!(receipt.gas_used < sent.gas_limit, "the margin left room");
    }

    // Someone else used the key: the failed send makes the sender read the nonce again.
    let other = net.sender(2, fast());
    let used = other.send(tx.clone()).await.unwrap();
    net.seal();
    other.wait(used.hash, Duration::from_secs(5)).await.unwrap();
    let err = sender.send(tx.clone()).await.unwrap_err();
    assert!(matches!(err, TxError::L1(L1Error::Rpc { .. })), "nonce taken: {err}");
    let _miner = net.mine();
    let receipt = sender.send_and_wait(tx).await.unwrap();
    assert!(receipt.status());
    assert_eq!(sender.pending_nonce().await.unwrap(), used.nonce + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverts_are_typed_before_and_after_sending() {
    let net = Served::start().await;
    let sender = net.sender(3, fast());
    let advance = NativeRollup::advanceCall { blocks: vec![], messages: vec![] };
    let tx = L1Tx::call(net.rollup.address, advance.abi_encode());
    // Estimated: the revert is the contract's, nothing is sent.
    let err = sender.send(tx.clone()).await.unwrap_err();
    let TxError::L1(e) = &err else { panic!("expected the estimate's revert, got {err}") };
    assert!(matches!(e.revert::<NativeRollupErrors>(), Some(NativeRollupErrors::NotSequencer(_))), "{e}");
    assert_eq!(sender.pending_nonce().await.unwrap(), 0);
    // With a gas limit it is sent, and reverts in a block.
    let _miner = net.mine();
    let err = sender.send_and_wait(tx.with_gas_limit(200_000)).await.unwrap_err();
    assert!(matches!(&err, TxError::Reverted { receipt, .. } if !receipt.status()), "{err}");
    assert_eq!(err.severity(), Severity::Critical);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blob_transactions_carry_their_sidecar() {
    let net = Served::start().await;
    let sender = net.sender(4, fast());
    let mut blob = Blob::default();
    blob[1..6].copy_from_slice(b"hello");
    let sidecar =
        BlobTransactionSidecar::try_from_blobs_with_settings(vec![blob], EnvKzgSettings::Default.get()).unwrap();
    let hashes: Vec<_> = sidecar.versioned_hashes().collect();
    let tx = L1Tx::call(Address::repeat_byte(0x33), Bytes::new()).with_sidecar(sidecar);
    let _miner = net.mine();
    let receipt = sender.send_and_wait(tx).await.unwrap();
    assert!(receipt.blob_gas_used.is_some_and(|g| g > 0), "{receipt:?}");
    let block = net.client().block(receipt.block_number.unwrap()).await.unwrap().unwrap();
    let sent = block.transactions.txns().find(|t| *t.inner.tx_hash() == receipt.transaction_hash).unwrap();
    use alloy_consensus::Transaction as _;
    assert_eq!(sent.blob_versioned_hashes(), Some(&hashes[..]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_transaction_is_replaced_with_bumped_fees() {
    let net = Served::start().await;
    let sender = net.sender(5, fast());
    let tx = L1Tx::call(Address::repeat_byte(0x44), Bytes::new()).with_value(U256::from(1));
    let stuck = sender.send(tx).await.unwrap();
    let replacement = sender.replace(&stuck, 1).await.unwrap();
    assert_eq!(replacement.nonce, stuck.nonce);
    assert_ne!(replacement.hash, stuck.hash);
    assert!(replacement.fees.max_fee_per_gas >= stuck.fees.replacement_floor().max_fee_per_gas);
    assert!(replacement.fees.max_priority_fee_per_gas >= stuck.fees.replacement_floor().max_priority_fee_per_gas);
    net.seal();
    let receipt = sender.wait(replacement.hash, Duration::from_secs(5)).await.unwrap();
    assert!(receipt.status());
    assert!(sender.receipt(stuck.hash).await.unwrap().is_none(), "the stuck one was replaced");
    // Nothing lands without blocks: a timeout, temporary.
    let err = sender.wait(alloy_primitives::B256::repeat_byte(1), Duration::from_millis(50)).await.unwrap_err();
    assert!(matches!(err, TxError::Timeout { .. }) && err.severity() == Severity::Temporary, "{err}");
}
