//! derive(encode(blocks, messages)) == (blocks, messages), in calldata and blob encodings, for
//! random batches; and arbitrary bytes never panic the decoder.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Block, BlockBody, Header, TxEip1559, TxEnvelope, TxLegacy};
use alloy_eips::eip4844::Blob;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use nrd_bridge::{L1Message, NativeRollup};
use nrd_derivation::{DaMode, PostedBlock, decode_advance, encode_advance};
use nrd_execute_client::ExecutionWitness;
use nrd_test_utils::{key, sign};
use proptest::prelude::*;

fn signer(i: u8) -> PrivateKeySigner {
    key(&format!("roundtrip {i}"))
}

fn tx(seed: u64, size: usize) -> TxEnvelope {
    let key = signer((seed % 5) as u8);
    let input = Bytes::from(vec![(seed % 251) as u8; size]);
    if seed.is_multiple_of(3) {
        let tx = TxLegacy {
            chain_id: Some(901),
            nonce: seed,
            gas_price: 1_000_000_000 + seed as u128,
            gas_limit: 21_000 + seed % 1000,
            to: TxKind::Call(Address::with_last_byte(seed as u8)),
            value: U256::from(seed),
            input,
        };
        sign(&key, tx)
    } else {
        let tx = TxEip1559 {
            chain_id: 901,
            nonce: seed,
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000,
            max_priority_fee_per_gas: seed as u128 % 7,
            to: if seed.is_multiple_of(5) { TxKind::Create } else { TxKind::Call(Address::repeat_byte(seed as u8)) },
            value: U256::from(seed) * U256::from(1000),
            input,
            ..Default::default()
        };
        sign(&key, tx)
    }
}

fn message(index: u64, kind: u8, data: Vec<u8>) -> L1Message {
    L1Message {
        kind,
        from: Address::with_last_byte(index as u8),
        to: Address::repeat_byte(0x42),
        mint: U256::from(index) * U256::from(7),
        value: U256::from(index),
        gasLimit: 100_000 + index,
        index,
        enqueuedAt: 1_700_000_000 + index,
        data: data.into(),
    }
}

/// A random batch: (tx seeds and sizes per block, witness node sizes, messages per block).
fn batch() -> impl Strategy<Value = Vec<PostedBlock>> {
    let block = (
        prop::collection::vec((any::<u64>(), 0usize..200), 0..12),
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..80), 0..6),
        prop::collection::vec((0u8..2, prop::collection::vec(any::<u8>(), 0..64)), 0..4),
        any::<u64>(),
    );
    prop::collection::vec(block, 1..6).prop_map(|blocks| {
        let mut next_message = 0u64;
        blocks
            .into_iter()
            .enumerate()
            .map(|(i, (txs, nodes, messages, anchor))| {
                let transactions: Vec<TxEnvelope> = txs.into_iter().map(|(seed, size)| tx(seed, size)).collect();
                let header = Header {
                    number: i as u64 + 1,
                    parent_hash: keccak256([i as u8]),
                    state_root: keccak256([i as u8, 1]),
                    transactions_root: alloy_consensus::proofs::calculate_transaction_root(&transactions),
                    gas_limit: 30_000_000,
                    timestamp: 1_700_000_000 + i as u64,
                    base_fee_per_gas: Some(7),
                    ..Default::default()
                };
                let block =
                    Block::new(header, BlockBody { transactions, ommers: vec![], withdrawals: Some(vec![].into()) });
                let witness = ExecutionWitness {
                    state: nodes.into_iter().map(Bytes::from).collect(),
                    codes: vec![Bytes::from_static(&[0x60, 0x00])],
                    headers: vec![Bytes::from(vec![0xc0])],
                };
                let messages = messages
                    .into_iter()
                    .map(|(kind, data)| {
                        next_message += 1;
                        message(next_message - 1, kind, data)
                    })
                    .collect();
                PostedBlock { block, witness, l1_anchor: anchor % 1_000_000, messages }
            })
            .collect()
    })
}

fn roundtrip(blocks: &[PostedBlock], mode: DaMode) -> Vec<PostedBlock> {
    let tx = encode_advance(blocks, mode).unwrap();
    let blobs: Vec<(B256, Blob)> = match &tx.sidecar {
        None => vec![],
        Some(s) => s.versioned_hashes().zip(s.blobs.iter().copied()).collect(),
    };
    assert_eq!(tx.sidecar.is_some(), mode == DaMode::Blob);
    let lookup = |h: &B256| blobs.iter().find(|(hash, _)| hash == h).map(|(_, b)| *b);
    decode_advance(&tx.calldata, &lookup).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn calldata_encoding_round_trips(blocks in batch()) {
        prop_assert_eq!(roundtrip(&blocks, DaMode::Calldata), blocks);
    }

    #[test]
    fn blob_encoding_round_trips(blocks in batch()) {
        prop_assert_eq!(roundtrip(&blocks, DaMode::Blob), blocks);
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_decoder(bytes in prop::collection::vec(any::<u8>(), 0..600), with_selector in any::<bool>()) {
        let mut input = if with_selector { NativeRollup::advanceCall::SELECTOR.to_vec() } else { vec![] };
        input.extend_from_slice(&bytes);
        let none = |_: &B256| None;
        let _ = decode_advance(&input, &none);
    }

    #[test]
    fn corrupted_advance_calldata_never_panics(blocks in batch(), flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        for mode in [DaMode::Calldata, DaMode::Blob] {
            let tx = encode_advance(&blocks, mode).unwrap();
            let blobs: Vec<(B256, Blob)> = tx.sidecar.iter().flat_map(|s| s.versioned_hashes().zip(s.blobs.iter().copied())).collect();
            let mut data = tx.calldata.to_vec();
            for (at, byte) in &flips {
                let i = at.index(data.len());
                data[i] ^= byte | 1;
            }
            let lookup = |h: &B256| blobs.iter().find(|(hash, _)| hash == h).map(|(_, b)| *b);
            let _ = decode_advance(&data, &lookup);
        }
    }
}

#[test]
fn a_missing_blob_is_a_temporary_error() {
    let blocks = vec![PostedBlock {
        block: Block::new(
            Header::default(),
            BlockBody { transactions: vec![tx(1, 0)], ommers: vec![], withdrawals: None },
        ),
        witness: ExecutionWitness::default(),
        l1_anchor: 1,
        messages: vec![],
    }];
    let tx = encode_advance(&blocks, DaMode::Blob).unwrap();
    let err = decode_advance(&tx.calldata, &|_| None).unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert!(!decode_advance(&[1, 2, 3], &|_| None).unwrap_err().is_temporary());
    assert!(encode_advance(&[], DaMode::Calldata).is_err());
}
