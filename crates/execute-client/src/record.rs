//! Witness recording: execute a block over the full state and keep every piece of state it
//! touched, in the exact form the stateless verifier will need it.

use crate::witness::ExecutionWitness;
use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{
    Address, B256, Bytes, U256,
    map::{B256Map, HashSet},
};
use alloy_rlp::Encodable;
use nrd_chain::{
    AccountState, BlockHashes, BlockResult, ChainSpec, ImportedBlock, NodeRecorder, StateChanges, StateCommitter,
    StateProvider, StateResult, TrieState, Undo, import_block,
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
    let depth = hashes.oldest.get().map_or(0, |oldest| ancestors.parent().number.saturating_sub(oldest));
    let headers = ancestors
        .headers()
        .iter()
        .take(usize::try_from(depth).unwrap_or(usize::MAX).saturating_add(1))
        .map(|h| {
            let mut out = Vec::with_capacity(h.length());
            h.inner().encode(&mut out);
            Bytes::from(out)
        })
        .collect();
    let witness = ExecutionWitness {
        state: nodes.into_iter().map(|(_, n)| n).collect(),
        codes: codes.into_iter().map(|(_, c)| c).collect(),
        headers,
    };
    Ok((imported, witness))
}
