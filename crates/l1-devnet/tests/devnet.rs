//! The devnet without RPC: accounts, sealing, pool admission and ordering, reorg helpers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{TxEip1559, TxLegacy};
use alloy_primitives::{Address, TxKind, U256, address};
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{SharedState, StateProvider, StateRef, TrieState};
use nrd_l1_devnet::{Devnet, DevnetConfig, DevnetError, PoolError};
use nrd_test_utils::{raw, sign};
use std::sync::Arc;

const BOB: Address = address!("0x00000000000000000000000000000000000b0b00");

fn devnet(block_time_ms: u64) -> Arc<Devnet> {
    Devnet::new(DevnetConfig { block_time_ms, ..Default::default() }).unwrap()
}

fn transfer(key: &PrivateKeySigner, chain_id: u64, nonce: u64, tip: u128, max_fee: u128, gas: u64) -> Vec<u8> {
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: gas,
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: tip,
        to: TxKind::Call(BOB),
        value: U256::from(1000),
        input: Default::default(),
        access_list: Default::default(),
    };
    raw(&sign(key, tx)).into()
}

fn balance(devnet: &Devnet, who: Address) -> U256 {
    let state = devnet.state_at(devnet.head().number()).unwrap();
    StateRef(&state).account(who).unwrap().map(|a| a.balance).unwrap_or_default()
}

#[test]
fn dev_accounts_are_the_standard_ones() {
    let d = devnet(0);
    assert_eq!(d.accounts().len(), 10);
    assert_eq!(d.accounts()[0].address(), address!("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"));
    assert_eq!(d.accounts()[1].address(), address!("0x70997970C51812dc3A010C7d01b50e0d17dc79C8"));
    assert_eq!(balance(&d, d.accounts()[0].address()), U256::from(10u128.pow(22)));
}

#[test]
fn block_time_zero_seals_each_transaction() {
    let d = devnet(0);
    let key = d.accounts()[0].clone();
    let hash = d.submit_raw(&transfer(&key, 900, 0, 1, 10_000_000_000, 21_000)).unwrap();
    let head = d.head();
    assert_eq!(head.number(), 1);
    assert_eq!(head.tx_hashes, [hash]);
    assert!(head.receipts[0].status());
    assert_eq!(balance(&d, BOB), U256::from(1000));
    let location = d.transaction(hash).unwrap();
    assert_eq!((location.block.number(), location.index), (1, 0));
    assert_eq!(d.pool_len(), 0);
}

#[test]
fn admission_errors_are_typed() {
    let d = devnet(60_000);
    let key = d.accounts()[0].clone();
    let poor = PrivateKeySigner::random();
    type Check = fn(&PoolError) -> bool;
    let cases: Vec<(Vec<u8>, Check)> = vec![
        (transfer(&key, 1, 0, 1, 10_000_000_000, 21_000), |e| matches!(e, PoolError::ChainId { got: 1, want: 900 })),
        (transfer(&key, 900, 0, 1, 10_000_000_000, 20_000), |e| matches!(e, PoolError::IntrinsicGas { .. })),
        (transfer(&key, 900, 0, 1, 1, 21_000), |e| matches!(e, PoolError::FeeCapTooLow { .. })),
        (transfer(&key, 900, 0, 10, 5, 21_000), |e| matches!(e, PoolError::TipAboveFeeCap)),
        (transfer(&key, 900, 0, 1, 10_000_000_000, 100_000_000), |e| matches!(e, PoolError::GasLimit { .. })),
        (transfer(&poor, 900, 0, 1, 10_000_000_000, 21_000), |e| matches!(e, PoolError::InsufficientFunds { .. })),
        (vec![0x02, 0xc0], |e| matches!(e, PoolError::Decode(_))),
        (vec![0x03, 0xc0], |e| matches!(e, PoolError::SidecarMissing(_))),
    ];
    for (i, (raw, check)) in cases.into_iter().enumerate() {
        match d.submit_raw(&raw) {
            Err(DevnetError::Pool(e)) => assert!(check(&e), "case {i}: {e}"),
            other => panic!("case {i}: {other:?}"),
        }
    }
    // Duplicates, replacement and nonce rules.
    let first = transfer(&key, 900, 0, 1_000_000_000, 10_000_000_000, 21_000);
    d.submit_raw(&first).unwrap();
    assert_eq!(d.submit_raw(&first), Err(DevnetError::Pool(PoolError::AlreadyKnown)));
    let cheap = transfer(&key, 900, 0, 1_050_000_000, 10_500_000_000, 21_001);
    assert!(matches!(d.submit_raw(&cheap), Err(DevnetError::Pool(PoolError::ReplacementUnderpriced { .. }))));
    let bumped = transfer(&key, 900, 0, 1_100_000_000, 11_000_000_000, 21_000);
    d.submit_raw(&bumped).unwrap();
    assert_eq!(d.pool_len(), 1);
    assert_eq!(d.pending_nonce(key.address()).unwrap(), 1);
    let block = d.seal().unwrap();
    assert_eq!(block.tx_hashes.len(), 1);
    assert_eq!(d.submit_raw(&first), Err(DevnetError::Pool(PoolError::NonceTooLow { state: 1, tx: 0 })));
}

#[test]
fn candidates_follow_tip_and_nonce_order() {
    let d = devnet(60_000);
    let (a, b) = (d.accounts()[0].clone(), d.accounts()[1].clone());
    // a: nonces 1 then 0 (submitted out of order), low tip; b: high tip.
    let a1 = d.submit_raw(&transfer(&a, 900, 1, 1, 10_000_000_000, 21_000)).unwrap();
    let a0 = d.submit_raw(&transfer(&a, 900, 0, 1, 10_000_000_000, 21_000)).unwrap();
    let b0 = d.submit_raw(&transfer(&b, 900, 0, 5_000_000_000, 10_000_000_000, 21_000)).unwrap();
    let gap = d.submit_raw(&transfer(&b, 900, 5, 9_000_000_000, 10_000_000_000, 21_000)).unwrap();
    let block = d.seal().unwrap();
    assert_eq!(block.tx_hashes, [b0, a0, a1]);
    assert!(d.pooled(gap).is_some(), "a nonce gap waits in the pool");
}

#[test]
fn snapshot_revert_and_set_head_rewind() {
    let d = devnet(60_000);
    let key = d.accounts()[0].clone();
    let snap = d.snapshot();
    let legacy = {
        let tx = TxLegacy {
            chain_id: Some(900),
            nonce: 0,
            gas_price: 10_000_000_000,
            gas_limit: 21_000,
            to: TxKind::Call(BOB),
            value: U256::from(7),
            input: Default::default(),
        };
        raw(&sign(&key, tx))
    };
    let hash = d.submit_raw(&legacy).unwrap();
    d.seal().unwrap();
    d.seal().unwrap();
    assert_eq!(d.head().number(), 2);
    assert_eq!(balance(&d, BOB), U256::from(7));
    d.revert(snap).unwrap();
    assert_eq!(d.head().number(), 0);
    assert_eq!(balance(&d, BOB), U256::ZERO);
    assert!(d.transaction(hash).is_none());
    assert!(d.pooled(hash).is_some(), "the dropped transaction is pooled again");
    let block = d.seal().unwrap();
    assert_eq!(block.tx_hashes, [hash]);
    assert!(matches!(d.revert(snap), Err(DevnetError::NoSnapshot(_))));
}

#[test]
fn config_errors_name_the_key() {
    let bad = DevnetConfig { l2_chain_id: 900, ..Default::default() };
    assert!(matches!(Devnet::new(bad), Err(DevnetError::Config { key: "l2_chain_id", .. })));
    let bad = DevnetConfig { gas_limit: 1, ..Default::default() };
    assert!(matches!(Devnet::new(bad), Err(DevnetError::Config { key: "gas_limit", .. })));
}

#[test]
fn a_full_block_leaves_the_rest_for_the_next() {
    let d = Devnet::new(DevnetConfig { block_time_ms: 60_000, gas_limit: 50_000, ..Default::default() }).unwrap();
    let key = d.accounts()[0].clone();
    let hashes: Vec<_> =
        (0..3).map(|n| d.submit_raw(&transfer(&key, 900, n, 1, 10_000_000_000, 21_000)).unwrap()).collect();
    assert_eq!(d.seal().unwrap().tx_hashes, hashes[..2]);
    assert!(d.pooled(hashes[2]).is_some(), "the third waits for room");
    assert_eq!(d.seal().unwrap().tx_hashes, hashes[2..]);
}

/// After many one-transaction blocks every kept state still reads as it was: balances, the
/// EIP-2935 history contract's storage that grows every block, and proofs against each block's
/// own state root; older states are gone (the window is unchanged), and a snapshot taken early
/// still reverts.
#[test]
fn history_reads_after_many_per_tx_blocks() {
    const BLOCKS: u64 = 300;
    let d = devnet(0);
    let key = d.accounts()[0].clone();
    let snap = d.snapshot();
    for nonce in 0..BLOCKS {
        d.submit_raw(&transfer(&key, 900, nonce, 1, 10_000_000_000, 21_000)).unwrap();
    }
    assert_eq!(d.head().number(), BLOCKS);
    let history = alloy_eips::eip2935::HISTORY_STORAGE_ADDRESS;
    for number in (BLOCKS - 255)..=BLOCKS {
        let state = d.state_at(number).unwrap_or_else(|| panic!("state of block {number} kept"));
        let mut view = StateRef(&state);
        let bob = view.account(BOB).unwrap().map(|a| a.balance).unwrap_or_default();
        assert_eq!(bob, U256::from(1000 * number), "BOB's balance at block {number}");
        let sender = view.account(key.address()).unwrap().unwrap();
        assert_eq!(sender.nonce, number, "sender's nonce at block {number}");
        // The history contract holds the parent hash of every block up to `number` and no later.
        let parent = d.block(number - 1).unwrap();
        assert_eq!(view.storage(history, U256::from(number - 1)).unwrap(), U256::from_be_bytes(parent.hash.0));
        assert_eq!(view.storage(history, U256::from(number)).unwrap(), U256::ZERO, "block {number}");
        // A proof from the kept state verifies against that block's header.
        let mut shared = SharedState(state.clone());
        let proof = shared.proof(BOB, &[]).unwrap();
        let mut leaf = Vec::new();
        alloy_rlp::Encodable::encode(&proof.account.unwrap(), &mut leaf);
        alloy_trie::proof::verify_proof(
            d.block(number).unwrap().header().state_root,
            alloy_trie::Nibbles::unpack(alloy_primitives::keccak256(BOB)),
            Some(leaf),
            proof.account_proof.iter(),
        )
        .unwrap();
    }
    // The window is the same as before: 256 blocks back from the head, plus snapshots.
    assert!(d.state_at(BLOCKS - 257).is_none());
    assert!(d.state_at(0).is_some(), "the snapshot's state is kept");
    d.revert(snap).unwrap();
    assert_eq!(d.head().number(), 0);
    assert_eq!(balance(&d, BOB), U256::ZERO);
}
