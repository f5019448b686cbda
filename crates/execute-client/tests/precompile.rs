//! EXECUTE on an L1 chain: valid traces pass, forged ones fail the call, cumulative metering
//! caps a block and moves the base fee, the fee is paid as L1 gas, and the attacks on EXECUTE's
//! work (loops declaring no gas, reverting callers, too many transactions, foreign system
//! contracts) are refused having paid for what they made L1 do.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use alloy_consensus::{Header, Sealed, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes, U256, address, keccak256};
use alloy_signer_local::PrivateKeySigner;
use common::{fixture, sign_with};
use nrd_chain::{BlockAttributes, BuiltBlock, ChainSpec, GenesisAccount, MemoryState, StateProvider, build_block};
use nrd_execute_client::{
    Ancestors, EXECUTE_ADDRESS, ExecutePrecompile, ExecutionWitness, MeterConfig, NoBlobs, Reexecution, StoredMeter,
    Trace, Verifier, encode_execute_input,
};
use revm::primitives::hardfork::SpecId;
use std::sync::Arc;

const L1_CHAIN_ID: u64 = 900;
/// Forwards its calldata to EXECUTE with CALL and stores the success flag at slot 0.
const FORWARD_CALL: Address = address!("0x00000000000000000000000000000000000000f6");
/// The same with STATICCALL.
const FORWARD_STATIC: Address = address!("0x00000000000000000000000000000000000000f5");
/// Forwards its calldata to EXECUTE with CALL, then reverts: the attacker's way to get the work
/// done without its effects.
const FORWARD_REVERT: Address = address!("0x00000000000000000000000000000000000000f4");
/// `JUMPDEST PUSH0 JUMP`: runs until its gas runs out.
const LOOP: Address = address!("0x000000000000000000000000000000000000100f");

fn forwarder(call: &[u8]) -> Bytes {
    // calldatacopy(0, 0, calldatasize); success := <call>(gas, 0x0101, ..., 0, calldatasize, 0, 0); sstore(0, success)
    let mut code = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00];
    code.extend_from_slice(call);
    code.extend_from_slice(&[0x60, 0x00, 0x55, 0x00]);
    code.into()
}

fn reverting_forwarder() -> Bytes {
    // calldatacopy(0, 0, calldatasize); call(gas, 0x0101, 0, 0, calldatasize, 0, 0); revert(0, 0)
    let mut code = vec![0x36, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x60, 0x00, 0x36, 0x60, 0x00];
    code.extend_from_slice(&[0x60, 0x00, 0x61, 0x01, 0x01, 0x5a, 0xf1]);
    code.extend_from_slice(&[0x50, 0x5f, 0x5f, 0xfd]);
    code.into()
}

struct L1 {
    spec: ChainSpec,
    key: PrivateKeySigner,
    state: MemoryState,
    head: Sealed<Header>,
    nonce: u64,
}

impl L1 {
    fn new(meter: MeterConfig) -> Self {
        let l2 = fixture();
        let precompile = ExecutePrecompile::new(Reexecution::new(l2.spec.clone()), meter, Arc::new(NoBlobs));
        let spec = precompile.install(ChainSpec::post_merge(L1_CHAIN_ID, SpecId::PRAGUE, None));
        let key = PrivateKeySigner::from_bytes(&keccak256("l1 key")).unwrap();
        let alloc = [
            (key.address(), GenesisAccount { balance: U256::from(10u128.pow(24)), ..Default::default() }),
            (EXECUTE_ADDRESS, GenesisAccount { nonce: 1, ..Default::default() }),
            // CALL pushes a zero value before the address; STATICCALL has none.
            (
                FORWARD_CALL,
                GenesisAccount { code: forwarder(&[0x60, 0x00, 0x61, 0x01, 0x01, 0x5a, 0xf1]), ..Default::default() },
            ),
            (FORWARD_STATIC, GenesisAccount { code: forwarder(&[0x61, 0x01, 0x01, 0x5a, 0xfa]), ..Default::default() }),
            (FORWARD_REVERT, GenesisAccount { code: reverting_forwarder(), ..Default::default() }),
        ];
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let head = Sealed::new(spec.genesis_header(state.root(), 60_000_000, 1));
        Self { spec, key, state, head, nonce: 0 }
    }

    fn execute_tx(
        &mut self,
        pre: B256,
        post: B256,
        gas_used: u64,
        witness: &ExecutionWitness,
    ) -> Recovered<TxEnvelope> {
        let l2 = fixture();
        let trace =
            Trace { block: l2.block.clone(), witness: witness.clone(), blob_refs: vec![], batch_index: 0 }.encode();
        let input = encode_execute_input(pre, post, gas_used, &[], &trace);
        let tx = sign_with(&self.key, L1_CHAIN_ID, 3_000_000, self.nonce, EXECUTE_ADDRESS, 0, input.to_vec());
        self.nonce += 1;
        tx
    }

    fn valid_tx(&mut self) -> Recovered<TxEnvelope> {
        let l2 = fixture();
        self.execute_tx(l2.headers[1].state_root, l2.block.header.state_root, l2.block.header.gas_used, &l2.witness)
    }

    fn seal(&mut self, txs: Vec<Recovered<TxEnvelope>>) -> BuiltBlock {
        let attrs = BlockAttributes {
            timestamp: self.head.timestamp + 12,
            gas_limit: self.head.gas_limit,
            ..Default::default()
        };
        let ancestors = Ancestors::parent_only(self.head.clone());
        let built = build_block(&self.spec, &self.head, attrs, txs, &mut self.state, &ancestors).unwrap();
        assert!(built.rejected.is_empty(), "{:?}", built.rejected);
        self.head = Sealed::new(built.block.header.clone());
        built
    }

    fn stored_meter(&mut self) -> StoredMeter {
        StoredMeter::read(&mut self.state).unwrap()
    }

    fn balance(&mut self) -> U256 {
        self.state.account(self.key.address()).unwrap().unwrap().balance
    }
}

fn statuses(built: &BuiltBlock) -> Vec<bool> {
    built.executed.receipts.iter().map(|r| r.status()).collect()
}

fn l2_gas() -> u64 {
    fixture().block.header.gas_used
}

/// Checks what the sender paid for a block whose only transaction is an EXECUTE call declaring
/// `l2_gas()` at EXECUTE base fee `execute_base_fee`: all of it is L1 gas at the transaction's
/// price, the EXECUTE fee included (converted at that price, rounded up).
fn assert_paid_in_gas(built: &BuiltBlock, paid: U256, execute_base_fee: u128) {
    let gas = built.executed.receipts[0].cumulative_gas_used();
    let price = u128::from(built.block.header.base_fee_per_gas.unwrap()) + 1;
    assert_eq!(paid, U256::from(u128::from(gas) * price), "everything is paid as gas");
    let fee_gas = MeterConfig::default().fee_gas(l2_gas(), execute_base_fee, price);
    let input_len = match built.block.body.transactions[0].clone() {
        TxEnvelope::Eip1559(tx) => tx.tx().input.len() as u64,
        other => panic!("unexpected {other:?}"),
    };
    let precompile = 50_000 + 8 * input_len + fee_gas;
    // The rest is the intrinsic gas: 21,000 plus at most 40 per calldata byte (EIP-7623 floor).
    assert!(
        gas >= precompile + 21_000 && gas <= precompile + 21_000 + 40 * input_len,
        "gas {gas}, precompile {precompile}"
    );
}

#[test]
fn valid_trace_succeeds_and_pays_the_fee_as_gas() {
    let meter = MeterConfig { target: l2_gas(), limit: 2 * l2_gas(), ..Default::default() };
    let mut l1 = L1::new(meter);
    let before = l1.balance();
    let tx = l1.valid_tx();
    let built = l1.seal(vec![tx]);
    assert_eq!(statuses(&built), [true]);
    let paid = before - l1.balance();
    assert_paid_in_gas(&built, paid, u128::from(meter.initial_base_fee));
    assert_eq!(
        l1.stored_meter(),
        StoredMeter { block: 1, used: l2_gas(), base_fee: u128::from(meter.initial_base_fee) }
    );
}

#[test]
fn forged_traces_fail_the_call() {
    let l2 = fixture();
    let mut l1 = L1::new(MeterConfig::default());
    let (pre, post, gas) = (l2.headers[1].state_root, l2.block.header.state_root, l2.block.header.gas_used);
    let mut truncated = l2.witness.clone();
    truncated.state.pop();
    let txs = vec![
        l1.execute_tx(pre, B256::repeat_byte(9), gas, &l2.witness),
        l1.execute_tx(pre, post, gas + 1, &l2.witness),
        l1.execute_tx(pre, post, gas, &truncated),
        l1.execute_tx(l2.headers[0].state_root, post, gas, &l2.witness),
        l1.valid_tx(),
    ];
    let before = l1.balance();
    let built = l1.seal(txs);
    assert_eq!(statuses(&built), [false, false, false, false, true]);
    // Every call was metered and paid for: the refused ones made L1 work too.
    assert_eq!(l1.stored_meter().used, 5 * gas + 1);
    assert!(before > l1.balance());
}

#[test]
fn cumulative_limit_fails_the_second_execute() {
    let meter = MeterConfig { target: l2_gas(), limit: l2_gas() * 3 / 2, ..Default::default() };
    let mut l1 = L1::new(meter);
    let txs = vec![l1.valid_tx(), l1.valid_tx()];
    let built = l1.seal(txs);
    assert_eq!(statuses(&built), [true, false]);
    assert_eq!(l1.stored_meter().used, l2_gas());
    // The next block has a fresh budget.
    let tx = l1.valid_tx();
    assert_eq!(statuses(&l1.seal(vec![tx])), [true]);
}

#[test]
fn base_fee_rises_above_target_and_falls_below() {
    let meter =
        MeterConfig { target: l2_gas() / 2, limit: l2_gas() * 4, initial_base_fee: 1_000_000, ..Default::default() };
    let mut l1 = L1::new(meter);
    let mut fees = Vec::new();
    for _ in 0..3 {
        // Two EXECUTEs: 4x target.
        let txs = vec![l1.valid_tx(), l1.valid_tx()];
        assert_eq!(statuses(&l1.seal(txs)), [true, true]);
        fees.push(l1.stored_meter().base_fee);
    }
    assert!(fees[0] < fees[1] && fees[1] < fees[2], "rising: {fees:?}");
    assert_eq!(fees[1], meter.next_base_fee(fees[0], 2 * l2_gas()));
    // Empty blocks: the fee falls by 1/8 per block, visible without any EXECUTE.
    let stored = l1.stored_meter();
    l1.seal(vec![]);
    l1.seal(vec![]);
    let later = meter.at_block(l1.head.number, stored);
    let after_full = meter.next_base_fee(stored.base_fee, stored.used);
    assert_eq!(later.base_fee, meter.next_base_fee(after_full, 0));
    assert!(later.base_fee < after_full);
    assert_eq!(later.used, 0);
    // And the next EXECUTE is charged exactly that fee.
    let before = l1.balance();
    let tx = l1.valid_tx();
    let built = l1.seal(vec![tx]);
    let stored_now = l1.stored_meter();
    assert_eq!(stored_now.base_fee, meter.next_base_fee(later.base_fee, 0));
    let paid = before - l1.balance();
    assert_paid_in_gas(&built, paid, stored_now.base_fee);
}

#[test]
fn malformed_input_fails() {
    let mut l1 = L1::new(MeterConfig::default());
    let key = l1.key.clone();
    let garbage = sign_with(&key, L1_CHAIN_ID, 1_000_000, 0, EXECUTE_ADDRESS, 0, vec![1, 2, 3]);
    let empty = sign_with(&key, L1_CHAIN_ID, 1_000_000, 1, EXECUTE_ADDRESS, 0, vec![]);
    let built = l1.seal(vec![garbage, empty]);
    assert_eq!(statuses(&built), [false, false]);
    assert_eq!(l1.stored_meter(), StoredMeter::default());
}

#[test]
fn contracts_call_execute_but_not_statically() {
    let mut l1 = L1::new(MeterConfig::default());
    let key = l1.key.clone();
    let valid = l1.valid_tx();
    let input = match valid.inner() {
        TxEnvelope::Eip1559(tx) => tx.tx().input.clone(),
        other => panic!("unexpected {other:?}"),
    };
    let call = sign_with(&key, L1_CHAIN_ID, 3_000_000, 0, FORWARD_CALL, 0, input.to_vec());
    let stat = sign_with(&key, L1_CHAIN_ID, 3_000_000, 1, FORWARD_STATIC, 0, input.to_vec());
    let built = l1.seal(vec![call, stat]);
    assert_eq!(statuses(&built), [true, true]);
    // The forwarders store the inner call's success flag.
    assert_eq!(l1.state.storage(FORWARD_CALL, U256::ZERO).unwrap(), U256::from(1));
    assert_eq!(l1.state.storage(FORWARD_STATIC, U256::ZERO).unwrap(), U256::ZERO);
    assert_eq!(l1.stored_meter().used, l2_gas());
}

#[test]
fn a_reverted_frame_still_pays_and_uses_up_capacity() {
    // Room for one block's EXECUTE gas per L1 block, not two.
    let meter = MeterConfig { target: l2_gas(), limit: l2_gas() * 3 / 2, ..Default::default() };
    let mut l1 = L1::new(meter);
    let key = l1.key.clone();
    let valid = l1.valid_tx();
    let input = match valid.inner() {
        TxEnvelope::Eip1559(tx) => tx.tx().input.clone(),
        other => panic!("unexpected {other:?}"),
    };
    // The attacker runs EXECUTE in a frame that reverts, then a genuine call follows.
    let hidden = sign_with(&key, L1_CHAIN_ID, 3_000_000, 0, FORWARD_REVERT, 0, input.to_vec());
    let genuine = l1.valid_tx();
    let before = l1.balance();
    let built = l1.seal(vec![hidden, genuine]);
    // The reverted work counted: the block's capacity is used, the genuine call is refused
    // (EXECUTE gas limit exceeded), and the meter holds the hidden call's gas.
    assert_eq!(statuses(&built), [false, false]);
    assert_eq!(l1.stored_meter().used, l2_gas());
    // And the attacker paid the EXECUTE fee (as gas) although its frame reverted.
    let first = built.executed.receipts[0].cumulative_gas_used();
    let price = u128::from(built.block.header.base_fee_per_gas.unwrap()) + 1;
    let fee_gas = meter.fee_gas(l2_gas(), u128::from(meter.initial_base_fee), price);
    assert!(first > fee_gas + 50_000, "gas {first} covers the fee gas {fee_gas}");
    assert!(before > l1.balance());
}

/// An L2 chain of the attacker's: genesis with a 2^40 gas limit and a contract that loops.
/// Returns the chain's genesis header, a block calling the loop with `tx_gas` gas declaring
/// `declared` gas used, and a witness for it.
/// A chain whose genesis holds a rich key and the `LOOP` contract, with a 2^40 gas limit.
fn loop_chain() -> (PrivateKeySigner, MemoryState, Sealed<Header>) {
    let key = PrivateKeySigner::from_bytes(&keccak256("loop attacker")).unwrap();
    let alloc = [
        (key.address(), GenesisAccount { balance: U256::from(10u128.pow(30)), ..Default::default() }),
        (LOOP, GenesisAccount { code: Bytes::from_static(&[0x5b, 0x5f, 0x56]), ..Default::default() }),
    ];
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = Sealed::new(fixture().spec.genesis_header(state.root(), 1 << 40, 1));
    (key, state, genesis)
}

fn looping_block(tx_gas: u64, declared: u64) -> (Sealed<Header>, alloy_consensus::Block<TxEnvelope>, ExecutionWitness) {
    let l2 = fixture();
    let (key, mut state, genesis) = loop_chain();
    let attrs = BlockAttributes { timestamp: 13, gas_limit: 1 << 40, ..Default::default() };
    let ancestors = Ancestors::parent_only(genesis.clone());
    // Recorded with a small gas limit: the loop touches the same state whatever its gas.
    let small = sign_with(&key, common::CHAIN_ID, 100_000, 0, LOOP, 0, vec![]);
    let built = build_block(&l2.spec, &genesis, attrs, vec![small], &mut state.clone(), &ancestors).unwrap();
    let (_, witness) = nrd_execute_client::record_block(&l2.spec, &built.block, &[], &mut state, &ancestors).unwrap();
    let mut block = built.block;
    let big = sign_with(&key, common::CHAIN_ID, tx_gas, 0, LOOP, 0, vec![]);
    block.body.transactions = vec![big.into_inner()];
    block.header.transactions_root = alloy_consensus::proofs::calculate_transaction_root(&block.body.transactions);
    block.header.gas_used = declared;
    (genesis, block, witness)
}

#[test]
fn a_loop_with_declared_gas_zero_stops_at_the_budget() {
    // 2^39 gas of `JUMPDEST PUSH0 JUMP` would run for hours; the caller pays for 21,000.
    let (genesis, block, witness) = looping_block(1 << 39, 21_000);
    let mut l1 = L1::new(MeterConfig::default());
    let trace = Trace { block: block.clone(), witness, blob_refs: vec![], batch_index: 0 }.encode();
    let input = encode_execute_input(genesis.state_root, block.header.state_root, 21_000, &[], &trace);
    let tx = sign_with(&l1.key.clone(), L1_CHAIN_ID, 3_000_000, 0, EXECUTE_ADDRESS, 0, input.to_vec());
    l1.nonce += 1;
    let built = l1.seal(vec![tx]);
    assert_eq!(statuses(&built), [false]);
    // The refusal is the budget's, not the eventual gas mismatch.
    let reason = Reexecution::new(fixture().spec.clone())
        .verify(&nrd_execute_client::ExecuteInput {
            pre_state_root: genesis.state_root,
            post_state_root: block.header.state_root,
            gas_used: 21_000,
            anchor: &[],
            trace: &trace,
        })
        .unwrap_err()
        .to_string();
    assert!(reason.contains("more than the budget of 26250 gas"), "{reason}");
    // The call was metered and paid for like any other.
    assert_eq!(l1.stored_meter().used, 21_000);
}

#[test]
fn a_loop_inside_a_run_stops_at_the_runs_budget() {
    // A run of two blocks: an ordinary one, then one whose transaction loops with 2^39 gas while
    // its header declares 21,000. One budget covers the run: the loop stops there.
    let l2 = fixture();
    let (key, mut state, genesis) = loop_chain();
    let pre = state.clone();
    let attrs = |timestamp| BlockAttributes { timestamp, gas_limit: 1 << 40, ..Default::default() };
    let ancestors = Ancestors::parent_only(genesis.clone());
    let first = sign_with(&key, common::CHAIN_ID, 50_000, 0, LOOP, 0, vec![]);
    let a = build_block(&l2.spec, &genesis, attrs(13), vec![first], &mut state, &ancestors).unwrap().block;
    let parent = Sealed::new(a.header.clone());
    let small = sign_with(&key, common::CHAIN_ID, 100_000, 1, LOOP, 0, vec![]);
    let two = Ancestors::new(vec![parent.clone(), genesis.clone()]).unwrap();
    let mut b = build_block(&l2.spec, &parent, attrs(25), vec![small], &mut state, &two).unwrap().block;
    let mut source = nrd_chain::MemorySource::new(pre);
    let witness =
        nrd_execute_client::record_run(&l2.spec, &[a.clone(), b.clone()], &[&[], &[]], &mut source, &ancestors)
            .unwrap();
    let big = sign_with(&key, common::CHAIN_ID, 1 << 39, 1, LOOP, 0, vec![]);
    b.body.transactions = vec![big.into_inner()];
    b.header.transactions_root = alloy_consensus::proofs::calculate_transaction_root(&b.body.transactions);
    b.header.gas_used = 21_000;
    let declared = a.header.gas_used + 21_000;
    let trace = nrd_execute_client::RunTrace {
        blocks: vec![a.clone(), b.clone()],
        witness,
        blob_refs: vec![],
        first_batch_index: 0,
    }
    .encode();
    let anchors = nrd_execute_client::encode_run_anchors(&[Bytes::new(), Bytes::new()]);
    let reason = Reexecution::new(l2.spec.clone())
        .verify(&nrd_execute_client::ExecuteInput {
            pre_state_root: genesis.state_root,
            post_state_root: b.header.state_root,
            gas_used: declared,
            anchor: &anchors,
            trace: &trace,
        })
        .unwrap_err()
        .to_string();
    let budget = declared + a.header.gas_used / 4 + 21_000 / 4;
    assert!(
        reason.contains(&format!("block 1 of the run: execution spent more than the budget of {budget} gas")),
        "{reason}"
    );

    // On L1 the call fails, metered and paid for like any other.
    let mut l1 = L1::new(MeterConfig::default());
    let input = encode_execute_input(genesis.state_root, b.header.state_root, declared, &anchors, &trace);
    let tx = sign_with(&l1.key.clone(), L1_CHAIN_ID, 3_000_000, 0, EXECUTE_ADDRESS, 0, input.to_vec());
    l1.nonce += 1;
    let built = l1.seal(vec![tx]);
    assert_eq!(statuses(&built), [false]);
    assert_eq!(l1.stored_meter().used, declared);
    let used = |built: &BuiltBlock| alloy_consensus::TxReceipt::cumulative_gas_used(&built.executed.receipts[0]);
    assert!(used(&built) < 3_000_000, "a refused call keeps the gas it did not use");

    // The run's second block is charged `run_block_gas` before any block runs: priced above the
    // transaction's gas, the call halts out of gas, having used all of it.
    let mut l1 = L1::new(MeterConfig { run_block_gas: 3_000_000, ..MeterConfig::default() });
    let tx = sign_with(&l1.key.clone(), L1_CHAIN_ID, 3_000_000, 0, EXECUTE_ADDRESS, 0, input.to_vec());
    l1.nonce += 1;
    let built = l1.seal(vec![tx]);
    assert_eq!(statuses(&built), [false]);
    assert_eq!(used(&built), 3_000_000);
}

#[test]
fn more_transactions_than_the_declared_gas_pays_for_are_refused_before_recovery() {
    let l2 = fixture();
    let mut block = l2.block.clone();
    // Three transactions cannot have used 50,000 gas.
    block.header.gas_used = 50_000;
    let trace = Trace { block: block.clone(), witness: l2.witness.clone(), blob_refs: vec![], batch_index: 0 }.encode();
    let err = Reexecution::new(l2.spec.clone())
        .verify(&nrd_execute_client::ExecuteInput {
            pre_state_root: l2.headers[1].state_root,
            post_state_root: block.header.state_root,
            gas_used: 50_000,
            anchor: &[],
            trace: &trace,
        })
        .unwrap_err();
    assert_eq!(err, nrd_execute_client::ExecuteError::TooManyTransactions { count: 3, gas_used: 50_000 });
}

#[test]
fn a_caller_made_system_contract_is_refused_before_it_runs() {
    // The caller's pre-state puts `JUMPDEST PUSH0 JUMP` at the EIP-4788 address: the block's
    // beacon-root system call (30M gas, outside any transaction) would run it.
    let l2 = fixture();
    let beacon = alloy_eips::eip4788::BEACON_ROOTS_ADDRESS;
    let alloc = [(beacon, GenesisAccount { code: Bytes::from_static(&[0x5b, 0x5f, 0x56]), ..Default::default() })];
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = Sealed::new(l2.spec.genesis_header(state.root(), 30_000_000, 1));
    let account_proof = nrd_chain::TrieState::proof(&mut state, beacon, &[]).unwrap().account_proof;
    let mut block = l2.block.clone();
    block.body.transactions.clear();
    block.header.parent_hash = genesis.hash();
    block.header.number = 1;
    block.header.gas_used = 0;
    block.header.transactions_root = alloy_consensus::EMPTY_ROOT_HASH;
    let witness = ExecutionWitness { state: account_proof, codes: vec![], headers: vec![common::header_rlp(&genesis)] };
    let trace = Trace { block: block.clone(), witness, blob_refs: vec![], batch_index: 0 }.encode();
    let err = Reexecution::new(l2.spec.clone())
        .verify(&nrd_execute_client::ExecuteInput {
            pre_state_root: genesis.state_root,
            post_state_root: block.header.state_root,
            gas_used: 0,
            anchor: &[],
            trace: &trace,
        })
        .unwrap_err();
    assert!(err.to_string().contains(&format!("system contract {beacon} does not hold its standard code")), "{err}");
}
