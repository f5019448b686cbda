//! # nrd-storage
//!
//! The L2 node's persistent store, so that a sequencer or follower survives a restart: its L2
//! blocks with receipts, the state at the head, the mempool and its progress (submission, L1
//! cursor) are on disk, and a restarted node resumes where it stopped.
//!
//! The node talks to the small [`ChainStore`] trait; [`RedbStore`] implements it on
//! [redb](https://www.redb.org) (pure Rust, ACID, crash-safe, one file). Every method is one
//! transaction, so a crash leaves either the old or the new head, never half a block.
//!
//! What is kept:
//! - the canonical chain from genesis to the head: each [`L2Block`] (block, senders, receipts,
//!   the anchor calldata, the L1 anchor block and the L1 messages applied) in standard encodings
//!   (block RLP, EIP-2718 receipts, ABI `L1Message[]`), indexes by hash and by transaction hash,
//!   and the block's execution witness until it is posted ([`ChainStore::prune_witnesses`]);
//! - the **flat state** at the head (accounts, non-zero storage slots, bytecode), updated by each
//!   block's [`nrd_chain::StateChanges`], with per-block **undo data** (the previous value of
//!   everything the block changed) so [`ChainStore::rewind`] restores an earlier state exactly,
//!   as an L1 reorg needs;
//! - the **state trie** on disk: every node by hash with a reference count, so a block writes
//!   only the nodes on the paths it changed ([`nrd_chain::TrieUpdate`]) and an older state is
//!   read from its root; nodes no state in the history window references are pruned
//!   ([`ChainStore::prune_history`]), never in archive mode ([`StoreOptions::archive`]);
//! - small named values ([`ChainStore::put_meta`]) and the mempool ([`ChainStore::update_pool`]).
//!
//! Nothing of the state is loaded on open: [`ChainStore::state_at`] hands out a snapshot that a
//! [`StoreState`] layers a block's execution on, reading only what the block touches (trie nodes
//! through a bounded [`NodeCache`]).
//!
//! Anything read from disk is decoded defensively: bad bytes are a typed
//! [`StoreError::Corrupt`], never a panic.

mod checkpoint;
mod codec;
mod error;
mod redb_store;
mod store;
mod trie_store;

pub use checkpoint::{
    CHECKPOINT_ANCESTORS, CHECKPOINT_MAGIC, CHECKPOINT_VERSION, CheckpointError, CheckpointHead, CheckpointReader,
    CheckpointResult, CheckpointSummary,
};
pub use error::{Corruption, DecodeError, Inconsistency, StoreError, StoreResult};
pub use redb_store::{RedbStore, SCHEMA_VERSION, StoreOptions};
pub use store::{BlockInfo, ChainStore, L2Block};
pub use trie_store::{NodeCache, StoreSource};

/// The state a node executes blocks on and answers reads from: a layer over one store snapshot.
pub type StoreState = nrd_chain::LayeredState<Box<dyn nrd_chain::StateSource + Send>>;
