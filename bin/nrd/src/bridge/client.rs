//! The two endpoints (L1 and L2 JSON-RPC), the rollup contract, the errors and their decoding:
//! what every `nrd bridge` and `nrd governance` command works with.

use super::CommonArgs;
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::{Header, TransactionReceipt};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolEvent, SolInterface};
use jsonrpsee::rpc_params;
use nrd_bridge::{L2ToL1MessagePasser, NativeRollup};
use nrd_l1_client::{EXECUTION_REVERTED, L1Client, L1ClientConfig, L1Error, L1Tx, TxError, TxSender, TxSenderConfig};
use std::{
    fmt,
    time::{Duration, Instant},
};

/// How often waits poll the nodes.
pub(crate) const POLL: Duration = Duration::from_millis(500);

// ---------------------------------------------------------------- errors

/// Which chain an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chain {
    L1,
    L2,
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::L1 => "L1",
            Self::L2 => "L2",
        })
    }
}

/// Why a bridge (or governance) command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BridgeError {
    /// The node could not be reached.
    #[error("cannot reach the {chain} node at {url}: {reason}")]
    Unreachable { chain: Chain, url: String, reason: String },
    /// The node answered with an error (or garbage).
    #[error("{chain} node at {url}: {message}")]
    Node { chain: Chain, url: String, message: String },
    /// A transaction or call would revert; the reason is decoded.
    #[error("{what} would revert on {chain}: {reason}")]
    WouldRevert { what: String, chain: Chain, reason: String },
    /// A sent transaction reverted.
    #[error("{what} reverted on {chain} in block {block} (transaction {tx})")]
    Reverted { what: String, chain: Chain, block: u64, tx: B256 },
    /// A wait ran out of time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    /// Bad input, or a state the command cannot work with.
    #[error("{0}")]
    Invalid(String),
    /// The in-process node (`bridge advance`) could not start.
    #[error(transparent)]
    Launch(#[from] nrd_node_builder::LaunchError),
}

/// A readable form of revert data: `NativeRollup` errors first, then the L2 predeploys',
/// `Error(string)` and `Panic(uint256)`.
pub(crate) fn decode_revert(data: &[u8]) -> String {
    use NativeRollup::NativeRollupErrors as E;
    if let Ok(error) = E::abi_decode(data) {
        return match error {
            E::DepositsPaused(_) => "DepositsPaused: deposits (ETH into the rollup) are paused by governance".into(),
            E::MessageGasTooHigh(e) => {
                format!("MessageGasTooHigh: gas limit {} above the maximum {}", e.gasLimit, e.max)
            }
            E::MessageDataTooLarge(e) => format!("MessageDataTooLarge: {} bytes of data, at most {}", e.size, e.max),
            E::UnknownStateRoot(e) => {
                format!("UnknownStateRoot: L1 holds no state root for L2 block {} (not posted yet?)", e.l2Block)
            }
            E::WithdrawalNotReady(e) => format!(
                "WithdrawalNotReady: the state root of L2 block {} becomes usable at L1 time {}",
                e.l2Block, e.readyAt
            ),
            E::AlreadyClaimed(e) => format!("AlreadyClaimed: withdrawal {} was already claimed", e.withdrawalHash),
            E::WithdrawalNotProven(e) => {
                format!("WithdrawalNotProven: the proof does not show withdrawal {} as sent", e.withdrawalHash)
            }
            E::MerkleProofInvalid(e) => format!(
                "MerkleProofInvalid: proof node {}: {} (is the proof for this block's state root?)",
                e.nodeIndex, e.reason
            ),
            E::RLPMalformed(e) => format!("RLPMalformed: the proof is not well-formed RLP: {}", e.reason),
            E::WithdrawalCallFailed(e) => format!(
                "WithdrawalCallFailed: the call to the target failed ({}) for withdrawal {}; it can be retried",
                nested_revert(&e.reason),
                e.withdrawalHash
            ),
            E::NotOwner(e) => format!("NotOwner: {} is not the rollup's owner (NativeRollup.owner())", e.caller),
            E::NotScheduled(e) => {
                format!("NotScheduled: action {} is not queued (never queued, or already executed or cancelled)", e.id)
            }
            E::TimelockNotElapsed(e) => {
                format!("TimelockNotElapsed: action {} becomes executable at L1 time {}", e.id, e.executableAt)
            }
            E::NotSequencer(e) => format!(
                "NotSequencer: {} is not the sequencer; advance is open to anyone from L1 time {}",
                e.caller, e.openToAllAt
            ),
            E::OverdueMessage(e) => format!(
                "OverdueMessage: L1 message {} is past its deadline (L1 time {}): an advance must include it",
                e.index, e.deadline
            ),
            other => format!("{other:?}"),
        };
    }
    if let Ok(e) = L2ToL1MessagePasser::L2ToL1MessagePasserErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = alloy_sol_types::Revert::abi_decode(data) {
        return format!("Error({:?})", e.reason);
    }
    if let Ok(e) = alloy_sol_types::Panic::abi_decode(data) {
        return format!("Panic({})", e.code);
    }
    if data.is_empty() {
        "reverted without a reason".into()
    } else {
        format!("unknown revert data {}", Bytes::copy_from_slice(data))
    }
}

fn nested_revert(data: &[u8]) -> String {
    if data.is_empty() { "no reason".into() } else { decode_revert(data) }
}

// ---------------------------------------------------------------- endpoints

/// One chain's JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) chain: Chain,
    pub(crate) url: String,
    pub(crate) client: L1Client,
}

impl Endpoint {
    fn new(chain: Chain, url: &str) -> Result<Self, BridgeError> {
        let client = L1Client::new(L1ClientConfig::new(url).with_timeout(Duration::from_secs(30)))
            .map_err(|e| BridgeError::Invalid(format!("--{}-rpc-url {url}: {e}", chain.to_string().to_lowercase())))?;
        Ok(Self { chain, url: url.to_owned(), client })
    }

    /// `e` as this endpoint's error.
    pub(crate) fn err(&self, e: L1Error) -> BridgeError {
        let (chain, url) = (self.chain, self.url.clone());
        match e {
            e @ (L1Error::Transport { .. } | L1Error::Timeout { .. }) => {
                let reason = match &e {
                    L1Error::Transport { source, .. } => nrd_l1_client::error_chain(&**source),
                    _ => "request timed out".into(),
                };
                BridgeError::Unreachable { chain, url, reason }
            }
            L1Error::Rpc { code, message, .. } => {
                BridgeError::Node { chain, url, message: format!("JSON-RPC error {code}: {message}") }
            }
            other => BridgeError::Node { chain, url, message: other.to_string() },
        }
    }

    /// `e` from a call or estimate of `what`: the decoded revert reason when it reverted.
    pub(crate) fn call_err(&self, e: L1Error, what: &str) -> BridgeError {
        if let Some(data) = e.revert_data() {
            return BridgeError::WouldRevert { what: what.into(), chain: self.chain, reason: decode_revert(&data) };
        }
        match e {
            L1Error::Rpc { code: EXECUTION_REVERTED, message, .. } => {
                BridgeError::WouldRevert { what: what.into(), chain: self.chain, reason: message }
            }
            other => self.err(other),
        }
    }

    pub(crate) async fn block_number(&self) -> Result<u64, BridgeError> {
        self.client.block_number().await.map_err(|e| self.err(e))
    }

    pub(crate) async fn header(&self, number: BlockNumberOrTag) -> Result<Header, BridgeError> {
        self.client
            .header(number)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| BridgeError::Invalid(format!("{} has no block {number}", self.chain)))
    }

    /// The timestamp of the latest block.
    pub(crate) async fn now(&self) -> Result<u64, BridgeError> {
        Ok(self.header(BlockNumberOrTag::Latest).await?.timestamp)
    }

    /// A view call of `to`, decoded.
    pub(crate) async fn view<C: SolCall>(
        &self,
        to: Address,
        call: C,
        block: BlockNumberOrTag,
    ) -> Result<C::Return, BridgeError> {
        self.client.view_call(to, &call, block).await.map_err(|e| match e {
            e @ L1Error::Decode { .. } => BridgeError::Node {
                chain: self.chain,
                url: self.url.clone(),
                message: format!("{e} (is it the right contract?)"),
            },
            e => self.call_err(e, C::SIGNATURE),
        })
    }

    pub(crate) async fn receipt(&self, tx: B256) -> Result<Option<TransactionReceipt>, BridgeError> {
        self.client.transaction_receipt(tx).await.map_err(|e| self.err(e))
    }

    /// Signs and sends a call of `to` from `signer`, after checking it with `eth_estimateGas`
    /// (a revert is reported decoded, nothing is sent), and waits for its receipt.
    pub(crate) async fn send(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        value: U256,
        input: Bytes,
        what: &str,
        timeout: Duration,
    ) -> Result<TransactionReceipt, BridgeError> {
        let from = signer.address();
        let config = TxSenderConfig { poll_interval: POLL, receipt_timeout: timeout, ..Default::default() };
        let sender = TxSender::connect(self.client.clone(), signer.clone(), config).await.map_err(|e| self.err(e))?;
        let sent = sender.send(L1Tx::call(to, input).with_value(value)).await.map_err(|e| self.tx_err(e, what))?;
        let hash = sent.hash;
        println!("sent {what} on {} from {from}", self.chain);
        println!("{} tx: {hash}", self.chain.to_string().to_lowercase());
        let receipt = sender.wait(hash, timeout).await.map_err(|e| self.tx_err(e, what))?;
        let block = receipt.block_number.unwrap_or_default();
        println!("{} block: {block} (gas used {})", self.chain.to_string().to_lowercase(), receipt.gas_used);
        Ok(receipt)
    }

    /// `e` from sending `what`: a revert of its estimate decoded, a reverted receipt or a wait
    /// that ran out as such.
    fn tx_err(&self, e: TxError, what: &str) -> BridgeError {
        match e {
            TxError::L1(e) => self.call_err(e, what),
            TxError::Reverted { hash, block, .. } => {
                BridgeError::Reverted { what: what.into(), chain: self.chain, block, tx: hash }
            }
            TxError::Timeout { hash, waited } => BridgeError::Timeout {
                what: format!("{} transaction {hash} to be mined", self.chain),
                seconds: waited.as_secs(),
            },
            other => BridgeError::Invalid(format!("{what}: {other}")),
        }
    }

    /// The first L1 block to read for `rollup`'s history: the first block at or after its
    /// deployment, found from headers alone by binary search on the deployment block's time
    /// (`stateRootPostedAt(0)`, set by the constructor).
    pub(crate) async fn deployment_block(&self, rollup: Address) -> Result<u64, BridgeError> {
        let deployed_at =
            self.view(rollup, NativeRollup::stateRootPostedAtCall { l2Block: 0 }, BlockNumberOrTag::Latest).await?;
        let (mut low, mut high) = (0, self.block_number().await?);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.header(BlockNumberOrTag::Number(middle)).await?.timestamp >= deployed_at {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(low)
    }
}

/// Polls `check` every [`POLL`] until it returns `Some`, for at most `timeout`.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, BridgeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, BridgeError>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if start.elapsed() >= timeout {
            return Err(BridgeError::Timeout { what: what.into(), seconds: timeout.as_secs() });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The two chains and the rollup contract.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) l1: Endpoint,
    pub(crate) l2: Endpoint,
    pub(crate) rollup: Option<Address>,
    pub(crate) timeout: Duration,
}

impl Context {
    pub(crate) fn new(common: &CommonArgs) -> Result<Self, BridgeError> {
        Ok(Self {
            l1: Endpoint::new(Chain::L1, &common.l1_rpc_url)?,
            l2: Endpoint::new(Chain::L2, &common.l2_rpc_url)?,
            rollup: common.rollup,
            timeout: Duration::from_secs(common.timeout),
        })
    }

    /// `--rollup`, else the `rollup` the L2 node reports in `nrd_rollupStatus`.
    pub(crate) async fn rollup(&self) -> Result<Address, BridgeError> {
        if let Some(rollup) = self.rollup {
            return Ok(rollup);
        }
        let status: serde_json::Value = self
            .l2
            .client
            .raw_request("nrd_rollupStatus", rpc_params![])
            .await
            .map_err(|e| self.l2.err(e))
            .map_err(|e| BridgeError::Invalid(format!("{e} (cannot learn the rollup address: pass --rollup)")))?;
        status["rollup"].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
            BridgeError::Invalid(format!(
                "nrd_rollupStatus of {} has no rollup address: pass --rollup ({status})",
                self.l2.url
            ))
        })
    }
}

// ---------------------------------------------------------------- L1 → L2
/// The first `E` event `contract` emitted in `receipt`, if any.
pub(crate) fn find_event<E: SolEvent>(receipt: &TransactionReceipt, contract: Address) -> Option<E> {
    receipt.logs().iter().filter(|log| log.address() == contract).find_map(|log| E::decode_log_data(log.data()).ok())
}

/// The first `E` event `contract` emitted in `receipt`; an error naming the event when there is none.
pub(crate) fn event<E: SolEvent>(receipt: &TransactionReceipt, contract: Address) -> Result<E, BridgeError> {
    find_event(receipt, contract).ok_or_else(|| {
        let name = E::SIGNATURE.split('(').next().unwrap_or(E::SIGNATURE);
        BridgeError::Invalid(format!("{} emitted no {name} event", receipt.transaction_hash))
    })
}

/// The L1 time a decoded reason starting with `prefix` ends with (`… at L1 time T`).
pub(crate) fn time_at_end(reason: &str, prefix: &str) -> Option<u64> {
    reason.strip_prefix(prefix)?.rsplit(' ').next()?.parse().ok()
}

/// `in 42 s` or `reached 3 s ago` for an L1 time `at` seen at L1 time `now`.
pub(crate) fn until(now: u64, at: u64) -> String {
    if at > now { format!("in {} s", at - now) } else { format!("reached {} s ago", now - at) }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn reverts_are_decoded() {
        let e = NativeRollup::WithdrawalNotReady { l2Block: 7, readyAt: 1234 };
        let reason = decode_revert(&e.abi_encode());
        assert!(reason.starts_with("WithdrawalNotReady"), "{reason}");
        assert_eq!(time_at_end(&reason, "WithdrawalNotReady:"), Some(1234));
        let e = NativeRollup::AlreadyClaimed { withdrawalHash: B256::repeat_byte(1) };
        assert!(decode_revert(&e.abi_encode()).starts_with("AlreadyClaimed"));
        let e = NativeRollup::MerkleProofInvalid { nodeIndex: U256::ZERO, reason: "root hash mismatch".into() };
        assert!(decode_revert(&e.abi_encode()).contains("root hash mismatch"));
        let e = alloy_sol_types::Revert::from("nope");
        assert_eq!(decode_revert(&e.abi_encode()), "Error(\"nope\")");
        assert_eq!(decode_revert(&[]), "reverted without a reason");
        assert!(decode_revert(&[1, 2, 3]).starts_with("unknown revert data"));
    }
}
