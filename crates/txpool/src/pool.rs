//! The transaction pool: admission checks, nonce queues per sender, replacement by fee bump,
//! and block candidates ordered by effective tip.

use alloy_consensus::{
    Signed, Transaction, TxEip4844Variant, TxEnvelope,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::Decodable2718;
use alloy_eips::eip2718::Eip2718Error;
use alloy_eips::eip4844::BlobTransactionValidationError;
use alloy_eips::eip4844::env_settings::EnvKzgSettings;
use alloy_eips::eip7594::BlobTransactionSidecarVariant;
use alloy_evm::FromRecoveredTx;
use alloy_primitives::{Address, B256, U256, map::HashMap};
use nrd_chain::{Classify, Severity, SharedError, StateError, StateProvider, StateResult};
use revm::{
    context::TxEnv, context_interface::cfg::gas::calculate_initial_tx_gas_for_tx, primitives::hardfork::SpecId,
};
use std::collections::BTreeMap;

/// Why the pool refuses a transaction. Messages follow geth's, which tools recognise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PoolError {
    /// The bytes are not a transaction.
    #[error("rlp: {0}")]
    Decode(#[source] SharedError<Eip2718Error>),
    /// Bytes follow the transaction.
    #[error("rlp: {0} bytes after the transaction")]
    TrailingBytes(usize),
    /// The signature does not recover a sender (alloy's recovery error says no more).
    #[error("invalid sender: Failed to recover the signer")]
    InvalidSender,
    /// Signed for another chain.
    #[error("invalid chain id: have {got}, want {want}")]
    ChainId {
        /// In the transaction.
        got: u64,
        /// This chain's.
        want: u64,
    },
    /// The nonce was already used.
    #[error("nonce too low: next nonce {state}, tx nonce {tx}")]
    NonceTooLow {
        /// Account nonce.
        state: u64,
        /// Transaction nonce.
        tx: u64,
    },
    /// Too far ahead of the sender's pending nonce (account nonce plus its ready transactions).
    #[error("nonce too high: next nonce {state}, tx nonce {tx} (at most {max_gap} ahead)")]
    NonceGap {
        /// Pending nonce.
        state: u64,
        /// Transaction nonce.
        tx: u64,
        /// Allowed gap.
        max_gap: u64,
    },
    /// The sender cannot pay the maximum cost.
    #[error("insufficient funds for gas * price + value: balance {balance}, tx cost {cost}")]
    InsufficientFunds {
        /// Balance.
        balance: U256,
        /// Maximum cost.
        cost: U256,
    },
    /// The gas limit is below the transaction's intrinsic gas.
    #[error("intrinsic gas too low: gas {gas}, minimum needed {intrinsic}")]
    IntrinsicGas {
        /// Gas limit.
        gas: u64,
        /// Intrinsic gas.
        intrinsic: u64,
    },
    /// The gas limit is above the block gas limit.
    #[error("exceeds block gas limit: gas {gas}, block limit {limit}")]
    GasLimit {
        /// Gas limit.
        gas: u64,
        /// Block gas limit.
        limit: u64,
    },
    /// The fee cap is below the next block's base fee.
    #[error("max fee per gas less than block base fee: maxFeePerGas {max_fee}, baseFee {base_fee}")]
    FeeCapTooLow {
        /// Fee cap.
        max_fee: u128,
        /// Next base fee.
        base_fee: u64,
    },
    /// The tip is above the fee cap.
    #[error("max priority fee per gas higher than max fee per gas")]
    TipAboveFeeCap,
    /// The blob fee cap is below the next block's blob base fee.
    #[error("max fee per blob gas less than block blob gas fee: have {have}, want {want}")]
    BlobFeeCapTooLow {
        /// Blob fee cap.
        have: u128,
        /// Blob base fee.
        want: u128,
    },
    /// A blob transaction's sidecar does not match its blob hashes or its KZG proofs fail.
    #[error("invalid blob sidecar: {0}")]
    Sidecar(#[source] SharedError<BlobTransactionValidationError>),
    /// A blob transaction came without its sidecar (network form with sidecar expected).
    #[error("invalid blob sidecar: blob transactions must be sent with their sidecar ({0})")]
    SidecarMissing(#[source] SharedError<Eip2718Error>),
    /// A pooled blob transaction has no sidecar.
    #[error("invalid blob sidecar: missing")]
    NoSidecar,
    /// The same transaction is already pooled.
    #[error("already known")]
    AlreadyKnown,
    /// A transaction with this nonce is pooled and this one does not pay enough more.
    #[error("replacement transaction underpriced: needs {bump_percent}% more fee and tip")]
    ReplacementUnderpriced {
        /// Required bump.
        bump_percent: u64,
    },
    /// The pool or the sender's queue is full.
    #[error("txpool is full")]
    Full,
    /// Blob and non-blob transactions of one sender cannot be mixed (as in geth).
    #[error("address already reserved by another transaction type")]
    TypeConflict,
    /// The sender has code and is not a delegated EOA (EIP-3607).
    #[error("sender not an eoa: address {0}, codehash present")]
    SenderNotEoa(Address),
    /// State could not be read.
    #[error("state: {0}")]
    State(#[from] StateError),
}

impl Classify for PoolError {
    fn severity(&self) -> Severity {
        match self {
            // The chain or the pool may move so that the same transaction is admitted later:
            // earlier nonces land, the sender is funded, the base fee falls, room frees up.
            Self::NonceGap { .. }
            | Self::InsufficientFunds { .. }
            | Self::FeeCapTooLow { .. }
            | Self::BlobFeeCapTooLow { .. }
            | Self::Full
            | Self::TypeConflict => Severity::Temporary,
            Self::State(e) => e.severity(),
            // The transaction itself is wrong (or already in): sending it again cannot help.
            _ => Severity::Critical,
        }
    }
}

impl PoolError {
    /// A short label of the reason, for metrics (`nrd_pool_rejections_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::Decode(_) | Self::TrailingBytes(_) => "decode",
            Self::InvalidSender => "invalid_sender",
            Self::ChainId { .. } => "chain_id",
            Self::NonceTooLow { .. } => "nonce_too_low",
            Self::NonceGap { .. } => "nonce_gap",
            Self::InsufficientFunds { .. } => "insufficient_funds",
            Self::IntrinsicGas { .. } => "intrinsic_gas",
            Self::GasLimit { .. } => "gas_limit",
            Self::FeeCapTooLow { .. } => "fee_cap_too_low",
            Self::TipAboveFeeCap => "tip_above_fee_cap",
            Self::BlobFeeCapTooLow { .. } => "blob_fee_cap_too_low",
            Self::Sidecar(_) | Self::SidecarMissing(_) | Self::NoSidecar => "sidecar",
            Self::AlreadyKnown => "already_known",
            Self::ReplacementUnderpriced { .. } => "replacement_underpriced",
            Self::Full => "full",
            Self::TypeConflict => "type_conflict",
            Self::SenderNotEoa(_) => "sender_not_eoa",
            Self::State(_) => "state",
        }
    }
}

/// A pooled transaction.
#[derive(Debug, Clone)]
pub struct PooledTx {
    /// The transaction and its sender.
    pub tx: Recovered<TxEnvelope>,
    /// Its hash.
    pub hash: B256,
    /// Blob sidecar (type-3 transactions).
    pub sidecar: Option<BlobTransactionSidecarVariant>,
}

impl PooledTx {
    fn tip_at(&self, base_fee: u64) -> u128 {
        self.tx.effective_tip_per_gas(base_fee).unwrap_or(0)
    }
}

/// Pool limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoolLimits {
    /// Transactions in the pool.
    pub max_total: usize,
    /// Transactions per sender.
    pub max_per_sender: usize,
    /// How far a nonce may run ahead of the sender's pending nonce (queued, not yet executable).
    pub max_nonce_gap: u64,
    /// Fee bump a replacement must pay, in percent.
    pub price_bump_percent: u64,
}

impl Default for PoolLimits {
    fn default() -> Self {
        Self { max_total: 20_000, max_per_sender: 4096, max_nonce_gap: 64, price_bump_percent: 10 }
    }
}

/// What admission needs to know about the chain.
#[derive(Debug, Clone, Copy)]
pub struct AdmissionContext {
    /// Chain id.
    pub chain_id: u64,
    /// Rules of the next block.
    pub spec: SpecId,
    /// Next block's base fee.
    pub base_fee: u64,
    /// Next block's blob base fee (if blobs are active).
    pub blob_base_fee: Option<u128>,
    /// Block gas limit.
    pub gas_limit: u64,
}

/// The transaction pool.
#[derive(Debug, Default)]
pub struct Pool {
    limits: PoolLimits,
    senders: HashMap<Address, BTreeMap<u64, PooledTx>>,
    by_hash: HashMap<B256, (Address, u64)>,
}

impl Pool {
    /// An empty pool.
    pub fn new(limits: PoolLimits) -> Self {
        Self { limits, ..Default::default() }
    }

    /// Number of pooled transactions.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether the pool is empty.
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// A pooled transaction by hash.
    pub fn get(&self, hash: &B256) -> Option<&PooledTx> {
        let (sender, nonce) = self.by_hash.get(hash)?;
        self.senders.get(sender)?.get(nonce)
    }

    /// The nonce after the sender's highest contiguous pooled transaction (`eth_getTransactionCount(pending)`).
    pub fn pending_nonce(&self, sender: Address, state_nonce: u64) -> u64 {
        let mut next = state_nonce;
        if let Some(queue) = self.senders.get(&sender) {
            while queue.contains_key(&next) {
                next += 1;
            }
        }
        next
    }

    /// Checks `tx` against the state and adds it; returns the hash of a replaced transaction.
    pub fn add(
        &mut self,
        tx: PooledTx,
        state: &mut impl StateProvider,
        ctx: &AdmissionContext,
    ) -> Result<Option<B256>, PoolError> {
        if self.by_hash.contains_key(&tx.hash) {
            return Err(PoolError::AlreadyKnown);
        }
        let sender = tx.tx.signer();
        let inner = tx.tx.inner();
        if let Some(chain_id) = inner.chain_id()
            && chain_id != ctx.chain_id
        {
            return Err(PoolError::ChainId { got: chain_id, want: ctx.chain_id });
        }
        fn st<T>(r: StateResult<T>) -> Result<T, PoolError> {
            r.map_err(PoolError::State)
        }
        let account = st(state.account(sender))?.unwrap_or_default();
        if account.code_hash != alloy_primitives::KECCAK256_EMPTY {
            let code = st(state.code(account.code_hash))?;
            if !code.starts_with(&[0xef, 0x01, 0x00]) {
                return Err(PoolError::SenderNotEoa(sender));
            }
        }
        let nonce = inner.nonce();
        if nonce < account.nonce {
            return Err(PoolError::NonceTooLow { state: account.nonce, tx: nonce });
        }
        let pending = self.pending_nonce(sender, account.nonce);
        let max_gap = self.limits.max_nonce_gap;
        if nonce >= pending.saturating_add(max_gap) {
            return Err(PoolError::NonceGap { state: pending, tx: nonce, max_gap });
        }
        if inner.gas_limit() > ctx.gas_limit {
            return Err(PoolError::GasLimit { gas: inner.gas_limit(), limit: ctx.gas_limit });
        }
        let env = TxEnv::from_recovered_tx(inner, sender);
        let intrinsic = calculate_initial_tx_gas_for_tx(&env, ctx.spec, None);
        let needed = intrinsic.initial_total_gas().max(intrinsic.floor_gas);
        if inner.gas_limit() < needed {
            return Err(PoolError::IntrinsicGas { gas: inner.gas_limit(), intrinsic: needed });
        }
        if inner.max_priority_fee_per_gas().is_some_and(|tip| tip > inner.max_fee_per_gas()) {
            return Err(PoolError::TipAboveFeeCap);
        }
        if inner.max_fee_per_gas() < u128::from(ctx.base_fee) {
            return Err(PoolError::FeeCapTooLow { max_fee: inner.max_fee_per_gas(), base_fee: ctx.base_fee });
        }
        let blob_gas = inner.blob_gas_used().unwrap_or(0);
        if let (Some(cap), Some(want)) = (inner.max_fee_per_blob_gas(), ctx.blob_base_fee)
            && cap < want
        {
            return Err(PoolError::BlobFeeCapTooLow { have: cap, want });
        }
        let cost = U256::from(inner.gas_limit()) * U256::from(inner.max_fee_per_gas())
            + inner.value()
            + U256::from(blob_gas) * U256::from(inner.max_fee_per_blob_gas().unwrap_or(0));
        if account.balance < cost {
            return Err(PoolError::InsufficientFunds { balance: account.balance, cost });
        }
        if let Some(hashes) = inner.blob_versioned_hashes() {
            let sidecar = tx.sidecar.as_ref().ok_or(PoolError::NoSidecar)?;
            sidecar.validate(hashes, EnvKzgSettings::Default.get()).map_err(|e| PoolError::Sidecar(e.into()))?;
        }

        let queue = self.senders.entry(sender).or_default();
        let is_blob = inner.is_eip4844();
        if queue.values().any(|p| p.tx.inner().is_eip4844() != is_blob && p.tx.nonce() != nonce) {
            return Err(PoolError::TypeConflict);
        }
        let replaced = match queue.get(&nonce) {
            Some(old) => {
                let bump = |old: u128| old + old * u128::from(self.limits.price_bump_percent) / 100;
                let of = old.tx.max_fee_per_gas();
                let ot = old.tx.max_priority_fee_per_gas().unwrap_or(of);
                let nf = inner.max_fee_per_gas();
                let nt = inner.max_priority_fee_per_gas().unwrap_or(nf);
                if nf < bump(of) || nt < bump(ot) {
                    return Err(PoolError::ReplacementUnderpriced { bump_percent: self.limits.price_bump_percent });
                }
                Some(old.hash)
            }
            None => {
                if queue.len() >= self.limits.max_per_sender || self.by_hash.len() >= self.limits.max_total {
                    return Err(PoolError::Full);
                }
                None
            }
        };
        if let Some(old) = replaced {
            self.by_hash.remove(&old);
        }
        self.by_hash.insert(tx.hash, (sender, nonce));
        queue.insert(nonce, tx);
        Ok(replaced)
    }

    /// Block candidates: per sender the run of nonces starting at its account nonce, merged
    /// across senders by effective tip at `base_fee` (highest first), nonce order kept.
    pub fn candidates(&self, base_fee: u64, nonce_of: &mut dyn FnMut(Address) -> u64) -> Vec<&PooledTx> {
        let mut runs: Vec<Vec<&PooledTx>> = self
            .senders
            .iter()
            .map(|(sender, queue)| {
                let mut next = nonce_of(*sender);
                let mut run = Vec::new();
                while let Some(tx) = queue.get(&next) {
                    if tx.tx.max_fee_per_gas() < u128::from(base_fee) {
                        break;
                    }
                    run.push(tx);
                    next += 1;
                }
                run.reverse();
                run
            })
            .collect();
        // A heap of each sender's next transaction, best effective tip first (ties by hash).
        let key = |tx: &PooledTx| (tx.tip_at(base_fee), std::cmp::Reverse(tx.hash));
        let mut heads: Vec<Option<&PooledTx>> = runs.iter_mut().map(Vec::pop).collect();
        let mut heap: std::collections::BinaryHeap<_> =
            heads.iter().enumerate().filter_map(|(i, tx)| tx.map(|tx| (key(tx), i))).collect();
        let mut out = Vec::with_capacity(self.by_hash.len());
        while let Some((_, i)) = heap.pop() {
            out.extend(heads[i].take());
            heads[i] = runs[i].pop();
            if let Some(next) = heads[i] {
                heap.push((key(next), i));
            }
        }
        out
    }

    /// Drops a transaction (rejected by the block builder).
    pub fn remove(&mut self, hash: &B256) -> Option<PooledTx> {
        let (sender, nonce) = self.by_hash.remove(hash)?;
        let queue = self.senders.get_mut(&sender)?;
        let tx = queue.remove(&nonce);
        if queue.is_empty() {
            self.senders.remove(&sender);
        }
        tx
    }

    /// Drops every transaction whose nonce the state has passed.
    pub fn prune(&mut self, nonce_of: &mut dyn FnMut(Address) -> u64) {
        let mut stale = Vec::new();
        for (sender, queue) in &self.senders {
            let next = nonce_of(*sender);
            stale.extend(queue.range(..next).map(|(_, tx)| tx.hash));
        }
        for hash in stale {
            self.remove(&hash);
        }
    }

    /// Every pooled transaction.
    pub fn iter(&self) -> impl Iterator<Item = &PooledTx> {
        self.senders.values().flat_map(|q| q.values())
    }
}
/// Decodes a raw transaction in network form; blob transactions must carry their sidecar.
pub fn decode_pooled(raw: &[u8]) -> Result<PooledTx, PoolError> {
    type Network =
        alloy_consensus::EthereumTxEnvelope<alloy_consensus::TxEip4844WithSidecar<BlobTransactionSidecarVariant>>;
    let mut buf = raw;
    let decoded = Network::decode_2718(&mut buf).map_err(|e| {
        if raw.first() == Some(&0x03) { PoolError::SidecarMissing(e.into()) } else { PoolError::Decode(e.into()) }
    })?;
    if !buf.is_empty() {
        return Err(PoolError::TrailingBytes(buf.len()));
    }
    let (tx, sidecar): (TxEnvelope, Option<BlobTransactionSidecarVariant>) = match decoded {
        Network::Eip4844(signed) => {
            let (with_sidecar, sig, hash) = signed.into_parts();
            let (tx, sidecar) = with_sidecar.into_parts();
            (TxEnvelope::Eip4844(Signed::new_unchecked(TxEip4844Variant::TxEip4844(tx), sig, hash)), Some(sidecar))
        }
        Network::Legacy(t) => (t.into(), None),
        Network::Eip2930(t) => (t.into(), None),
        Network::Eip1559(t) => (t.into(), None),
        Network::Eip7702(t) => (t.into(), None),
    };
    let sender = tx.recover_signer().map_err(|_| PoolError::InvalidSender)?;
    let hash = *tx.tx_hash();
    Ok(PooledTx { tx: alloy_consensus::transaction::Recovered::new_unchecked(tx, sender), hash, sidecar })
}
