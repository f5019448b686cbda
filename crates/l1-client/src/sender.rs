//! [`TxSender`]: the one place where nrd signs and sends L1 transactions — nonces, EIP-1559
//! fees with caps, gas estimates with a margin, EIP-4844 blob transactions, fee-bumped
//! replacement of a stuck transaction, and waiting for the receipt.

use crate::{FeeEstimate, L1Client, L1Error};
use alloy_consensus::{
    EthereumTxEnvelope, SignableTransaction, Signed, TxEip1559, TxEip4844, TxEip4844WithSidecar, TxEnvelope,
};
use alloy_eips::{
    BlockNumberOrTag, Encodable2718, eip4844::BlobTransactionSidecar, eip7594::BlobTransactionSidecarVariant,
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::{TransactionReceipt, TransactionRequest};
use alloy_signer::Signer;
use nrd_chain::{Classify, Severity};
use std::{
    fmt,
    sync::Arc,
    time::{Duration, Instant},
};

/// A signer of L1 transactions: any alloy [`Signer`] (a local key,
/// `alloy_signer_local::PrivateKeySigner`, or a remote one).
pub type DynSigner = Arc<dyn Signer + Send + Sync>;

/// An L1 transaction to send: what it does, not yet how it is paid for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L1Tx {
    /// The called account, or contract creation.
    pub to: TxKind,
    /// Wei sent along.
    pub value: U256,
    /// Calldata (or init code).
    pub input: Bytes,
    /// Blobs: sent as an EIP-4844 transaction with this sidecar.
    pub sidecar: Option<BlobTransactionSidecar>,
    /// Gas limit; `None`: `eth_estimateGas` plus the sender's margin
    /// ([`TxSenderConfig::gas_margin_percent`], [`TxSenderConfig::gas_margin_extra`]).
    pub gas_limit: Option<u64>,
}

impl L1Tx {
    /// A call of `to` with `input`.
    pub fn call(to: Address, input: impl Into<Bytes>) -> Self {
        Self { to: TxKind::Call(to), value: U256::ZERO, input: input.into(), sidecar: None, gas_limit: None }
    }

    /// A contract creation with `code` (init code and constructor arguments).
    pub fn create(code: impl Into<Bytes>) -> Self {
        Self { to: TxKind::Create, value: U256::ZERO, input: code.into(), sidecar: None, gas_limit: None }
    }

    /// Sending `value` wei.
    #[must_use]
    pub const fn with_value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }

    /// With blobs (an EIP-4844 transaction).
    #[must_use]
    pub fn with_sidecar(mut self, sidecar: BlobTransactionSidecar) -> Self {
        self.sidecar = Some(sidecar);
        self
    }

    /// With a fixed gas limit instead of an estimate.
    #[must_use]
    pub const fn with_gas_limit(mut self, gas_limit: u64) -> Self {
        self.gas_limit = Some(gas_limit);
        self
    }

    /// The number of blobs.
    pub fn blobs(&self) -> usize {
        self.sidecar.as_ref().map_or(0, |s| s.blobs.len())
    }

    /// The same call as a request from `from` (for `eth_call` and `eth_estimateGas`, without
    /// the blobs).
    pub fn request(&self, from: Address) -> TransactionRequest {
        let mut request = TransactionRequest::default().from(from).value(self.value).input(self.input.clone().into());
        request.to = Some(self.to);
        request
    }
}

/// The fees one transaction offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TxFees {
    /// `maxFeePerGas`.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas` (at most `max_fee_per_gas`).
    pub max_priority_fee_per_gas: u128,
    /// `maxFeePerBlobGas` (blob transactions only).
    pub max_fee_per_blob_gas: u128,
}

impl TxFees {
    /// The lowest fees a node accepts to replace a pooled transaction offering these (geth's
    /// rule): 10% more on the fee cap and on the tip, twice the blob fee cap.
    pub const fn replacement_floor(&self) -> Self {
        Self {
            max_fee_per_gas: bump_10_percent(self.max_fee_per_gas),
            max_priority_fee_per_gas: bump_10_percent(self.max_priority_fee_per_gas),
            max_fee_per_blob_gas: self.max_fee_per_blob_gas.saturating_mul(2),
        }
    }

    /// The higher of each fee.
    #[must_use]
    pub fn max(self, other: Self) -> Self {
        Self {
            max_fee_per_gas: self.max_fee_per_gas.max(other.max_fee_per_gas),
            max_priority_fee_per_gas: self.max_priority_fee_per_gas.max(other.max_priority_fee_per_gas),
            max_fee_per_blob_gas: self.max_fee_per_blob_gas.max(other.max_fee_per_blob_gas),
        }
    }
}

/// `value` plus 10%, rounded up.
const fn bump_10_percent(value: u128) -> u128 {
    value.saturating_add(value.div_ceil(10))
}

/// How a [`TxSender`] prices, sizes and follows its transactions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxSenderConfig {
    /// Highest `maxFeePerGas` offered, in wei (fee bumps stop there); a base fee above it is
    /// [`TxError::FeeAboveCap`] and nothing is sent.
    pub max_fee_per_gas: u128,
    /// Highest `maxFeePerBlobGas` offered, in wei.
    pub max_fee_per_blob_gas: u128,
    /// Lowest tip offered, in wei (before the fee multiplier).
    pub min_priority_fee: u128,
    /// Gas added to an estimate, in percent of it.
    pub gas_margin_percent: u64,
    /// Gas added to an estimate, in gas.
    pub gas_margin_extra: u64,
    /// How often to look for a receipt.
    pub poll_interval: Duration,
    /// How long [`TxSender::send_and_wait`] waits for a receipt.
    pub receipt_timeout: Duration,
    /// [`TxSender::send_and_wait`] replaces a transaction with bumped fees when it is not in a
    /// block after this long (`None`: never).
    pub replace_after: Option<Duration>,
}

impl Default for TxSenderConfig {
    /// No fee caps, no tip floor, estimates plus 25% and 10,000 gas, receipts looked for every
    /// 100 ms for 60 s, no replacement.
    fn default() -> Self {
        Self {
            max_fee_per_gas: u128::MAX,
            max_fee_per_blob_gas: u128::MAX,
            min_priority_fee: 0,
            gas_margin_percent: 25,
            gas_margin_extra: 10_000,
            poll_interval: Duration::from_millis(100),
            receipt_timeout: Duration::from_secs(60),
            replace_after: None,
        }
    }
}

/// Fees priced for a transaction now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Priced {
    /// What to offer.
    pub fees: TxFees,
    /// What L1 asks now.
    pub estimate: FeeEstimate,
    /// Whether a cap cut what the multiplier asked for.
    pub capped: bool,
}

/// A transaction sent to L1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentTx {
    /// Its hash.
    pub hash: B256,
    /// The sender.
    pub from: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Its gas limit.
    pub gas_limit: u64,
    /// The fees it offers.
    pub fees: TxFees,
    /// The size of its encoding (with the blobs), in bytes.
    pub encoded_len: usize,
    /// When it was sent.
    pub sent_at: Instant,
    /// What it does.
    pub tx: L1Tx,
}

/// Why a transaction could not be sent or did not land.
#[derive(Debug, thiserror::Error)]
pub enum TxError {
    /// An L1 request failed (a gas estimate that reverts is [`L1Error::is_revert`]; the node
    /// refusing the transaction is [`L1Error::Rpc`]).
    #[error(transparent)]
    L1(#[from] L1Error),
    /// The signer failed.
    #[error("signing the L1 transaction: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// L1's base fee is above [`TxSenderConfig::max_fee_per_gas`]: nothing is sent until it
    /// falls.
    #[error("L1 base fee {base_fee} wei is above the cap of {cap} wei per gas")]
    FeeAboveCap {
        /// L1's next base fee.
        base_fee: u128,
        /// The cap.
        cap: u128,
    },
    /// A blob transaction must call an account.
    #[error("a blob transaction cannot create a contract")]
    BlobCreate,
    /// No receipt within the timeout.
    #[error("L1 transaction {hash} not in a block after {}s", waited.as_secs())]
    Timeout {
        /// The (last) transaction sent.
        hash: B256,
        /// How long it was waited for.
        waited: Duration,
    },
    /// The transaction is in a block and reverted.
    #[error("L1 transaction {hash} reverted in block {block}")]
    Reverted {
        /// The transaction.
        hash: B256,
        /// Its block.
        block: u64,
        /// Its receipt.
        receipt: Box<TransactionReceipt>,
    },
}

impl Classify for TxError {
    /// The L1 error's own severity; fees above the cap and timeouts are temporary; a failing
    /// signer, a malformed request and a revert are critical.
    fn severity(&self) -> Severity {
        match self {
            Self::L1(e) => e.severity(),
            Self::FeeAboveCap { .. } | Self::Timeout { .. } => Severity::Temporary,
            Self::Sign(_) | Self::BlobCreate | Self::Reverted { .. } => Severity::Critical,
        }
    }
}

/// Signs and sends L1 transactions from one account: nonces (the pending nonce from L1, then
/// counted locally, read again after any failed send), EIP-1559 fees from
/// [`L1Client::fee_estimate`] within caps, gas estimates with a margin, EIP-4844 blob
/// transactions with their sidecar, replacement with bumped fees, and receipts with a timeout.
///
/// Cheap to clone; clones share the nonce count, and sends through one sender are serialised.
///
/// ```ignore
/// let sender = TxSender::connect(client, key, TxSenderConfig::default()).await?;
/// let receipt = sender.send_and_wait(L1Tx::call(rollup, call.abi_encode())).await?;
/// ```
#[derive(Clone)]
pub struct TxSender {
    client: L1Client,
    signer: DynSigner,
    address: Address,
    chain_id: u64,
    config: TxSenderConfig,
    /// The next nonce to use, when known locally (`None`: read the pending nonce from L1).
    nonce: Arc<tokio::sync::Mutex<Option<u64>>>,
}

impl fmt::Debug for TxSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TxSender")
            .field("address", &self.address)
            .field("chain_id", &self.chain_id)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl TxSender {
    /// A sender of `signer`'s transactions on the L1 chain `chain_id` behind `client`.
    pub fn new(
        client: L1Client,
        signer: impl Signer + Send + Sync + 'static,
        chain_id: u64,
        config: TxSenderConfig,
    ) -> Self {
        Self::with_signer(client, Arc::new(signer), chain_id, config)
    }

    /// [`Self::new`] with a shared signer.
    pub fn with_signer(client: L1Client, signer: DynSigner, chain_id: u64, config: TxSenderConfig) -> Self {
        let address = signer.address();
        Self { client, signer, address, chain_id, config, nonce: Arc::default() }
    }

    /// [`Self::new`] on the chain the client's node is on (`eth_chainId`).
    pub async fn connect(
        client: L1Client,
        signer: impl Signer + Send + Sync + 'static,
        config: TxSenderConfig,
    ) -> Result<Self, L1Error> {
        let chain_id = client.chain_id().await?;
        Ok(Self::new(client, signer, chain_id, config))
    }

    /// The sending account.
    pub const fn address(&self) -> Address {
        self.address
    }

    /// The L1 chain id the transactions are signed for.
    pub const fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The client.
    pub const fn client(&self) -> &L1Client {
        &self.client
    }

    /// The configuration.
    pub const fn config(&self) -> &TxSenderConfig {
        &self.config
    }

    /// The account's pending nonce on L1 (`eth_getTransactionCount` at `pending`).
    pub async fn pending_nonce(&self) -> Result<u64, L1Error> {
        self.client.nonce(self.address, BlockNumberOrTag::Pending).await
    }

    /// Forgets the locally counted nonce: the next send reads the pending nonce from L1 (after
    /// a transaction was dropped, or someone else used the key).
    pub async fn resync_nonce(&self) {
        *self.nonce.lock().await = None;
    }

    /// The fees to offer now: L1's estimate ([`FeeEstimate::max_fee_per_gas`],
    /// [`FeeEstimate::max_fee_per_blob_gas`], the tip at least
    /// [`TxSenderConfig::min_priority_fee`]) times `multiplier`, cut to the caps; for a
    /// transaction with blobs when `blobs`. A base fee above the cap is
    /// [`TxError::FeeAboveCap`].
    pub async fn price(&self, multiplier: u128, blobs: bool) -> Result<Priced, TxError> {
        let estimate = self.client.fee_estimate().await?;
        self.price_from(estimate, multiplier, blobs)
    }

    fn price_from(&self, estimate: FeeEstimate, multiplier: u128, blobs: bool) -> Result<Priced, TxError> {
        let (cap, blob_cap) = (self.config.max_fee_per_gas, self.config.max_fee_per_blob_gas);
        if estimate.base_fee > cap {
            return Err(TxError::FeeAboveCap { base_fee: estimate.base_fee, cap });
        }
        let wanted = estimate.max_fee_per_gas().saturating_mul(multiplier);
        let wanted_blob = estimate.max_fee_per_blob_gas().saturating_mul(multiplier);
        let capped = wanted > cap || (blobs && wanted_blob > blob_cap);
        let max_fee_per_gas = wanted.min(cap);
        let tip = estimate.priority_fee.max(self.config.min_priority_fee).saturating_mul(multiplier);
        let fees = TxFees {
            max_fee_per_gas,
            max_priority_fee_per_gas: tip.min(max_fee_per_gas),
            max_fee_per_blob_gas: if blobs { wanted_blob.min(blob_cap) } else { 0 },
        };
        Ok(Priced { fees, estimate, capped })
    }

    /// The fees to replace a transaction offering `previous` with: the higher of `fresh` and
    /// what a node needs to accept a replacement ([`TxFees::replacement_floor`]), cut to the
    /// caps (a replacement the caps keep below the floor is refused by the node).
    pub fn replacement_fees(&self, previous: &TxFees, fresh: TxFees) -> TxFees {
        let mut fees = fresh.max(previous.replacement_floor());
        fees.max_fee_per_gas = fees.max_fee_per_gas.min(self.config.max_fee_per_gas);
        fees.max_priority_fee_per_gas = fees.max_priority_fee_per_gas.min(fees.max_fee_per_gas);
        if fresh.max_fee_per_blob_gas == 0 && previous.max_fee_per_blob_gas == 0 {
            fees.max_fee_per_blob_gas = 0;
        }
        fees.max_fee_per_blob_gas = fees.max_fee_per_blob_gas.min(self.config.max_fee_per_blob_gas);
        fees
    }

    /// `eth_estimateGas` of `tx` from this account at the pending block (without blobs). A
    /// revert is [`L1Error::is_revert`], with [`L1Error::revert_data`].
    pub async fn estimate_gas(&self, tx: &L1Tx) -> Result<u64, L1Error> {
        self.client.estimate_gas(&tx.request(self.address), BlockNumberOrTag::Pending).await
    }

    /// `estimate` plus the configured margin.
    pub const fn with_margin(&self, estimate: u64) -> u64 {
        let percent = (estimate as u128 * self.config.gas_margin_percent as u128 / 100) as u64;
        estimate.saturating_add(percent).saturating_add(self.config.gas_margin_extra)
    }

    /// `tx`'s gas limit: its own, else the estimate with the margin.
    pub async fn gas_limit(&self, tx: &L1Tx) -> Result<u64, L1Error> {
        match tx.gas_limit {
            Some(limit) => Ok(limit),
            None => self.estimate_gas(tx).await.map(|estimate| self.with_margin(estimate)),
        }
    }

    /// Signs `tx` with `nonce`, `gas_limit` and `fees`: its EIP-2718 encoding (a blob
    /// transaction in its network form, with the sidecar).
    pub async fn sign(&self, tx: &L1Tx, nonce: u64, gas_limit: u64, fees: TxFees) -> Result<Vec<u8>, TxError> {
        Ok(match &tx.sidecar {
            None => {
                let unsigned = TxEip1559 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: fees.max_fee_per_gas,
                    max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                    to: tx.to,
                    value: tx.value,
                    input: tx.input.clone(),
                    access_list: Default::default(),
                };
                let signature = self.signer.sign_hash(&unsigned.signature_hash()).await?;
                TxEnvelope::from(unsigned.into_signed(signature)).encoded_2718()
            }
            Some(sidecar) => {
                let TxKind::Call(to) = tx.to else { return Err(TxError::BlobCreate) };
                let unsigned = TxEip4844 {
                    chain_id: self.chain_id,
                    nonce,
                    gas_limit,
                    max_fee_per_gas: fees.max_fee_per_gas,
                    max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
                    to,
                    value: tx.value,
                    access_list: Default::default(),
                    blob_versioned_hashes: sidecar.versioned_hashes().collect(),
                    max_fee_per_blob_gas: fees.max_fee_per_blob_gas,
                    input: tx.input.clone(),
                };
                let signature = self.signer.sign_hash(&unsigned.signature_hash()).await?;
                let with_sidecar = TxEip4844WithSidecar {
                    tx: unsigned,
                    sidecar: BlobTransactionSidecarVariant::Eip4844(sidecar.clone()),
                };
                EthereumTxEnvelope::<TxEip4844WithSidecar<BlobTransactionSidecarVariant>>::Eip4844(
                    Signed::new_unhashed(with_sidecar, signature),
                )
                .encoded_2718()
            }
        })
    }

    /// Signs and sends `tx` with exactly `nonce`, `gas_limit` and `fees` (the caller chose
    /// them; a replacement reuses a nonce). After a failed send the nonce is read from L1 again.
    pub async fn send_with(&self, tx: L1Tx, nonce: u64, gas_limit: u64, fees: TxFees) -> Result<SentTx, TxError> {
        let mut next = self.nonce.lock().await;
        self.send_locked(&mut next, tx, nonce, gas_limit, fees).await
    }

    /// Sends `tx`: its gas limit (or the estimate with the margin), the fees of
    /// [`Self::price`], the next nonce.
    pub async fn send(&self, tx: L1Tx) -> Result<SentTx, TxError> {
        let gas_limit = self.gas_limit(&tx).await?;
        let priced = self.price(1, tx.sidecar.is_some()).await?;
        let mut next = self.nonce.lock().await;
        let nonce = match *next {
            Some(nonce) => nonce,
            None => self.pending_nonce().await?,
        };
        self.send_locked(&mut next, tx, nonce, gas_limit, priced.fees).await
    }

    async fn send_locked(
        &self,
        next: &mut Option<u64>,
        tx: L1Tx,
        nonce: u64,
        gas_limit: u64,
        fees: TxFees,
    ) -> Result<SentTx, TxError> {
        let raw = self.sign(&tx, nonce, gas_limit, fees).await?;
        match self.client.send_raw_transaction(&raw).await {
            Ok(hash) => {
                *next = Some(next.map_or(nonce + 1, |n| n.max(nonce + 1)));
                Ok(SentTx {
                    hash,
                    from: self.address,
                    nonce,
                    gas_limit,
                    fees,
                    encoded_len: raw.len(),
                    sent_at: Instant::now(),
                    tx,
                })
            }
            Err(e) => {
                // Taken, too high, or maybe sent after all: ask L1 next time.
                *next = None;
                Err(e.into())
            }
        }
    }

    /// Sends `sent` again with the same nonce and bumped fees ([`Self::replacement_fees`] of
    /// its fees and the current ones times `multiplier`), to replace it while it is stuck.
    pub async fn replace(&self, sent: &SentTx, multiplier: u128) -> Result<SentTx, TxError> {
        let priced = self.price(multiplier, sent.tx.sidecar.is_some()).await?;
        let fees = self.replacement_fees(&sent.fees, priced.fees);
        self.send_with(sent.tx.clone(), sent.nonce, sent.gas_limit, fees).await
    }

    /// The receipt of `hash`, `None` while it is not in a block.
    pub async fn receipt(&self, hash: B256) -> Result<Option<TransactionReceipt>, L1Error> {
        self.client.transaction_receipt(hash).await
    }

    /// Waits up to `timeout` for the receipt of `hash`, looking every
    /// [`TxSenderConfig::poll_interval`] (temporary L1 errors are retried meanwhile). A reverted
    /// transaction is [`TxError::Reverted`].
    pub async fn wait(&self, hash: B256, timeout: Duration) -> Result<TransactionReceipt, TxError> {
        let start = Instant::now();
        loop {
            match self.receipt(hash).await {
                Ok(Some(receipt)) => return landed(receipt),
                Ok(None) => {}
                Err(e) if e.is_temporary() => {
                    tracing::debug!(target: "nrd::l1_client", %hash, "receipt not readable yet: {e}");
                }
                Err(e) => return Err(e.into()),
            }
            if start.elapsed() >= timeout {
                return Err(TxError::Timeout { hash, waited: start.elapsed() });
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }

    /// Sends `tx` and waits for its receipt (up to [`TxSenderConfig::receipt_timeout`]),
    /// replacing it with doubled fees each [`TxSenderConfig::replace_after`] it stays out of
    /// a block. Whichever of the versions lands is the result; a revert is
    /// [`TxError::Reverted`].
    pub async fn send_and_wait(&self, tx: L1Tx) -> Result<TransactionReceipt, TxError> {
        let start = Instant::now();
        let mut sent = self.send(tx).await?;
        let mut hashes = vec![sent.hash];
        let mut multiplier = 1u128;
        loop {
            for hash in &hashes {
                match self.receipt(*hash).await {
                    Ok(Some(receipt)) => return landed(receipt),
                    Ok(None) => {}
                    Err(e) if e.is_temporary() => {
                        tracing::debug!(target: "nrd::l1_client", %hash, "receipt not readable yet: {e}");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            if start.elapsed() >= self.config.receipt_timeout {
                return Err(TxError::Timeout { hash: sent.hash, waited: start.elapsed() });
            }
            if self.config.replace_after.is_some_and(|after| sent.sent_at.elapsed() >= after) {
                multiplier = multiplier.saturating_mul(2);
                tracing::warn!(target: "nrd::l1_client", tx = %sent.hash, nonce = sent.nonce, "not in a block yet: replacing it with higher fees");
                match self.replace(&sent, multiplier).await {
                    Ok(replacement) => {
                        hashes.push(replacement.hash);
                        sent = replacement;
                    }
                    // Mined meanwhile (nonce too low) or refused: keep waiting for what was sent.
                    Err(e) => {
                        tracing::warn!(target: "nrd::l1_client", tx = %sent.hash, "replacement not accepted: {e}");
                        sent.sent_at = Instant::now();
                    }
                }
            }
            tokio::time::sleep(self.config.poll_interval).await;
        }
    }
}

fn landed(receipt: TransactionReceipt) -> Result<TransactionReceipt, TxError> {
    if receipt.status() {
        Ok(receipt)
    } else {
        Err(TxError::Reverted {
            hash: receipt.transaction_hash,
            block: receipt.block_number.unwrap_or_default(),
            receipt: Box::new(receipt),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use alloy_signer_local::PrivateKeySigner;

    fn sender(config: TxSenderConfig) -> TxSender {
        let client = L1Client::new(crate::L1ClientConfig::new("http://127.0.0.1:1")).unwrap();
        TxSender::new(client, PrivateKeySigner::random(), 1, config)
    }

    const ESTIMATE: FeeEstimate = FeeEstimate { base_fee: 10, priority_fee: 2, blob_base_fee: 3 };

    #[test]
    fn fees_are_the_estimate_times_the_multiplier_within_the_caps() {
        let s = sender(TxSenderConfig { min_priority_fee: 5, ..Default::default() });
        let p = s.price_from(ESTIMATE, 1, true).unwrap();
        assert_eq!(p.fees, TxFees { max_fee_per_gas: 22, max_priority_fee_per_gas: 5, max_fee_per_blob_gas: 6 });
        assert!(!p.capped);
        let p = s.price_from(ESTIMATE, 4, false).unwrap();
        assert_eq!(p.fees, TxFees { max_fee_per_gas: 88, max_priority_fee_per_gas: 20, max_fee_per_blob_gas: 0 });

        let capped = sender(TxSenderConfig { max_fee_per_gas: 30, max_fee_per_blob_gas: 7, ..Default::default() });
        let p = capped.price_from(ESTIMATE, 2, true).unwrap();
        assert!(p.capped);
        assert_eq!(p.fees, TxFees { max_fee_per_gas: 30, max_priority_fee_per_gas: 4, max_fee_per_blob_gas: 7 });
        let err = sender(TxSenderConfig { max_fee_per_gas: 9, ..Default::default() })
            .price_from(ESTIMATE, 1, false)
            .unwrap_err();
        assert!(matches!(err, TxError::FeeAboveCap { base_fee: 10, cap: 9 }), "{err}");
        assert_eq!(err.severity(), Severity::Temporary);
    }

    #[test]
    fn replacements_bump_by_at_least_what_geth_requires() {
        let s = sender(TxSenderConfig::default());
        let previous = TxFees { max_fee_per_gas: 100, max_priority_fee_per_gas: 7, max_fee_per_blob_gas: 50 };
        // Fees fell meanwhile: the floor wins (10% on fee cap and tip, 100% on the blob fee).
        let fees = s.replacement_fees(&previous, TxFees { max_fee_per_gas: 50, ..Default::default() });
        assert_eq!(fees, TxFees { max_fee_per_gas: 110, max_priority_fee_per_gas: 8, max_fee_per_blob_gas: 100 });
        // Fees rose: the fresh ones win.
        let fresh = TxFees { max_fee_per_gas: 500, max_priority_fee_per_gas: 40, max_fee_per_blob_gas: 300 };
        assert_eq!(s.replacement_fees(&previous, fresh), fresh);
        // Not a blob transaction: no blob fee appears.
        let plain = TxFees { max_fee_per_blob_gas: 0, ..previous };
        assert_eq!(s.replacement_fees(&plain, TxFees::default()).max_fee_per_blob_gas, 0);
        // The caps still hold.
        let capped = sender(TxSenderConfig { max_fee_per_gas: 105, max_fee_per_blob_gas: 60, ..Default::default() });
        let fees = capped.replacement_fees(&previous, TxFees::default());
        assert_eq!(fees, TxFees { max_fee_per_gas: 105, max_priority_fee_per_gas: 8, max_fee_per_blob_gas: 60 });
    }

    #[test]
    fn gas_estimates_get_the_margin() {
        let s = sender(TxSenderConfig::default());
        assert_eq!(s.with_margin(100_000), 135_000);
        let none = sender(TxSenderConfig { gas_margin_percent: 0, gas_margin_extra: 0, ..Default::default() });
        assert_eq!(none.with_margin(21_000), 21_000);
        assert_eq!(s.with_margin(u64::MAX), u64::MAX);
    }

    #[tokio::test]
    async fn transactions_sign_for_the_chain_and_blob_ones_carry_their_sidecar() {
        use alloy_consensus::{Transaction as _, transaction::SignerRecoverable};
        use alloy_eips::{Decodable2718, eip4844::env_settings::EnvKzgSettings};
        let key = PrivateKeySigner::random();
        let client = L1Client::new(crate::L1ClientConfig::new("http://127.0.0.1:1")).unwrap();
        let s = TxSender::new(client, key.clone(), 7, TxSenderConfig::default());
        let fees = TxFees { max_fee_per_gas: 10, max_priority_fee_per_gas: 1, max_fee_per_blob_gas: 2 };
        let to = Address::repeat_byte(1);
        let raw = s.sign(&L1Tx::call(to, vec![1, 2]), 3, 50_000, fees).await.unwrap();
        let tx = TxEnvelope::decode_2718(&mut raw.as_slice()).unwrap();
        assert_eq!((tx.chain_id(), tx.nonce(), tx.gas_limit(), tx.to()), (Some(7), 3, 50_000, Some(to)));
        assert_eq!(tx.recover_signer().unwrap(), key.address());

        let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(
            vec![Default::default()],
            EnvKzgSettings::Default.get(),
        )
        .unwrap();
        let blob_tx = L1Tx::call(to, vec![3]).with_sidecar(sidecar.clone());
        assert_eq!(blob_tx.blobs(), 1);
        let raw = s.sign(&blob_tx, 4, 60_000, fees).await.unwrap();
        let decoded =
            EthereumTxEnvelope::<TxEip4844WithSidecar<BlobTransactionSidecarVariant>>::decode_2718(&mut raw.as_slice())
                .unwrap();
        assert_eq!(decoded.max_fee_per_blob_gas(), Some(2));
        assert_eq!(decoded.blob_versioned_hashes().unwrap().len(), 1);
        assert_eq!(decoded.recover_signer().unwrap(), key.address());
        let create = L1Tx::create(vec![0]).with_sidecar(sidecar);
        assert!(matches!(s.sign(&create, 0, 1, fees).await, Err(TxError::BlobCreate)));
    }
}
