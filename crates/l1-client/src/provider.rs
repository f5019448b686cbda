//! [`L1Provider`]: the reads that following L1 needs, as a seam (the [`L1Client`] over
//! JSON-RPC and the beacon API in production, an in-memory chain in unit tests).

use crate::{L1Client, L1Error};
use alloy_eips::{BlockId, BlockNumberOrTag, eip4844::Blob};
use alloy_primitives::B256;
use alloy_rpc_types_eth::{Block, Filter, Header, Log, TransactionReceipt};
use std::{future::Future, sync::Arc};

/// What a reader of L1 asks: the chain id, the head, blocks, headers, receipts, logs and blobs.
/// [`L1Client`] implements it over JSON-RPC and the beacon API; `nrd-l1-watcher` and the node's
/// follower are generic over it, so that they can be tested against an in-memory chain.
///
/// Every answer is what the node says now: `None` for a block or receipt it does not have.
pub trait L1Provider: Send + Sync {
    /// `eth_chainId`.
    fn chain_id(&self) -> impl Future<Output = Result<u64, L1Error>> + Send;

    /// `eth_blockNumber`: the head's number.
    fn block_number(&self) -> impl Future<Output = Result<u64, L1Error>> + Send;

    /// The block `number` (or tag) with full transactions.
    fn block(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send;

    /// The block with hash `hash`, with full transactions.
    fn block_by_hash(&self, hash: B256) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send;

    /// The header of block `number` (or tag).
    fn header(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Header>, L1Error>> + Send;

    /// The receipts of a block by number, tag or hash.
    fn block_receipts(
        &self,
        block: BlockId,
    ) -> impl Future<Output = Result<Option<Vec<TransactionReceipt>>, L1Error>> + Send;

    /// The logs `filter` selects.
    fn logs(&self, filter: &Filter) -> impl Future<Output = Result<Vec<Log>, L1Error>> + Send;

    /// The receipt of transaction `hash`; `None` while it is not in a block.
    fn transaction_receipt(
        &self,
        hash: B256,
    ) -> impl Future<Output = Result<Option<TransactionReceipt>, L1Error>> + Send;

    /// The blobs of block `block_id` (beacon slot; on nrd's devnet the block number), each with
    /// the versioned hash of its commitment, checked against its KZG proof.
    fn blob_sidecars(&self, block_id: u64) -> impl Future<Output = Result<Vec<(B256, Blob)>, L1Error>> + Send;
}

impl L1Provider for L1Client {
    fn chain_id(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        Self::chain_id(self)
    }

    fn block_number(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        Self::block_number(self)
    }

    fn block(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        Self::block(self, number)
    }

    fn block_by_hash(&self, hash: B256) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        Self::block_by_hash(self, hash)
    }

    fn header(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Header>, L1Error>> + Send {
        Self::header(self, number)
    }

    fn block_receipts(
        &self,
        block: BlockId,
    ) -> impl Future<Output = Result<Option<Vec<TransactionReceipt>>, L1Error>> + Send {
        Self::block_receipts(self, block)
    }

    fn logs(&self, filter: &Filter) -> impl Future<Output = Result<Vec<Log>, L1Error>> + Send {
        Self::logs(self, filter)
    }

    fn transaction_receipt(
        &self,
        hash: B256,
    ) -> impl Future<Output = Result<Option<TransactionReceipt>, L1Error>> + Send {
        Self::transaction_receipt(self, hash)
    }

    fn blob_sidecars(&self, block_id: u64) -> impl Future<Output = Result<Vec<(B256, Blob)>, L1Error>> + Send {
        Self::blob_sidecars(self, block_id)
    }
}

impl<P: L1Provider + ?Sized> L1Provider for Arc<P> {
    fn chain_id(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        (**self).chain_id()
    }

    fn block_number(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        (**self).block_number()
    }

    fn block(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        (**self).block(number)
    }

    fn block_by_hash(&self, hash: B256) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        (**self).block_by_hash(hash)
    }

    fn header(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Header>, L1Error>> + Send {
        (**self).header(number)
    }

    fn block_receipts(
        &self,
        block: BlockId,
    ) -> impl Future<Output = Result<Option<Vec<TransactionReceipt>>, L1Error>> + Send {
        (**self).block_receipts(block)
    }

    fn logs(&self, filter: &Filter) -> impl Future<Output = Result<Vec<Log>, L1Error>> + Send {
        (**self).logs(filter)
    }

    fn transaction_receipt(
        &self,
        hash: B256,
    ) -> impl Future<Output = Result<Option<TransactionReceipt>, L1Error>> + Send {
        (**self).transaction_receipt(hash)
    }

    fn blob_sidecars(&self, block_id: u64) -> impl Future<Output = Result<Vec<(B256, Blob)>, L1Error>> + Send {
        (**self).blob_sidecars(block_id)
    }
}
