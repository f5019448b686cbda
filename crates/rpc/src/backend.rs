//! The seam between the RPC server and a chain: what a node must offer to be served.

use alloy_consensus::{Header, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256};
use nrd_chain::{BlockHashes, ChainSpec, MemoryState, StoredBlock};
use nrd_l1_devnet::Devnet;
use std::sync::Arc;
use tokio::sync::broadcast;

/// A chain the Ethereum JSON-RPC can serve (the L1 devnet now, the L2 node later).
pub trait Backend: Send + Sync + 'static {
    /// Chain rules.
    fn spec(&self) -> &ChainSpec;
    /// The head block.
    fn head(&self) -> Arc<StoredBlock>;
    /// The newest block that is safe (defaults to the head on a single-node chain).
    fn safe(&self) -> Arc<StoredBlock> {
        self.head()
    }
    /// The newest finalized block (defaults to the head on a single-node chain).
    fn finalized(&self) -> Arc<StoredBlock> {
        self.head()
    }
    /// A canonical block by number.
    fn block(&self, number: u64) -> Option<Arc<StoredBlock>>;
    /// A canonical block by hash.
    fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>>;
    /// The state after block `number`, if kept.
    fn state_at(&self, number: u64) -> Option<Arc<MemoryState>>;
    /// A mined transaction: its block and index.
    fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)>;
    /// A transaction waiting in the pool.
    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>>;
    /// Submits a raw transaction (network encoding); the error message is the node's reason.
    fn submit_raw(&self, raw: &[u8]) -> Result<B256, String>;
    /// The next nonce of `address`, counting pooled transactions.
    fn pending_nonce(&self, address: Address) -> Result<u64, String>;
    /// The next block's environment as far as known (number, timestamp, base fee, blob gas).
    fn pending_header(&self) -> Header;
    /// New heads as they arrive.
    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>>;
}

impl Backend for Devnet {
    fn spec(&self) -> &ChainSpec {
        Self::spec(self)
    }

    fn head(&self) -> Arc<StoredBlock> {
        Self::head(self)
    }

    fn finalized(&self) -> Arc<StoredBlock> {
        let head = Self::head(self);
        let depth = self.config().finality_depth;
        Self::block(self, head.number().saturating_sub(depth)).unwrap_or(head)
    }

    fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        Self::block(self, number)
    }

    fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        Self::block_by_hash(self, hash)
    }

    fn state_at(&self, number: u64) -> Option<Arc<MemoryState>> {
        Self::state_at(self, number)
    }

    fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        Self::transaction(self, hash).map(|l| (l.block, l.index))
    }

    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>> {
        Self::pooled(self, hash).map(|p| p.tx)
    }

    fn submit_raw(&self, raw: &[u8]) -> Result<B256, String> {
        Self::submit_raw(self, raw).map_err(|e| e.to_string())
    }

    fn pending_nonce(&self, address: Address) -> Result<u64, String> {
        Self::pending_nonce(self, address).map_err(|e| e.to_string())
    }

    fn pending_header(&self) -> Header {
        Self::pending_header(self)
    }

    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        Self::subscribe(self)
    }
}

/// Block hashes of a backend's canonical chain, for `BLOCKHASH` in calls.
pub(crate) struct BackendHashes<'a, B: ?Sized>(pub(crate) &'a B);

impl<B: Backend + ?Sized> BlockHashes for BackendHashes<'_, B> {
    fn block_hash(&self, number: u64) -> Option<B256> {
        self.0.block(number).map(|b| b.hash)
    }
}
