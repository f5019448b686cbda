//! A small L2 chain shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used, unreachable_pub)]

use alloy_consensus::{Block, Header, Sealed, TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, Bytes, TxKind, U256, address};
use alloy_rlp::Encodable;
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block};
use nrd_execute_client::{Ancestors, ExecutionWitness, record_block};
use nrd_test_utils::{key, sign_recovered};
use revm::primitives::hardfork::SpecId;
use std::sync::OnceLock;

pub const CHAIN_ID: u64 = 42;
/// Stores `blockhash(number - 2)` at slot 0.
pub const BLOCKHASH_READER: Address = address!("0x00000000000000000000000000000000000000b1");
/// `sstore(calldata[0], calldata[32])`.
pub const SETTER: Address = address!("0x00000000000000000000000000000000000005e7");

pub struct Fixture {
    pub spec: ChainSpec,
    /// Genesis, block 1, block 2.
    pub headers: Vec<Sealed<Header>>,
    pub block: Block<TxEnvelope>,
    pub witness: ExecutionWitness,
}

pub fn sign(key: &PrivateKeySigner, nonce: u64, to: Address, value: u64, input: Vec<u8>) -> Recovered<TxEnvelope> {
    sign_with(key, CHAIN_ID, 200_000, nonce, to, value, input)
}

pub fn sign_with(
    key: &PrivateKeySigner,
    chain_id: u64,
    gas_limit: u64,
    nonce: u64,
    to: Address,
    value: u64,
    input: Vec<u8>,
) -> Recovered<TxEnvelope> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit,
        max_fee_per_gas: 20_000_000_000,
        max_priority_fee_per_gas: 1,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: input.into(),
        access_list: Default::default(),
    };
    sign_recovered(key, tx)
}

pub fn set(slot: u64, value: u64) -> Vec<u8> {
    [U256::from(slot).to_be_bytes::<32>(), U256::from(value).to_be_bytes::<32>()].concat()
}

/// Genesis → block 1 (fills storage) → block 2 (reads an old block hash, clears a slot,
/// creates an account), with block 2's witness recorded.
pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let key = key("nrd test key");
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
        let (_, witness) = record_block(&spec, &block, &[], &mut state, &ancestors2).unwrap();
        assert_eq!(state.root(), block.header.state_root);
        let h2 = Sealed::new(block.header.clone());
        Fixture { spec, headers: vec![genesis, h1, h2], block, witness }
    })
}

pub fn header_rlp(h: &Header) -> Bytes {
    let mut out = Vec::new();
    h.encode(&mut out);
    out.into()
}
