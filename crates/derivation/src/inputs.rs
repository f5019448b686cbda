//! Sequencing side: from the L2 parent, the pending L1 messages, ordered transactions and a
//! timestamp to the inputs of the next L2 block, anchor included.

use crate::DerivationError;
use alloy_consensus::{Header, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes};
use alloy_sol_types::SolCall;
use nrd_bridge::{ANCHOR_GAS_BUDGET, L1Message, L1MessageInbox, message_cost};
use nrd_chain::BlockAttributes;

/// An L1 block an L2 block is anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct L1BlockRef {
    /// Its number.
    pub number: u64,
    /// Its hash (what `blockhash(number)` returns on L1).
    pub hash: B256,
    /// Its timestamp.
    pub timestamp: u64,
}

/// Settings of the derivation function that are not consensus (the sequencer's choices).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SequencingConfig {
    /// Gas limit of each L2 block.
    pub gas_limit: u64,
    /// Fee recipient of L2 blocks.
    pub fee_recipient: Address,
}

/// Everything needed to build (and later post) the next L2 block.
#[derive(Debug, Clone)]
pub struct BlockInputs {
    /// Header inputs, anchor included; hand to `nrd_chain::build_block`.
    pub attributes: BlockAttributes,
    /// The transactions, in order.
    pub transactions: Vec<Recovered<TxEnvelope>>,
    /// The L1 messages the block applies (a prefix of the pending ones).
    pub messages: Vec<L1Message>,
    /// The L1 block the anchor references.
    pub l1: L1BlockRef,
}

/// The anchor calldata for an L2 block: `L1MessageInbox.anchor(l1Number, l1Hash, messages)`,
/// byte for byte what `NativeRollup.advance` builds on L1.
pub fn anchor_calldata(l1_number: u64, l1_hash: B256, messages: &[L1Message]) -> Bytes {
    L1MessageInbox::anchorCall {
        number: l1_number,
        hash: l1_hash,
        messages: messages.iter().cloned().map(Into::into).collect(),
    }
    .abi_encode()
    .into()
}

/// How many of `pending` (in queue order) one L2 block can apply within the anchor budget.
pub fn messages_that_fit(pending: &[L1Message]) -> usize {
    let mut cost = 0u64;
    pending
        .iter()
        .take_while(|m| {
            cost = cost.saturating_add(message_cost(m.gasLimit, m.data.len()));
            cost <= ANCHOR_GAS_BUDGET
        })
        .count()
}

/// The derivation rule for the next block: it applies every pending message that fits the
/// anchor budget, in queue order (so forced messages are never left behind while there is
/// room), at `timestamp` (after the parent's), anchored to `l1`, with `transactions` in order.
/// `pending` must start at the next unapplied message.
pub fn block_inputs(
    parent: &Header,
    pending: &[L1Message],
    transactions: Vec<Recovered<TxEnvelope>>,
    timestamp: u64,
    l1: L1BlockRef,
    config: &SequencingConfig,
) -> Result<BlockInputs, DerivationError> {
    if timestamp <= parent.timestamp {
        return Err(DerivationError::Timestamp { parent: parent.timestamp, timestamp });
    }
    for (i, pair) in pending.windows(2).enumerate() {
        if pair[1].index != pair[0].index + 1 {
            return Err(DerivationError::MessageGap { position: i + 1, index: pair[1].index });
        }
    }
    let messages = pending[..messages_that_fit(pending)].to_vec();
    let attributes = BlockAttributes {
        timestamp,
        beneficiary: config.fee_recipient,
        gas_limit: config.gas_limit,
        // L2 randomness and beacon root both come from the anchored L1 block.
        prev_randao: l1.hash,
        parent_beacon_block_root: Some(l1.hash),
        withdrawals: Some(vec![]),
        extra_data: Bytes::new(),
        anchor: anchor_calldata(l1.number, l1.hash, &messages),
    };
    Ok(BlockInputs { attributes, transactions, messages, l1 })
}
