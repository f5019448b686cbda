//! The stateless verifier against a small chain built here: every witness defect is its own
//! typed error, and no byte string — random or a mutated valid trace — makes it panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Block, Header, Sealed, SignableTransaction, TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256};
use alloy_rlp::Encodable;
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{BlockAttributes, BlockError, ChainSpec, GenesisAccount, MemoryState, build_block};
use nrd_execute_client::{
    Ancestors, ExecuteError, ExecuteInput, ExecutionWitness, Reexecution, Trace, TraceError, Verifier, VerifyError,
    record_block, verify_block,
};
use proptest::prelude::*;
use revm::primitives::hardfork::SpecId;
use std::sync::OnceLock;

const CHAIN_ID: u64 = 42;
/// Stores `blockhash(number - 2)` at slot 0.
const BLOCKHASH_READER: Address = address!("0x00000000000000000000000000000000000000b1");
/// `sstore(calldata[0], calldata[32])`.
const SETTER: Address = address!("0x00000000000000000000000000000000000005e7");

struct Fixture {
    spec: ChainSpec,
    /// Genesis, block 1, block 2.
    headers: Vec<Sealed<Header>>,
    block: Block<TxEnvelope>,
    witness: ExecutionWitness,
}

fn sign(key: &PrivateKeySigner, nonce: u64, to: Address, value: u64, input: Vec<u8>) -> Recovered<TxEnvelope> {
    let tx = TxEip1559 {
        chain_id: CHAIN_ID,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: input.into(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).unwrap();
    Recovered::new_unchecked(TxEnvelope::from(tx.into_signed(sig)), key.address())
}

fn set(slot: u64, value: u64) -> Vec<u8> {
    [U256::from(slot).to_be_bytes::<32>(), U256::from(value).to_be_bytes::<32>()].concat()
}

/// Genesis → block 1 (fills storage) → block 2 (reads an old block hash, clears a slot,
/// creates an account), with block 2's witness recorded.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = PrivateKeySigner::from_bytes(&keccak256("nrd test key")).unwrap();
        let spec = ChainSpec::post_merge(CHAIN_ID, SpecId::CANCUN, None);
        let mut alloc =
            vec![(key.address(), GenesisAccount { balance: U256::from(10u128.pow(21)), ..Default::default() })];
        for i in 1..=200u64 {
            alloc.push((
                Address::with_last_byte(i as u8).create(i),
                GenesisAccount { balance: U256::from(i), ..Default::default() },
            ));
        }
        alloc.push((
            BLOCKHASH_READER,
            GenesisAccount {
                code: Bytes::from_static(&[0x60, 0x02, 0x43, 0x03, 0x40, 0x60, 0x00, 0x55, 0x00]),
                ..Default::default()
            },
        ));
        alloc.push((
            SETTER,
            GenesisAccount {
                code: Bytes::from_static(&[0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00]),
                ..Default::default()
            },
        ));
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let genesis = Sealed::new(spec.genesis_header(state.root(), 30_000_000, 1));
        let attrs = |ts| BlockAttributes { timestamp: ts, gas_limit: 30_000_000, ..Default::default() };

        let txs1 = (0..5).map(|i| sign(&key, i, SETTER, 0, set(i + 1, 100 + i))).collect();
        let ancestors1 = Ancestors::parent_only(genesis.clone());
        let b1 = build_block(&spec, &genesis, attrs(13), txs1, &mut state, &ancestors1).unwrap();
        assert!(b1.rejected.is_empty(), "{:?}", b1.rejected);
        let h1 = Sealed::new(b1.block.header);

        let fresh = address!("0x00000000000000000000000000000000c0ffee01");
        let txs2 = vec![
            sign(&key, 5, BLOCKHASH_READER, 0, vec![]),
            sign(&key, 6, SETTER, 0, set(3, 0)),
            sign(&key, 7, fresh, 5, vec![]),
        ];
        let ancestors2 = Ancestors::new(vec![h1.clone(), genesis.clone()]).unwrap();
        let mut building = state.clone();
        let b2 = build_block(&spec, &h1, attrs(25), txs2, &mut building, &ancestors2).unwrap();
        assert!(b2.rejected.is_empty(), "{:?}", b2.rejected);
        let block = b2.block;
        let (_, witness) = record_block(&spec, &block, &mut state, &ancestors2).unwrap();
        assert_eq!(state.root(), block.header.state_root);
        let h2 = Sealed::new(block.header.clone());
        Fixture { spec, headers: vec![genesis, h1, h2], block, witness }
    })
}

fn verify(witness: &ExecutionWitness) -> Result<(), VerifyError> {
    let f = fixture();
    verify_block(&f.spec, f.headers[1].state_root, &f.block, witness).map(|_| ())
}

fn header_rlp(h: &Header) -> Bytes {
    let mut out = Vec::new();
    h.encode(&mut out);
    out.into()
}

#[test]
fn recorded_witness_verifies() {
    let f = fixture();
    assert_eq!(f.witness.headers.len(), 2, "BLOCKHASH(n-2) needs parent and grandparent");
    assert_eq!(f.witness.codes.len(), 2);
    let verified = verify_block(&f.spec, f.headers[1].state_root, &f.block, &f.witness).unwrap();
    assert_eq!(verified.state_root, f.block.header.state_root);
    assert_eq!(verified.hash, f.headers[2].hash());
}

#[test]
fn each_witness_defect_is_its_own_error() {
    let f = fixture();
    let w = &f.witness;

    // Truncated: every single node and code is needed.
    for i in 0..w.state.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.state.remove(i));
        assert_eq!(verify(&t), Err(VerifyError::MissingNode(dropped)));
    }
    for i in 0..w.codes.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.codes.remove(i));
        assert_eq!(verify(&t), Err(VerifyError::MissingCode(dropped)));
    }
    let mut t = w.clone();
    t.headers.truncate(1);
    assert_eq!(verify(&t), Err(VerifyError::MissingHeader(0)));

    // Forged node: its hash changes, so the real one is missing.
    let mut t = w.clone();
    let mut forged = t.state[0].to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    t.state[0] = forged.into();
    assert_eq!(verify(&t), Err(VerifyError::MissingNode(keccak256(&w.state[0]))));

    // Extra entries.
    let mut t = w.clone();
    t.state.push(Bytes::from_static(&[0xc2, 0x20, 0x01]));
    assert_eq!(verify(&t), Err(VerifyError::UnusedNode(keccak256([0xc2, 0x20, 0x01]))));
    let mut t = w.clone();
    t.codes.push(Bytes::from_static(&[0x00]));
    assert_eq!(verify(&t), Err(VerifyError::UnusedCode(keccak256([0x00]))));
    let mut t = w.clone();
    t.state.push(t.state[0].clone());
    assert_eq!(verify(&t), Err(VerifyError::DuplicateEntry(keccak256(&w.state[0]))));

    // Headers: a parent that does not hash right, a stray header, garbage.
    let mut t = w.clone();
    let mut parent = f.headers[1].inner().clone();
    parent.gas_limit += 1;
    t.headers[0] = header_rlp(&parent);
    assert_eq!(verify(&t), Err(VerifyError::MissingParentHeader(f.block.header.parent_hash)));
    let mut t = w.clone();
    t.headers.push(header_rlp(&Header { number: 99, ..Default::default() }));
    assert!(matches!(verify(&t), Err(VerifyError::UnusedHeader(_))));
    let mut t = w.clone();
    t.headers.push(Bytes::from_static(&[0xc1, 0x80]));
    assert!(matches!(verify(&t), Err(VerifyError::MalformedHeader { index: 2, .. })));

    // A trace for another parent.
    assert_eq!(
        verify_block(&f.spec, f.headers[0].state_root, &f.block, w),
        Err(VerifyError::PreStateRootMismatch {
            pre_state_root: f.headers[0].state_root,
            parent: f.headers[1].state_root
        })
    );
}

#[test]
fn forged_blocks_are_invalid_blocks() {
    let f = fixture();
    let mut forged = f.block.clone();
    forged.header.gas_used += 1;
    assert!(matches!(
        verify_block(&f.spec, f.headers[1].state_root, &forged, &f.witness),
        Err(VerifyError::InvalidBlock(BlockError::Mismatch { field: "gas used", .. }))
    ));
    let mut forged = f.block.clone();
    forged.body.transactions.pop();
    assert!(matches!(
        verify_block(&f.spec, f.headers[1].state_root, &forged, &f.witness),
        Err(VerifyError::InvalidBlock(BlockError::Mismatch { field: "transactions root", .. }))
    ));
}

fn execute_input(trace: &[u8], post: B256, gas_used: u64) -> Result<(), ExecuteError> {
    let f = fixture();
    Reexecution::new(f.spec.clone())
        .verify(&ExecuteInput {
            pre_state_root: f.headers[1].state_root,
            post_state_root: post,
            gas_used,
            anchor: &[],
            trace,
        })
        .map(|_| ())
}

#[test]
fn execute_checks_the_claims_and_the_trace_encoding() {
    let f = fixture();
    let trace = Trace { block: f.block.clone(), witness: f.witness.clone(), blob_refs: vec![] }.encode();
    assert_eq!(Trace::decode(&trace).unwrap().block, f.block);
    let (root, gas) = (f.block.header.state_root, f.block.header.gas_used);
    execute_input(&trace, root, gas).unwrap();
    assert!(matches!(execute_input(&trace, B256::ZERO, gas), Err(ExecuteError::PostStateRoot { .. })));
    assert!(matches!(execute_input(&trace, root, gas - 1), Err(ExecuteError::GasUsed { .. })));
    assert_eq!(execute_input(&[], root, gas), Err(ExecuteError::Trace(TraceError::Empty)));
    let mut v1 = trace.to_vec();
    v1[0] = 7;
    assert_eq!(execute_input(&v1, root, gas), Err(ExecuteError::Trace(TraceError::UnsupportedVersion(7))));
    let mut long = trace.to_vec();
    long.push(0);
    assert_eq!(execute_input(&long, root, gas), Err(ExecuteError::Trace(TraceError::TrailingBytes(1))));
    assert!(matches!(
        execute_input(&trace[..trace.len() - 10], root, gas),
        Err(ExecuteError::Trace(TraceError::Rlp(_)))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Trace::decode(&bytes);
        let mut versioned = vec![0u8];
        versioned.extend_from_slice(&bytes);
        let _ = Trace::decode(&versioned);
        let _ = <ExecutionWitness as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
        let _ = <Block<TxEnvelope> as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
        let _ = <Header as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
    }

    /// Flip bytes of a valid trace anywhere: decoding and verification return errors, never panic.
    #[test]
    fn mutated_traces_never_panic_the_verifier(flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4)) {
        let f = fixture();
        let mut trace = Trace { block: f.block.clone(), witness: f.witness.clone(), blob_refs: vec![] }.encode().to_vec();
        for (at, xor) in flips {
            let i = at.index(trace.len());
            trace[i] ^= xor;
        }
        let _ = execute_input(&trace, f.block.header.state_root, f.block.header.gas_used);
    }
}
