//! The blob batch format: random batches of signed transactions of every type round-trip through
//! both encodings and blobs; arbitrary bytes and blobs never panic the decoders; traces carry the
//! batch index. Also prints the format's density for simple transfers (`--ignored --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{TxEip1559, TxEip2930, TxEip4844, TxEip7702, TxEnvelope, TxLegacy};
use alloy_eips::{
    eip2930::{AccessList, AccessListItem},
    eip4844::{BYTES_PER_BLOB, Blob},
    eip7702::Authorization,
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_execute_client::{
    BATCH_VERSION_BROTLI, BATCH_VERSION_RAW, BatchError, Compression, MAX_BATCH_BYTES, Trace, TraceError,
    USABLE_BYTES_PER_BLOB, blobs_to_payload, decode_batch, decode_batch_blobs, encode_batch, encode_batch_blobs,
    payload_to_blobs,
};
use nrd_test_utils::signature;
use proptest::{prelude::*, strategy::ValueTree};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{sync::OnceLock, time::Instant};

fn keys() -> &'static [PrivateKeySigner] {
    static KEYS: OnceLock<Vec<PrivateKeySigner>> = OnceLock::new();
    KEYS.get_or_init(|| (0..4u8).map(|i| PrivateKeySigner::from_bytes(&keccak256([b'k', i])).unwrap()).collect())
}

/// The parameters of one random transaction.
#[derive(Debug, Clone)]
struct TxSpec {
    kind: u8,
    key: usize,
    chain_id: u64,
    nonce: u64,
    gas_limit: u64,
    fee: u128,
    tip: u128,
    to: Option<Address>,
    value: U256,
    input: Vec<u8>,
    access: Vec<(Address, Vec<B256>)>,
}

fn tx_spec() -> impl Strategy<Value = TxSpec> {
    (
        (0u8..6, 0usize..4, prop_oneof![Just(1u64), Just(901), any::<u64>()], any::<u64>(), 21_000u64..30_000_000),
        (any::<u64>(), any::<u32>(), prop::option::of(any::<[u8; 20]>()), any::<u128>()),
        prop::collection::vec(any::<u8>(), 0..96),
        prop::collection::vec((any::<[u8; 20]>(), prop::collection::vec(any::<[u8; 32]>(), 0..3)), 0..3),
    )
        .prop_map(|((kind, key, chain_id, nonce, gas_limit), (fee, tip, to, value), input, access)| TxSpec {
            kind,
            key,
            chain_id,
            nonce,
            gas_limit,
            fee: u128::from(fee),
            tip: u128::from(tip),
            to: to.map(Address::from),
            value: U256::from(value),
            input,
            access: access
                .into_iter()
                .map(|(a, keys)| (Address::from(a), keys.into_iter().map(B256::from).collect()))
                .collect(),
        })
}

/// Signs: legacy (EIP-155 and pre-155), EIP-2930, EIP-1559, EIP-4844 (no sidecar), EIP-7702.
fn sign(spec: &TxSpec) -> TxEnvelope {
    let key = &keys()[spec.key];
    let kind = spec.to.map_or(TxKind::Create, TxKind::Call);
    let to = spec.to.unwrap_or(Address::with_last_byte(0xcc));
    let access_list = AccessList(
        spec.access
            .iter()
            .map(|(address, storage_keys)| AccessListItem { address: *address, storage_keys: storage_keys.clone() })
            .collect(),
    );
    let input = Bytes::from(spec.input.clone());
    macro_rules! signed {
        ($tx:expr) => {{ nrd_test_utils::sign(key, $tx) }};
    }
    match spec.kind {
        0 | 1 => signed!(TxLegacy {
            chain_id: (spec.kind == 0).then_some(spec.chain_id),
            nonce: spec.nonce,
            gas_price: spec.fee,
            gas_limit: spec.gas_limit,
            to: kind,
            value: spec.value,
            input,
        }),
        2 => signed!(TxEip2930 {
            chain_id: spec.chain_id,
            nonce: spec.nonce,
            gas_price: spec.fee,
            gas_limit: spec.gas_limit,
            to: kind,
            value: spec.value,
            access_list,
            input,
        }),
        3 => signed!(TxEip1559 {
            chain_id: spec.chain_id,
            nonce: spec.nonce,
            gas_limit: spec.gas_limit,
            max_fee_per_gas: spec.fee,
            max_priority_fee_per_gas: spec.tip,
            to: kind,
            value: spec.value,
            access_list,
            input,
        }),
        4 => signed!(TxEip4844 {
            chain_id: spec.chain_id,
            nonce: spec.nonce,
            gas_limit: spec.gas_limit,
            max_fee_per_gas: spec.fee,
            max_priority_fee_per_gas: spec.tip,
            to,
            value: spec.value,
            access_list,
            blob_versioned_hashes: vec![keccak256(&spec.input)],
            max_fee_per_blob_gas: spec.tip,
            input,
        }),
        _ => {
            let auth = Authorization { chain_id: U256::from(spec.chain_id), address: to, nonce: spec.nonce };
            let auth_sig = signature(key, auth.signature_hash());
            signed!(TxEip7702 {
                chain_id: spec.chain_id,
                nonce: spec.nonce,
                gas_limit: spec.gas_limit,
                max_fee_per_gas: spec.fee,
                max_priority_fee_per_gas: spec.tip,
                to,
                value: spec.value,
                access_list,
                authorization_list: vec![auth.into_signed(auth_sig)],
                input,
            })
        }
    }
}

fn batch() -> impl Strategy<Value = Vec<Vec<TxEnvelope>>> {
    prop::collection::vec(prop::collection::vec(tx_spec(), 0..=50), 0..=20)
        .prop_map(|blocks| blocks.iter().map(|txs| txs.iter().map(sign).collect()).collect())
}

/// A blob from a seed: random bytes, with each element's first byte zeroed unless `raw`.
fn random_blob(seed: u64, raw: bool) -> Blob {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut blob = Blob::ZERO;
    rng.fill(&mut blob[..]);
    if !raw {
        blob.chunks_exact_mut(32).for_each(|e| e[0] = 0);
    }
    blob
}

fn round_trip(blocks: &[Vec<TxEnvelope>], compression: Compression) {
    let payload = encode_batch(blocks, compression);
    assert_eq!(payload[0], compression.version());
    assert_eq!(decode_batch(&payload).unwrap(), blocks);
    let blobs = payload_to_blobs(&payload);
    assert_eq!(blobs.len(), (payload.len() + 4).div_ceil(USABLE_BYTES_PER_BLOB));
    let refs: Vec<&Blob> = blobs.iter().collect();
    assert_eq!(blobs_to_payload(&refs).unwrap(), payload);
    assert_eq!(decode_batch_blobs(&refs).unwrap(), blocks);
    assert_eq!(encode_batch_blobs(blocks, compression), blobs);
}

#[test]
fn every_transaction_type_round_trips() {
    let blocks: Vec<Vec<TxEnvelope>> = (0..6u8)
        .map(|kind| {
            let spec = TxSpec {
                kind,
                key: usize::from(kind % 4),
                chain_id: 901,
                nonce: u64::from(kind),
                gas_limit: 100_000,
                fee: 7,
                tip: 1,
                to: Some(Address::with_last_byte(kind)),
                value: U256::from(kind),
                input: vec![kind; 40],
                access: vec![(Address::with_last_byte(9), vec![B256::with_last_byte(1)])],
            };
            vec![sign(&spec), sign(&TxSpec { to: None, ..spec.clone() })]
        })
        .collect();
    let types: Vec<u8> = blocks.iter().flatten().map(|tx| tx.tx_type() as u8).collect();
    assert_eq!(
        types,
        [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4],
        "legacy, 2930, 1559, 4844 and 7702 (4844/7702 have a `to`)"
    );
    round_trip(&blocks, Compression::None);
    round_trip(&blocks, Compression::Brotli);
    // The raw body is exactly the block-body RLP of each block, in one list.
    let payload = encode_batch(&blocks, Compression::None);
    let mut expected = vec![BATCH_VERSION_RAW];
    alloy_rlp::encode_list::<_, Vec<TxEnvelope>>(&blocks, &mut expected);
    assert_eq!(payload, expected);
    let compressed = encode_batch(&blocks, Compression::Brotli);
    assert_eq!(compressed[0], BATCH_VERSION_BROTLI);
    assert!(compressed.len() < payload.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn random_batches_round_trip(blocks in batch()) {
        round_trip(&blocks, Compression::None);
        round_trip(&blocks, Compression::Brotli);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic_decode_batch(version in 0u8..3, bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = decode_batch(&bytes);
        let mut versioned = vec![version];
        versioned.extend_from_slice(&bytes);
        let _ = decode_batch(&versioned);
    }

    /// Corrupt a valid compressed (or raw) batch: an error or some batch, never a panic.
    #[test]
    fn corrupted_batches_never_panic(
        compressed in any::<bool>(),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..6),
        cut in any::<prop::sample::Index>(),
    ) {
        let blocks = corruptible_batch();
        let mut payload = encode_batch(blocks, if compressed { Compression::Brotli } else { Compression::None });
        for (at, xor) in flips {
            let i = 1 + at.index(payload.len() - 1);
            payload[i] ^= xor;
        }
        let _ = decode_batch(&payload);
        let _ = decode_batch(&payload[..cut.index(payload.len())]);
    }

    #[test]
    fn arbitrary_bytes_never_panic_trace_decode(bytes in prop::collection::vec(any::<u8>(), 0..1024)) {
        let _ = Trace::decode(&bytes);
        let mut versioned = vec![0u8];
        versioned.extend_from_slice(&bytes);
        let _ = Trace::decode(&versioned);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn random_blobs_never_panic_blobs_to_payload(
        seeds in prop::collection::vec((any::<u64>(), any::<bool>()), 0..4),
        len in prop_oneof![Just(None), (0u32..(4 * USABLE_BYTES_PER_BLOB as u32)).prop_map(Some)],
        zero_tail in any::<bool>(),
    ) {
        let mut blobs: Vec<Blob> = seeds.iter().map(|(seed, raw)| random_blob(*seed, *raw)).collect();
        if let Some(first) = blobs.first_mut() {
            // A plausible length prefix, and maybe zero padding after it: reach the later checks.
            if let Some(len) = len {
                first[1..5].copy_from_slice(&len.to_be_bytes());
            }
            if zero_tail {
                blobs.iter_mut().for_each(|b| b[BYTES_PER_BLOB / 2..].fill(0));
            }
        }
        let refs: Vec<&Blob> = blobs.iter().collect();
        let _ = blobs_to_payload(&refs);
        let _ = decode_batch_blobs(&refs);
    }
}

/// A fixed batch for corruption tests.
fn corruptible_batch() -> &'static Vec<Vec<TxEnvelope>> {
    static BATCH: OnceLock<Vec<Vec<TxEnvelope>>> = OnceLock::new();
    BATCH.get_or_init(|| {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        (0..3).map(|_| (0..8).map(|_| sign(&tx_spec().new_tree(&mut runner).unwrap().current())).collect()).collect()
    })
}

#[test]
fn traces_carry_the_batch_index() {
    let f = common::fixture();
    let trace = |blob_refs: Vec<B256>, batch_index| Trace {
        block: f.block.clone(),
        witness: f.witness.clone(),
        blob_refs,
        batch_index,
    };
    let blob_mode = trace(vec![B256::repeat_byte(1)], u64::MAX);
    assert_eq!(Trace::decode(&blob_mode.encode()), Ok(blob_mode.clone()));
    let calldata = trace(vec![], 0);
    assert_eq!(Trace::decode(&calldata.encode()), Ok(calldata));
    assert_eq!(Trace::decode(&trace(vec![], 2).encode()), Err(TraceError::BatchIndexWithoutBlobs(2)));
    // The index is the fourth field of the body list: a 3-field body no longer decodes.
    let body_of = |t: &Trace| t.encode()[1..].to_vec();
    let full = body_of(&blob_mode);
    let mut items = &full[..];
    let header = alloy_rlp::Header::decode(&mut items).unwrap();
    assert!(header.list);
    let index_rlp = {
        let mut out = Vec::new();
        alloy_rlp::Encodable::encode(&u64::MAX, &mut out);
        out
    };
    assert!(items.ends_with(&index_rlp));
    let without_index = &items[..items.len() - index_rlp.len()];
    let mut trace3 = vec![0u8];
    alloy_rlp::Header { list: true, payload_length: without_index.len() }.encode(&mut trace3);
    trace3.extend_from_slice(without_index);
    assert!(matches!(Trace::decode(&trace3), Err(TraceError::Rlp(_))));
}

#[test]
fn the_cap_is_16_mib() {
    assert_eq!(MAX_BATCH_BYTES, 16 << 20);
    assert!(matches!(decode_batch(&[9]), Err(BatchError::UnknownVersion(9))));
}

/// Density of the format for simple ETH transfers (EIP-1559, several senders with increasing
/// nonces, random recipients and values): raw RLP versus brotli, and transfers per blob.
#[test]
#[ignore = "measurement; run with --ignored --nocapture"]
fn measure_transfer_density() {
    let senders: Vec<PrivateKeySigner> =
        (0..20u8).map(|i| PrivateKeySigner::from_bytes(&keccak256([b's', i])).unwrap()).collect();
    let mut rng = StdRng::seed_from_u64(7);
    let mut nonces = vec![0u64; senders.len()];
    let mut transfer = |rng: &mut StdRng| {
        let s = rng.random_range(0..senders.len());
        let tx = TxEip1559 {
            chain_id: 901,
            nonce: nonces[s],
            gas_limit: 21_000,
            max_fee_per_gas: 2_000_000_000 + u128::from(rng.random_range(0..1_000_000u32)),
            max_priority_fee_per_gas: 1_000_000,
            to: TxKind::Call(Address::from(rng.random::<[u8; 20]>())),
            value: U256::from(rng.random_range(10u128.pow(15)..10u128.pow(18))),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        nonces[s] += 1;
        nrd_test_utils::sign(&senders[s], tx)
    };
    println!(
        "{:>6} {:>6} {:>9} {:>9} {:>8} {:>8} {:>7} {:>9} {:>9}",
        "txs", "blocks", "raw B", "brotli B", "raw B/tx", "br B/tx", "ratio", "raw/blob", "br/blob"
    );
    for (total, per_block) in [(1000, 100), (2000, 200), (3000, 300), (3000, 3000)] {
        let blocks: Vec<Vec<TxEnvelope>> =
            (0..total / per_block).map(|_| (0..per_block).map(|_| transfer(&mut rng)).collect()).collect();
        let raw = encode_batch(&blocks, Compression::None);
        let start = Instant::now();
        let compressed = encode_batch(&blocks, Compression::Brotli);
        let compress_time = start.elapsed();
        let start = Instant::now();
        assert_eq!(decode_batch(&compressed).unwrap(), blocks);
        let decode_time = start.elapsed();
        let (raw_per_tx, br_per_tx) = (raw.len() as f64 / total as f64, compressed.len() as f64 / total as f64);
        println!(
            "{total:>6} {:>6} {:>9} {:>9} {raw_per_tx:>8.1} {br_per_tx:>8.1} {:>7.3} {:>9.0} {:>9.0}   (brotli q11 {compress_time:.2?}, decode {decode_time:.2?})",
            blocks.len(),
            raw.len(),
            compressed.len(),
            compressed.len() as f64 / raw.len() as f64,
            (USABLE_BYTES_PER_BLOB - 4) as f64 / raw_per_tx,
            (USABLE_BYTES_PER_BLOB - 4) as f64 / br_per_tx,
        );
    }
    // The most transfers (blocks of 100) whose batch fits one blob, found by bisection.
    let pool: Vec<TxEnvelope> = (0..4000).map(|_| transfer(&mut rng)).collect();
    for compression in [Compression::None, Compression::Brotli] {
        let fits = |n: usize| {
            let blocks: Vec<Vec<TxEnvelope>> = pool[..n].chunks(100).map(<[TxEnvelope]>::to_vec).collect();
            payload_to_blobs(&encode_batch(&blocks, compression)).len() == 1
        };
        let (mut lo, mut hi) = (1, pool.len());
        assert!(fits(lo) && !fits(hi));
        while hi - lo > 1 {
            let mid = (lo + hi) / 2;
            if fits(mid) { lo = mid } else { hi = mid }
        }
        println!("{compression:?}: {lo} transfers fit one blob ({USABLE_BYTES_PER_BLOB} usable bytes)");
    }
    // Other brotli settings on the 3000-transfer batch.
    let blocks: Vec<Vec<TxEnvelope>> = (0..10).map(|_| (0..300).map(|_| transfer(&mut rng)).collect()).collect();
    let mut rlp = Vec::new();
    alloy_rlp::encode_list::<_, Vec<TxEnvelope>>(&blocks, &mut rlp);
    for (quality, lgwin) in [(5, 22), (9, 22), (11, 16), (11, 20), (11, 22), (11, 24)] {
        let params = brotli::enc::BrotliEncoderParams { quality, lgwin, size_hint: rlp.len(), ..Default::default() };
        let mut out = Vec::new();
        let start = Instant::now();
        brotli::BrotliCompress(&mut rlp.as_slice(), &mut out, &params).unwrap();
        println!(
            "q{quality} lgwin {lgwin}: {} -> {} bytes ({:.1} B/tx) in {:.2?}",
            rlp.len(),
            out.len(),
            out.len() as f64 / 3000.0,
            start.elapsed()
        );
    }
}
