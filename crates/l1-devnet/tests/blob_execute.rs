//! EXECUTE in blob mode on the devnet: the L2 block's transactions travel in the blobs of the
//! L1 transaction that calls EXECUTE, KZG-checked at admission and resolved by versioned hash.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{
    EthereumTxEnvelope, Sealed, SignableTransaction, TxEip1559, TxEip4844, TxEip4844WithSidecar, TxEnvelope,
    transaction::Recovered,
};
use alloy_eips::{Encodable2718, eip4844::BlobTransactionSidecar, eip7594::BlobTransactionSidecarVariant};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block, system_contracts};
use nrd_execute_client::{Ancestors, EXECUTE_ADDRESS, Trace, encode_blob_payload, encode_execute_input, record_block};
use nrd_l1_devnet::{Devnet, DevnetConfig};
use revm::primitives::hardfork::SpecId;

/// An L2 block of chain 901 and its witness.
fn l2_block() -> (B256, alloy_consensus::Block<TxEnvelope>, nrd_execute_client::ExecutionWitness) {
    let key = PrivateKeySigner::from_bytes(&keccak256("l2 blob user")).unwrap();
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
            let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
            Recovered::new_unchecked(TxEnvelope::from(tx.into_signed(sig)), key.address())
        })
        .collect();
    let ancestors = Ancestors::parent_only(genesis.clone());
    let attrs = BlockAttributes { timestamp: 3, gas_limit: 30_000_000, ..Default::default() };
    let built = build_block(&spec, &genesis, attrs, txs, &mut state.clone(), &ancestors).unwrap();
    let (_, witness) = record_block(&spec, &built.block, &mut state, &ancestors).unwrap();
    (genesis.state_root, built.block, witness)
}

/// A type-3 transaction to EXECUTE carrying `sidecar`, in network encoding.
fn blob_call(key: &PrivateKeySigner, nonce: u64, input: Bytes, sidecar: BlobTransactionSidecar) -> Vec<u8> {
    let tx = TxEip4844 {
        chain_id: 900,
        nonce,
        gas_limit: 3_000_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: EXECUTE_ADDRESS,
        value: U256::ZERO,
        access_list: Default::default(),
        blob_versioned_hashes: sidecar.versioned_hashes().collect(),
        max_fee_per_blob_gas: 1_000_000,
        input,
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    let with_sidecar = TxEip4844WithSidecar { tx, sidecar: BlobTransactionSidecarVariant::Eip4844(sidecar) };
    let signed = alloy_consensus::Signed::new_unhashed(with_sidecar, sig);
    EthereumTxEnvelope::<TxEip4844WithSidecar<BlobTransactionSidecarVariant>>::Eip4844(signed).encoded_2718()
}

#[test]
fn execute_reads_l2_transactions_from_blobs() {
    let (pre, block, witness) = l2_block();
    let (post, gas) = (block.header.state_root, block.header.gas_used);
    let blobs = encode_blob_payload(&block.body.transactions);
    let sidecar = BlobTransactionSidecar::try_from_blobs_with_settings(blobs, kzg()).unwrap();
    let hashes: Vec<B256> = sidecar.versioned_hashes().collect();

    let mut stripped = block.clone();
    stripped.body.transactions.clear();
    let trace = |refs: Vec<B256>| Trace { block: stripped.clone(), witness: witness.clone(), blob_refs: refs }.encode();
    let devnet = Devnet::new(DevnetConfig { block_time_ms: 60_000, ..Default::default() }).unwrap();
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
    let both = Trace { block: block.clone(), witness: witness.clone(), blob_refs: hashes }.encode();
    let doubled =
        devnet.submit_raw(&blob_call(&key, 2, encode_execute_input(pre, post, gas, &[], &both), sidecar)).unwrap();
    let sealed = devnet.seal().unwrap();
    assert_eq!(sealed.tx_hashes, [ok, foreign, doubled]);
    let statuses: Vec<bool> = sealed.receipts.iter().map(|r| r.status()).collect();
    assert_eq!(statuses, [true, false, false]);
    assert_eq!(devnet.execute_gas(sealed.number()).unwrap().used, gas);
    assert_eq!(devnet.blobs().block_sidecars(sealed.number()).len(), 3);

    // A sidecar whose proof does not match is refused at admission.
    let mut bad =
        BlobTransactionSidecar::try_from_blobs_with_settings(encode_blob_payload(&block.body.transactions), kzg())
            .unwrap();
    bad.proofs[0] = bad.commitments[0];
    let err = devnet.submit_raw(&blob_call(&key, 3, Bytes::new(), bad)).unwrap_err();
    assert!(err.to_string().contains("invalid blob sidecar"), "{err}");
}

fn kzg() -> &'static c_kzg::KzgSettings {
    alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get()
}
