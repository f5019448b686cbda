//! # nrd-chain
//!
//! The EVM chain engine that nrd's L1 devnet and its L2 share. It knows how to:
//!
//! - check a header against its parent (post-merge rules through Prague: gas limit bounds,
//!   EIP-1559 base fee, EIP-4844 blob gas, EIP-4788 beacon root, withdrawals, requests);
//! - execute a block on revm through alloy-evm's Ethereum block executor (system calls,
//!   receipts, withdrawals), reading state through the small [`StateProvider`] seam;
//! - check every header commitment (transactions, receipts, withdrawals roots, logs bloom, gas);
//! - keep state as a Merkle-Patricia trie ([`Trie`], [`StateTrie`]) whose root is recomputed
//!   along changed paths only, with an in-memory store ([`MemoryState`]).
//!
//! The same trie runs blinded, with nodes revealed from a witness: that is how
//! `nrd-execute-client` verifies a block statelessly with exactly this code.
//!
//! ```text
//! import_block(spec, parent, block, anchor, state, hashes)
//!   = validate_header → validate_body → recover_senders → execute_block
//!     (system calls, the anchor system call of a rollup chain, transactions)
//!     → validate_outcome → state.commit → state root check (revert on mismatch)
//! ```

mod budget;
mod error;
mod execute;
mod layered;
mod lock;
mod severity;
mod shared;
mod spec;
mod state;
mod trie;
mod validation;

pub use budget::WorkBudget;
pub use error::{AnchorError, BlockError, BlockResult, EvmError, HeaderError};
pub use execute::{
    BlockAttributes, BlockHashes, BuiltBlock, ExecutedBlock, ImportedBlock, RejectedTx, StoredBlock, build_block,
    execute_block, import_block, import_block_bounded, recover_senders, simulate,
};
pub use layered::{LayeredState, MemorySource, StateSource, TrieUpdate, store_fault};
pub use lock::{LockExt, RwLockExt};
pub use severity::{Classify, Severity};
pub use shared::{SharedError, StoreFault};
pub use spec::{
    ANCHOR_CALLER, AnchorRule, ChainSpec, ExtraPrecompile, SettlementWrite, TxSettlement, system_contracts,
};
pub use state::{
    AccountChange, AccountProof, AccountState, GenesisAccount, MemoryState, SharedState, StateChanges, StateCommitter,
    StateError, StateProvider, StateRef, StateResult, StateTrie, TrieState, Undo,
};
pub use trie::{
    FullyRevealed, MalformedNode, NodeObserver, NodeRecorder, NodeResolver, Observed, ProofNodes, Trie, TrieError,
};
pub use validation::{
    GAS_LIMIT_BOUND_DIVISOR, MAX_GAS_LIMIT, MAXIMUM_EXTRA_DATA_SIZE, MIN_GAS_LIMIT, validate_body, validate_header,
    validate_outcome,
};
