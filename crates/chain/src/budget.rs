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
