//! The L2 chain a node keeps: the store's canonical blocks (the most recent ones in memory),
//! the head state as a snapshot of the store, safe and finalized heads, and new-head
//! notifications.
//!
//! Nothing here grows with the chain or its state: opening reads the head and the last
//! [`ANCESTORS`] blocks; a block is executed on a [`StoreState`] layered over one store snapshot
//! and committed as its changes and trie update; older blocks, transactions and states are read
//! from the store when asked for.

use crate::NodeError;
use alloy_consensus::{Header, Sealed, Transaction as _, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, Bytes};
use nrd_bridge::L1Message;
use nrd_chain::{ChainSpec, LayeredState, RwLockExt, StateSource, StoredBlock, import_block};
use nrd_derivation::{L2Genesis, PostedBlock, anchor_calldata};
use nrd_execute_client::{Ancestors, ExecutionWitness};
use nrd_storage::{ChainStore, L2Block, StoreState};
use std::{
    collections::VecDeque,
    sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard},
};
use tokio::sync::broadcast;

/// Ancestor headers a block may read with `BLOCKHASH`: the blocks kept in memory.
pub const ANCESTORS: usize = 256;
/// Blocks between two prunings of the state history.
const PRUNE_EVERY: u64 = 16;

/// How much history a node keeps readable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateHistory {
    /// States of the last `window` blocks stay readable (`eth_getBalance`, `eth_call`,
    /// `eth_getProof`, `debug_executionWitness` at them) and the chain can rewind that far;
    /// never fewer than the blocks since the finalized one. `None`: archive, everything stays.
    pub window: Option<u64>,
    /// Bodies, receipts and transaction index entries of the last `bodies` blocks stay
    /// readable; older blocks keep only their headers. Never fewer than the blocks whose state
    /// is kept, nor than the blocks since the finalized one. `None`: every block stays.
    pub bodies: Option<u64>,
}

impl Default for StateHistory {
    fn default() -> Self {
        Self { window: Some(128), bodies: None }
    }
}

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
struct Recent {
    header: Sealed<Header>,
    /// The block and what it applied from L1; `None` when only its header is kept (a pruned
    /// body, or an ancestor a checkpoint brought).
    block: Option<(Arc<StoredBlock>, Arc<BlockL1Info>)>,
}

#[derive(Debug)]
struct Inner {
    /// The head block.
    head: Arc<StoredBlock>,
    /// The last [`ANCESTORS`] blocks, oldest first; the last is the head.
    recent: VecDeque<Recent>,
    next_message: u64,
    safe: u64,
    finalized: u64,
    last_prune: u64,
    /// The oldest block whose body is kept (the store's, cached).
    bodies_from: u64,
}

impl Inner {
    fn head(&self) -> &Arc<StoredBlock> {
        &self.head
    }

    fn recent(&self, number: u64) -> Option<&Recent> {
        let first = self.recent.front()?.header.number;
        self.recent.get(usize::try_from(number.checked_sub(first)?).ok()?)
    }

    /// Forgets the bodies of recent blocks before `bodies_from` (they were pruned).
    fn set_bodies_from(&mut self, bodies_from: u64) {
        self.bodies_from = bodies_from;
        for recent in self.recent.iter_mut().take_while(|r| r.header.number < bodies_from) {
            recent.block = None;
        }
    }

    fn push(&mut self, block: Arc<StoredBlock>, l1: Arc<BlockL1Info>) {
        self.next_message += l1.messages.len() as u64;
        self.head = block.clone();
        self.recent.push_back(recent_of(block, l1));
        while self.recent.len() > ANCESTORS {
            self.recent.pop_front();
        }
    }
}

fn l1_of(block: L2Block) -> (Arc<StoredBlock>, Arc<BlockL1Info>) {
    let l1 = BlockL1Info { l1_anchor: block.l1_anchor, messages: block.messages, anchor: block.anchor };
    (block.stored, Arc::new(l1))
}

fn recent_of(block: Arc<StoredBlock>, l1: Arc<BlockL1Info>) -> Recent {
    Recent { header: Sealed::new_unchecked(block.header().clone(), block.hash), block: Some((block, l1)) }
}

/// The last [`ANCESTORS`] blocks up to `head` from the store (headers only where bodies are
/// pruned; none before a checkpoint's ancestors), and the head block.
fn load_recent(store: &dyn ChainStore, head: u64) -> Result<(VecDeque<Recent>, Arc<StoredBlock>), NodeError> {
    let first = head.saturating_sub(ANCESTORS as u64 - 1);
    let bodies_from = store.bodies_from()?;
    let mut recent = VecDeque::with_capacity(ANCESTORS);
    for number in first..=head {
        if number >= bodies_from {
            let (block, l1) = l1_of(store.block(number)?.ok_or(NodeError::MissingBlock(number))?);
            recent.push_back(recent_of(block, l1));
            continue;
        }
        match (store.header(number)?, store.block_hash(number)?) {
            (Some(header), Some(hash)) => {
                recent.push_back(Recent { header: Sealed::new_unchecked(header, hash), block: None })
            }
            // A checkpoint brings only the ancestors BLOCKHASH can read.
            _ if recent.is_empty() => {}
            _ => return Err(NodeError::MissingBlock(number)),
        }
    }
    let head_block =
        recent.back().and_then(|r| r.block.as_ref()).map(|(b, _)| b.clone()).ok_or(NodeError::MissingBlock(head))?;
    Ok((recent, head_block))
}

/// Store meta key: [`L2Genesis::fingerprint`] of the genesis the store was written from.
const GENESIS_FINGERPRINT: &str = "genesis_fingerprint";

/// Store meta key: the L1 block that posted the block a checkpoint started the chain at (the
/// follower needs nothing from L1 before it).
pub const CHECKPOINT_L1_BLOCK: &str = "checkpoint_l1_block";

/// Records in `store` that it holds `genesis`'s chain without writing the genesis into it: a
/// store loaded from a checkpoint (whose blocks L1 verified) starts after the genesis.
pub fn adopt_genesis(store: &dyn ChainStore, genesis: &L2Genesis) -> Result<(), NodeError> {
    Ok(store.put_meta(GENESIS_FINGERPRINT, genesis.fingerprint().as_slice())?)
}

/// The L1 block a checkpoint's block was posted in, when the store started from a checkpoint.
pub fn checkpoint_l1_block(store: &dyn ChainStore) -> Result<Option<u64>, NodeError> {
    let Some(raw) = store.meta(CHECKPOINT_L1_BLOCK)? else { return Ok(None) };
    let bytes = <[u8; 8]>::try_from(raw.as_slice()).map_err(|_| NodeError::BadMeta {
        key: CHECKPOINT_L1_BLOCK,
        len: raw.len(),
        expected: 8,
    })?;
    Ok(Some(u64::from_be_bytes(bytes)))
}

/// A background warm-up of the state's node cache ([`L2Chain::prefetch`]); dropping it stops it.
#[derive(Debug)]
pub struct Prefetch {
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Sees nothing: revealing the path is the point.
struct Ignore;

impl nrd_chain::NodeObserver for Ignore {
    fn visit(&mut self, _hash: B256, _encoding: Vec<u8>) {}
}

/// The L2 chain of one node.
#[derive(Debug)]
pub struct L2Chain {
    genesis: L2Genesis,
    spec: ChainSpec,
    store: Arc<dyn ChainStore>,
    history: StateHistory,
    inner: RwLock<Inner>,
    heads: broadcast::Sender<Arc<StoredBlock>>,
}

impl L2Chain {
    /// Opens the chain in `store` keeping the default [`StateHistory`].
    pub fn open(genesis: L2Genesis, store: Arc<dyn ChainStore>) -> Result<Self, NodeError> {
        Self::open_with(genesis, store, StateHistory::default())
    }

    /// Opens the chain in `store`, writing `genesis` into an empty store; a store holding
    /// another chain, or whose state does not match its head, is refused. Reads the head, the
    /// last [`ANCESTORS`] blocks and the head state's root node: nothing that grows with the
    /// chain or the state.
    pub fn open_with(genesis: L2Genesis, store: Arc<dyn ChainStore>, history: StateHistory) -> Result<Self, NodeError> {
        let spec = genesis.spec();
        // A store this genesis wrote says so: no need to recompute a large genesis state root.
        let fingerprint = genesis.fingerprint();
        let known =
            store.head()?.is_some() && store.meta(GENESIS_FINGERPRINT)?.as_deref() == Some(fingerprint.as_slice());
        if !known {
            let header = genesis.header(genesis.state_root());
            let genesis_block = StoredBlock::new(
                alloy_consensus::Block::new(
                    header.inner().clone(),
                    alloy_consensus::BlockBody { withdrawals: Some(Default::default()), ..Default::default() },
                ),
                vec![],
                vec![],
            );
            if store.head()?.is_none() {
                store.init_genesis_from(&genesis_block, &mut genesis.accounts())?;
            }
            if store.block_hash(0)? != Some(genesis_block.hash) {
                return Err(NodeError::GenesisMismatch);
            }
            store.put_meta(GENESIS_FINGERPRINT, fingerprint.as_slice())?;
        }
        let head = store.head()?.unwrap_or(0);
        let (recent, head_block) = load_recent(&*store, head)?;
        let info = store.block_info(head)?.ok_or(NodeError::MissingBlock(head))?;
        // A chain started from a checkpoint has nothing before it: it is safe and final there.
        let first = store.first_block()?;
        let inner = Inner {
            head: head_block,
            recent,
            next_message: info.next_message,
            safe: first,
            finalized: first,
            last_prune: 0,
            bodies_from: store.bodies_from()?,
        };
        let expected = inner.head().header().state_root;
        // The head state is there: its root is the head's, and its root node is stored.
        let (_, mut source) = store.state_at(None)?.ok_or(NodeError::MissingBlock(head))?;
        if source.root() != expected {
            return Err(NodeError::StateMismatch { head, stored: source.root() });
        }
        source.node(&expected).map_err(|e| NodeError::State(e.into()))?;
        let (heads, _) = broadcast::channel(1024);
        Ok(Self { genesis, spec, store, history, inner: RwLock::new(inner), heads })
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

    /// How much state history is kept.
    pub fn history(&self) -> StateHistory {
        self.history
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

    fn stored(&self, number: u64) -> Option<L2Block> {
        self.store
            .block(number)
            .inspect_err(|e| tracing::error!(target: "nrd::node", number, "reading block {number} from the store: {e}"))
            .ok()
            .flatten()
    }

    /// A canonical block (`None` also when its body is pruned: see [`Self::bodies_from`]).
    pub fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        {
            let inner = self.read();
            if number < inner.bodies_from {
                return None;
            }
            if let Some(recent) = inner.recent(number) {
                return recent.block.as_ref().map(|(b, _)| b.clone());
            }
        }
        Some(self.stored(number)?.stored)
    }

    /// What block `number` applied from L1.
    pub fn l1_info(&self, number: u64) -> Option<Arc<BlockL1Info>> {
        {
            let inner = self.read();
            if number < inner.bodies_from {
                return None;
            }
            if let Some(recent) = inner.recent(number) {
                return recent.block.as_ref().map(|(_, l1)| l1.clone());
            }
        }
        Some(l1_of(self.stored(number)?).1)
    }

    /// A canonical block's header, also when its body is pruned.
    pub fn header(&self, number: u64) -> Option<Sealed<Header>> {
        if let Some(recent) = self.read().recent(number) {
            return Some(recent.header.clone());
        }
        let read = || -> Result<Option<Sealed<Header>>, nrd_storage::StoreError> {
            let (Some(header), Some(hash)) = (self.store.header(number)?, self.store.block_hash(number)?) else {
                return Ok(None);
            };
            Ok(Some(Sealed::new_unchecked(header, hash)))
        };
        read()
            .inspect_err(
                |e| tracing::error!(target: "nrd::node", number, "reading header {number} from the store: {e}"),
            )
            .ok()
            .flatten()
    }

    /// A canonical block's hash, also when its body is pruned.
    pub fn block_hash(&self, number: u64) -> Option<B256> {
        if let Some(recent) = self.read().recent(number) {
            return Some(recent.header.hash());
        }
        self.store
            .block_hash(number)
            .inspect_err(|e| tracing::error!(target: "nrd::node", number, "reading block hash {number}: {e}"))
            .ok()
            .flatten()
    }

    /// The oldest block whose body, receipts and transactions are kept (older ones keep only
    /// their headers).
    pub fn bodies_from(&self) -> u64 {
        self.read().bodies_from
    }

    /// The oldest block of the chain beyond headers: 0, or the block a checkpoint started it at.
    pub fn first_block(&self) -> u64 {
        self.store
            .first_block()
            .inspect_err(|e| tracing::error!(target: "nrd::node", "reading the chain's first block: {e}"))
            .unwrap_or(0)
    }

    /// A canonical block by hash.
    pub fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        self.block(self.block_number(hash)?).filter(|b| b.hash == hash)
    }

    /// The number of the canonical block with this hash (also when its body is pruned).
    pub fn block_number(&self, hash: B256) -> Option<u64> {
        self.store
            .block_number(hash)
            .inspect_err(|e| tracing::error!(target: "nrd::node", %hash, "looking up block {hash}: {e}"))
            .ok()?
    }

    /// A mined transaction's block and index.
    pub fn transaction(&self, hash: B256) -> Option<(Arc<StoredBlock>, usize)> {
        let (number, index) = self
            .store
            .transaction(hash)
            .inspect_err(|e| tracing::error!(target: "nrd::node", %hash, "looking up transaction {hash}: {e}"))
            .ok()??;
        Some((self.block(number)?, index))
    }

    /// The state after block `number`, if kept (the head's, or one in the history window).
    pub fn state_at(&self, number: u64) -> Option<StoreState> {
        let (_, source) = self
            .store
            .state_at(Some(number))
            .inspect_err(|e| tracing::error!(target: "nrd::node", number, "reading the state of block {number}: {e}"))
            .ok()??;
        Some(LayeredState::new(source))
    }

    /// The witness of the run of stored blocks `first..=last` (one EXECUTE for all of them,
    /// docs/protocol.md §5.1), recorded over the state after block `first - 1`, which must still
    /// be kept (the sequencer posts well within the history window, which never drops a block
    /// after the finalized one).
    pub fn run_witness(&self, first: u64, last: u64) -> Result<nrd_execute_client::ExecutionWitness, NodeError> {
        let parent = first.checked_sub(1).ok_or(NodeError::MissingBlock(0))?;
        let (_, mut source) = self.store.state_at(Some(parent))?.ok_or(NodeError::StateUnavailable(parent))?;
        let mut blocks = Vec::with_capacity(usize::try_from(last.saturating_sub(first) + 1).unwrap_or(0));
        let mut anchors = Vec::with_capacity(blocks.capacity());
        for number in first..=last {
            let record = self.store.block(number)?.ok_or(NodeError::MissingBlock(number))?;
            blocks.push(record.stored.block.clone());
            anchors.push(record.anchor);
        }
        // BLOCKHASH reaches 256 blocks back from any block of the run; the run's own blocks are
        // in it, so the parent and the 255 before it, as far as the store has them (a node started
        // from a checkpoint has no headers before it: a block asking for one cannot be recorded,
        // as with one block).
        let mut headers = Vec::with_capacity(256);
        for number in (parent.saturating_sub(255)..=parent).rev() {
            match self.store.header(number)? {
                Some(header) => headers.push(Sealed::new(header)),
                None if number < parent => break,
                None => return Err(NodeError::MissingBlock(number)),
            }
        }
        let ancestors = Ancestors::new(headers).map_err(|_| NodeError::MissingBlock(parent))?;
        let anchors: Vec<&[u8]> = anchors.iter().map(|a| a.as_ref()).collect();
        nrd_execute_client::record_run(&self.spec, &blocks, &anchors, &mut source, &ancestors)
            .map_err(|source| NodeError::RunWitness { first, last, source })
    }

    /// The oldest block whose state is kept (0 in archive mode and before any pruning).
    pub fn history_from(&self) -> u64 {
        self.store
            .history_from()
            .inspect_err(|e| tracing::error!(target: "nrd::node", "reading the state history start: {e}"))
            .unwrap_or(0)
    }

    /// The head block and its state, from the same moment.
    pub fn head_with_state(&self) -> Result<(Sealed<Header>, StoreState), NodeError> {
        // Appends hold the write lock across the store's commit: under the read lock the
        // store's head is this head.
        let inner = self.read();
        let head = inner.head();
        let (number, source) = self.store.state_at(None)?.ok_or(NodeError::MissingBlock(head.number()))?;
        if number != head.number() {
            return Err(NodeError::NotOnHead { number });
        }
        Ok((Sealed::new_unchecked(head.header().clone(), head.hash), LayeredState::new(source)))
    }

    /// Reads the account trie paths of `addresses` from the store on another thread, so that
    /// the block about to be executed on the head (built or imported) finds them in the node
    /// cache when it computes its state root: on a large state those reads are what grows, and
    /// a second core does them while the first executes. Stops when the returned guard drops.
    pub fn prefetch(&self, addresses: Vec<Address>) -> Option<Prefetch> {
        let mut state = self.head_state().ok()?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = stop.clone();
        let spawned = std::thread::Builder::new().name("nrd-prefetch".into()).spawn(move || {
            for address in addresses {
                if flag.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                // A failed read is the executing block's to report, not the warm-up's.
                if nrd_chain::TrieState::observe_account(&mut state, address, &mut Ignore).is_err() {
                    return;
                }
            }
        });
        spawned.ok().map(|_| Prefetch { stop })
    }

    /// [`Self::prefetch`] of the accounts `transactions` send from and to.
    pub fn prefetch_transactions(&self, transactions: &[Recovered<TxEnvelope>]) -> Option<Prefetch> {
        let touched = transactions.iter().flat_map(|tx| [Some(tx.signer()), tx.inner().to()]).flatten().collect();
        self.prefetch(touched)
    }

    /// The head state (a snapshot: later blocks do not change it).
    pub fn head_state(&self) -> Result<StoreState, NodeError> {
        Ok(self.head_with_state()?.1)
    }

    /// Ancestors of the next block (parent first), for `BLOCKHASH`.
    pub fn ancestors(&self) -> Ancestors {
        let inner = self.read();
        let headers: Vec<Sealed<Header>> = inner.recent.iter().rev().map(|r| r.header.clone()).collect();
        // (`head_sealed` takes the lock again.)
        drop(inner);
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

    /// The newest block whose anchor references L1 block `l1` or an earlier one (anchors never
    /// go back, so a binary search over the store's block index finds it).
    pub fn last_anchored_at_or_before(&self, l1: u64) -> u64 {
        let anchor = |n: u64| -> u64 {
            if let Some((_, l1)) = self.read().recent(n).and_then(|r| r.block.as_ref()) {
                return l1.l1_anchor;
            }
            self.store.block_info(n).ok().flatten().map_or(u64::MAX, |i| i.l1_anchor)
        };
        let (mut lo, mut hi) = (self.first_block(), self.head().number());
        // Invariant: anchor(lo) <= l1 (genesis anchors nothing, 0; a checkpoint's block is
        // final), and the answer is in lo..=hi.
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if anchor(mid) <= l1 { lo = mid } else { hi = mid - 1 }
        }
        lo
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

    /// Appends a block the node built or imported: `state` is the head state the block was
    /// executed and committed on, `changes` what it changed.
    pub fn append(
        &self,
        stored: StoredBlock,
        info: BlockL1Info,
        witness: Option<ExecutionWitness>,
        changes: &nrd_chain::StateChanges,
        state: &mut StoreState,
    ) -> Result<Arc<StoredBlock>, NodeError> {
        let stored = Arc::new(stored);
        let record = L2Block {
            stored: stored.clone(),
            anchor: info.anchor.clone(),
            l1_anchor: info.l1_anchor,
            messages: info.messages.clone(),
            witness,
        };
        let update = state.trie_update();
        let prune_from = {
            let mut inner = self.write();
            if stored.header().parent_hash != inner.head().hash
                || state.source().root() != inner.head().header().state_root
            {
                return Err(NodeError::NotOnHead { number: stored.number() });
            }
            self.store.append(&record, changes, &update)?;
            inner.push(stored.clone(), Arc::new(info));
            let number = stored.number();
            if number >= inner.last_prune + PRUNE_EVERY {
                inner.last_prune = number;
                let keep = |window: Option<u64>| window.map(|w| number.saturating_sub(w).min(inner.finalized));
                (keep(self.history.window), keep(self.history.bodies))
            } else {
                (None, None)
            }
        };
        if let Some(keep_from) = prune_from.0 {
            match self.store.prune_history(keep_from) {
                Ok(deleted) => nrd_metrics::state_pruned(deleted),
                Err(e) => tracing::error!(target: "nrd::node", keep_from, "pruning the state history: {e}"),
            }
        }
        if let Some(keep_from) = prune_from.1 {
            match self.store.prune_bodies(keep_from).and_then(|pruned| Ok((pruned, self.store.bodies_from()?))) {
                Ok((pruned, bodies_from)) => {
                    nrd_metrics::bodies_pruned(pruned);
                    self.write().set_bodies_from(bodies_from);
                }
                Err(e) => tracing::error!(target: "nrd::node", keep_from, "pruning block bodies: {e}"),
            }
        }
        nrd_metrics::state_nodes_written(update.created.len(), update.dropped.len());
        let _ = self.heads.send(stored.clone());
        Ok(stored)
    }

    /// Rewinds the chain to block `number` (an L1 reorg took away what the later blocks were
    /// derived from): the store drops the later blocks and restores block `number`'s state,
    /// and safe/finalized heads move back with it. Returns the dropped blocks, oldest first.
    pub fn rewind(&self, number: u64) -> Result<Vec<Arc<StoredBlock>>, NodeError> {
        let mut inner = self.write();
        let head = inner.head().number();
        if number >= head {
            return Ok(Vec::new());
        }
        // (`self.block` would take the lock held here.)
        let dropped: Vec<Arc<StoredBlock>> = (number + 1..=head)
            .map(|n| match inner.recent(n).and_then(|r| r.block.as_ref()) {
                Some((block, _)) => Ok(block.clone()),
                None => self.stored(n).map(|b| b.stored).ok_or(NodeError::MissingBlock(n)),
            })
            .collect::<Result<_, _>>()?;
        self.store.rewind(number)?;
        let (recent, head_block) = load_recent(&*self.store, number)?;
        inner.recent = recent;
        inner.head = head_block;
        inner.bodies_from = self.store.bodies_from()?;
        inner.next_message = self.store.block_info(number)?.ok_or(NodeError::MissingBlock(number))?.next_message;
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
        let gas_limit = self.genesis.gas_limit();
        nrd_derivation::check_header_rules(&posted.block, l1_hash, gas_limit)?;
        let ancestors = self.ancestors();
        let targets = posted.block.body.transactions.iter().filter_map(TxEnvelope::to).collect();
        let _prefetch = self.prefetch(targets);
        let (parent, mut state) = self.head_with_state()?;
        let imported = import_block(&self.spec, &parent, &posted.block, &anchor, &mut state, &ancestors)?;
        let senders = nrd_chain::recover_senders(&posted.block)?;
        let stored = StoredBlock::new(posted.block.clone(), senders, imported.executed.receipts.clone());
        let info = BlockL1Info { l1_anchor: posted.l1_anchor, messages: posted.messages.clone(), anchor };
        self.append(stored, info, None, &imported.executed.changes, &mut state)
    }
}
