//! The runner: fixture files found, parsed and run on worker threads, each test statefully and
//! statelessly (see the crate documentation).

use crate::error::{ConformanceError, DecodeError, ImportError, StatelessError, TestError};
use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, U256, hex, map::HashMap};
use alloy_rlp::Decodable;
use nrd_chain::LockExt as _;
use nrd_chain::{ChainSpec, GenesisAccount, MemoryState};
use nrd_execute_client::{
    Ancestors, ExecuteError, ExecuteInput, ExecutionWitness, Reexecution, Trace, Verifier, VerifyError, record_block,
};
use serde::Deserialize;
use std::{
    collections::BTreeMap,
    fmt,
    path::{Path, PathBuf},
    sync::{
        Mutex,
        atomic::{AtomicUsize, Ordering},
    },
};

/// Blocks `BLOCKHASH` can reach.
const BLOCKHASH_WINDOW: usize = 256;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fixture {
    network: String,
    pre: BTreeMap<Address, FixtureAccount>,
    #[serde(rename = "genesisRLP")]
    genesis_rlp: String,
    genesis_block_header: FixtureHeader,
    blocks: Vec<FixtureBlock>,
    post_state: Option<BTreeMap<Address, FixtureAccount>>,
    post_state_hash: Option<B256>,
    #[serde(rename = "lastblockhash")]
    last_block_hash: B256,
}

#[derive(Debug, Deserialize)]
struct FixtureHeader {
    hash: B256,
}

#[derive(Debug, Deserialize)]
struct FixtureAccount {
    balance: U256,
    code: Bytes,
    nonce: U256,
    storage: BTreeMap<U256, U256>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct FixtureBlock {
    rlp: String,
    expect_exception: Option<String>,
}

/// The outcome of one test.
#[derive(Debug)]
enum Outcome {
    Passed,
    /// The test's network, which is not post-merge.
    Skipped(String),
    Failed(TestError),
}

/// A test that failed, or a fixture file that could not be read.
#[derive(Debug)]
pub struct Failure {
    /// The fixture file.
    pub file: PathBuf,
    /// The test's name in the file; `None` when the file itself could not be read.
    pub test: Option<String>,
    /// What went wrong.
    pub error: TestError,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.test {
            Some(test) => write!(f, "{}: {test}: {}", self.file.display(), self.error),
            None => write!(f, "{}: {}", self.file.display(), self.error),
        }
    }
}

/// A test not run: its network is not post-merge.
#[derive(Debug)]
pub struct Skipped {
    /// The fixture file.
    pub file: PathBuf,
    /// The test's name in the file.
    pub test: String,
    /// The test's `network`.
    pub network: String,
}

/// Totals of a conformance run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    /// Tests that passed, statefully and statelessly.
    pub passed: usize,
    /// Tests that failed, and fixture files that could not be read.
    pub failed: usize,
    /// Tests of pre-merge networks, not run.
    pub skipped: usize,
}

/// What a conformance run found. Its `Display` is the runner's report: a `FAIL <file>: …` line
/// per failure, a line counting skipped tests if any, and `<n> passed, <m> failed`.
#[derive(Debug, Default)]
pub struct Report {
    /// Tests that passed.
    pub passed: usize,
    /// Failures, in file order.
    pub failures: Vec<Failure>,
    /// Tests skipped, in file order.
    pub skipped: Vec<Skipped>,
}

impl Report {
    /// The totals.
    pub fn summary(&self) -> Summary {
        Summary { passed: self.passed, failed: self.failures.len(), skipped: self.skipped.len() }
    }

    /// Whether the run counts as a success: at least one test passed and none failed.
    pub fn is_success(&self) -> bool {
        self.passed > 0 && self.failures.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for failure in &self.failures {
            writeln!(f, "FAIL {failure}")?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "{} skipped (pre-merge networks)", self.skipped.len())?;
        }
        writeln!(f, "{} passed, {} failed", self.passed, self.failures.len())
    }
}

fn genesis_alloc(accounts: &BTreeMap<Address, FixtureAccount>) -> Result<Vec<(Address, GenesisAccount)>, TestError> {
    accounts
        .iter()
        .map(|(address, acc)| {
            let nonce = u64::try_from(acc.nonce).map_err(|_| TestError::NonceOverflow(*address))?;
            let storage = acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
            Ok((*address, GenesisAccount { nonce, balance: acc.balance, code: acc.code.clone(), storage }))
        })
        .collect()
}

fn decode_block(rlp: &str) -> Result<Block<TxEnvelope>, DecodeError> {
    let bytes = hex::decode(rlp).map_err(DecodeError::Hex)?;
    let mut buf = bytes.as_slice();
    let block = Block::<TxEnvelope>::decode(&mut buf).map_err(DecodeError::Rlp)?;
    if !buf.is_empty() {
        return Err(DecodeError::TrailingBytes(buf.len()));
    }
    Ok(block)
}

struct Node {
    header: Sealed<Header>,
    state: MemoryState,
}

/// The ancestors of a block whose parent is `parent`, as far back as `BLOCKHASH` reaches.
fn ancestors(nodes: &HashMap<B256, Node>, parent: B256) -> Option<Ancestors> {
    let mut headers = Vec::new();
    let mut next = Some(parent);
    while let Some(hash) = next.filter(|_| headers.len() <= BLOCKHASH_WINDOW) {
        let node = nodes.get(&hash)?;
        headers.push(node.header.clone());
        next = (node.header.number > 0).then_some(node.header.parent_hash);
    }
    Ancestors::new(headers).ok()
}

/// Runs the stateless half for one accepted block.
fn check_stateless(
    spec: &ChainSpec,
    pre_state_root: B256,
    block: &Block<TxEnvelope>,
    witness: &ExecutionWitness,
) -> Result<(), StatelessError> {
    let verifier = Reexecution::new(spec.clone());
    let header = &block.header;
    let run = |block: &Block<TxEnvelope>, witness: &ExecutionWitness, post: B256, gas_used: u64| {
        let trace =
            Trace { block: block.clone(), witness: witness.clone(), blob_refs: vec![], batch_index: 0 }.encode();
        verifier.verify(&ExecuteInput { pre_state_root, post_state_root: post, gas_used, anchor: &[], trace: &trace })
    };

    let verified =
        run(block, witness, header.state_root, header.gas_used).map_err(StatelessError::ValidBlockRejected)?;
    let verified =
        verified.last().ok_or(StatelessError::StateRoot { computed: B256::ZERO, expected: header.state_root })?;
    if verified.state_root != header.state_root {
        return Err(StatelessError::StateRoot { computed: verified.state_root, expected: header.state_root });
    }

    let expect = |check: &'static str, result: Result<_, ExecuteError>, ok: &dyn Fn(&ExecuteError) -> bool| match result
    {
        Err(e) if ok(&e) => Ok(()),
        Err(source) => Err(StatelessError::WrongReason { check, source }),
        Ok(_) => Err(StatelessError::Accepted { check }),
    };
    let forged_root = B256::from(U256::from_be_bytes(header.state_root.0) ^ U256::from(1));
    expect("forged claimed post-state root", run(block, witness, forged_root, header.gas_used), &|e| {
        matches!(e, ExecuteError::PostStateRoot { .. })
    })?;
    let mut forged_block = block.clone();
    forged_block.header.state_root = forged_root;
    expect("block with forged header state root", run(&forged_block, witness, forged_root, header.gas_used), &|e| {
        matches!(
            e,
            ExecuteError::Verify(VerifyError::InvalidBlock(nrd_chain::BlockError::Mismatch {
                field: "state root",
                ..
            }))
        )
    })?;
    if !witness.state.is_empty() {
        let mut missing = witness.clone();
        missing.state.remove(0);
        expect("witness missing a node", run(block, &missing, header.state_root, header.gas_used), &|e| {
            matches!(e, ExecuteError::Verify(VerifyError::MissingNode(_)))
        })?;
    }
    if !witness.codes.is_empty() {
        let mut missing = witness.clone();
        missing.codes.remove(0);
        expect("witness missing a bytecode", run(block, &missing, header.state_root, header.gas_used), &|e| {
            matches!(e, ExecuteError::Verify(VerifyError::MissingCode(_)))
        })?;
    }
    let mut extra = witness.clone();
    extra.state.push(Bytes::from_static(&[0xc2, 0x20, 0x01]));
    expect("witness with an unused node", run(block, &extra, header.state_root, header.gas_used), &|e| {
        matches!(e, ExecuteError::Verify(VerifyError::UnusedNode(_)))
    })?;
    Ok(())
}

fn run_test(fixture: &Fixture) -> Outcome {
    let Some(spec) = ChainSpec::for_test_network(&fixture.network) else {
        return Outcome::Skipped(fixture.network.clone());
    };
    match run_chain(&spec, fixture) {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(e),
    }
}

fn run_chain(spec: &ChainSpec, fixture: &Fixture) -> Result<(), TestError> {
    let alloc = genesis_alloc(&fixture.pre)?;
    let mut genesis_state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = decode_block(&fixture.genesis_rlp).map_err(TestError::Genesis)?;
    let genesis = Sealed::new(genesis.header);
    if genesis.hash() != fixture.genesis_block_header.hash {
        return Err(TestError::GenesisHash { computed: genesis.hash(), expected: fixture.genesis_block_header.hash });
    }
    if genesis_state.root() != genesis.state_root {
        return Err(TestError::PreStateRoot { computed: genesis_state.root(), genesis: genesis.state_root });
    }
    let mut head = genesis.hash();
    let mut nodes: HashMap<B256, Node> = HashMap::default();
    nodes.insert(head, Node { header: genesis, state: genesis_state });

    for (i, fb) in fixture.blocks.iter().enumerate() {
        let expected_failure = fb.expect_exception.as_deref();
        let imported = decode_block(&fb.rlp).map_err(ImportError::from).and_then(|block| {
            let ancestors = ancestors(&nodes, block.header.parent_hash)
                .ok_or(ImportError::UnknownParent(block.header.parent_hash))?;
            let mut state = nodes[&ancestors.parent().hash()].state.clone();
            let (_, witness) = record_block(spec, &block, &[], &mut state, &ancestors)?;
            Ok((block, witness, state, ancestors.parent().state_root))
        });
        match (imported, expected_failure) {
            (Err(_), Some(_)) => {}
            (Err(source), None) => return Err(TestError::BlockRejected { index: i, source }),
            (Ok(_), Some(exception)) => {
                return Err(TestError::BlockAccepted { index: i, exception: exception.to_string() });
            }
            (Ok((block, witness, state, pre_root)), None) => {
                check_stateless(spec, pre_root, &block, &witness)
                    .map_err(|source| TestError::Stateless { index: i, source })?;
                let header = Sealed::new(block.header);
                head = header.hash();
                nodes.insert(head, Node { header, state });
            }
        }
    }

    if head != fixture.last_block_hash {
        return Err(TestError::LastBlockHash { head, expected: fixture.last_block_hash });
    }
    let head_state = &mut nodes.get_mut(&head).expect("head was inserted").state;
    let head_root = head_state.root();
    let expected_root = match (&fixture.post_state, fixture.post_state_hash) {
        (Some(post), _) => {
            let alloc = genesis_alloc(post)?;
            MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g))).root()
        }
        (None, Some(hash)) => hash,
        (None, None) => return Err(TestError::NoPostState),
    };
    if head_root != expected_root {
        let diff = fixture.post_state.as_ref().map(|post| state_diff(head_state, post)).unwrap_or_default();
        return Err(TestError::PostStateRoot { computed: head_root, expected: expected_root, diff });
    }
    Ok(())
}

/// The first few differences between `state` and an expected post state, for the report.
fn state_diff(state: &mut MemoryState, post: &BTreeMap<Address, FixtureAccount>) -> String {
    use nrd_chain::StateProvider;
    let mut diffs = Vec::new();
    for (address, want) in post {
        match state.account(*address) {
            Ok(None) => diffs.push(format!("{address} missing")),
            Ok(Some(got)) => {
                if U256::from(got.nonce) != want.nonce || got.balance != want.balance {
                    diffs.push(format!(
                        "{address} nonce/balance {}/{} expected {}/{}",
                        got.nonce, got.balance, want.nonce, want.balance
                    ));
                }
                for (slot, value) in &want.storage {
                    match state.storage(*address, *slot) {
                        Ok(got) if got == *value => {}
                        got => diffs.push(format!("{address} slot {slot}: {got:?} expected {value}")),
                    }
                }
            }
            Err(e) => diffs.push(format!("{address}: {e}")),
        }
    }
    if diffs.is_empty() {
        return " (extra accounts or storage in the computed state)".into();
    }
    let shown = diffs.iter().take(5).cloned().collect::<Vec<_>>().join("; ");
    format!(" ({} differences: {shown})", diffs.len())
}

fn collect_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(path)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.path());
    for entry in entries {
        let p = entry.path();
        if p.is_dir() {
            collect_files(&p, out)?;
        } else if p.extension().is_some_and(|e| e == "json") {
            out.push(p);
        }
    }
    Ok(())
}

/// A test's name and outcome; no name when its file could not be read.
type Named = (Option<String>, Outcome);

/// The outcomes of a file's tests.
fn run_file(path: &Path) -> Vec<Named> {
    let parsed = std::fs::read_to_string(path)
        .map_err(TestError::ReadFile)
        .and_then(|text| serde_json::from_str::<BTreeMap<String, Fixture>>(&text).map_err(TestError::ParseFile));
    match parsed {
        Ok(tests) => tests
            .into_iter()
            .map(|(name, fixture)| {
                let outcome = run_test(&fixture);
                (Some(name), outcome)
            })
            .collect(),
        Err(e) => vec![(None, Outcome::Failed(e))],
    }
}

/// Runs every BlockchainTests file under `path` (a JSON file, or a directory searched
/// recursively for `*.json`) on `threads` worker threads.
///
/// Failing tests do not make this an error: they are in the [`Report`]. Only a `path` that
/// cannot be listed is.
pub fn run(path: &Path, threads: usize) -> Result<Report, ConformanceError> {
    let mut files = Vec::new();
    collect_files(path, &mut files).map_err(|source| ConformanceError::Read { path: path.to_path_buf(), source })?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Named>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let outcomes = run_file(file);
                    results.lock_or_recover().push((i, outcomes));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut report = Report::default();
    for (i, outcomes) in results {
        for (test, outcome) in outcomes {
            let file = || files[i].clone();
            match outcome {
                Outcome::Passed => report.passed += 1,
                Outcome::Skipped(network) => {
                    report.skipped.push(Skipped { file: file(), test: test.unwrap_or_default(), network });
                }
                Outcome::Failed(error) => report.failures.push(Failure { file: file(), test, error }),
            }
        }
    }
    Ok(report)
}
