//! EXECUTE in blob mode, on an L1 chain: the trace names block `batchIndex` of the batch in the
//! calling transaction's blobs. Each call goes through a contract that logs EXECUTE's success flag
//! and return data, so every rejection is checked against its typed error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{TxEip4844, TxEnvelope, transaction::Recovered};
use alloy_eips::eip4844::Blob;
use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Revert, SolError};
use common::{fixture, sign};
use nrd_chain::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block};
use nrd_execute_client::{
    Ancestors, BatchError, BlobPayloadError, BlobRunTrace, BlobSource, Compression, EXECUTE_ADDRESS, ExecuteCallError,
    ExecutePrecompile, ExecutionWitness, MeterConfig, Reexecution, RunTrace, StoredMeter, Trace, TraceError,
    encode_batch, encode_execute_input, encode_run_anchors, encode_witness_batch, payload_to_blobs,
};
use revm::primitives::hardfork::SpecId;
use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
};

/// Calls EXECUTE with its calldata, then `log1(returndata, topic = success)`.
const LOGGER: Address = address!("0x00000000000000000000000000000000000000f7");

fn logger_code() -> Bytes {
    let mut code = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37]; // calldatacopy(0, 0, calldatasize)
    // call(gas, 0x0101, 0, 0, calldatasize, 0, 0)
    code.extend_from_slice(&[0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0x61, 0x01, 0x01, 0x5a, 0xf1]);
    code.extend_from_slice(&[0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e]); // returndatacopy(0, 0, returndatasize)
    code.extend_from_slice(&[0x3d, 0x60, 0x00, 0xa1, 0x00]); // log1(0, returndatasize, success); stop
    code.into()
}

/// Blobs by versioned hash.
#[derive(Debug, Default)]
struct Blobs(RwLock<HashMap<B256, Arc<Blob>>>);

impl BlobSource for Blobs {
    fn blob(&self, versioned_hash: &B256) -> Option<Arc<Blob>> {
        self.0.read().unwrap().get(versioned_hash).cloned()
    }
}

impl Blobs {
    /// Keeps blobs under stand-in versioned hashes (version byte 0x01; the precompile trusts the
    /// node's KZG check at admission, which this chain has no pool for).
    fn insert(&self, blobs: Vec<Blob>) -> Vec<B256> {
        blobs
            .into_iter()
            .map(|blob| {
                let mut hash = keccak256(blob.as_slice());
                hash[0] = 0x01;
                self.0.write().unwrap().insert(hash, Arc::new(blob));
                hash
            })
            .collect()
    }
}

/// An L1 chain with EXECUTE (verifying with `l2_spec`, default metering) over `blobs`, a
/// funded key and the logging contract.
struct L1 {
    blobs: Arc<Blobs>,
    spec: ChainSpec,
    key: PrivateKeySigner,
    state: MemoryState,
    genesis: alloy_consensus::Sealed<alloy_consensus::Header>,
}

fn l1_with_execute(l2_spec: &ChainSpec) -> L1 {
    let blobs = Arc::new(Blobs::default());
    let precompile = ExecutePrecompile::new(Reexecution::new(l2_spec.clone()), MeterConfig::default(), blobs.clone());
    let spec = precompile.install(ChainSpec::post_merge(900, SpecId::PRAGUE, None));
    let key = nrd_test_utils::key("l1 blob key");
    let alloc = [
        (key.address(), GenesisAccount { balance: U256::from(10u128.pow(24)), ..Default::default() }),
        (EXECUTE_ADDRESS, GenesisAccount { nonce: 1, ..Default::default() }),
        (LOGGER, GenesisAccount { code: logger_code(), ..Default::default() }),
    ];
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = alloy_consensus::Sealed::new(spec.genesis_header(state.root(), 60_000_000, 1));
    L1 { blobs, spec, key, state, genesis }
}

/// What a call through the logger returned: success, or the revert reason.
fn outcome(receipt: &alloy_consensus::ReceiptEnvelope) -> Result<(), String> {
    let log = &receipt.logs()[0];
    assert_eq!(log.address, LOGGER);
    if log.topics()[0] != B256::with_last_byte(1) && log.data.data.is_empty() {
        // A halt (out of gas) returns nothing.
        return Err("halted".into());
    }
    if log.topics()[0] == B256::with_last_byte(1) {
        assert_eq!(U256::from_be_slice(&log.data.data), U256::from(1));
        Ok(())
    } else {
        Err(Revert::abi_decode(&log.data.data).unwrap().reason)
    }
}

#[test]
fn execute_verifies_block_i_of_a_blob_batch() {
    let l2 = fixture();
    let (pre, post, gas) = (l2.headers[1].state_root, l2.block.header.state_root, l2.block.header.gas_used);
    let other_key = nrd_test_utils::key("other");
    let other = |n: u64| -> Vec<TxEnvelope> {
        (0..n).map(|i| sign(&other_key, i, Address::with_last_byte(7), 1, vec![]).into_inner()).collect()
    };
    // Three blocks; the fixture's block (with its witness) is block 1.
    let batch = vec![other(2), l2.block.body.transactions.clone(), other(4)];

    let L1 { blobs, spec, key, mut state, genesis } = l1_with_execute(&l2.spec);

    let compressed = blobs.insert(payload_to_blobs(&encode_batch(&batch, Compression::Brotli)));
    let raw = blobs.insert(payload_to_blobs(&encode_batch(&batch, Compression::None)));
    let not_a_batch = blobs.insert(payload_to_blobs(b"\x07 no batch"));
    let mut bad_padding = payload_to_blobs(&encode_batch(&batch, Compression::None));
    bad_padding[0][131_071] = 1;
    let bad_padding = blobs.insert(bad_padding);

    let mut stripped = l2.block.clone();
    stripped.body.transactions.clear();
    let trace = |refs: &[B256], index| {
        Trace { block: stripped.clone(), witness: l2.witness.clone(), blob_refs: refs.to_vec(), batch_index: index }
            .encode()
    };
    let calls: Vec<(Vec<B256>, Bytes, Result<(), String>)> = vec![
        (compressed.clone(), trace(&compressed, 1), Ok(())),
        (raw.clone(), trace(&raw, 1), Ok(())),
        // The same blob twice: refused before it is copied twice.
        (
            compressed.clone(),
            trace(&[compressed[0], compressed[0]], 1),
            Err(ExecuteCallError::DuplicateBlob(compressed[0]).to_string()),
        ),
        (
            compressed.clone(),
            trace(&compressed, 3),
            Err(ExecuteCallError::BatchIndex { index: 3, blocks: 3 }.to_string()),
        ),
        (
            compressed.clone(),
            trace(&compressed, u64::MAX),
            Err(ExecuteCallError::BatchIndex { index: u64::MAX, blocks: 3 }.to_string()),
        ),
        (
            not_a_batch.clone(),
            trace(&not_a_batch, 0),
            Err(ExecuteCallError::Batch(BatchError::UnknownVersion(7)).to_string()),
        ),
        (
            bad_padding.clone(),
            trace(&bad_padding, 1),
            Err(ExecuteCallError::BlobPayload(BlobPayloadError::Padding).to_string()),
        ),
        (
            compressed.clone(),
            Trace { block: l2.block.clone(), witness: l2.witness.clone(), blob_refs: vec![], batch_index: 1 }.encode(),
            Err(ExecuteCallError::Trace(TraceError::BatchIndexWithoutBlobs(1)).to_string()),
        ),
    ];
    let mut txs: Vec<Recovered<TxEnvelope>> = calls
        .iter()
        .enumerate()
        .map(|(nonce, (hashes, trace, _))| {
            blob_call(&key, nonce as u64, hashes.clone(), encode_execute_input(pre, post, gas, &[], trace))
        })
        .collect();
    // Block 0 of the batch is another block's transactions: the header's commitments fail.
    txs.push(blob_call(
        &key,
        txs.len() as u64,
        compressed.clone(),
        encode_execute_input(pre, post, gas, &[], &trace(&compressed, 0)),
    ));

    let attrs = BlockAttributes { timestamp: 12, gas_limit: 60_000_000, ..Default::default() };
    let built = build_block(&spec, &genesis, attrs, txs, &mut state, &Ancestors::parent_only(genesis.clone())).unwrap();
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    let outcomes: Vec<Result<(), String>> = built.executed.receipts.iter().map(outcome).collect();
    for (i, (_, _, expected)) in calls.iter().enumerate() {
        assert_eq!(&outcomes[i], expected, "call {i}");
    }
    let wrong_block = outcomes.last().unwrap().as_ref().unwrap_err();
    assert!(wrong_block.contains("transactions root"), "{wrong_block}");
    // Every call was metered, refused ones too: the work was done, and paid for in L1 gas.
    assert_eq!(StoredMeter::read(&mut state).unwrap().used, calls.len() as u64 * gas + gas);
}

/// Trace version 0x02: a run whose witness is in the blobs, next to its transactions (batch
/// version 0x02). Everything the caller controls is tried: a batch without a witness, a witness
/// short of a node or with one too many, transactions in the calldata blocks too, no blobs, a
/// witness of many tiny items (charged per item before any is hashed).
#[test]
fn execute_takes_a_runs_witness_from_the_blobs() {
    let l2 = fixture();
    let (pre, post, gas) = (l2.headers[1].state_root, l2.block.header.state_root, l2.block.header.gas_used);
    let L1 { blobs, spec, key, mut state, genesis } = l1_with_execute(&l2.spec);

    // A run of one block: its witness is the block's own.
    let txs = vec![l2.block.body.transactions.clone()];
    let batch = |witness: &ExecutionWitness| blobs.insert(payload_to_blobs(&encode_witness_batch(&txs, witness)));
    let good = batch(&l2.witness);
    let without = blobs.insert(payload_to_blobs(&encode_batch(&txs, Compression::Brotli)));
    let mut short = l2.witness.clone();
    short.state.pop();
    let short = batch(&short);
    let mut padded = l2.witness.clone();
    padded.state.push(Bytes::from_static(&[0xc0]));
    let padded = batch(&padded);
    let mut tiny = l2.witness.clone();
    tiny.state.extend((0..100_000u32).map(|i| Bytes::from(i.to_be_bytes().to_vec())));
    let tiny = batch(&tiny);

    let mut stripped = l2.block.clone();
    stripped.body.transactions.clear();
    let trace = |refs: &[B256]| {
        BlobRunTrace { blocks: vec![stripped.clone()], blob_refs: refs.to_vec(), first_batch_index: 0 }.encode()
    };
    let calls: Vec<(Vec<B256>, Bytes, Result<(), String>)> = vec![
        (good.clone(), trace(&good), Ok(())),
        // A version 0x01 run carries its own witness: a batch's is not used (but paid for).
        (
            good.clone(),
            RunTrace {
                blocks: vec![stripped.clone()],
                witness: l2.witness.clone(),
                blob_refs: good.clone(),
                first_batch_index: 0,
            }
            .encode(),
            Ok(()),
        ),
        (without.clone(), trace(&without), Err(ExecuteCallError::NoWitnessInBatch.to_string())),
        (short.clone(), trace(&short), Err("witness lacks trie node".into())),
        (padded.clone(), trace(&padded), Err("witness carries trie node".into())),
        (
            good.clone(),
            BlobRunTrace { blocks: vec![l2.block.clone()], blob_refs: good.clone(), first_batch_index: 0 }.encode(),
            Err(ExecuteCallError::TransactionsInBlobMode.to_string()),
        ),
        (
            good.clone(),
            BlobRunTrace { blocks: vec![stripped.clone()], blob_refs: good.clone(), first_batch_index: 1 }.encode(),
            Err(ExecuteCallError::BatchIndex { index: 1, blocks: 1 }.to_string()),
        ),
        (good.clone(), trace(&[]), Err(ExecuteCallError::Trace(TraceError::NoBlobRefs).to_string())),
        // 100,000 tiny nodes: 500 KB (250k gas of words) but 4.8M gas of items, above the 3M the
        // call has: it halts before hashing any of them.
        (tiny.clone(), trace(&tiny), Err("halted".into())),
    ];
    let anchors = encode_run_anchors(&[Bytes::new()]);
    let txs: Vec<Recovered<TxEnvelope>> = calls
        .iter()
        .enumerate()
        .map(|(nonce, (hashes, trace, _))| {
            blob_call(&key, nonce as u64, hashes.clone(), encode_execute_input(pre, post, gas, &anchors, trace))
        })
        .collect();
    let attrs = BlockAttributes { timestamp: 12, gas_limit: 60_000_000, ..Default::default() };
    let built = build_block(&spec, &genesis, attrs, txs, &mut state, &Ancestors::parent_only(genesis.clone())).unwrap();
    assert!(built.rejected.is_empty(), "{:?}", built.rejected);
    let outcomes: Vec<Result<(), String>> = built.executed.receipts.iter().map(outcome).collect();
    for (i, (_, _, expected)) in calls.iter().enumerate() {
        match (expected, &outcomes[i]) {
            // Which node is missing or unused is the verifier's to say; the kind is checked.
            (Err(kind), Err(got)) if kind.starts_with("witness") => assert!(got.contains(kind), "call {i}: {got}"),
            _ => assert_eq!(&outcomes[i], expected, "call {i}"),
        }
    }
}

fn blob_call(key: &PrivateKeySigner, nonce: u64, hashes: Vec<B256>, input: Bytes) -> Recovered<TxEnvelope> {
    let tx = TxEip4844 {
        chain_id: 900,
        nonce,
        gas_limit: 3_000_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: LOGGER,
        value: U256::ZERO,
        access_list: Default::default(),
        blob_versioned_hashes: hashes,
        max_fee_per_blob_gas: 1_000_000,
        input,
    };
    nrd_test_utils::sign_recovered(key, tx)
}
