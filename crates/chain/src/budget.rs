//! A bound on the EVM work of a block: the stateless verifier behind EXECUTE stops as soon as the
//! block has spent more gas than its caller paid for, instead of running whatever gas limits the
//! (caller-chosen) header and transactions name.

use revm::{
    inspector::Inspector,
    interpreter::{CallInputs, CallOutcome, CreateInputs, CreateOutcome, InstructionResult, Interpreter},
};
use std::cell::Cell;

/// Counts the gas a block's execution spends (every frame, every instruction, system calls
/// included, before refunds) and halts execution once it passes `limit`.
///
/// An instruction's cost is what it takes from its frame's gas, less what it hands to a child
/// frame (a call or create): that gas is counted where the child spends it. A precompile's cost
/// is what it keeps of the gas it was given. Once the budget is passed, every following
/// instruction halts its frame out of gas, so execution unwinds at once; the caller checks
/// [`WorkBudget::exceeded`] after each transaction and rejects the block.
#[derive(Debug)]
pub struct WorkBudget {
    limit: u64,
    spent: Cell<u64>,
    exceeded: Cell<bool>,
    /// Gas left in the running frame before its current instruction.
    before: Cell<u64>,
    /// Frames entered and not yet returned.
    depth: Cell<u64>,
}

impl WorkBudget {
    /// A budget of `limit` gas.
    pub const fn new(limit: u64) -> Self {
        Self { limit, spent: Cell::new(0), exceeded: Cell::new(false), before: Cell::new(0), depth: Cell::new(0) }
    }

    /// The budget.
    pub const fn limit(&self) -> u64 {
        self.limit
    }

    /// Gas spent so far.
    pub fn spent(&self) -> u64 {
        self.spent.get()
    }

    /// Whether execution passed the budget (and was halted).
    pub fn exceeded(&self) -> bool {
        self.exceeded.get()
    }

    fn add(&self, gas: u64) {
        self.spent.set(self.spent.get().saturating_add(gas));
    }

    /// A frame starts with `gas`: when it has a parent, the parent's instruction counted that gas
    /// as spent, but the work is the child's.
    fn entered(&self, gas: u64) {
        if self.depth.get() > 0 {
            self.spent.set(self.spent.get().saturating_sub(gas));
        }
        self.depth.set(self.depth.get() + 1);
    }
}

impl<CTX> Inspector<CTX> for &WorkBudget {
    fn step(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        if self.spent.get() > self.limit {
            self.exceeded.set(true);
        }
        if self.exceeded.get() {
            interp.halt(InstructionResult::OutOfGas);
            return;
        }
        self.before.set(interp.gas.remaining());
    }

    fn step_end(&mut self, interp: &mut Interpreter, _context: &mut CTX) {
        self.add(self.before.get().saturating_sub(interp.gas.remaining()));
    }

    fn call(&mut self, _context: &mut CTX, inputs: &mut CallInputs) -> Option<CallOutcome> {
        // The child's gas includes the 2,300 stipend of a value-moving call, which its parent
        // did not pay: the parent's books end up `9,000 + access − 2,300 + child's work`, as
        // the EVM's own (unused stipend flows back to the parent).
        self.entered(inputs.gas_limit);
        None
    }

    fn call_end(&mut self, _context: &mut CTX, inputs: &CallInputs, outcome: &mut CallOutcome) {
        self.depth.set(self.depth.get().saturating_sub(1));
        if outcome.was_precompile_called {
            self.add(inputs.gas_limit.saturating_sub(outcome.result.gas.remaining()));
        }
        if self.spent.get() > self.limit {
            self.exceeded.set(true);
        }
    }

    fn create(&mut self, _context: &mut CTX, inputs: &mut CreateInputs) -> Option<CreateOutcome> {
        self.entered(inputs.gas_limit());
        None
    }

    fn create_end(&mut self, _context: &mut CTX, _inputs: &CreateInputs, _outcome: &mut CreateOutcome) {
        self.depth.set(self.depth.get().saturating_sub(1));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::WorkBudget;
    use crate::{BlockAttributes, ChainSpec, GenesisAccount, MemoryState, build_block, import_block_bounded};
    use alloy_consensus::{Sealed, TxEip1559, TxEnvelope};
    use alloy_primitives::{Address, Bytes, TxKind, U256, address, map::HashMap};
    use revm::primitives::hardfork::SpecId;

    const CALLER: Address = address!("0x00000000000000000000000000000000000000ca");
    const CALLEE: Address = address!("0x00000000000000000000000000000000000000ce");

    /// A block whose one transaction calls a contract that calls another twice (once moving
    /// value, so with the stipend) and a precompile; returns the spec, genesis, block and state.
    fn block() -> (ChainSpec, Sealed<alloy_consensus::Header>, alloy_consensus::Block<TxEnvelope>, MemoryState) {
        let spec = ChainSpec::post_merge(7, SpecId::PRAGUE, None);
        let key = nrd_test_utils::key("budget test");
        let call = |value: u8| {
            let mut c = vec![0x5f, 0x5f, 0x5f, 0x5f, 0x60, value, 0x73];
            c.extend_from_slice(CALLEE.as_slice());
            c.extend_from_slice(&[0x5a, 0xf1, 0x50]);
            c
        };
        let mut caller = [call(0), call(1)].concat();
        // staticcall(gas, 0x01, 0, 0, 0, 0): ECRECOVER on empty input.
        caller.extend_from_slice(&[0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x5a, 0xfa, 0x50, 0x00]);
        let alloc = [
            (key.address(), GenesisAccount { balance: U256::from(10u128.pow(20)), ..Default::default() }),
            (CALLER, GenesisAccount { balance: U256::from(10), code: Bytes::from(caller), ..Default::default() }),
            // sstore(0, 1); stop
            (
                CALLEE,
                GenesisAccount { code: Bytes::from_static(&[0x60, 0x01, 0x5f, 0x55, 0x00]), ..Default::default() },
            ),
        ];
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let genesis = Sealed::new(spec.genesis_header(state.root(), 30_000_000, 1));
        let tx = TxEip1559 {
            chain_id: 7,
            nonce: 0,
            gas_limit: 1_000_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(CALLER),
            value: U256::ZERO,
            input: Bytes::new(),
            access_list: Default::default(),
        };
        let tx = nrd_test_utils::sign_recovered(&key, tx);
        let attrs = BlockAttributes { timestamp: 13, gas_limit: 30_000_000, ..Default::default() };
        let hashes: HashMap<u64, alloy_primitives::B256> = HashMap::default();
        let built = build_block(&spec, &genesis, attrs, vec![tx], &mut state.clone(), &hashes).unwrap();
        (spec, genesis, built.block, state)
    }

    #[test]
    fn counts_exactly_the_gas_execution_spends() {
        let (spec, genesis, block, mut state) = block();
        let hashes: HashMap<u64, alloy_primitives::B256> = HashMap::default();
        let budget = WorkBudget::new(u64::MAX);
        let imported = import_block_bounded(&spec, &genesis, &block, &[], &mut state, &hashes, &budget).unwrap();
        let used = imported.executed.receipts[0].cumulative_gas_used();
        // No refunds here, no calldata: all but the 21,000 intrinsic gas is instructions' and the
        // precompile's.
        assert_eq!(budget.spent(), used - 21_000);
        assert!(!budget.exceeded());
    }

    #[test]
    fn stops_once_past_the_budget() {
        let (spec, genesis, block, mut state) = block();
        let hashes: HashMap<u64, alloy_primitives::B256> = HashMap::default();
        let budget = WorkBudget::new(1_000);
        let err = import_block_bounded(&spec, &genesis, &block, &[], &mut state, &hashes, &budget).unwrap_err();
        assert_eq!(err, crate::BlockError::WorkBudgetExceeded { budget: 1_000 });
        assert!(budget.exceeded());
    }
}
