//! EXECUTE in blob mode on the devnet: the L2 block's transactions travel in the blobs of the
//! L1 transaction that calls EXECUTE, KZG-checked at admission and resolved by versioned hash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Sealed, TxEip1559, TxEip4844, TxEnvelope, transaction::Recovered};
use alloy_eips::eip4844::BlobTransactionSidecar;
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block, system_contracts};
use nrd_execute_client::{
    Ancestors, Compression, EXECUTE_ADDRESS, ExecuteCallError, Trace, encode_batch, encode_execute_input,
    payload_to_blobs, record_block,
};
use nrd_l1_devnet::{Devnet, DevnetConfig};
use nrd_test_utils::{key, raw, raw_blob, sign, sign_recovered};
use revm::primitives::hardfork::SpecId;

/// An L2 block of chain 901 and its witness.
fn l2_block() -> (B256, alloy_consensus::Block<TxEnvelope>, nrd_execute_client::ExecutionWitness) {
    let key = key("l2 blob user");
    let spec = ChainSpec::post_merge(901, SpecId::PRAGUE, None);
    let mut alloc = system_contracts();
    alloc.push((key.address(), GenesisAccount { balance: U256::from(10u128.pow(20)), ..Default::default() }));
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = Sealed::new(spec.genesis_header(state.root(), 30_000_000, 1));
    let txs = (0..20u64)
        .map(|nonce| {
            let tx = TxEip1559 {
                chain_id: 901,
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 10_000_000_000,
                to: TxKind::Call(Address::with_last_byte(nonce as u8 + 1)),
                value: U256::from(1),
                ..Default::default()
            };
            sign_recovered(&key, tx)
        })
        .collect();
    let ancestors = Ancestors::parent_only(genesis.clone());
    let attrs = BlockAttributes { timestamp: 3, gas_limit: 30_000_000, ..Default::default() };
    let built = build_block(&spec, &genesis, attrs, txs, &mut state.clone(), &ancestors).unwrap();
    let (_, witness) = record_block(&spec, &built.block, &[], &mut state, &ancestors).unwrap();
    (genesis.state_root, built.block, witness)
}

/// A type-3 transaction to EXECUTE carrying `sidecar`, in network encoding.
fn blob_call(key: &PrivateKeySigner, nonce: u64, input: Bytes, sidecar: BlobTransactionSidecar) -> Vec<u8> {
    blob_call_to(key, EXECUTE_ADDRESS, 3_000_000, nonce, input, sidecar)
}

#[test]
fn execute_reads_l2_transactions_from_blobs() {
    let (pre, block, witness) = l2_block();
    let (post, gas) = (block.header.state_root, block.header.gas_used);
    let blobs = payload_to_blobs(&encode_batch(std::slice::from_ref(&block.body.transactions), Compression::Brotli));
    let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(blobs, kzg()).unwrap();
    let hashes: Vec<B256> = sidecar.versioned_hashes().collect();

    let mut stripped = block.clone();
    stripped.body.transactions.clear();
    let trace = |refs: Vec<B256>| {
        Trace { block: stripped.clone(), witness: witness.clone(), blob_refs: refs, batch_index: 0 }.encode()
    };
    let devnet = Devnet::new(DevnetConfig { block_time_ms: 60_000, l2_anchor: None, ..Default::default() }).unwrap();
    let key = devnet.accounts()[0].clone();

    // Blob mode: valid.
    let ok = devnet
        .submit_raw(&blob_call(
            &key,
            0,
            encode_execute_input(pre, post, gas, &[], &trace(hashes.clone())),
            sidecar.clone(),
        ))
        .unwrap();
    // A reference to a blob this transaction does not carry.
    let foreign = devnet
        .submit_raw(&blob_call(
            &key,
            1,
            encode_execute_input(pre, post, gas, &[], &trace(vec![keccak256("x")])),
            sidecar.clone(),
        ))
        .unwrap();
    // Blob mode with the transactions also in the block.
    let both = Trace { block: block.clone(), witness: witness.clone(), blob_refs: hashes, batch_index: 0 }.encode();
    let doubled =
        devnet.submit_raw(&blob_call(&key, 2, encode_execute_input(pre, post, gas, &[], &both), sidecar)).unwrap();
    let sealed = devnet.seal().unwrap();
    assert_eq!(sealed.tx_hashes, [ok, foreign, doubled]);
    let statuses: Vec<bool> = sealed.receipts.iter().map(|r| r.status()).collect();
    assert_eq!(statuses, [true, false, false]);
    // Every call is metered, refused ones too: EXECUTE did (and was paid for) their work.
    assert_eq!(devnet.execute_gas(sealed.number()).unwrap().used, 3 * gas);
    assert_eq!(devnet.blobs().block_sidecars(sealed.number()).len(), 3);

    // A sidecar whose proof does not match is refused at admission.
    let mut bad = BlobTransactionSidecar::try_from_blobs_with_settings(
        blobs_of(std::slice::from_ref(&block.body.transactions)),
        kzg(),
    )
    .unwrap();
    bad.proofs[0] = bad.commitments[0];
    let err = devnet.submit_raw(&blob_call(&key, 3, Bytes::new(), bad)).unwrap_err();
    assert!(err.to_string().contains("invalid blob sidecar"), "{err}");
}

fn kzg() -> &'static c_kzg::KzgSettings {
    alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get()
}

/// A batch's blobs (brotli).
fn blobs_of(blocks: &[Vec<TxEnvelope>]) -> Vec<alloy_eips::eip4844::Blob> {
    payload_to_blobs(&encode_batch(blocks, Compression::Brotli))
}

fn transfer(key: &PrivateKeySigner, nonce: u64, gas_limit: u64, input: Vec<u8>) -> Recovered<TxEnvelope> {
    let tx = TxEip1559 {
        chain_id: 901,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        to: TxKind::Call(Address::with_last_byte(nonce as u8 + 1)),
        value: U256::from(1),
        input: input.into(),
        ..Default::default()
    };
    sign_recovered(key, tx)
}

/// Three consecutive L2 blocks of chain 901 (the last with 150 kB of incompressible calldata, so
/// the batch takes two blobs), block 2's pre-state root and its witness.
fn l2_batch() -> (B256, Vec<alloy_consensus::Block<TxEnvelope>>, nrd_execute_client::ExecutionWitness) {
    let key = key("l2 batch user");
    let spec = ChainSpec::post_merge(901, SpecId::PRAGUE, None);
    let mut alloc = system_contracts();
    alloc.push((key.address(), GenesisAccount { balance: U256::from(10u128.pow(20)), ..Default::default() }));
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let mut parent = Sealed::new(spec.genesis_header(state.root(), 30_000_000, 1));
    let mut ancestors = vec![parent.clone()];
    let noise: Vec<u8> = (0..150_000u32).map(|i| keccak256(i.to_be_bytes())[0] | 1).collect();
    let bodies = [
        (0..5).map(|n| transfer(&key, n, 21_000, vec![])).collect::<Vec<_>>(),
        (5..13).map(|n| transfer(&key, n, 21_000, vec![])).collect(),
        vec![transfer(&key, 13, 7_000_000, noise)],
    ];
    let (mut blocks, mut pre, mut witness) = (vec![], B256::ZERO, None);
    for (i, txs) in bodies.into_iter().enumerate() {
        let chain = Ancestors::new(ancestors.clone()).unwrap();
        let attrs = BlockAttributes { timestamp: 3 * (i as u64 + 1), gas_limit: 30_000_000, ..Default::default() };
        let built = build_block(&spec, &parent, attrs, txs, &mut state.clone(), &chain).unwrap();
        assert!(built.rejected.is_empty(), "{:?}", built.rejected);
        let (_, recorded) = record_block(&spec, &built.block, &[], &mut state, &chain).unwrap();
        if i == 1 {
            (pre, witness) = (parent.state_root, Some(recorded));
        }
        parent = Sealed::new(built.block.header.clone());
        ancestors.insert(0, parent.clone());
        blocks.push(built.block);
    }
    (pre, blocks, witness.unwrap())
}

/// Deploys `runtime` from `key` (nonce `nonce`); returns its address.
fn deploy(devnet: &Devnet, key: &PrivateKeySigner, nonce: u64, runtime: &[u8]) -> Address {
    // codecopy(0, 12, len); return(0, len)
    let len = runtime.len() as u16;
    let mut init = vec![0x61, (len >> 8) as u8, len as u8, 0x80, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, 0x00, 0xf3];
    init.extend_from_slice(runtime);
    let tx = TxEip1559 {
        chain_id: 900,
        nonce,
        gas_limit: 1_000_000,
        max_fee_per_gas: 10_000_000_000,
        to: TxKind::Create,
        input: init.into(),
        ..Default::default()
    };
    devnet.submit_raw(&raw(&sign(key, tx))).unwrap();
    key.address().create(nonce)
}

/// Calls EXECUTE with its calldata, then `log1(returndata, topic = success)`.
const LOGGER: [u8; 31] = [
    0x36, 0x60, 0x00, 0x60, 0x00, 0x37, // calldatacopy(0, 0, calldatasize)
    0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00, 0x60, 0x00, 0x61, 0x01, 0x01, 0x5a, 0xf1, // call EXECUTE
    0x3d, 0x60, 0x00, 0x60, 0x00, 0x3e, // returndatacopy(0, 0, returndatasize)
    0x3d, 0x60, 0x00, 0xa1, 0x00, // log1(0, returndatasize, success); stop
];

#[test]
fn execute_verifies_block_i_of_a_multi_block_batch() {
    let (pre, blocks, witness) = l2_batch();
    let target = &blocks[1];
    let (post, gas) = (target.header.state_root, target.header.gas_used);
    let batch: Vec<Vec<TxEnvelope>> = blocks.iter().map(|b| b.body.transactions.clone()).collect();
    let blobs = blobs_of(&batch);
    assert_eq!(blobs.len(), 2, "the batch spans two blobs");
    let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(blobs, kzg()).unwrap();
    let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
    let mut swapped = hashes.clone();
    swapped.reverse();

    let mut stripped = target.clone();
    stripped.body.transactions.clear();
    let call = |refs: &[B256], index: u64| {
        let trace =
            Trace { block: stripped.clone(), witness: witness.clone(), blob_refs: refs.to_vec(), batch_index: index };
        encode_execute_input(pre, post, gas, &[], &trace.encode())
    };
    let devnet = Devnet::new(DevnetConfig { block_time_ms: 60_000, l2_anchor: None, ..Default::default() }).unwrap();
    let key = devnet.accounts()[0].clone();
    let logger = deploy(&devnet, &key, 0, &LOGGER);
    devnet.seal().unwrap();

    let cases: [(&[B256], u64, Option<String>); 4] = [
        (&hashes, 1, None),
        (&hashes, 3, Some(ExecuteCallError::BatchIndex { index: 3, blocks: 3 }.to_string())),
        // Block 0's transactions under block 1's header.
        (&hashes, 0, Some("transactions root".into())),
        // The blobs out of order: the second blob's bytes are no length prefix.
        (&swapped, 1, Some("blob payload: payload length".into())),
    ];
    for (nonce, (refs, index, _)) in cases.iter().enumerate() {
        let raw = blob_call_to(&key, logger, 5_000_000, nonce as u64 + 1, call(refs, *index), sidecar.clone());
        devnet.submit_raw(&raw).unwrap();
    }
    let sealed = devnet.seal().unwrap();
    assert_eq!(sealed.receipts.len(), cases.len());
    for (receipt, (_, index, expected)) in sealed.receipts.iter().zip(&cases) {
        assert!(receipt.status(), "the logger itself never fails");
        let log = &receipt.logs()[0];
        let success = log.topics()[0] == B256::with_last_byte(1);
        match expected {
            None => assert!(success, "index {index}"),
            Some(reason) => {
                assert!(!success, "index {index}");
                // Error(string): the selector, then the ABI-encoded reason.
                assert_eq!(log.data.data[..4], [0x08, 0xc3, 0x79, 0xa0]);
                let got = String::from_utf8_lossy(&log.data.data[68..]);
                assert!(got.contains(reason.as_str()), "index {index}: {got} vs {reason}");
            }
        }
    }
    assert_eq!(
        devnet.execute_gas(sealed.number()).unwrap().used,
        gas * cases.len() as u64,
        "every call is metered, refused ones too"
    );
}

/// A type-3 transaction to `to` carrying `sidecar`, in network encoding.
fn blob_call_to(
    key: &PrivateKeySigner,
    to: Address,
    gas_limit: u64,
    nonce: u64,
    input: Bytes,
    sidecar: BlobTransactionSidecar,
) -> Vec<u8> {
    let tx = TxEip4844 {
        chain_id: 900,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to,
        value: U256::ZERO,
        access_list: Default::default(),
        blob_versioned_hashes: sidecar.versioned_hashes().collect(),
        max_fee_per_blob_gas: 1_000_000,
        input,
    };
    raw_blob(key, tx, sidecar).into()
}
