//! Witness recording: execute a block over the full state and keep every piece of state it
//! touched, in the exact form the stateless verifier will need it.

use crate::{
    stateless::{RunSource, VerifyError, run_blocks},
    witness::ExecutionWitness,
};
use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{
    Address, B256, Bytes, U256,
    map::{B256Map, HashSet},
};
use alloy_rlp::Encodable;
use nrd_chain::{
    AccountState, BlockHashes, BlockResult, ChainSpec, ImportedBlock, NodeRecorder, NodeResolver, StateChanges,
    StateCommitter, StateProvider, StateResult, StateSource, TrieError, TrieState, Undo, import_block,
};
use std::cell::Cell;

/// The ancestors of a block: its parent first, then each earlier block, contiguous.
#[derive(Debug, Clone)]
pub struct Ancestors {
    headers: Vec<Sealed<Header>>,
}

impl Ancestors {
    /// The parent of a block, with no older ancestors.
    pub fn parent_only(parent: Sealed<Header>) -> Self {
        Self { headers: vec![parent] }
    }

    /// `headers` must start with the parent and descend one block at a time; the error names
    /// the first header that does not link to the one before it (zero for an empty list).
    pub fn new(headers: Vec<Sealed<Header>>) -> Result<Self, B256> {
        if let Some(w) =
            headers.windows(2).find(|w| w[0].parent_hash != w[1].hash() || w[0].number != w[1].number.wrapping_add(1))
        {
            return Err(w[1].hash());
        }
        if headers.is_empty() {
            return Err(B256::ZERO);
        }
        Ok(Self { headers })
    }

    /// Makes `child` (a block whose parent is the current parent) the new parent: the ancestors
    /// of the block after `child`. The caller checked that `child` extends the parent (a run's
    /// blocks are imported on it first).
    pub fn push_child(&mut self, child: Sealed<Header>) {
        self.headers.insert(0, child);
    }

    /// The parent header.
    pub fn parent(&self) -> &Sealed<Header> {
        &self.headers[0]
    }

    /// The headers, parent first.
    pub fn headers(&self) -> &[Sealed<Header>] {
        &self.headers
    }
}

impl BlockHashes for Ancestors {
    fn block_hash(&self, number: u64) -> Option<B256> {
        let depth = self.parent().number.checked_sub(number)?;
        self.headers.get(usize::try_from(depth).ok()?).map(Sealed::hash)
    }
}

/// Wraps block hashes and remembers the oldest block `BLOCKHASH` asked for.
#[derive(Debug)]
pub(crate) struct TrackedHashes<'a, H> {
    inner: &'a H,
    pub(crate) oldest: Cell<Option<u64>>,
}

impl<'a, H> TrackedHashes<'a, H> {
    pub(crate) fn new(inner: &'a H) -> Self {
        Self { inner, oldest: Cell::new(None) }
    }
}

impl<H: BlockHashes> BlockHashes for TrackedHashes<'_, H> {
    fn block_hash(&self, number: u64) -> Option<B256> {
        self.oldest.set(Some(self.oldest.get().map_or(number, |o| o.min(number))));
        self.inner.block_hash(number)
    }
}

/// A state that logs what execution reads, and records trie nodes when committing.
#[derive(Debug)]
struct RecordingState<'a, T> {
    state: &'a mut T,
    accounts: HashSet<Address>,
    slots: HashSet<(Address, U256)>,
    codes: B256Map<Bytes>,
    nodes: NodeRecorder,
}

impl<T: TrieState> StateProvider for RecordingState<'_, T> {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        self.accounts.insert(address);
        self.state.account(address)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        self.slots.insert((address, slot));
        self.state.storage(address, slot)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        let code = self.state.code(hash)?;
        self.codes.insert(hash, code.clone());
        Ok(code)
    }
}

impl<T: TrieState> StateCommitter for RecordingState<'_, T> {
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)> {
        // Reads first, against the pre-state: the proof of every account and slot execution read
        // (a slot read also reads its account, for the storage root).
        for address in self.accounts.iter().chain(self.slots.iter().map(|(a, _)| a)) {
            self.state.observe_account(*address, &mut self.nodes)?;
        }
        for (address, slot) in &self.slots {
            self.state.observe_storage(*address, *slot, &mut self.nodes)?;
        }
        // Then the update itself, which adds the siblings that removals fold in.
        self.state.commit_observed(changes, &mut self.nodes)
    }

    fn revert(&mut self, undo: Undo) {
        self.state.revert(undo);
    }
}

/// Imports `block` on top of `ancestors` into `state`, like [`nrd_chain::import_block`], and
/// returns the witness a stateless verifier needs to re-execute it (the anchor system call's
/// accesses included).
pub fn record_block(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    state: &mut impl TrieState,
    ancestors: &Ancestors,
) -> BlockResult<(ImportedBlock, ExecutionWitness)> {
    let mut recording = RecordingState {
        state,
        accounts: HashSet::default(),
        slots: HashSet::default(),
        codes: B256Map::default(),
        nodes: NodeRecorder::default(),
    };
    let hashes = TrackedHashes::new(ancestors);
    let imported = import_block(spec, ancestors.parent(), block, anchor, &mut recording, &hashes)?;

    let mut nodes: Vec<(B256, Bytes)> = recording.nodes.nodes.into_iter().collect();
    nodes.sort_unstable_by_key(|(hash, _)| *hash);
    let mut codes: Vec<(B256, Bytes)> = recording.codes.into_iter().collect();
    codes.sort_unstable_by_key(|(hash, _)| *hash);
    let witness = ExecutionWitness {
        state: nodes.into_iter().map(|(_, n)| n).collect(),
        codes: codes.into_iter().map(|(_, c)| c).collect(),
        headers: witness_headers(ancestors, hashes.oldest.get()),
    };
    Ok((imported, witness))
}

/// The ancestors' headers a witness carries: the parent, and back to the oldest block
/// `BLOCKHASH` asked for.
fn witness_headers(ancestors: &Ancestors, oldest: Option<u64>) -> Vec<Bytes> {
    let depth = oldest.map_or(0, |oldest| ancestors.parent().number.saturating_sub(oldest));
    ancestors
        .headers()
        .iter()
        .take(usize::try_from(depth).unwrap_or(usize::MAX).saturating_add(1))
        .map(|h| {
            let mut out = Vec::with_capacity(h.length());
            h.inner().encode(&mut out);
            Bytes::from(out)
        })
        .collect()
}

/// A full state's store seen as a witness: hands out any node or code of the pre-state and
/// remembers what it handed out.
struct Recorder<'a, S: ?Sized> {
    source: &'a mut S,
    nodes: B256Map<Bytes>,
    codes: B256Map<Bytes>,
}

impl<S: StateSource + ?Sized> NodeResolver for Recorder<'_, S> {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        if let Some(node) = self.nodes.get(hash) {
            return Ok(node.clone());
        }
        let node = self.source.node(hash)?;
        self.nodes.insert(*hash, node.clone());
        Ok(node)
    }
}

impl<S: StateSource + ?Sized> RunSource for Recorder<'_, S> {
    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if let Some(code) = self.codes.get(&hash) {
            return Ok(code.clone());
        }
        let code = self.source.code(hash)?;
        self.codes.insert(hash, code.clone());
        Ok(code)
    }
}

/// The witness of a **run** (docs/protocol.md §5.1): `blocks` executed in order on the state
/// `source` holds (its root is the run's pre-state root; `ancestors` starts with the first
/// block's parent), each on the one before, with its anchor. It is recorded by running the
/// stateless verifier itself over `source` instead of a witness, so it holds exactly the
/// pre-state nodes and codes [`crate::verify_run`] will ask for — each once, none that a block
/// of the run wrote — and the headers back to the oldest `BLOCKHASH` before the run. `source`
/// is only read. A block that does not verify cannot be recorded: the error is the verifier's.
pub fn record_run<S: StateSource + ?Sized>(
    spec: &ChainSpec,
    blocks: &[Block<TxEnvelope>],
    anchors: &[&[u8]],
    source: &mut S,
    ancestors: &Ancestors,
) -> Result<ExecutionWitness, VerifyError> {
    let root = source.root();
    let recorder = Recorder { source, nodes: B256Map::default(), codes: B256Map::default() };
    let outcome = run_blocks(spec, root, blocks, anchors, ancestors.clone(), recorder, None)?;
    let mut nodes: Vec<(B256, Bytes)> = outcome.source.nodes.into_iter().collect();
    nodes.sort_unstable_by_key(|(hash, _)| *hash);
    let mut codes: Vec<(B256, Bytes)> = outcome.source.codes.into_iter().collect();
    codes.sort_unstable_by_key(|(hash, _)| *hash);
    Ok(ExecutionWitness {
        state: nodes.into_iter().map(|(_, n)| n).collect(),
        codes: codes.into_iter().map(|(_, c)| c).collect(),
        headers: witness_headers(ancestors, outcome.oldest),
    })
}
