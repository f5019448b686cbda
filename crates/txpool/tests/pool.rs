//! The pool on its own, without a node: admission against a state, ordering of candidates,
//! replacement by fee bump, the limits, pruning.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Transaction as _, TxEip1559};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address};
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{GenesisAccount, MemoryState};
use nrd_test_utils::{raw, sign};
use nrd_txpool::{AdmissionContext, Pool, PoolError, PoolLimits, PooledTx, decode_pooled};
use revm::primitives::hardfork::SpecId;

const CHAIN_ID: u64 = 901;
const GWEI: u128 = 1_000_000_000;
const TO: Address = address!("0x00000000000000000000000000000000000000aa");

fn ctx() -> AdmissionContext {
    AdmissionContext {
        chain_id: CHAIN_ID,
        spec: SpecId::PRAGUE,
        base_fee: GWEI as u64,
        blob_base_fee: Some(1),
        gas_limit: 30_000_000,
    }
}

fn key(i: u8) -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap()
}

/// A state where keys 1..=n hold `balance` wei each.
fn state(n: u8, balance: U256) -> MemoryState {
    let alloc: Vec<(Address, GenesisAccount)> =
        (1..=n).map(|i| (key(i).address(), GenesisAccount { balance, ..Default::default() })).collect();
    MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)))
}

fn rich() -> U256 {
    U256::from(10u64).pow(U256::from(21))
}

/// A signed transfer from `signer` with `nonce`, fee cap `fee` gwei and tip `tip` gwei.
fn transfer(signer: &PrivateKeySigner, nonce: u64, fee: u128, tip: u128) -> PooledTx {
    tx_with(
        signer,
        TxEip1559 {
            chain_id: CHAIN_ID,
            nonce,
            gas_limit: 21_000,
            max_fee_per_gas: fee * GWEI,
            max_priority_fee_per_gas: tip * GWEI,
            to: TxKind::Call(TO),
            value: U256::from(1),
            input: Bytes::new(),
            access_list: Default::default(),
        },
    )
}

fn tx_with(signer: &PrivateKeySigner, tx: TxEip1559) -> PooledTx {
    // Through the network decoding, as the RPC admits transactions.
    let pooled = decode_pooled(&raw(&sign(signer, tx))).unwrap();
    assert_eq!(pooled.tx.signer(), signer.address());
    pooled
}

fn add(pool: &mut Pool, state: &mut MemoryState, tx: PooledTx) -> Result<Option<B256>, PoolError> {
    pool.add(tx, state, &ctx())
}

#[test]
fn candidates_keep_nonce_order_per_sender_and_best_tip_across_senders() {
    let mut st = state(3, rich());
    let mut pool = Pool::new(PoolLimits::default());
    let (a, b, c) = (key(1), key(2), key(3));
    // a: nonces 0,1,2 with tips 1,9,9 (its best tips wait behind its nonce 0);
    // b: nonce 0 with tip 5; c: nonce 0 with tip 3. Added out of order.
    for tx in [
        transfer(&a, 2, 20, 9),
        transfer(&b, 0, 20, 5),
        transfer(&a, 0, 20, 1),
        transfer(&c, 0, 20, 3),
        transfer(&a, 1, 20, 9),
    ] {
        add(&mut pool, &mut st, tx).unwrap();
    }
    assert_eq!(pool.len(), 5);
    assert_eq!(pool.pending_nonce(a.address(), 0), 3);
    let order: Vec<(Address, u64)> =
        pool.candidates(GWEI as u64, &mut |_| 0).iter().map(|p| (p.tx.signer(), p.tx.inner().nonce())).collect();
    assert_eq!(
        order,
        vec![(b.address(), 0), (c.address(), 0), (a.address(), 0), (a.address(), 1), (a.address(), 2)],
        "b (tip 5), c (tip 3), then a's run (its nonce 0 has tip 1)"
    );
    // Once a's nonce 0 is mined, its tip-9 run goes first.
    let nonce_of = |sender: Address| if sender == a.address() { 1 } else { 0 };
    let order: Vec<(Address, u64)> = pool
        .candidates(GWEI as u64, &mut |s| nonce_of(s))
        .iter()
        .map(|p| (p.tx.signer(), p.tx.inner().nonce()))
        .collect();
    assert_eq!(order[..2], [(a.address(), 1), (a.address(), 2)]);
}

#[test]
fn a_gap_stops_the_run_and_a_low_fee_cap_waits_for_the_base_fee() {
    let mut st = state(1, rich());
    let mut pool = Pool::new(PoolLimits::default());
    let a = key(1);
    add(&mut pool, &mut st, transfer(&a, 0, 20, 1)).unwrap();
    add(&mut pool, &mut st, transfer(&a, 2, 20, 1)).unwrap(); // nonce 1 missing
    assert_eq!(pool.pending_nonce(a.address(), 0), 1);
    assert_eq!(pool.candidates(GWEI as u64, &mut |_| 0).len(), 1, "nonce 2 waits for nonce 1");
    add(&mut pool, &mut st, transfer(&a, 1, 2, 1)).unwrap();
    assert_eq!(pool.candidates(GWEI as u64, &mut |_| 0).len(), 3);
    // At a base fee above nonce 1's cap, the run stops before it.
    assert_eq!(pool.candidates(3 * GWEI as u64, &mut |_| 0).len(), 1);
}

#[test]
fn replacement_needs_the_configured_bump_of_fee_and_tip() {
    let mut st = state(1, rich());
    let mut pool = Pool::new(PoolLimits { price_bump_percent: 10, ..Default::default() });
    let a = key(1);
    let first = transfer(&a, 0, 100, 10);
    let first_hash = first.hash;
    add(&mut pool, &mut st, first.clone()).unwrap();
    assert!(matches!(add(&mut pool, &mut st, first), Err(PoolError::AlreadyKnown)));
    // +9% fee and tip: refused; +10% fee but same tip: refused.
    for (fee, tip) in [(109, 10), (110, 10), (105, 11)] {
        let e = add(&mut pool, &mut st, transfer(&a, 0, fee, tip)).unwrap_err();
        assert!(matches!(e, PoolError::ReplacementUnderpriced { bump_percent: 10 }), "{fee}/{tip}: {e}");
        assert!(e.to_string().starts_with("replacement transaction underpriced"), "geth's wording: {e}");
    }
    let better = transfer(&a, 0, 110, 11);
    let better_hash = better.hash;
    assert_eq!(add(&mut pool, &mut st, better).unwrap(), Some(first_hash));
    assert_eq!(pool.len(), 1);
    assert!(pool.get(&first_hash).is_none());
    assert_eq!(pool.get(&better_hash).map(|p| p.hash), Some(better_hash));
}

#[test]
fn limits_total_per_sender_and_nonce_gap() {
    let mut st = state(3, rich());
    let limits = PoolLimits { max_total: 4, max_per_sender: 2, max_nonce_gap: 3, price_bump_percent: 10 };
    let mut pool = Pool::new(limits);
    let (a, b, c) = (key(1), key(2), key(3));
    add(&mut pool, &mut st, transfer(&a, 0, 20, 1)).unwrap();
    add(&mut pool, &mut st, transfer(&a, 1, 20, 1)).unwrap();
    assert!(matches!(add(&mut pool, &mut st, transfer(&a, 2, 20, 1)), Err(PoolError::Full)), "per sender");
    // Nonce gap: pending nonce of b is 0, so nonces 0..3 are admissible, 3 is not.
    let e = add(&mut pool, &mut st, transfer(&b, 3, 20, 1)).unwrap_err();
    assert!(matches!(e, PoolError::NonceGap { state: 0, tx: 3, max_gap: 3 }), "{e}");
    add(&mut pool, &mut st, transfer(&b, 2, 20, 1)).unwrap();
    add(&mut pool, &mut st, transfer(&b, 0, 20, 1)).unwrap();
    assert_eq!(pool.len(), 4);
    assert!(matches!(add(&mut pool, &mut st, transfer(&c, 0, 20, 1)), Err(PoolError::Full)), "in total");
    // A replacement does not need room.
    add(&mut pool, &mut st, transfer(&a, 1, 40, 2)).unwrap();
    assert_eq!(pool.len(), 4);
}

#[test]
fn admission_refuses_what_cannot_be_included_with_geths_messages() {
    let mut st = state(2, U256::from(21_000u128 * 20 * GWEI)); // exactly one 20-gwei transfer's cost, minus value
    let mut pool = Pool::new(PoolLimits::default());
    let a = key(1);
    let expect = |r: Result<Option<B256>, PoolError>, starts: &str| {
        let e = r.unwrap_err();
        assert!(e.to_string().starts_with(starts), "{e} (want `{starts}…`)");
        e
    };
    // Cost: 21000 * fee + value 1 wei > balance.
    let e = expect(add(&mut pool, &mut st, transfer(&a, 0, 20, 1)), "insufficient funds");
    assert!(matches!(e, PoolError::InsufficientFunds { .. }));
    expect(add(&mut pool, &mut st, transfer(&a, 0, 0, 0)), "max fee per gas less than block base fee");
    expect(add(&mut pool, &mut st, transfer(&a, 0, 10, 11)), "max priority fee per gas higher than max fee per gas");
    let mut wrong_chain = TxEip1559 {
        chain_id: 1,
        nonce: 0,
        gas_limit: 21_000,
        max_fee_per_gas: 2 * GWEI,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(TO),
        value: U256::ZERO,
        input: Bytes::new(),
        access_list: Default::default(),
    };
    expect(add(&mut pool, &mut st, tx_with(&a, wrong_chain.clone())), "invalid chain id");
    wrong_chain.chain_id = CHAIN_ID;
    let mut low_gas = wrong_chain.clone();
    low_gas.gas_limit = 20_999;
    expect(add(&mut pool, &mut st, tx_with(&a, low_gas)), "intrinsic gas too low");
    let mut calldata = wrong_chain.clone();
    calldata.gas_limit = 21_000;
    calldata.input = Bytes::from(vec![1u8; 100]); // 21000 + 100*16 > 21000 (and the EIP-7623 floor)
    expect(add(&mut pool, &mut st, tx_with(&a, calldata)), "intrinsic gas too low");
    let mut huge = wrong_chain;
    huge.gas_limit = 30_000_001;
    expect(add(&mut pool, &mut st, tx_with(&a, huge)), "exceeds block gas limit");
    assert!(pool.is_empty(), "nothing refused was pooled");
}

#[test]
fn nonce_too_low_and_prune_follow_the_state() {
    let alloc = [(key(1).address(), GenesisAccount { nonce: 5, balance: rich(), ..Default::default() })];
    let mut st = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let mut pool = Pool::new(PoolLimits::default());
    let a = key(1);
    let e = add(&mut pool, &mut st, transfer(&a, 4, 20, 1)).unwrap_err();
    assert!(matches!(e, PoolError::NonceTooLow { state: 5, tx: 4 }), "{e}");
    for nonce in 5..8 {
        add(&mut pool, &mut st, transfer(&a, nonce, 20, 1)).unwrap();
    }
    assert_eq!(pool.pending_nonce(a.address(), 5), 8);
    // Blocks included nonces 5 and 6.
    pool.prune(&mut |_| 7);
    assert_eq!(pool.len(), 1);
    assert_eq!(pool.iter().map(|p| p.tx.inner().nonce()).collect::<Vec<_>>(), vec![7]);
    let last = pool.iter().next().unwrap().hash;
    assert_eq!(pool.remove(&last).map(|p| p.hash), Some(last));
    assert!(pool.is_empty());
    assert!(pool.remove(&last).is_none());
}

#[test]
fn contracts_cannot_send_but_delegated_eoas_can() {
    let contract = key(1);
    let delegated = key(2);
    let mut delegation = vec![0xef, 0x01, 0x00];
    delegation.extend_from_slice(TO.as_slice());
    let alloc = [
        (
            contract.address(),
            GenesisAccount { balance: rich(), code: Bytes::from(vec![0x60, 0x00]), ..Default::default() },
        ),
        (delegated.address(), GenesisAccount { balance: rich(), code: Bytes::from(delegation), ..Default::default() }),
    ];
    let mut st = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let mut pool = Pool::new(PoolLimits::default());
    let e = add(&mut pool, &mut st, transfer(&contract, 0, 20, 1)).unwrap_err();
    assert!(matches!(e, PoolError::SenderNotEoa(a) if a == contract.address()), "{e}");
    add(&mut pool, &mut st, transfer(&delegated, 0, 20, 1)).unwrap();
}

#[test]
fn malformed_raw_transactions_are_typed_errors() {
    for raw in [&[][..], &[0x02][..], &[0x02, 0xc0][..], &[0xff; 40][..]] {
        let e = decode_pooled(raw).unwrap_err();
        assert_eq!(e.reason(), "decode", "{raw:?}: {e}");
        assert!(e.to_string().starts_with("rlp"), "geth's wording: {e}");
    }
}
