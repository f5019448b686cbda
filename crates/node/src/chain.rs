//! The L2 chain a node keeps: canonical blocks in memory and in the store, recent states, the
//! head state, safe and finalized heads, and new-head notifications.

use crate::NodeError;
use alloy_consensus::{Header, Sealed};
use alloy_primitives::{B256, Bytes, map::HashMap};
use nrd_bridge::L1Message;
use nrd_chain::{ChainSpec, GenesisAccount, MemoryState, RwLockExt, StoredBlock, import_block};
use nrd_derivation::{L2Genesis, PostedBlock, anchor_calldata};
use nrd_execute_client::{Ancestors, ExecutionWitness};
use nrd_storage::{ChainStore, L2Block};
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};
use tokio::sync::broadcast;

/// States kept in memory for calls at past blocks.
const STATE_HISTORY: u64 = 128;
/// Ancestor headers a block may read with `BLOCKHASH`.
const ANCESTORS: usize = 256;

/// What a block applied from L1, kept beside the block.
#[derive(Debug, Clone, Default)]
pub struct BlockL1Info {
    /// L1 block its anchor references.
    pub l1_anchor: u64,
    /// Messages applied.
    pub messages: Vec<L1Message>,
    /// Anchor calldata.
    pub anchor: Bytes,
}

#[derive(Debug)]
struct Inner {
    blocks: Vec<Arc<StoredBlock>>,
    l1: Vec<Arc<BlockL1Info>>,
    by_hash: HashMap<B256, u64>,
    txs: HashMap<B256, (u64, usize)>,
    states: BTreeMap<u64, Arc<MemoryState>>,
    safe: u64,
    finalized: u64,
    next_message: u64,
}

impl Inner {
    fn head(&self) -> &Arc<StoredBlock> {
        // Genesis is always there.
        &self.blocks[self.blocks.len() - 1]
    }

    fn push(&mut self, stored: Arc<StoredBlock>, l1: Arc<BlockL1Info>, state: Arc<MemoryState>) {
        let number = stored.number();
        self.by_hash.insert(stored.hash, number);
        for (i, hash) in stored.tx_hashes.iter().enumerate() {
            self.txs.insert(*hash, (number, i));
        }
        self.next_message += l1.messages.len() as u64;
        self.blocks.push(stored);
        self.l1.push(l1);
        self.states.insert(number, state);
        let keep_from = number.saturating_sub(STATE_HISTORY);
        self.states.retain(|n, _| *n >= keep_from);
    }
}

/// The L2 chain of one node.
#[derive(Debug)]
pub struct L2Chain {
    genesis: L2Genesis,
    spec: ChainSpec,
    store: Arc<dyn ChainStore>,
    inner: RwLock<Inner>,
    heads: broadcast::Sender<Arc<StoredBlock>>,
}

impl L2Chain {
    /// Opens the chain in `store`, writing `genesis` into an empty store; a store holding
    /// another chain, or whose state does not match its head, is refused.
    pub fn open(genesis: L2Genesis, store: Arc<dyn ChainStore>) -> Result<Self, NodeError> {
        let spec = genesis.spec();
        let mut genesis_state = genesis.state();
        let header = genesis.header(genesis_state.root());
        let genesis_block = StoredBlock::new(
            alloy_consensus::Block::new(
                header.inner().clone(),
                alloy_consensus::BlockBody { withdrawals: Some(Default::default()), ..Default::default() },
            ),
            vec![],
            vec![],
        );
        if store.head()?.is_none() {
            let alloc: Vec<(alloy_primitives::Address, GenesisAccount)> = genesis.alloc();
            store.init_genesis(&genesis_block, &alloc)?;
        }
        if store.block_hash(0)? != Some(genesis_block.hash) {
            return Err(NodeError::GenesisMismatch);
        }
        let head = store.head()?.unwrap_or(0);
        let mut inner = Inner {
            blocks: Vec::with_capacity(head as usize + 1),
            l1: Vec::with_capacity(head as usize + 1),
            by_hash: HashMap::default(),
            txs: HashMap::default(),
            states: BTreeMap::new(),
            safe: 0,
            finalized: 0,
            next_message: 0,
        };
        for number in 0..=head {
            let block = store.block(number)?.ok_or(NodeError::MissingBlock(number))?;
            let info = BlockL1Info { l1_anchor: block.l1_anchor, messages: block.messages, anchor: block.anchor };
            inner.by_hash.insert(block.stored.hash, number);
            for (i, hash) in block.stored.tx_hashes.iter().enumerate() {
                inner.txs.insert(*hash, (number, i));
            }
            inner.next_message += info.messages.len() as u64;
            inner.blocks.push(block.stored);
            inner.l1.push(Arc::new(info));
        }
        let mut state = store.load_state()?;
        let root = state.root();
        if root != inner.head().header().state_root {
            return Err(NodeError::StateMismatch { head, stored: root });
        }
        inner.states.insert(head, Arc::new(state));
        let (heads, _) = broadcast::channel(1024);
        Ok(Self { genesis, spec, store, inner: RwLock::new(inner), heads })
    }

    fn read(&self) -> RwLockReadGuard<'_, Inner> {
        self.inner.read_or_recover()
    }

    fn write(&self) -> RwLockWriteGuard<'_, Inner> {
        self.inner.write_or_recover()
    }

    /// The chain rules.
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The genesis.
    pub fn genesis(&self) -> &L2Genesis {
        &self.genesis
    }

    /// The store.
    pub fn store(&self) -> &Arc<dyn ChainStore> {
        &self.store
    }

    /// The head block.
    pub fn head(&self) -> Arc<StoredBlock> {
        self.read().head().clone()
    }

    /// The head header, sealed.
    pub fn head_sealed(&self) -> Sealed<Header> {
        let head = self.head();
        Sealed::new_unchecked(head.header().clone(), head.hash)
    }

    /// A canonical block.
    pub fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        self.read().blocks.get(usize::try_from(number).ok()?).cloned()
    }

    /// What block `number` applied from L1.
    pub fn l1_info(&self, number: u64) -> Option<Arc<BlockL1Info>> {
        self.read().l1.get(usize::try_from(number).ok()?).cloned()
    }

    /// A canonical block by hash.
    pub fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        let inner = self.read();
        let number = *inner.by_hash.get(&hash)?;
        inner.blocks.get(number as usize).cloned()
    }

    /// A mined transaction's block and index.
    pub fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        let inner = self.read();
        let (number, index) = *inner.txs.get(&hash)?;
        Some((inner.blocks.get(number as usize)?.clone(), index))
    }

    /// The state after block `number`, if kept.
    pub fn state_at(&self, number: u64) -> Option<Arc<MemoryState>> {
        self.read().states.get(&number).cloned()
    }

    /// The head state.
    pub fn head_state(&self) -> Arc<MemoryState> {
        let inner = self.read();
        inner.states.get(&inner.head().number()).cloned().unwrap_or_default()
    }

    /// Ancestors of the next block (parent first), for `BLOCKHASH`.
    pub fn ancestors(&self) -> Ancestors {
        let inner = self.read();
        let headers: Vec<Sealed<Header>> = inner
            .blocks
            .iter()
            .rev()
            .take(ANCESTORS)
            .map(|b| Sealed::new_unchecked(b.header().clone(), b.hash))
            .collect();
        Ancestors::new(headers).unwrap_or_else(|_| Ancestors::parent_only(self.head_sealed()))
    }

    /// Index of the next L1 message the chain has not applied.
    pub fn next_message(&self) -> u64 {
        self.read().next_message
    }

    /// The newest safe (posted to L1) block number.
    pub fn safe(&self) -> u64 {
        self.read().safe
    }

    /// The newest finalized block number.
    pub fn finalized(&self) -> u64 {
        self.read().finalized
    }

    /// Marks blocks up to `number` safe (posted and verified on L1).
    pub fn set_safe(&self, number: u64) {
        let mut inner = self.write();
        let head = inner.head().number();
        inner.safe = inner.safe.max(number.min(head));
    }

    /// Moves the safe (and finalized) head back to at most `number`: what L1 had posted beyond
    /// it was in L1 blocks a reorg dropped.
    pub fn reset_safe(&self, number: u64) {
        let mut inner = self.write();
        inner.safe = inner.safe.min(number);
        inner.finalized = inner.finalized.min(number);
    }

    /// The newest block whose anchor references L1 block `l1` or an earlier one.
    pub fn last_anchored_at_or_before(&self, l1: u64) -> u64 {
        let inner = self.read();
        inner.l1.iter().rposition(|info| info.l1_anchor <= l1).unwrap_or(0) as u64
    }

    /// Marks blocks up to `number` finalized (their L1 block is).
    pub fn set_finalized(&self, number: u64) {
        let mut inner = self.write();
        let safe = inner.safe;
        inner.finalized = inner.finalized.max(number.min(safe));
    }

    /// New heads as they arrive.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        self.heads.subscribe()
    }

    /// Appends a block the node built or imported: `state` is the state after it, `changes`
    /// what it changed (for the store).
    pub fn append(
        &self,
        stored: StoredBlock,
        info: BlockL1Info,
        witness: Option<ExecutionWitness>,
        changes: &nrd_chain::StateChanges,
        state: MemoryState,
    ) -> Result<Arc<StoredBlock>, NodeError> {
        let stored = Arc::new(stored);
        let record = L2Block {
            stored: stored.clone(),
            anchor: info.anchor.clone(),
            l1_anchor: info.l1_anchor,
            messages: info.messages.clone(),
            witness,
        };
        {
            let mut inner = self.write();
            if stored.header().parent_hash != inner.head().hash {
                return Err(NodeError::NotOnHead { number: stored.number() });
            }
            self.store.append(&record, changes)?;
            inner.push(stored.clone(), Arc::new(info), Arc::new(state));
        }
        let _ = self.heads.send(stored.clone());
        Ok(stored)
    }

    /// Rewinds the chain to block `number` (an L1 reorg took away what the later blocks were
    /// derived from): the store and memory drop the later blocks, the head state becomes
    /// block `number`'s, and safe/finalized heads move back with it. Returns the dropped blocks,
    /// oldest first.
    pub fn rewind(&self, number: u64) -> Result<Vec<Arc<StoredBlock>>, NodeError> {
        let mut inner = self.write();
        let head = inner.head().number();
        if number >= head {
            return Ok(Vec::new());
        }
        self.store.rewind(number)?;
        let state = match inner.states.get(&number) {
            Some(state) => state.clone(),
            None => Arc::new(self.store.load_state()?),
        };
        let keep = usize::try_from(number + 1).unwrap_or(usize::MAX);
        let dropped: Vec<Arc<StoredBlock>> = inner.blocks.drain(keep..).collect();
        let dropped_l1: Vec<Arc<BlockL1Info>> = inner.l1.drain(keep..).collect();
        for block in &dropped {
            inner.by_hash.remove(&block.hash);
            for hash in &block.tx_hashes {
                inner.txs.remove(hash);
            }
        }
        inner.next_message -= dropped_l1.iter().map(|i| i.messages.len() as u64).sum::<u64>();
        inner.states.retain(|n, _| *n < number);
        inner.states.insert(number, state);
        inner.safe = inner.safe.min(number);
        inner.finalized = inner.finalized.min(number);
        tracing::warn!(target: "nrd::node", from = head, to = number, "rewound the L2 chain");
        Ok(dropped)
    }

    /// Imports a block derived from L1 (a follower): executes it on the head with the anchor
    /// L1 built (`l1_hash` = hash of L1 block `posted.l1_anchor`) and appends it.
    pub fn import(&self, posted: &PostedBlock, l1_hash: B256) -> Result<Arc<StoredBlock>, NodeError> {
        let anchor = anchor_calldata(posted.l1_anchor, l1_hash, &posted.messages);
        // The rollup's header rules, as NativeRollup checked them before EXECUTE.
        let gas_limit = self.block(0).ok_or(NodeError::MissingBlock(0))?.header().gas_limit;
        nrd_derivation::check_header_rules(&posted.block, l1_hash, gas_limit)?;
        let parent = self.head_sealed();
        let ancestors = self.ancestors();
        let mut state = MemoryState::clone(&self.head_state());
        let imported = import_block(&self.spec, &parent, &posted.block, &anchor, &mut state, &ancestors)?;
        let senders = nrd_chain::recover_senders(&posted.block)?;
        let stored = StoredBlock::new(posted.block.clone(), senders, imported.executed.receipts.clone());
        let info = BlockL1Info { l1_anchor: posted.l1_anchor, messages: posted.messages.clone(), anchor };
        self.append(stored, info, None, &imported.executed.changes, state)
    }
}
