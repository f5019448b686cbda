//! `nrd conformance <path>`: ethereum/tests BlockchainTests, run statefully and statelessly.
//!
//! Each test runs twice over. Stateful: every block is imported on its parent's state; blocks
//! with `expectException` must be rejected, all others accepted, and the chain must end at
//! `lastblockhash` with `postState`. Stateless: for every accepted block, the witness recorded
//! during the stateful import is handed, with the block, to the EXECUTE verifier alone, which
//! must accept it; the same witness with a node or code dropped or a node added, and the same
//! block with a forged post-state root (claimed, or in its header), must be rejected.

use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, U256, hex, map::HashMap};
use alloy_rlp::Decodable;
use nrd_chain::{ChainSpec, GenesisAccount, MemoryState};
use nrd_execute_client::{
    Ancestors, ExecuteError, ExecuteInput, ExecutionWitness, Reexecution, Trace, Verifier, VerifyError, record_block,
};
use serde::Deserialize;
use std::{
    collections::BTreeMap,
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
    Skipped(String),
    Failed(String),
}

/// Totals of a conformance run.
#[derive(Debug, Default)]
pub(crate) struct Summary {
    pub(crate) passed: usize,
    pub(crate) failed: usize,
    pub(crate) skipped: usize,
}

fn genesis_alloc(accounts: &BTreeMap<Address, FixtureAccount>) -> Result<Vec<(Address, GenesisAccount)>, String> {
    accounts
        .iter()
        .map(|(address, acc)| {
            let nonce = u64::try_from(acc.nonce).map_err(|_| format!("nonce of {address} exceeds u64"))?;
            let storage = acc.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (*k, *v)).collect();
            Ok((*address, GenesisAccount { nonce, balance: acc.balance, code: acc.code.clone(), storage }))
        })
        .collect()
}

fn decode_block(rlp: &str) -> Result<Block<TxEnvelope>, String> {
    let bytes = hex::decode(rlp).map_err(|e| format!("rlp is not hex: {e}"))?;
    let mut buf = bytes.as_slice();
    let block = Block::<TxEnvelope>::decode(&mut buf).map_err(|e| format!("rlp: {e}"))?;
    if !buf.is_empty() {
        return Err(format!("{} bytes after the block", buf.len()));
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
) -> Result<(), String> {
    let verifier = Reexecution::new(spec.clone());
    let header = &block.header;
    let run = |block: &Block<TxEnvelope>, witness: &ExecutionWitness, post: B256, gas_used: u64| {
        let trace =
            Trace { block: block.clone(), witness: witness.clone(), blob_refs: vec![], batch_index: 0 }.encode();
        verifier.verify(&ExecuteInput { pre_state_root, post_state_root: post, gas_used, anchor: &[], trace: &trace })
    };

    let verified = run(block, witness, header.state_root, header.gas_used)
        .map_err(|e| format!("stateless: valid block rejected: {e}"))?;
    if verified.state_root != header.state_root {
        return Err(format!("stateless: computed {} instead of {}", verified.state_root, header.state_root));
    }

    let expect = |what: &str, result: Result<_, ExecuteError>, ok: &dyn Fn(&ExecuteError) -> bool| match result {
        Err(e) if ok(&e) => Ok(()),
        Err(e) => Err(format!("stateless: {what} rejected for the wrong reason: {e}")),
        Ok(_) => Err(format!("stateless: {what} accepted")),
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

fn run_test(name: &str, fixture: &Fixture) -> Outcome {
    let Some(spec) = ChainSpec::for_test_network(&fixture.network) else {
        return Outcome::Skipped(format!("network {} is not post-merge", fixture.network));
    };
    match run_chain(&spec, fixture) {
        Ok(()) => Outcome::Passed,
        Err(e) => Outcome::Failed(format!("{name}: {e}")),
    }
}

fn run_chain(spec: &ChainSpec, fixture: &Fixture) -> Result<(), String> {
    let alloc = genesis_alloc(&fixture.pre)?;
    let mut genesis_state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = decode_block(&fixture.genesis_rlp).map_err(|e| format!("genesis: {e}"))?;
    let genesis = Sealed::new(genesis.header);
    if genesis.hash() != fixture.genesis_block_header.hash {
        return Err(format!(
            "genesis hashes to {}, fixture says {}",
            genesis.hash(),
            fixture.genesis_block_header.hash
        ));
    }
    if genesis_state.root() != genesis.state_root {
        return Err(format!("pre state root {} != genesis state root {}", genesis_state.root(), genesis.state_root));
    }
    let mut head = genesis.hash();
    let mut nodes: HashMap<B256, Node> = HashMap::default();
    nodes.insert(head, Node { header: genesis, state: genesis_state });

    for (i, fb) in fixture.blocks.iter().enumerate() {
        let expected_failure = fb.expect_exception.as_deref();
        let imported = decode_block(&fb.rlp).and_then(|block| {
            let ancestors = ancestors(&nodes, block.header.parent_hash)
                .ok_or_else(|| format!("unknown parent {}", block.header.parent_hash))?;
            let mut state = nodes[&ancestors.parent().hash()].state.clone();
            let (_, witness) = record_block(spec, &block, &[], &mut state, &ancestors).map_err(|e| e.to_string())?;
            Ok((block, witness, state, ancestors.parent().state_root))
        });
        match (imported, expected_failure) {
            (Err(_), Some(_)) => {}
            (Err(e), None) => return Err(format!("block {i} rejected: {e}")),
            (Ok(_), Some(exception)) => return Err(format!("block {i} accepted, expected {exception}")),
            (Ok((block, witness, state, pre_root)), None) => {
                check_stateless(spec, pre_root, &block, &witness).map_err(|e| format!("block {i}: {e}"))?;
                let header = Sealed::new(block.header);
                head = header.hash();
                nodes.insert(head, Node { header, state });
            }
        }
    }

    if head != fixture.last_block_hash {
        return Err(format!("head is {head}, expected lastblockhash {}", fixture.last_block_hash));
    }
    let head_state = &mut nodes.get_mut(&head).expect("head was inserted").state;
    let head_root = head_state.root();
    let expected_root = match (&fixture.post_state, fixture.post_state_hash) {
        (Some(post), _) => {
            let alloc = genesis_alloc(post)?;
            MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g))).root()
        }
        (None, Some(hash)) => hash,
        (None, None) => return Err("fixture has neither postState nor postStateHash".into()),
    };
    if head_root != expected_root {
        let diff = fixture.post_state.as_ref().map(|post| state_diff(head_state, post)).unwrap_or_default();
        return Err(format!("post state root {head_root} != expected {expected_root}{diff}"));
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

fn run_file(path: &Path) -> Vec<Outcome> {
    let parsed = std::fs::read_to_string(path)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str::<BTreeMap<String, Fixture>>(&text).map_err(|e| e.to_string()));
    match parsed {
        Ok(tests) => tests.iter().map(|(name, fixture)| run_test(name, fixture)).collect(),
        Err(e) => vec![Outcome::Failed(format!("cannot read fixture file: {e}"))],
    }
}

/// Runs every BlockchainTests file under `path` and prints failures and the summary line.
pub(crate) fn run(path: &Path, threads: usize) -> std::io::Result<Summary> {
    let mut files = Vec::new();
    collect_files(path, &mut files)?;
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<(usize, Vec<Outcome>)>> = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    let outcomes = run_file(file);
                    results.lock().unwrap_or_else(|e| e.into_inner()).push((i, outcomes));
                }
            });
        }
    });
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|(i, _)| *i);
    let mut summary = Summary::default();
    for (i, outcomes) in results {
        for outcome in outcomes {
            match outcome {
                Outcome::Passed => summary.passed += 1,
                Outcome::Skipped(why) => {
                    summary.skipped += 1;
                    tracing::debug!(file = %files[i].display(), "skipped: {why}");
                }
                Outcome::Failed(why) => {
                    summary.failed += 1;
                    println!("FAIL {}: {why}", files[i].display());
                }
            }
        }
    }
    if summary.skipped > 0 {
        println!("{} skipped (pre-merge networks)", summary.skipped);
    }
    println!("{} passed, {} failed", summary.passed, summary.failed);
    Ok(summary)
}
