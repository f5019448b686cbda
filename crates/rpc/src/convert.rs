//! From stored blocks to JSON-RPC types.

use alloy_consensus::{Transaction as _, TxEnvelope, transaction::Recovered};
use alloy_eips::eip4844::DATA_GAS_PER_BLOB;
use alloy_primitives::{Address, U256};
use alloy_rpc_types_eth::{Block, BlockTransactions, Header, Log, Transaction, TransactionReceipt};
use nrd_chain::{ChainSpec, StoredBlock};

/// An RPC transaction at `index` of `block`.
pub(crate) fn rpc_transaction(block: &StoredBlock, index: usize) -> Option<Transaction> {
    let tx = block.block.body.transactions.get(index)?.clone();
    let sender = *block.senders.get(index)?;
    let base_fee = block.header().base_fee_per_gas;
    Some(Transaction {
        effective_gas_price: Some(tx.effective_gas_price(base_fee)),
        inner: Recovered::new_unchecked(tx, sender),
        block_hash: Some(block.hash),
        block_number: Some(block.number()),
        transaction_index: Some(index as u64),
        block_timestamp: Some(block.header().timestamp),
    })
}

/// An RPC transaction still in the pool.
pub(crate) fn pending_transaction(tx: Recovered<TxEnvelope>) -> Transaction {
    Transaction {
        inner: tx,
        block_hash: None,
        block_number: None,
        transaction_index: None,
        effective_gas_price: None,
        block_timestamp: None,
    }
}

/// An RPC block, with full transactions or their hashes.
pub(crate) fn rpc_block(block: &StoredBlock, full: bool) -> Block<Transaction> {
    let transactions = if full {
        BlockTransactions::Full((0..block.tx_hashes.len()).filter_map(|i| rpc_transaction(block, i)).collect())
    } else {
        BlockTransactions::Hashes(block.tx_hashes.clone())
    };
    let size = alloy_rlp::Encodable::length(&block.block);
    Block {
        header: Header {
            hash: block.hash,
            inner: block.header().clone(),
            total_difficulty: Some(U256::ZERO),
            size: Some(U256::from(size)),
        },
        uncles: vec![],
        transactions,
        withdrawals: block.block.body.withdrawals.clone(),
    }
}

/// A log of transaction `tx_index` of `block`, at block-wide position `log_index`.
fn rpc_log(block: &StoredBlock, tx_index: usize, log_index: u64, log: alloy_primitives::Log) -> Log {
    Log {
        inner: log,
        block_hash: Some(block.hash),
        block_number: Some(block.number()),
        block_timestamp: Some(block.header().timestamp),
        transaction_hash: block.tx_hashes.get(tx_index).copied(),
        transaction_index: Some(tx_index as u64),
        log_index: Some(log_index),
        removed: false,
    }
}

/// The logs of `block` with their positions, in order.
pub(crate) fn block_logs(block: &StoredBlock) -> Vec<Log> {
    let mut logs = Vec::new();
    for (tx_index, receipt) in block.receipts.iter().enumerate() {
        for log in receipt.logs() {
            logs.push(rpc_log(block, tx_index, logs.len() as u64, log.clone()));
        }
    }
    logs
}

/// The RPC receipt of transaction `index` of `block`.
pub(crate) fn rpc_receipt(spec: &ChainSpec, block: &StoredBlock, index: usize) -> Option<TransactionReceipt> {
    let receipt = block.receipts.get(index)?;
    let tx = block.block.body.transactions.get(index)?;
    let sender = *block.senders.get(index)?;
    let header = block.header();
    let prior_gas = index.checked_sub(1).map_or(0, |i| block.receipts[i].cumulative_gas_used());
    let mut log_index = block.receipts[..index].iter().map(|r| r.logs().len() as u64).sum::<u64>();
    let inner = receipt.clone().map_logs(|log| {
        log_index += 1;
        rpc_log(block, index, log_index - 1, log)
    });
    let blob_gas_used = tx.blob_versioned_hashes().map(|h| h.len() as u64 * DATA_GAS_PER_BLOB);
    let blob_gas_price = blob_gas_used.and_then(|_| spec.blob_base_fee(header));
    let contract_address: Option<Address> = tx.kind().is_create().then(|| sender.create(tx.nonce()));
    Some(TransactionReceipt {
        inner,
        transaction_hash: block.tx_hashes[index],
        transaction_index: Some(index as u64),
        block_hash: Some(block.hash),
        block_number: Some(block.number()),
        gas_used: receipt.cumulative_gas_used() - prior_gas,
        effective_gas_price: tx.effective_gas_price(header.base_fee_per_gas),
        blob_gas_used,
        blob_gas_price,
        from: sender,
        to: tx.to(),
        contract_address,
    })
}
