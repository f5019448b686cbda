//! Pure decoding of what the watcher reads from L1: `MessageEnqueued` logs into L1→L2
//! messages, and transactions into `advance` calls.

use crate::WatcherError;
use alloy_consensus::Transaction;
use alloy_primitives::{Address, B256, Bytes, Log};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::{SolCall, SolEvent};
use nrd_bridge::{L1Message, NativeRollup};

/// The message a `NativeRollup.MessageEnqueued` event announces (docs/protocol.md §8.1: the
/// event carries every field of the message).
pub fn message_from_event(event: &NativeRollup::MessageEnqueued) -> L1Message {
    L1Message {
        kind: event.kind,
        from: event.from,
        to: event.to,
        mint: event.mint,
        value: event.value,
        gasLimit: event.gasLimit,
        index: event.index,
        enqueuedAt: event.enqueuedAt,
        data: event.data.clone(),
    }
}

/// Decodes a `MessageEnqueued` log of `NativeRollup` into its message.
pub fn decode_message(log: &Log) -> Result<L1Message, WatcherError> {
    NativeRollup::MessageEnqueued::decode_log(log)
        .map(|decoded| message_from_event(&decoded.data))
        .map_err(|source| WatcherError::Message { address: log.address, source })
}

/// The `eth_getLogs` filter of `rollup`'s `MessageEnqueued` events in the block `block_hash`.
pub fn message_filter(rollup: Address, block_hash: B256) -> Filter {
    Filter::new()
        .at_block_hash(block_hash)
        .address(rollup)
        .event_signature(NativeRollup::MessageEnqueued::SIGNATURE_HASH)
}

/// The calldata of `tx` when it calls `rollup` directly and starts with the `advance` or
/// `advanceRun` selector (docs/protocol.md §8.6); whether it succeeded is the receipt's
/// business.
pub fn advance_input<T: Transaction>(tx: &T, rollup: Address) -> Option<&Bytes> {
    let input = tx.input();
    let advances = input.starts_with(&NativeRollup::advanceCall::SELECTOR)
        || input.starts_with(&NativeRollup::advanceRunCall::SELECTOR);
    (tx.to() == Some(rollup) && advances).then_some(input)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use alloy_consensus::{Signed, TxEip1559, TxEnvelope};
    use alloy_primitives::{Signature, TxKind, U256, keccak256};
    use alloy_sol_types::SolEvent;

    fn event(index: u64) -> NativeRollup::MessageEnqueued {
        NativeRollup::MessageEnqueued {
            index,
            kind: 0,
            from: Address::repeat_byte(0xaa),
            to: Address::repeat_byte(0xbb),
            mint: U256::from(7),
            value: U256::from(5),
            gasLimit: 100_000,
            enqueuedAt: 1_700_000_000,
            data: Bytes::from_static(b"\x01\x02"),
            rollingHash: keccak256(b"h"),
        }
    }

    #[test]
    fn a_message_enqueued_log_decodes_to_its_message() {
        let rollup = Address::repeat_byte(0x42);
        let e = event(3);
        let log = Log { address: rollup, data: e.encode_log_data() };
        let m = decode_message(&log).unwrap();
        assert_eq!(m, message_from_event(&e));
        assert_eq!((m.index, m.from, m.to, m.mint, m.value, m.gasLimit), (3, e.from, e.to, e.mint, e.value, 100_000));
        assert_eq!((m.enqueuedAt, &m.data), (1_700_000_000, &e.data));
        // The rolling hash of the event is the Rust rule over the decoded message.
        assert_eq!(nrd_bridge::message_hash(&m), nrd_bridge::message_hash(&message_from_event(&e)));
    }

    #[test]
    fn other_logs_do_not_decode_as_messages() {
        let rollup = Address::repeat_byte(0x42);
        let advanced = NativeRollup::BlockAdvanced {
            number: 1,
            blockHash: B256::ZERO,
            stateRoot: B256::ZERO,
            l1Anchor: 0,
            firstMessage: 0,
            messageCount: 0,
        };
        let log = Log { address: rollup, data: advanced.encode_log_data() };
        assert!(matches!(decode_message(&log), Err(WatcherError::Message { .. })));
        // Right topic, truncated data.
        let mut data = event(0).encode_log_data();
        data.data = Bytes::from_static(&[0; 31]);
        assert!(decode_message(&Log { address: rollup, data }).is_err());
    }

    #[test]
    fn the_message_filter_selects_the_rollup_events_of_one_block() {
        let rollup = Address::repeat_byte(0x42);
        let f = message_filter(rollup, B256::repeat_byte(9));
        assert_eq!(f.get_block_hash(), Some(B256::repeat_byte(9)));
        let log = Log { address: rollup, data: event(0).encode_log_data() };
        assert!(f.matches(&log));
        assert!(!f.matches(&Log { address: Address::ZERO, data: event(0).encode_log_data() }));
    }

    fn tx(to: TxKind, input: Bytes) -> TxEnvelope {
        let tx = TxEip1559 { to, input, ..Default::default() };
        TxEnvelope::Eip1559(Signed::new_unhashed(tx, Signature::test_signature()))
    }

    #[test]
    fn advance_calls_are_recognised_by_target_and_selector() {
        let rollup = Address::repeat_byte(0x42);
        let call = NativeRollup::advanceCall { blocks: vec![], messages: vec![] }.abi_encode();
        assert!(advance_input(&tx(TxKind::Call(rollup), call.clone().into()), rollup).is_some());
        assert!(advance_input(&tx(TxKind::Call(Address::ZERO), call.clone().into()), rollup).is_none());
        assert!(advance_input(&tx(TxKind::Create, call.into()), rollup).is_none());
        let run = NativeRollup::advanceRunCall { blocks: vec![], messages: vec![], trace: Bytes::new() }.abi_encode();
        assert!(advance_input(&tx(TxKind::Call(rollup), run.clone().into()), rollup).is_some());
        assert!(advance_input(&tx(TxKind::Call(Address::ZERO), run.into()), rollup).is_none());
        let deposit = NativeRollup::depositCall { to: Address::ZERO, gasLimit: 1, data: Bytes::new() }.abi_encode();
        assert!(advance_input(&tx(TxKind::Call(rollup), deposit.into()), rollup).is_none());
        assert!(advance_input(&tx(TxKind::Call(rollup), Bytes::new()), rollup).is_none());
    }
}
