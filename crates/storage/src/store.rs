//! The store seam: [`ChainStore`] and the block record it keeps, [`L2Block`].

use crate::StoreResult;
use alloy_primitives::{Address, B256, Bytes};
use nrd_bridge::L1Message;
use nrd_chain::{GenesisAccount, StateChanges, StateSource, StoredBlock, TrieUpdate};
use nrd_execute_client::ExecutionWitness;
use std::sync::Arc;

/// One L2 block as the node keeps it.
#[derive(Debug, Clone)]
pub struct L2Block {
    /// The block, its hash, senders, receipts and transaction hashes.
    pub stored: Arc<StoredBlock>,
    /// Calldata of its anchor system call (empty for the genesis block).
    pub anchor: Bytes,
    /// The L1 block number its anchor references.
    pub l1_anchor: u64,
    /// The L1 messages it applied.
    pub messages: Vec<L1Message>,
    /// Its execution witness, kept until the block is posted (sequencer); `None` on followers
    /// and after [`ChainStore::prune_witnesses`].
    pub witness: Option<ExecutionWitness>,
}

impl L2Block {
    /// The block number.
    pub fn number(&self) -> u64 {
        self.stored.number()
    }

    /// The block hash.
    pub fn hash(&self) -> B256 {
        self.stored.hash
    }
}

/// A block's entry in `block_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// The state root after the block.
    pub state_root: B256,
    /// The L1 block its anchor references.
    pub l1_anchor: u64,
    /// The index of the first L1 message the chain has not applied after it.
    pub next_message: u64,
}

/// The L2 node's persistent store: the canonical chain from genesis to the head, the flat state
/// at the head with per-block undo data, witnesses awaiting posting, small named values and the
/// mempool. Every method is one atomic transaction.
pub trait ChainStore: Send + Sync + std::fmt::Debug {
    /// Appends the head's child atomically: the block, its witness, its transaction index entries,
    /// `changes` applied to the flat state (with the undo data [`ChainStore::rewind`] needs), and
    /// the new head.
    ///
    /// Fails with [`crate::StoreError::NoGenesis`] on an empty store,
    /// [`crate::StoreError::NotNext`] / [`crate::StoreError::WrongParent`] when the block is not
    /// the head's child, and [`crate::StoreError::InconsistentBlock`] when its hash, senders,
    /// receipts or transaction hashes do not match its body. The caller guarantees that
    /// `changes` are the block's (it executed it).
    fn append(&self, block: &L2Block, changes: &StateChanges, trie: &TrieUpdate) -> StoreResult<()>;

    /// Block `number`'s state root, L1 anchor and next L1 message index.
    fn block_info(&self, number: u64) -> StoreResult<Option<BlockInfo>>;

    /// The state after block `number` (the head when `None`) as one consistent snapshot, with
    /// the block's number: flat reads at the head, trie reads at an older block. `None` when the
    /// block is not in the chain or its state was pruned.
    fn state_at(&self, number: Option<u64>) -> StoreResult<Option<(u64, Box<dyn StateSource + Send>)>>;

    /// The oldest block whose state is readable, and to which [`ChainStore::rewind`] can go.
    fn history_from(&self) -> StoreResult<u64>;

    /// Forgets the states before block `keep_from` (trie nodes only they reference, undo data
    /// and trie journals); returns the trie nodes deleted. A no-op in archive mode.
    fn prune_history(&self, keep_from: u64) -> StoreResult<u64>;

    /// The head block number; `None` before genesis.
    fn head(&self) -> StoreResult<Option<u64>>;

    /// The canonical block at `number`; `None` also when its body was pruned
    /// ([`ChainStore::bodies_from`]).
    fn block(&self, number: u64) -> StoreResult<Option<L2Block>>;

    /// The header of the canonical block at `number`, also when its body was pruned (and for
    /// the ancestors a checkpoint brought).
    fn header(&self, number: u64) -> StoreResult<Option<alloy_consensus::Header>>;

    /// The oldest block whose body, receipts and transaction index entries are kept.
    fn bodies_from(&self) -> StoreResult<u64>;

    /// The oldest block the chain has beyond a header: 0, or the block a checkpoint started at.
    fn first_block(&self) -> StoreResult<u64>;

    /// Drops the bodies, receipts, transaction index entries and witnesses of blocks before
    /// `keep_from` (at most 1,024 per call), keeping their headers; never of a block whose state
    /// is still readable ([`ChainStore::history_from`]). Returns the blocks pruned. A no-op in
    /// archive mode.
    fn prune_bodies(&self, keep_from: u64) -> StoreResult<u64>;

    /// The hash of the canonical block at `number` (cheaper than [`ChainStore::block`]).
    fn block_hash(&self, number: u64) -> StoreResult<Option<B256>>;

    /// The number of the canonical block with this hash.
    fn block_number(&self, hash: B256) -> StoreResult<Option<u64>>;

    /// Where a canonical transaction is: block number and index in the block.
    fn transaction(&self, hash: B256) -> StoreResult<Option<(u64, usize)>>;

    /// Drops the witnesses of blocks `≤ up_to` (posted, no longer needed).
    fn prune_witnesses(&self, up_to: u64) -> StoreResult<()>;

    /// Rewinds the chain to block `number`: blocks above it are removed with their witnesses and
    /// transaction index entries, and the flat state is restored exactly from the undo data.
    /// Rewinding to the head is a no-op; above it, [`crate::StoreError::RewindAhead`].
    fn rewind(&self, number: u64) -> StoreResult<()>;

    /// Writes the genesis block (number 0) and its allocation into an empty store, after checking
    /// that the allocation's root is the header's state root.
    ///
    /// On a store that already has a genesis it is a no-op when the stored genesis hash is
    /// `genesis.hash` (a restart), and [`crate::StoreError::GenesisMismatch`] otherwise (a data
    /// directory of another chain).
    fn init_genesis(&self, genesis: &StoredBlock, alloc: &[(Address, GenesisAccount)]) -> StoreResult<()> {
        self.init_genesis_from(genesis, &mut alloc.iter().cloned())
    }

    /// [`Self::init_genesis`] from a stream of accounts, written in batches so that a state of
    /// millions of accounts never sits in memory; fastest in the trie's order (by
    /// `keccak256(address)`). A load interrupted by a crash is started over on the next call.
    fn init_genesis_from(
        &self,
        genesis: &StoredBlock,
        accounts: &mut dyn Iterator<Item = (Address, GenesisAccount)>,
    ) -> StoreResult<()>;

    /// Sets a small named value (submission progress, L1 cursor, …).
    fn put_meta(&self, key: &str, value: &[u8]) -> StoreResult<()>;

    /// A value set with [`ChainStore::put_meta`].
    fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Changes the saved mempool in one write: adds `added` (position, network-encoded
    /// transaction) and removes the transactions at `removed`. Positions order the pool.
    fn update_pool(&self, added: &[(u64, Bytes)], removed: &[u64]) -> StoreResult<()>;

    /// The saved mempool: (position, network-encoded transaction), by position.
    fn load_pool(&self) -> StoreResult<Vec<(u64, Bytes)>>;
}
