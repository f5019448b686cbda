//! The stateless verifier: re-execute a block from (pre-state root, block, witness) alone.

use crate::{
    record::{Ancestors, TrackedHashes},
    witness::ExecutionWitness,
};
use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{
    Address, B256, Bytes, KECCAK256_EMPTY, U256, keccak256,
    map::{B256Map, B256Set},
};
use alloy_rlp::Decodable;
use nrd_chain::{
    AccountState, BlockError, ChainSpec, MalformedNode, NodeResolver, StateChanges, StateCommitter, StateError,
    StateProvider, StateResult, StateTrie, TrieError, Undo, WorkBudget, import_block, import_block_bounded,
    system_contracts,
};

/// Why a block does not verify statelessly. Witness problems and block problems are distinct.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// A witness header is not valid header RLP.
    #[error("witness header {index} does not decode: {source}")]
    MalformedHeader {
        /// Position in `witness.headers`.
        index: usize,
        /// Decoder error.
        #[source]
        source: alloy_rlp::Error,
    },
    /// Bytes follow a witness header's RLP.
    #[error("witness header {index} does not decode: {count} trailing bytes")]
    HeaderTrailingBytes {
        /// Position in `witness.headers`.
        index: usize,
        /// Bytes after the header.
        count: usize,
    },
    /// The same node, code or header appears twice in the witness.
    #[error("witness lists {0} twice")]
    DuplicateEntry(B256),
    /// No witness header hashes to the block's parent hash.
    #[error("no witness header hashes to the block's parent hash {0}")]
    MissingParentHeader(B256),
    /// The parent's state root is not the claimed pre-state root.
    #[error("parent header state root {parent} differs from the pre-state root {pre_state_root}")]
    PreStateRootMismatch {
        /// The claimed pre-state root.
        pre_state_root: B256,
        /// The parent header's state root.
        parent: B256,
    },
    /// Execution needed a trie node the witness lacks.
    #[error("witness lacks trie node {0}")]
    MissingNode(B256),
    /// Execution needed bytecode the witness lacks.
    #[error("witness lacks bytecode {0}")]
    MissingCode(B256),
    /// `BLOCKHASH` needed a header the witness lacks.
    #[error("witness lacks the header of block {0}")]
    MissingHeader(u64),
    /// A witness trie node is not valid node RLP.
    #[error("witness trie node is malformed: {0}")]
    MalformedNode(#[source] MalformedNode),
    /// A witness trie leaf does not decode.
    #[error("witness state is malformed: {0}")]
    MalformedState(#[source] StateError),
    /// The witness carries a trie node re-execution never used.
    #[error("witness carries trie node {0}, which re-execution does not use")]
    UnusedNode(B256),
    /// The witness carries bytecode re-execution never used.
    #[error("witness carries bytecode {0}, which re-execution does not use")]
    UnusedCode(B256),
    /// The witness carries a header re-execution never used.
    #[error("witness carries header {0}, which re-execution does not use")]
    UnusedHeader(B256),
    /// Witness headers link by hash but their numbers do not descend one by one.
    #[error("witness header {0} does not follow its child by number")]
    BrokenHeaderChain(B256),
    /// The block itself is invalid (header rule, transaction, commitment or state root).
    #[error("block is invalid: {0}")]
    InvalidBlock(BlockError),
    /// A system contract of a rollup chain does not hold its standard code (a caller-made
    /// pre-state could put any code there, and the block's system calls would run it).
    #[error("system contract {0} does not hold its standard code")]
    SystemContract(Address),
    /// Execution spent more gas than the caller paid for.
    #[error("execution spent more than the budget of {0} gas the caller paid for")]
    WorkBudgetExceeded(u64),
    /// A run of blocks has no block.
    #[error("a run of blocks holds no block")]
    EmptyRun,
    /// A run's blocks and anchors differ in number.
    #[error("a run of {blocks} blocks comes with {anchors} anchors")]
    AnchorCount {
        /// Blocks in the run.
        blocks: usize,
        /// Anchors given.
        anchors: usize,
    },
    /// A block of a run failed (the error says how); `index` is its position in the run.
    #[error("block {index} of the run: {source}")]
    InRun {
        /// Position in the run, from 0.
        index: usize,
        /// What failed.
        #[source]
        source: Box<Self>,
    },
}

impl nrd_chain::Classify for VerifyError {
    fn severity(&self) -> nrd_chain::Severity {
        match self {
            // Recording a run reads a store ([`record_run`]): its faults keep their own class.
            Self::MalformedState(err) => err.severity(),
            // The witness or the block is wrong (or too costly): verifying it again fails again.
            _ => nrd_chain::Severity::Critical,
        }
    }
}

impl From<StateError> for VerifyError {
    fn from(err: StateError) -> Self {
        match err {
            StateError::Trie(TrieError::MissingNode(hash)) => Self::MissingNode(hash),
            StateError::Trie(TrieError::MalformedNode(reason)) => Self::MalformedNode(reason),
            StateError::MissingCode(hash) => Self::MissingCode(hash),
            StateError::MissingBlockHash(number) => Self::MissingHeader(number),
            // A witness is in memory: no store is read. Should one be, its failure is state that
            // cannot be read, like a malformed leaf.
            err @ (StateError::MalformedLeaf { .. }
            | StateError::Store(_)
            | StateError::Trie(TrieError::Store { .. })) => Self::MalformedState(err),
        }
    }
}

impl From<BlockError> for VerifyError {
    fn from(err: BlockError) -> Self {
        match err {
            BlockError::State(state) => state.into(),
            BlockError::WorkBudgetExceeded { budget } => Self::WorkBudgetExceeded(budget),
            other => Self::InvalidBlock(other),
        }
    }
}

/// A block that verified statelessly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedBlock {
    /// The block's hash.
    pub hash: B256,
    /// The post-state root re-execution computed (equal to the header's).
    pub state_root: B256,
    /// Gas the block used.
    pub gas_used: u64,
}

/// Where a stateless run finds what its sparse trie has not revealed: trie nodes (through
/// [`NodeResolver`]) and bytecode, by hash. A witness when verifying; the full state's store
/// when recording (which is how a recorded witness holds exactly what verification uses).
pub(crate) trait RunSource: NodeResolver {
    /// Bytecode by hash (never the empty code's).
    fn code(&mut self, hash: B256) -> StateResult<Bytes>;
}

/// A witness's nodes and codes, remembering which ones it handed out.
#[derive(Debug)]
struct WitnessSource {
    nodes: B256Map<Bytes>,
    used: B256Set,
    codes: B256Map<Bytes>,
    used_codes: B256Set,
}

impl NodeResolver for WitnessSource {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        let node = self.nodes.get(hash).cloned().ok_or(TrieError::MissingNode(*hash))?;
        self.used.insert(*hash);
        Ok(node)
    }
}

impl RunSource for WitnessSource {
    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        let code = self.codes.get(&hash).cloned().ok_or(StateError::MissingCode(hash))?;
        self.used_codes.insert(hash);
        Ok(code)
    }
}

/// State built from a root and a [`RunSource`]: a sparse trie revealed on demand, updated in
/// memory block after block, so the later blocks of a run see what the earlier ones wrote
/// without the source holding it.
#[derive(Debug)]
pub(crate) struct RunState<W> {
    trie: StateTrie,
    source: W,
}

impl<W: RunSource> StateProvider for RunState<W> {
    fn account(&mut self, address: Address) -> StateResult<Option<AccountState>> {
        self.trie.account(address, &mut self.source)
    }

    fn storage(&mut self, address: Address, slot: U256) -> StateResult<U256> {
        self.trie.storage(address, slot, &mut self.source)
    }

    fn code(&mut self, hash: B256) -> StateResult<Bytes> {
        if hash == KECCAK256_EMPTY {
            return Ok(Bytes::new());
        }
        self.source.code(hash)
    }
}

impl<W: RunSource> StateCommitter for RunState<W> {
    fn commit(&mut self, changes: &StateChanges) -> StateResult<(B256, Undo)> {
        self.trie.apply(changes, &mut self.source)
    }

    /// A run's state serves one verification (or recording) and is dropped when it fails, so
    /// there is nothing to restore.
    fn revert(&mut self, _undo: Undo) {}
}

/// What a run left behind: the verified blocks, the source (what it handed out) and the
/// number of the oldest block `BLOCKHASH` asked for.
pub(crate) struct RunOutcome<W> {
    pub(crate) verified: Vec<VerifiedBlock>,
    pub(crate) source: W,
    pub(crate) oldest: Option<u64>,
}

/// Imports `blocks` in order from `pre_state_root`, each on the one before (the first on
/// `ancestors.parent()`), each with its anchor. With a `budget`, each block's system contracts
/// must hold their standard code and all the blocks' execution together stays within it.
pub(crate) fn run_blocks<W: RunSource>(
    spec: &ChainSpec,
    pre_state_root: B256,
    blocks: &[Block<TxEnvelope>],
    anchors: &[&[u8]],
    mut ancestors: Ancestors,
    source: W,
    budget: Option<&WorkBudget>,
) -> Result<RunOutcome<W>, VerifyError> {
    if blocks.is_empty() {
        return Err(VerifyError::EmptyRun);
    }
    if blocks.len() != anchors.len() {
        return Err(VerifyError::AnchorCount { blocks: blocks.len(), anchors: anchors.len() });
    }
    let mut state = RunState { trie: StateTrie::from_root(pre_state_root), source };
    let mut verified = Vec::with_capacity(blocks.len());
    let mut oldest: Option<u64> = None;
    let single = blocks.len() == 1;
    for (index, (block, anchor)) in blocks.iter().zip(anchors).enumerate() {
        let in_run =
            |source: VerifyError| if single { source } else { VerifyError::InRun { index, source: Box::new(source) } };
        if budget.is_some() {
            check_system_contracts(spec, block.header.timestamp, &mut state).map_err(in_run)?;
        }
        let hashes = TrackedHashes::new(&ancestors);
        let imported = match budget {
            Some(budget) => import_block_bounded(spec, ancestors.parent(), block, anchor, &mut state, &hashes, budget),
            None => import_block(spec, ancestors.parent(), block, anchor, &mut state, &hashes),
        }
        .map_err(|e| in_run(e.into()))?;
        if let Some(asked) = hashes.oldest.get() {
            oldest = Some(oldest.map_or(asked, |o| o.min(asked)));
        }
        verified.push(VerifiedBlock {
            hash: imported.hash,
            state_root: block.header.state_root,
            gas_used: block.header.gas_used,
        });
        if index + 1 < blocks.len() {
            ancestors.push_child(Sealed::new_unchecked(block.header.clone(), imported.hash));
        }
    }
    Ok(RunOutcome { verified, source: state.source, oldest })
}

fn index_unique(items: &[Bytes]) -> Result<B256Map<Bytes>, VerifyError> {
    let mut map = B256Map::default();
    for item in items {
        let hash = keccak256(item);
        if map.insert(hash, item.clone()).is_some() {
            return Err(VerifyError::DuplicateEntry(hash));
        }
    }
    Ok(map)
}

/// The system contracts the block's system calls will run (EIP-4788 from Cancun; EIP-2935,
/// EIP-7002 and EIP-7251 from Prague) hold their standard code, or none (a call to an account
/// without code does nothing, or makes the block invalid). A caller of EXECUTE makes the
/// pre-state: without this, its system contracts could run any code, outside the work budget.
fn check_system_contracts<W: RunSource>(
    spec: &ChainSpec,
    timestamp: u64,
    state: &mut RunState<W>,
) -> Result<(), VerifyError> {
    use alloy_hardforks::EthereumHardforks;
    let (cancun, prague) =
        (spec.is_cancun_active_at_timestamp(timestamp), spec.is_prague_active_at_timestamp(timestamp));
    for (address, account) in system_contracts() {
        let called = if address == alloy_eips::eip4788::BEACON_ROOTS_ADDRESS { cancun } else { prague };
        if !called {
            continue;
        }
        let code_hash = state.account(address)?.map_or(KECCAK256_EMPTY, |a| a.code_hash);
        if code_hash != KECCAK256_EMPTY && code_hash != keccak256(&account.code) {
            return Err(VerifyError::SystemContract(address));
        }
    }
    Ok(())
}

/// Verifies `block` from `pre_state_root` and `witness` alone: the parent comes from the
/// witness headers, state from its trie nodes and codes; the block is checked and re-executed
/// exactly as a full node imports it (with `anchor`, the calldata of a rollup chain's anchor
/// system call), and the witness must hold nothing the block did not use.
pub fn verify_block(
    spec: &ChainSpec,
    pre_state_root: B256,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    witness: &ExecutionWitness,
) -> Result<VerifiedBlock, VerifyError> {
    verify_with(spec, pre_state_root, block, anchor, witness, None)
}

/// [`verify_block`] that stops with [`VerifyError::WorkBudgetExceeded`] once execution has spent
/// more than `budget` gas (EXECUTE: the caller pays for its budget, not for the header's gas
/// limits). The system contracts the block calls must hold their standard code (or none).
pub fn verify_block_bounded(
    spec: &ChainSpec,
    pre_state_root: B256,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    witness: &ExecutionWitness,
    budget: u64,
) -> Result<VerifiedBlock, VerifyError> {
    verify_with(spec, pre_state_root, block, anchor, witness, Some(budget))
}

fn verify_with(
    spec: &ChainSpec,
    pre_state_root: B256,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    witness: &ExecutionWitness,
    budget: Option<u64>,
) -> Result<VerifiedBlock, VerifyError> {
    let budget = budget.map(WorkBudget::new);
    let mut verified =
        verify_run_with(spec, pre_state_root, std::slice::from_ref(block), &[anchor], witness, budget.as_ref())?;
    Ok(verified.remove(0))
}

/// Verifies a **run**: `blocks` in order, the first on `pre_state_root`, each on the one before,
/// each with its anchor, from one witness for the whole run — the nodes and codes of the
/// pre-state any of them needs (each once; what an earlier block of the run wrote is not in
/// it, the verifier computed it) and the headers from the first block's parent back to the
/// oldest `BLOCKHASH` of the run asked for that lies before the run. Nothing unused may be in
/// it. With `budget`, every block's system contracts must hold their standard code and the
/// run's execution together stops at `budget` gas.
pub fn verify_run(
    spec: &ChainSpec,
    pre_state_root: B256,
    blocks: &[Block<TxEnvelope>],
    anchors: &[&[u8]],
    witness: &ExecutionWitness,
    budget: Option<u64>,
) -> Result<Vec<VerifiedBlock>, VerifyError> {
    let budget = budget.map(WorkBudget::new);
    verify_run_with(spec, pre_state_root, blocks, anchors, witness, budget.as_ref())
}

fn verify_run_with(
    spec: &ChainSpec,
    pre_state_root: B256,
    blocks: &[Block<TxEnvelope>],
    anchors: &[&[u8]],
    witness: &ExecutionWitness,
    budget: Option<&WorkBudget>,
) -> Result<Vec<VerifiedBlock>, VerifyError> {
    let first = blocks.first().ok_or(VerifyError::EmptyRun)?;
    // Headers: keyed by hash, then linked from the parent back.
    let mut headers = B256Map::default();
    for (index, raw) in witness.headers.iter().enumerate() {
        let mut buf = raw.as_ref();
        let header = Header::decode(&mut buf).map_err(|source| VerifyError::MalformedHeader { index, source })?;
        if !buf.is_empty() {
            return Err(VerifyError::HeaderTrailingBytes { index, count: buf.len() });
        }
        let sealed = Sealed::new(header);
        if headers.insert(sealed.hash(), sealed.clone()).is_some() {
            return Err(VerifyError::DuplicateEntry(sealed.hash()));
        }
    }
    let parent_hash = first.header.parent_hash;
    let mut chain = Vec::with_capacity(headers.len());
    let mut next = headers.remove(&parent_hash).ok_or(VerifyError::MissingParentHeader(parent_hash))?;
    loop {
        let parent = next.parent_hash;
        chain.push(next);
        match headers.remove(&parent) {
            Some(h) => next = h,
            None => break,
        }
    }
    if let Some(hash) = headers.keys().next() {
        return Err(VerifyError::UnusedHeader(*hash));
    }
    let ancestors = Ancestors::new(chain).map_err(VerifyError::BrokenHeaderChain)?;
    let parent_number = ancestors.parent().number;
    if ancestors.parent().state_root != pre_state_root {
        return Err(VerifyError::PreStateRootMismatch { pre_state_root, parent: ancestors.parent().state_root });
    }
    let witness_headers = ancestors.headers().to_vec();

    let source = WitnessSource {
        nodes: index_unique(&witness.state)?,
        used: B256Set::default(),
        codes: index_unique(&witness.codes)?,
        used_codes: B256Set::default(),
    };
    let RunOutcome { verified, source, oldest } =
        run_blocks(spec, pre_state_root, blocks, anchors, ancestors, source, budget)?;

    if let Some(hash) = source.nodes.keys().find(|h| !source.used.contains(*h)) {
        return Err(VerifyError::UnusedNode(*hash));
    }
    if let Some(hash) = source.codes.keys().find(|h| !source.used_codes.contains(*h)) {
        return Err(VerifyError::UnusedCode(*hash));
    }
    let depth = oldest.map_or(0, |oldest| parent_number.saturating_sub(oldest));
    if let Some(extra) = witness_headers.get(usize::try_from(depth).unwrap_or(usize::MAX).saturating_add(1)) {
        return Err(VerifyError::UnusedHeader(extra.hash()));
    }
    Ok(verified)
}
