//! nrd-rpc over a small in-test [`Backend`] (one genesis block, no pool): the server needs no
//! particular chain, and a backend's typed errors reach clients with the codes and messages
//! Ethereum tools expect. The full `eth_*` surface is tested over the L1 devnet in
//! `nrd-l1-devnet`'s tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Block, Header, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, U64};
use jsonrpsee::{
    core::{ClientError, client::ClientT},
    rpc_params,
    ws_client::{WsClient, WsClientBuilder},
};
use nrd_chain::{ChainSpec, Classify, MemoryState, Severity, StateError, StoredBlock};
use nrd_rpc::{Backend, BackendError, INTERNAL_ERROR, RpcLimits, RunningServer, SERVER_ERROR};
use revm::primitives::hardfork::SpecId;
use std::sync::Arc;
use tokio::sync::broadcast;

/// What a pool says about a reused nonce.
#[derive(Debug, thiserror::Error)]
#[error("nonce too low: next nonce 1, tx nonce 0")]
struct NonceTooLow;

/// A chain of one block; it sequences when `sequencing`.
struct Genesis {
    spec: ChainSpec,
    block: Arc<StoredBlock>,
    heads: broadcast::Sender<Arc<StoredBlock>>,
    sequencing: bool,
}

impl Genesis {
    fn new(sequencing: bool) -> Self {
        let spec = ChainSpec::post_merge(4242, SpecId::PRAGUE, None);
        let header = spec.genesis_header(B256::ZERO, 30_000_000, 0);
        let block = Arc::new(StoredBlock::new(Block { header, body: Default::default() }, vec![], vec![]));
        Self { spec, block, heads: broadcast::channel(1).0, sequencing }
    }
}

impl Backend for Genesis {
    type State = MemoryState;

    fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    fn head(&self) -> Arc<StoredBlock> {
        self.block.clone()
    }

    fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        (number == 0).then(|| self.block.clone())
    }

    fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        (hash == self.block.hash).then(|| self.block.clone())
    }

    fn state_at(&self, _number: u64) -> Option<MemoryState> {
        None
    }

    fn transaction(&self, _hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        None
    }

    fn pooled(&self, _hash: B256) -> Option<Recovered<TxEnvelope>> {
        None
    }

    fn submit_raw(&self, _raw: &[u8]) -> Result<B256, BackendError> {
        Err(if self.sequencing { BackendError::rejected(NonceTooLow) } else { BackendError::NotSequencing })
    }

    fn pending_nonce(&self, _address: Address) -> Result<u64, BackendError> {
        Err(StateError::MissingCode(B256::ZERO).into())
    }

    fn pending_header(&self) -> Header {
        Header { number: 1, ..Default::default() }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        self.heads.subscribe()
    }
}

async fn start(sequencing: bool) -> (WsClient, RunningServer) {
    let backend = Arc::new(Genesis::new(sequencing));
    let extra = jsonrpsee::RpcModule::new(());
    let server = nrd_rpc::serve(backend, extra, "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
    let client = WsClientBuilder::default().build(format!("ws://{}", server.addr)).await.unwrap();
    (client, server)
}

/// The code and message of a call's error object.
fn call_error(err: ClientError) -> (i32, String) {
    match err {
        ClientError::Call(e) => (e.code(), e.message().to_owned()),
        other => panic!("not a call error: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn any_backend_is_served_and_its_errors_keep_their_codes() {
    let (client, _server) = start(true).await;
    let chain_id: U64 = client.request("eth_chainId", rpc_params![]).await.unwrap();
    assert_eq!(chain_id.to::<u64>(), 4242);
    let number: U64 = client.request("eth_blockNumber", rpc_params![]).await.unwrap();
    assert_eq!(number.to::<u64>(), 0);

    // A refusal: -32000 with the pool's words, which wallets parse.
    let err = client.request::<B256, _>("eth_sendRawTransaction", rpc_params!["0x02c0"]).await.unwrap_err();
    assert_eq!(call_error(err), (SERVER_ERROR, "nonce too low: next nonce 1, tx nonce 0".to_owned()));

    // State the node cannot read: -32603.
    let err =
        client.request::<U64, _>("eth_getTransactionCount", rpc_params![Address::ZERO, "pending"]).await.unwrap_err();
    let (code, message) = call_error(err);
    assert_eq!(code, INTERNAL_ERROR);
    assert!(message.contains("is needed but missing"), "{message}");

    // A node that does not sequence says so, as a refusal.
    let (client, _server) = start(false).await;
    let err = client.request::<B256, _>("eth_sendRawTransaction", rpc_params!["0x02c0"]).await.unwrap_err();
    let (code, message) = call_error(err);
    assert_eq!(code, SERVER_ERROR);
    assert!(message.contains("does not sequence"), "{message}");
}

#[test]
fn backend_errors_are_classified() {
    assert_eq!(BackendError::rejected(NonceTooLow).severity(), Severity::Critical);
    assert_eq!(BackendError::NotSequencing.severity(), Severity::Critical);
    assert_eq!(BackendError::from(StateError::MissingCode(B256::ZERO)).severity(), Severity::Critical);
}
