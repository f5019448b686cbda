//! The seam between the RPC server and a chain: what a node must offer to be served.

use alloy_consensus::{Header, Sealed, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256};
use nrd_chain::{BlockHashes, ChainSpec, Classify, Severity, StateError, StoredBlock, TrieState};
use std::sync::Arc;
use tokio::sync::broadcast;

/// Why a [`Backend`] did not take a transaction or could not answer. `eth_sendRawTransaction`
/// answers every one with `-32000` and its message; `eth_getTransactionCount` with `-32603`.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The node refused the transaction (pool rules, its policy, a block it could not build):
    /// the source's message is what the client sees ("nonce too low: …", as geth words it).
    #[error(transparent)]
    Rejected(Box<dyn std::error::Error + Send + Sync + 'static>),
    /// This node takes no transactions: it follows L1 and does not sequence.
    #[error("this node follows L1 and does not sequence: send transactions to the sequencer")]
    NotSequencing,
    /// State the answer needs could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// The node could not open its state (its store failed): the source says why.
    #[error("the node's state is unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync + 'static>),
}

impl BackendError {
    /// A refusal with `source` as its reason.
    pub fn rejected(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Rejected(Box::new(source))
    }

    /// The node's state could not be opened, for `source`.
    pub fn unavailable(source: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Unavailable(Box::new(source))
    }
}

impl Classify for BackendError {
    fn severity(&self) -> Severity {
        match self {
            // The same bytes sent again meet the same rules.
            Self::Rejected(_) | Self::NotSequencing => Severity::Critical,
            Self::State(e) => e.severity(),
            // The store may answer again (I/O); a damaged one shows in the node's own errors.
            Self::Unavailable(_) => Severity::Temporary,
        }
    }
}

/// A chain the Ethereum JSON-RPC can serve: the L2 node (`nrd-node`) and the L1 devnet
/// (`nrd-l1-devnet`) implement it.
pub trait Backend: Send + Sync + 'static {
    /// A view of the state after one block: reads, calls, proofs and re-execution run on it
    /// (changes stay in the view).
    type State: TrieState + Send;
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
    /// A canonical block's header, also when its body is pruned.
    fn header(&self, number: u64) -> Option<Sealed<Header>> {
        self.block(number).map(|b| Sealed::new_unchecked(b.header().clone(), b.hash))
    }
    /// The number of the canonical block with this hash, also when its body is pruned.
    fn block_number(&self, hash: B256) -> Option<u64> {
        self.block_by_hash(hash).map(|b| b.number())
    }
    /// The oldest block whose body and receipts are kept: older blocks answer "pruned history
    /// unavailable" (EIP-4444's error, as geth words it).
    fn bodies_from(&self) -> u64 {
        0
    }
    /// The state after block `number`, if kept (`None` beyond the history window).
    fn state_at(&self, number: u64) -> Option<Self::State>;
    /// A mined transaction: its block and index.
    fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)>;
    /// A transaction waiting in the pool.
    fn pooled(&self, hash: B256) -> Option<Recovered<TxEnvelope>>;
    /// Submits a raw transaction (network encoding); the error's message is the node's reason.
    fn submit_raw(&self, raw: &[u8]) -> Result<B256, BackendError>;
    /// The next nonce of `address`, counting pooled transactions.
    fn pending_nonce(&self, address: Address) -> Result<u64, BackendError>;
    /// The next block's environment as far as known (number, timestamp, base fee, blob gas).
    fn pending_header(&self) -> Header;
    /// New heads as they arrive.
    fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>>;
}

/// Block hashes of a backend's canonical chain, for `BLOCKHASH` in calls.
pub(crate) struct BackendHashes<'a, B: ?Sized>(pub(crate) &'a B);

impl<B: Backend + ?Sized> BlockHashes for BackendHashes<'_, B> {
    fn block_hash(&self, number: u64) -> Option<B256> {
        self.0.header(number).map(|h| h.hash())
    }
}
