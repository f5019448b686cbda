//! [`L1Client`]: standard Ethereum JSON-RPC over HTTP and the beacon API's blob endpoint.

use crate::{L1Error, beacon::parse_blob_sidecars};
use alloy_eips::{BlockId, BlockNumberOrTag, eip4844::Blob};
use alloy_primitives::{Address, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{Block, FeeHistory, Filter, Header, Log, TransactionReceipt, TransactionRequest};
use alloy_sol_types::SolCall;
use jsonrpsee::{
    core::{client::ClientT, params::ArrayParams, traits::ToRpcParams},
    http_client::{HttpClient, HttpClientBuilder},
    rpc_params,
};
use serde::de::DeserializeOwned;
use std::{fmt, sync::Arc, time::Duration};

/// Most bytes of an error body kept in [`L1Error::Http`].
const ERROR_BODY_LIMIT: usize = 512;

/// Where the L1 node is and how long to wait for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1ClientConfig {
    /// JSON-RPC over HTTP, e.g. `http://127.0.0.1:8546`.
    pub rpc_url: String,
    /// Beacon API base URL, e.g. `http://127.0.0.1:5052` (needed for blobs only).
    pub beacon_url: Option<String>,
    /// Timeout of one request.
    pub request_timeout: Duration,
}

impl L1ClientConfig {
    /// JSON-RPC at `rpc_url`, no beacon API, 30 s per request.
    pub fn new(rpc_url: impl Into<String>) -> Self {
        Self { rpc_url: rpc_url.into(), beacon_url: None, request_timeout: Duration::from_secs(30) }
    }

    /// With the beacon API at `url`.
    #[must_use]
    pub fn with_beacon(mut self, url: impl Into<String>) -> Self {
        self.beacon_url = Some(url.into());
        self
    }

    /// With `timeout` per request.
    #[must_use]
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// Fees to offer for an L1 transaction now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeEstimate {
    /// Base fee per gas of the next block (as `eth_feeHistory` predicts it).
    pub base_fee: u128,
    /// Suggested tip per gas (`eth_maxPriorityFeePerGas`).
    pub priority_fee: u128,
    /// Blob base fee of the next block (`eth_blobBaseFee`).
    pub blob_base_fee: u128,
}

impl FeeEstimate {
    /// `maxFeePerGas` that survives the base fee doubling: `2 × base fee + tip`.
    pub const fn max_fee_per_gas(&self) -> u128 {
        self.base_fee.saturating_mul(2).saturating_add(self.priority_fee)
    }

    /// `maxFeePerBlobGas` that survives the blob base fee doubling (at least 1 wei).
    pub fn max_fee_per_blob_gas(&self) -> u128 {
        self.blob_base_fee.saturating_mul(2).max(1)
    }
}

/// An L1 node seen over JSON-RPC (HTTP) and the beacon API. Cheap to clone; clones share
/// connections.
#[derive(Clone)]
pub struct L1Client {
    rpc: HttpClient,
    http: reqwest::Client,
    config: Arc<L1ClientConfig>,
}

impl fmt::Debug for L1Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("L1Client").field("config", &self.config).finish_non_exhaustive()
    }
}

impl L1Client {
    /// A client of the node in `config` (no connection is made yet).
    pub fn new(config: L1ClientConfig) -> Result<Self, L1Error> {
        let rpc = HttpClientBuilder::default()
            .request_timeout(config.request_timeout)
            .max_response_size(u32::MAX)
            .build(&config.rpc_url)
            .map_err(|e| L1Error::config_by(format!("JSON-RPC URL {}", config.rpc_url), e))?;
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .build()
            .map_err(|e| L1Error::config_by("HTTP client", e))?;
        Ok(Self { rpc, http, config: Arc::new(config) })
    }

    /// The configuration.
    pub fn config(&self) -> &L1ClientConfig {
        &self.config
    }

    async fn request<T: DeserializeOwned>(&self, method: &str, params: impl ToRpcParams + Send) -> Result<T, L1Error> {
        self.rpc.request(method, params).await.map_err(|e| L1Error::from_client(&self.config.rpc_url, e))
    }

    /// `eth_chainId`.
    pub async fn chain_id(&self) -> Result<u64, L1Error> {
        self.request::<U64>("eth_chainId", rpc_params![]).await.map(|n| n.to())
    }

    /// `eth_blockNumber`: the head's number.
    pub async fn block_number(&self) -> Result<u64, L1Error> {
        self.request::<U64>("eth_blockNumber", rpc_params![]).await.map(|n| n.to())
    }

    /// `eth_getBlockByNumber` with full transactions; `None` when there is no such block.
    pub async fn block(&self, number: impl Into<BlockNumberOrTag> + Send) -> Result<Option<Block>, L1Error> {
        self.request("eth_getBlockByNumber", rpc_params![number.into(), true]).await
    }

    /// The header of a block (`eth_getBlockByNumber` without transactions).
    pub async fn header(&self, number: impl Into<BlockNumberOrTag> + Send) -> Result<Option<Header>, L1Error> {
        let block: Option<Block> = self.request("eth_getBlockByNumber", rpc_params![number.into(), false]).await?;
        Ok(block.map(|b| b.header))
    }

    /// `eth_getBlockByHash` with full transactions.
    pub async fn block_by_hash(&self, hash: B256) -> Result<Option<Block>, L1Error> {
        self.request("eth_getBlockByHash", rpc_params![hash, true]).await
    }

    /// `eth_getBlockReceipts` of a block by number, tag or hash; `None` when there is no such block.
    pub async fn block_receipts(
        &self,
        block: impl Into<BlockId> + Send,
    ) -> Result<Option<Vec<TransactionReceipt>>, L1Error> {
        self.request("eth_getBlockReceipts", rpc_params![block.into()]).await
    }

    /// `eth_getLogs`.
    pub async fn logs(&self, filter: &Filter) -> Result<Vec<Log>, L1Error> {
        self.request("eth_getLogs", rpc_params![filter]).await
    }

    /// `eth_getTransactionReceipt`; `None` while the transaction is not in a block.
    pub async fn transaction_receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, L1Error> {
        self.request("eth_getTransactionReceipt", rpc_params![hash]).await
    }

    /// `eth_getTransactionCount` at `block` (`Pending` counts pooled transactions).
    pub async fn nonce(&self, address: Address, block: BlockNumberOrTag) -> Result<u64, L1Error> {
        self.request::<U64>("eth_getTransactionCount", rpc_params![address, block]).await.map(|n| n.to())
    }

    /// `eth_getBalance` at `block`.
    pub async fn balance(&self, address: Address, block: BlockNumberOrTag) -> Result<U256, L1Error> {
        self.request("eth_getBalance", rpc_params![address, block]).await
    }

    /// `eth_getStorageAt`: storage slot `slot` of `address` at `block`.
    pub async fn storage_at(&self, address: Address, slot: U256, block: BlockNumberOrTag) -> Result<U256, L1Error> {
        self.request::<B256>("eth_getStorageAt", rpc_params![address, slot, block]).await.map(|word| word.into())
    }

    /// The fees to offer now: next base fee (`eth_feeHistory`, else the latest header's),
    /// `eth_maxPriorityFeePerGas` and `eth_blobBaseFee`.
    pub async fn fee_estimate(&self) -> Result<FeeEstimate, L1Error> {
        let history = self.request::<FeeHistory>(
            "eth_feeHistory",
            rpc_params![U64::from(1), BlockNumberOrTag::Latest, Vec::<f64>::new()],
        );
        let tip = self.request::<U256>("eth_maxPriorityFeePerGas", rpc_params![]);
        let blob = self.request::<U256>("eth_blobBaseFee", rpc_params![]);
        let (history, tip, blob) = tokio::try_join!(history, tip, blob)?;
        let base_fee = match history.base_fee_per_gas.last() {
            Some(next) => *next,
            None => self
                .header(BlockNumberOrTag::Latest)
                .await?
                .and_then(|h| h.base_fee_per_gas)
                .map(u128::from)
                .ok_or_else(|| L1Error::malformed("latest block has no base fee"))?,
        };
        Ok(FeeEstimate { base_fee, priority_fee: tip.saturating_to(), blob_base_fee: blob.saturating_to() })
    }

    /// `eth_sendRawTransaction` of an EIP-2718 encoded transaction (blob transactions in their
    /// network form, with the sidecar); its hash.
    pub async fn send_raw_transaction(&self, raw: &[u8]) -> Result<B256, L1Error> {
        self.request("eth_sendRawTransaction", rpc_params![Bytes::copy_from_slice(raw)]).await
    }

    /// `eth_call` at `block`; a revert is [`L1Error::Rpc`] with code 3 and
    /// [`L1Error::revert_data`].
    pub async fn call(&self, request: &TransactionRequest, block: BlockNumberOrTag) -> Result<Bytes, L1Error> {
        self.request("eth_call", rpc_params![request, block]).await
    }

    /// A typed view call: `call` to `to` at `block` (`eth_call`), its output decoded as the
    /// function's return. A revert is [`L1Error::Rpc`] with code 3, decoded with
    /// [`L1Error::revert`] or [`L1Error::revert_reason`]; output that does not decode is
    /// [`L1Error::Decode`].
    ///
    /// ```ignore
    /// let head = client.view_call(rollup, &NativeRollup::headNumberCall {}, BlockNumberOrTag::Latest).await?;
    /// ```
    pub async fn view_call<C: SolCall>(
        &self,
        to: Address,
        call: &C,
        block: BlockNumberOrTag,
    ) -> Result<C::Return, L1Error> {
        let request = TransactionRequest::default().to(to).input(call.abi_encode().into());
        let output = self.call(&request, block).await?;
        C::abi_decode_returns(&output).map_err(|source| L1Error::Decode {
            call: C::SIGNATURE,
            to,
            output,
            source: Box::new(source),
        })
    }

    /// `eth_estimateGas` at `block`.
    pub async fn estimate_gas(&self, request: &TransactionRequest, block: BlockNumberOrTag) -> Result<u64, L1Error> {
        self.request::<U64>("eth_estimateGas", rpc_params![request, block]).await.map(|n| n.to())
    }

    /// Any other JSON-RPC method (devnet helpers such as `evm_mine`, `debug_setHead`).
    pub async fn raw_request<T: DeserializeOwned>(&self, method: &str, params: ArrayParams) -> Result<T, L1Error> {
        self.request(method, params).await
    }

    /// The blobs of block `block_id` from the beacon API
    /// (`GET /eth/v1/beacon/blob_sidecars/{block_id}`), each with the versioned hash of its
    /// commitment, checked against its KZG proof. On nrd's devnet slots are block numbers; on a
    /// real beacon chain pass the slot.
    pub async fn blob_sidecars(&self, block_id: u64) -> Result<Vec<(B256, Blob)>, L1Error> {
        let base = self
            .config
            .beacon_url
            .as_deref()
            .ok_or_else(|| L1Error::config("no beacon API URL configured: blobs cannot be fetched"))?;
        let url = format!("{}/eth/v1/beacon/blob_sidecars/{block_id}", base.trim_end_matches('/'));
        let response = self.http.get(&url).send().await.map_err(|e| beacon_error(&url, e))?;
        let status = response.status();
        let body = response.bytes().await.map_err(|e| beacon_error(&url, e))?;
        if !status.is_success() {
            let mut text = String::from_utf8_lossy(&body).into_owned();
            if text.len() > ERROR_BODY_LIMIT {
                let mut end = ERROR_BODY_LIMIT;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            return Err(L1Error::Http { endpoint: url, status: status.as_u16(), body: text });
        }
        // KZG checks are CPU work: keep them off the async workers.
        tokio::task::spawn_blocking(move || parse_blob_sidecars(&body))
            .await
            .map_err(|e| L1Error::malformed_by("blob check task", e))?
    }
}

fn beacon_error(url: &str, error: reqwest::Error) -> L1Error {
    if error.is_builder() {
        L1Error::config_by(format!("beacon URL {url}"), error)
    } else if error.is_decode() {
        L1Error::malformed_by(url, error)
    } else if error.is_timeout() {
        L1Error::Timeout { endpoint: url.to_owned() }
    } else {
        L1Error::transport(url, error)
    }
}
