//! The L2 node as the JSON-RPC sees it: the chain, plus the sequencer's pool when this node
//! sequences, plus rollup status for the `nrd_` methods.

use crate::L2Chain;
use alloy_consensus::{Header, Sealed, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256};
use nrd_chain::{ChainSpec, LockExt, StateProvider, StoredBlock};
use nrd_rpc::{Backend, BackendError};
use nrd_storage::StoreState;
use serde::Serialize;
use std::{
    sync::{Arc, Mutex},
    time::{SystemTime, UNIX_EPOCH},
};
use tokio::sync::broadcast;

/// Where a node sends transactions (the sequencer's pool).
pub trait TxSink: Send + Sync + std::fmt::Debug {
    /// Admits a raw transaction (network encoding); a refusal is [`BackendError::Rejected`],
    /// its message the reason as geth words it.
    fn submit(&self, raw: &[u8]) -> Result<B256, BackendError>;
    /// The next nonce of `address` counting pooled transactions, given its state nonce.
    fn pending_nonce(&self, address: Address, state_nonce: u64) -> u64;
    /// A pooled transaction.
    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>>;
    /// Pooled transactions.
    fn len(&self) -> usize;
    /// Whether the pool is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Rollup progress, for `nrd_rollupStatus` and logs.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RollupStatus {
    /// Whether this node sequences.
    pub sequencer: bool,
    /// The rollup contract on L1.
    pub rollup: alloy_primitives::Address,
    /// Newest L1 block the node has seen.
    pub l1_head: u64,
    /// L1 block the L2 head's anchor references.
    pub l1_anchor: u64,
    /// L2 head.
    pub unsafe_head: u64,
    /// Newest L2 block posted and verified on L1.
    pub safe_head: u64,
    /// Newest L2 block whose L1 block is finalized.
    pub finalized_head: u64,
    /// L1 messages enqueued but not yet applied on L2.
    pub pending_messages: u64,
    /// Transactions in the pool.
    pub pool_size: usize,
    /// Why posting stopped, if it did.
    pub halted: Option<String>,
}

/// The served L2 node.
#[derive(Debug)]
pub struct L2Node {
    chain: Arc<L2Chain>,
    pool: Option<Arc<dyn TxSink>>,
    status: Mutex<RollupStatus>,
    /// Seconds between blocks (for the pending header's timestamp).
    block_time: u64,
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl L2Node {
    /// A node over `chain`; `pool` when it sequences.
    pub fn new(chain: Arc<L2Chain>, pool: Option<Arc<dyn TxSink>>, block_time: u64) -> Self {
        let status = RollupStatus { sequencer: pool.is_some(), ..Default::default() };
        Self { chain, pool, status: Mutex::new(status), block_time }
    }

    /// The chain.
    pub fn chain(&self) -> &Arc<L2Chain> {
        &self.chain
    }

    /// Rewinds the chain to `number` after an L1 reorg; the transactions of the dropped blocks
    /// go back to the pool (when this node sequences), so nothing users sent is lost.
    pub fn rewind(&self, number: u64) -> Result<usize, crate::NodeError> {
        let dropped = self.chain.rewind(number)?;
        if let Some(pool) = &self.pool {
            for block in &dropped {
                for tx in &block.block.body.transactions {
                    let raw = alloy_eips::Encodable2718::encoded_2718(tx);
                    if let Err(e) = pool.submit(&raw) {
                        tracing::debug!(target: "nrd::node", "transaction of a rewound block not re-pooled: {e}");
                    }
                }
            }
        }
        Ok(dropped.len())
    }

    /// Updates the rollup status.
    pub fn update_status(&self, f: impl FnOnce(&mut RollupStatus)) {
        let mut status = self.status.lock_or_recover();
        f(&mut status);
    }

    /// The current rollup status.
    pub fn status(&self) -> RollupStatus {
        let mut status = self.status.lock_or_recover().clone();
        let head = self.chain.head().number();
        status.unsafe_head = head;
        status.safe_head = self.chain.safe();
        status.finalized_head = self.chain.finalized();
        status.l1_anchor = self.chain.l1_info(head).map_or(0, |i| i.l1_anchor);
        status.pool_size = self.pool.as_ref().map_or(0, |p| p.len());
        status
    }
}

impl Backend for L2Node {
    type State = StoreState;

    fn spec(&self) -> &ChainSpec {
        self.chain.spec()
    }

    fn head(&self) -> Arc<StoredBlock> {
        self.chain.head()
    }

    fn safe(&self) -> Arc<StoredBlock> {
        self.chain.block(self.chain.safe()).unwrap_or_else(|| self.chain.head())
    }

    fn finalized(&self) -> Arc<StoredBlock> {
        self.chain.block(self.chain.finalized()).unwrap_or_else(|| self.chain.head())
    }

    fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        self.chain.block(number)
    }

    fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        self.chain.block_by_hash(hash)
    }

    fn header(&self, number: u64) -> Option<Sealed<Header>> {
        self.chain.header(number)
    }

    fn block_number(&self, hash: B256) -> Option<u64> {
        self.chain.block_number(hash)
    }

    fn bodies_from(&self) -> u64 {
        self.chain.bodies_from()
    }

    fn state_at(&self, number: u64) -> Option<StoreState> {
        self.chain.state_at(number)
    }

    fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        self.chain.transaction(hash)
    }

    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>> {
        self.pool.as_ref()?.pooled(hash)
    }

    fn submit_raw(&self, raw: &[u8]) -> Result<B256, BackendError> {
        match &self.pool {
            Some(pool) => pool.submit(raw),
            None => Err(BackendError::NotSequencing),
        }
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError> {
        let mut state = self.chain.head_state().map_err(BackendError::unavailable)?;
        let nonce = state.account(address)?.map_or(0, |a| a.nonce);
        Ok(self.pool.as_ref().map_or(nonce, |p| p.pending_nonce(address, nonce)))
    }

    fn pending_header(&self) -> Header {
        let parent = self.chain.head();
        let parent = parent.header();
        let timestamp = now().max(parent.timestamp + self.block_time.max(1));
        Header {
            parent_hash: parent.hash_slow(),
            number: parent.number + 1,
            timestamp,
            gas_limit: parent.gas_limit,
            beneficiary: parent.beneficiary,
            base_fee_per_gas: parent.next_block_base_fee(self.chain.spec().base_fee_params()),
            excess_blob_gas: self.chain.spec().next_excess_blob_gas(parent, timestamp),
            mix_hash: parent.mix_hash,
            ..Default::default()
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        self.chain.subscribe()
    }
}
