//! Consensus rules a block must meet apart from execution: header against parent, body
//! commitments, and the outcome of execution against what the header claims.

use crate::{
    ChainSpec,
    error::{BlockError, HeaderError},
    execute::ExecutedBlock,
};
use alloy_consensus::{Block, EMPTY_OMMER_ROOT_HASH, Header, Sealed, Transaction, TxEnvelope, TxReceipt, proofs};
use alloy_eips::eip4844::DATA_GAS_PER_BLOB;
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Bloom, U256};

/// Smallest gas limit a block may have.
pub const MIN_GAS_LIMIT: u64 = 5000;
/// A block's gas limit may move by less than `parent / GAS_LIMIT_BOUND_DIVISOR`.
pub const GAS_LIMIT_BOUND_DIVISOR: u64 = 1024;
/// Largest gas limit a block may have (2^63 - 1).
pub const MAX_GAS_LIMIT: u64 = i64::MAX as u64;
/// Longest extra data a header may carry.
pub const MAXIMUM_EXTRA_DATA_SIZE: usize = 32;

/// Checks `header` against its parent under `spec`.
pub fn validate_header(spec: &ChainSpec, header: &Header, parent: &Sealed<Header>) -> Result<(), HeaderError> {
    if header.parent_hash != parent.hash() {
        return Err(HeaderError::ParentHash { expected: parent.hash(), got: header.parent_hash });
    }
    if Some(header.number) != parent.number.checked_add(1) {
        return Err(HeaderError::Number { parent: parent.number, got: header.number });
    }
    if header.timestamp <= parent.timestamp {
        return Err(HeaderError::Timestamp { parent: parent.timestamp, got: header.timestamp });
    }
    if header.gas_used > header.gas_limit {
        return Err(HeaderError::GasUsedExceedsLimit { used: header.gas_used, limit: header.gas_limit });
    }
    let max_delta = parent.gas_limit / GAS_LIMIT_BOUND_DIVISOR;
    if header.gas_limit.abs_diff(parent.gas_limit) >= max_delta
        || header.gas_limit < MIN_GAS_LIMIT
        || header.gas_limit > MAX_GAS_LIMIT
    {
        return Err(HeaderError::GasLimit { parent: parent.gas_limit, got: header.gas_limit });
    }
    if header.extra_data.len() > MAXIMUM_EXTRA_DATA_SIZE {
        return Err(HeaderError::ExtraDataTooLong(header.extra_data.len()));
    }
    // Proof of stake.
    if header.difficulty != U256::ZERO {
        return Err(HeaderError::NonZeroAfterMerge("difficulty"));
    }
    if !header.nonce.is_zero() {
        return Err(HeaderError::NonZeroAfterMerge("nonce"));
    }
    if header.ommers_hash != EMPTY_OMMER_ROOT_HASH {
        return Err(HeaderError::OmmersAfterMerge);
    }
    // EIP-1559.
    let expected = parent.next_block_base_fee(spec.base_fee_params());
    if header.base_fee_per_gas != expected || expected.is_none() {
        return Err(HeaderError::BaseFee { expected, got: header.base_fee_per_gas });
    }
    // EIP-4895.
    let shanghai = spec.is_shanghai_active_at_timestamp(header.timestamp);
    presence(shanghai, header.withdrawals_root.is_some(), "withdrawals root")?;
    // EIP-4844 and EIP-4788.
    let blob_params = spec.blob_params_at(header.timestamp);
    presence(blob_params.is_some(), header.blob_gas_used.is_some(), "blob gas used")?;
    presence(blob_params.is_some(), header.excess_blob_gas.is_some(), "excess blob gas")?;
    presence(blob_params.is_some(), header.parent_beacon_block_root.is_some(), "parent beacon block root")?;
    if let (Some(params), Some(used), Some(excess)) = (blob_params, header.blob_gas_used, header.excess_blob_gas) {
        let max = params.max_blob_gas_per_block();
        if used > max || used % DATA_GAS_PER_BLOB != 0 {
            return Err(HeaderError::BlobGasUsed { got: used, max });
        }
        // The first Cancun block's parent has no blob fields: they count as zero.
        let parent_excess = parent.excess_blob_gas.unwrap_or_default();
        let parent_used = parent.blob_gas_used.unwrap_or_default();
        if parent_excess.checked_add(parent_used).is_none() {
            return Err(HeaderError::BlobGasUsed { got: parent_used, max });
        }
        let expected = spec.next_excess_blob_gas(parent, header.timestamp).unwrap_or_default();
        if excess != expected {
            return Err(HeaderError::ExcessBlobGas { expected, got: excess });
        }
    }
    // EIP-7685.
    let prague = spec.is_prague_active_at_timestamp(header.timestamp);
    presence(prague, header.requests_hash.is_some(), "requests hash")?;
    Ok(())
}

fn presence(required: bool, present: bool, field: &'static str) -> Result<(), HeaderError> {
    match (required, present) {
        (true, false) => Err(HeaderError::MissingField(field)),
        (false, true) => Err(HeaderError::UnexpectedField(field)),
        _ => Ok(()),
    }
}

fn mismatch<T: PartialEq + std::fmt::Debug + Copy>(
    field: &'static str,
    header: T,
    computed: T,
) -> Result<(), BlockError> {
    if header == computed {
        Ok(())
    } else {
        Err(BlockError::Mismatch { field, header: format!("{header:?}"), computed: format!("{computed:?}") })
    }
}

/// Checks the body against the header's commitments (before execution).
pub fn validate_body(spec: &ChainSpec, block: &Block<TxEnvelope>) -> Result<(), BlockError> {
    let header = &block.header;
    if !block.body.ommers.is_empty() {
        return Err(HeaderError::OmmersAfterMerge.into());
    }
    mismatch("ommers hash", header.ommers_hash, proofs::calculate_ommers_root(&block.body.ommers))?;
    mismatch(
        "transactions root",
        header.transactions_root,
        proofs::calculate_transaction_root(&block.body.transactions),
    )?;
    match (&block.body.withdrawals, header.withdrawals_root) {
        (Some(w), Some(root)) => mismatch("withdrawals root", root, proofs::calculate_withdrawals_root(w))?,
        (None, None) => {}
        (Some(_), None) => return Err(HeaderError::UnexpectedField("withdrawals").into()),
        (None, Some(_)) => return Err(HeaderError::MissingField("withdrawals").into()),
    }
    if let Some(params) = spec.blob_params_at(header.timestamp) {
        let blobs: u64 =
            block.body.transactions.iter().map(|tx| tx.blob_versioned_hashes().map_or(0, |h| h.len() as u64)).sum();
        if blobs > params.max_blob_count {
            return Err(BlockError::TooManyBlobs { count: blobs, max: params.max_blob_count });
        }
    }
    Ok(())
}

/// The block's logs bloom: the union of its receipts' blooms.
pub(crate) fn logs_bloom(receipts: &[alloy_consensus::ReceiptEnvelope]) -> Bloom {
    receipts.iter().fold(Bloom::ZERO, |acc, r| acc | r.bloom())
}

/// Checks what execution produced against what the header claims (everything but the state root).
pub fn validate_outcome(header: &Header, executed: &ExecutedBlock) -> Result<(), BlockError> {
    mismatch("gas used", header.gas_used, executed.gas_used)?;
    if let Some(blob_gas_used) = header.blob_gas_used {
        mismatch("blob gas used", blob_gas_used, executed.blob_gas_used)?;
    }
    mismatch("receipts root", header.receipts_root, proofs::calculate_receipt_root(&executed.receipts))?;
    let bloom = logs_bloom(&executed.receipts);
    mismatch("logs bloom", header.logs_bloom, bloom)?;
    if let Some(requests_hash) = header.requests_hash {
        mismatch("requests hash", requests_hash, executed.requests.requests_hash())?;
    }
    Ok(())
}
