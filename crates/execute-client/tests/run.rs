//! Runs of blocks (docs/protocol.md §5.1): one witness for several consecutive blocks, recorded
//! by running the verifier over the full state and checked by the verifier over the witness
//! alone. Every way to forge, reorder, pad or truncate a run is refused with its own error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Block, Header, Sealed, TxEnvelope};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rlp::Encodable;
use nrd_chain::{BlockAttributes, BlockError, MemorySource, MemoryState, build_block};
use nrd_execute_client::{
    Ancestors, AnyTrace, ExecuteError, ExecuteInput, ExecutionWitness, MAX_RUN_BLOCKS, Reexecution, RunTrace, Trace,
    TraceError, Verifier, VerifyError, encode_run_anchors, record_block, record_run, verify_run,
};
use std::sync::OnceLock;

mod common;
use common::{BLOCKHASH_READER, SETTER, fixture, header_rlp, set, sign};

/// Blocks 3..=6 on top of the fixture's block 2: each writes storage, moves ETH between
/// genesis accounts (some the same across blocks, so the run's witness shares them), and
/// blocks 3 and 5 read `blockhash(n - 2)`: block 3 reads block 1 (before the run, so the
/// witness carries headers back to it), block 5 reads block 3 (inside the run).
struct Run {
    pre: MemoryState,
    ancestors: Ancestors,
    blocks: Vec<Block<TxEnvelope>>,
    witness: ExecutionWitness,
    /// Each block's own witness (`record_block` on the state before it).
    single: Vec<ExecutionWitness>,
}

fn run() -> &'static Run {
    static RUN: OnceLock<Run> = OnceLock::new();
    RUN.get_or_init(|| {
        let f = fixture();
        let key = nrd_test_utils::key("nrd test key");
        // The state after block 2: replay the fixture's chain.
        let mut state = genesis_state();
        let first = Ancestors::parent_only(f.headers[0].clone());
        nrd_chain::import_block(&f.spec, &f.headers[0], &block1(), &[], &mut state, &first).unwrap();
        let second = Ancestors::new(vec![f.headers[1].clone(), f.headers[0].clone()]).unwrap();
        nrd_chain::import_block(&f.spec, &f.headers[1], &f.block, &[], &mut state, &second).unwrap();
        assert_eq!(state.root(), f.headers[2].state_root);
        let pre = state.clone();
        let mut headers: Vec<Sealed<Header>> = f.headers.iter().rev().cloned().collect();
        let ancestors = Ancestors::new(headers.clone()).unwrap();
        let mut blocks = Vec::new();
        let mut single = Vec::new();
        let mut nonce = 8;
        for n in 3u64..=6 {
            let mut txs = Vec::new();
            let mut tx = |to: Address, value: u64, input: Vec<u8>| {
                txs.push(sign(&key, nonce, to, value, input));
                nonce += 1;
            };
            if n % 2 == 1 {
                tx(BLOCKHASH_READER, 0, vec![]);
            }
            tx(SETTER, 0, set(n, n * 7));
            tx(SETTER, 0, set(1, n));
            for i in 0..6u64 {
                let to =
                    Address::with_last_byte(((n * 13 + i * 29) % 200 + 1) as u8).create((n * 13 + i * 29) % 200 + 1);
                tx(to, 1 + i, vec![]);
            }
            let parent = headers[0].clone();
            let ancestors_n = Ancestors::new(headers.clone()).unwrap();
            let before = state.clone();
            let attrs = BlockAttributes { timestamp: 25 + 12 * (n - 2), gas_limit: 30_000_000, ..Default::default() };
            let built = build_block(&f.spec, &parent, attrs, txs, &mut state, &ancestors_n).unwrap();
            assert!(built.rejected.is_empty(), "{:?}", built.rejected);
            let (_, w) = record_block(&f.spec, &built.block, &[], &mut before.clone(), &ancestors_n).unwrap();
            single.push(w);
            headers.insert(0, Sealed::new(built.block.header.clone()));
            blocks.push(built.block);
        }
        let anchors = vec![&[][..]; blocks.len()];
        let witness = record_run(&f.spec, &blocks, &anchors, &mut MemorySource::new(pre.clone()), &ancestors).unwrap();
        Run { pre, ancestors, blocks, witness, single }
    })
}

fn genesis_state() -> MemoryState {
    // The fixture keeps only headers: rebuild its genesis the same way.
    let key = nrd_test_utils::key("nrd test key");
    let mut alloc =
        vec![(key.address(), nrd_chain::GenesisAccount { balance: U256::from(10u128.pow(21)), ..Default::default() })];
    for i in 1..=200u64 {
        alloc.push((
            Address::with_last_byte(i as u8).create(i),
            nrd_chain::GenesisAccount { balance: U256::from(i), ..Default::default() },
        ));
    }
    alloc.push((
        BLOCKHASH_READER,
        nrd_chain::GenesisAccount {
            code: Bytes::from_static(&[0x60, 0x02, 0x43, 0x03, 0x40, 0x60, 0x00, 0x55, 0x00]),
            ..Default::default()
        },
    ));
    alloc.push((
        SETTER,
        nrd_chain::GenesisAccount {
            code: Bytes::from_static(&[0x60, 0x20, 0x35, 0x60, 0x00, 0x35, 0x55, 0x00]),
            ..Default::default()
        },
    ));
    let state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    assert_eq!(state.clone().root(), fixture().headers[0].state_root);
    state
}

/// The fixture's block 1, rebuilt (same transactions, same attributes: same block).
fn block1() -> Block<TxEnvelope> {
    let f = fixture();
    let key = nrd_test_utils::key("nrd test key");
    let mut state = genesis_state();
    let txs = (0..5).map(|i| sign(&key, i, SETTER, 0, set(i + 1, 100 + i))).collect();
    let attrs = BlockAttributes { timestamp: 13, gas_limit: 30_000_000, ..Default::default() };
    let ancestors = Ancestors::parent_only(f.headers[0].clone());
    let built = build_block(&f.spec, &f.headers[0], attrs, txs, &mut state, &ancestors).unwrap();
    assert_eq!(Sealed::new(built.block.header.clone()).hash(), f.headers[1].hash());
    built.block
}

fn verify(blocks: &[Block<TxEnvelope>], witness: &ExecutionWitness) -> Result<Vec<B256>, VerifyError> {
    let anchors = vec![&[][..]; blocks.len()];
    verify_run(&fixture().spec, fixture().headers[2].state_root, blocks, &anchors, witness, None)
        .map(|v| v.into_iter().map(|b| b.hash).collect())
}

/// The error a run reports for its block `index`.
fn in_block(index: usize, source: VerifyError) -> VerifyError {
    VerifyError::InRun { index, source: Box::new(source) }
}

fn size(w: &ExecutionWitness) -> usize {
    w.length()
}

#[test]
fn a_recorded_run_verifies_and_its_witness_is_smaller_than_its_blocks_witnesses() {
    let r = run();
    let hashes = verify(&r.blocks, &r.witness).unwrap();
    let expected: Vec<B256> = r.blocks.iter().map(|b| b.header.hash_slow()).collect();
    assert_eq!(hashes, expected);
    // Headers: block 3 read block 1's hash, so the run's parent (2) and block 1.
    assert_eq!(r.witness.headers.len(), 2);
    assert_eq!(r.witness.headers[0], header_rlp(&fixture().headers[2]));

    let separate: usize = r.single.iter().map(size).sum();
    let nodes: usize = r.single.iter().map(|w| w.state.len()).sum();
    eprintln!(
        "run of {} blocks: witness {} bytes ({} nodes); the blocks' own witnesses: {separate} bytes ({nodes} nodes)",
        r.blocks.len(),
        size(&r.witness),
        r.witness.state.len()
    );
    assert!(
        size(&r.witness) * 10 < separate * 7,
        "run witness {} bytes ({} nodes) vs {} bytes ({} nodes) for its blocks one by one",
        size(&r.witness),
        r.witness.state.len(),
        separate,
        nodes
    );
    // Each node and code once, sorted by hash, as for a block.
    let hashes: Vec<B256> = r.witness.state.iter().map(keccak256).collect();
    assert!(hashes.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn a_run_of_one_block_has_exactly_the_blocks_own_witness() {
    let r = run();
    let f = fixture();
    let witness =
        record_run(&f.spec, &r.blocks[..1], &[&[]], &mut MemorySource::new(r.pre.clone()), &r.ancestors).unwrap();
    assert_eq!(witness, r.single[0], "the verifier-driven recorder and record_block agree");
}

#[test]
fn every_defect_of_a_run_is_refused() {
    let r = run();
    let w = &r.witness;

    // Every node and code is needed by some block of the run.
    for i in 0..w.state.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.state.remove(i));
        let err = verify(&r.blocks, &t).unwrap_err();
        let missing = match &err {
            VerifyError::InRun { source, .. } => matches!(**source, VerifyError::MissingNode(h) if h == dropped),
            _ => false,
        };
        assert!(missing, "dropping node {i} gave {err}");
    }
    for i in 0..w.codes.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.codes.remove(i));
        let err = verify(&r.blocks, &t).unwrap_err();
        assert!(
            matches!(&err, VerifyError::InRun { source, .. } if **source == VerifyError::MissingCode(dropped)),
            "{err}"
        );
    }
    // Block 3 reads block 1's hash: without that header the run cannot verify.
    let mut t = w.clone();
    t.headers.truncate(1);
    assert_eq!(verify(&r.blocks, &t), Err(in_block(0, VerifyError::MissingHeader(1))));
    // An older header than any BLOCKHASH asked for.
    let mut t = w.clone();
    t.headers.push(header_rlp(&fixture().headers[0]));
    assert_eq!(verify(&r.blocks, &t), Err(VerifyError::UnusedHeader(fixture().headers[0].hash())));

    // A node only a block of the run writes is not the caller's to supply: the verifier
    // computes it, so it is unused.
    let mut post = r.pre.clone();
    let f = fixture();
    let ancestors = r.ancestors.clone();
    nrd_chain::import_block(&f.spec, ancestors.parent(), &r.blocks[0], &[], &mut post, &ancestors).unwrap();
    let written = nrd_chain::TrieState::proof(&mut post, SETTER, &[]).unwrap().account_proof;
    let new_node =
        written.iter().find(|n| !w.state.contains(n) && n.len() >= 32).expect("block 3 rewrote SETTER's path");
    let mut t = w.clone();
    t.state.push(new_node.clone());
    assert_eq!(verify(&r.blocks, &t), Err(VerifyError::UnusedNode(keccak256(new_node))));

    // Duplicates, padding.
    let mut t = w.clone();
    t.state.push(t.state[0].clone());
    assert_eq!(verify(&r.blocks, &t), Err(VerifyError::DuplicateEntry(keccak256(&w.state[0]))));
    let mut t = w.clone();
    t.codes.push(Bytes::from_static(&[0x00]));
    assert_eq!(verify(&r.blocks, &t), Err(VerifyError::UnusedCode(keccak256([0x00]))));

    // Blocks out of order, one left out, one repeated, none.
    let mut swapped = r.blocks.clone();
    swapped.swap(1, 2);
    assert!(matches!(
        verify(&swapped, w),
        Err(VerifyError::InRun { index: 1, source }) if matches!(*source, VerifyError::InvalidBlock(BlockError::Header(_)))
    ));
    let gap = [r.blocks[0].clone(), r.blocks[2].clone(), r.blocks[3].clone()];
    assert!(matches!(verify(&gap, w), Err(VerifyError::InRun { index: 1, .. })));
    let repeated = [r.blocks[0].clone(), r.blocks[0].clone()];
    assert!(matches!(verify(&repeated, w), Err(VerifyError::InRun { index: 1, .. })));
    assert_eq!(verify(&[], w), Err(VerifyError::EmptyRun));
    // A prefix of the run with the whole run's witness: the later blocks' nodes are unused.
    assert!(matches!(verify(&r.blocks[..2], w), Err(VerifyError::UnusedNode(_))));

    // A forged last block: its state root claims another state.
    let mut forged = r.blocks.clone();
    forged[3].header.state_root = B256::repeat_byte(7);
    assert!(matches!(
        verify(&forged, w),
        Err(VerifyError::InRun { index: 3, source }) if matches!(*source, VerifyError::InvalidBlock(BlockError::Mismatch { .. }))
    ));
    // A transaction of a middle block swapped for another: its transactions root breaks.
    let mut forged = r.blocks.clone();
    forged[1].body.transactions[0] = r.blocks[2].body.transactions[0].clone();
    assert!(matches!(verify(&forged, w), Err(VerifyError::InRun { index: 1, .. })));

    // Anchors: one per block.
    let f = fixture();
    assert_eq!(
        verify_run(&f.spec, f.headers[2].state_root, &r.blocks, &[&[]], w, None),
        Err(VerifyError::AnchorCount { blocks: 4, anchors: 1 })
    );
    // The pre-state root must be the first block's parent's.
    assert!(matches!(
        verify_run(&f.spec, f.headers[1].state_root, &r.blocks, &[&[][..]; 4], w, None),
        Err(VerifyError::PreStateRootMismatch { .. })
    ));
}

fn execute(trace: &[u8], post: B256, gas_used: u64, anchors: &[Bytes]) -> Result<usize, ExecuteError> {
    let f = fixture();
    Reexecution::new(f.spec.clone())
        .verify(&ExecuteInput {
            pre_state_root: f.headers[2].state_root,
            post_state_root: post,
            gas_used,
            anchor: &encode_run_anchors(anchors),
            trace,
        })
        .map(|v| v.len())
}

#[test]
fn execute_checks_a_runs_claims_and_encoding() {
    let r = run();
    let trace =
        RunTrace { blocks: r.blocks.clone(), witness: r.witness.clone(), blob_refs: vec![], first_batch_index: 0 };
    let encoded = trace.encode();
    let post = r.blocks[3].header.state_root;
    let gas: u64 = r.blocks.iter().map(|b| b.header.gas_used).sum();
    let anchors = vec![Bytes::new(); 4];
    assert_eq!(execute(&encoded, post, gas, &anchors), Ok(4));

    // The declared gas is the sum of the blocks' (no anchors on this chain), exactly.
    assert!(matches!(execute(&encoded, post, gas + 1, &anchors), Err(ExecuteError::GasUsed { .. })));
    assert!(matches!(execute(&encoded, post, gas - 1, &anchors), Err(ExecuteError::GasUsed { .. })));
    // The claimed post-state root is the last block's, not a middle one's.
    let middle = r.blocks[2].header.state_root;
    assert!(matches!(execute(&encoded, middle, gas, &anchors), Err(ExecuteError::PostStateRoot { .. })));
    // One anchor per block; the anchors must be abi.encode(bytes[]).
    assert!(matches!(
        execute(&encoded, post, gas, &anchors[..3]),
        Err(ExecuteError::Verify(VerifyError::AnchorCount { blocks: 4, anchors: 3 }))
    ));
    let f = fixture();
    let raw = Reexecution::new(f.spec.clone()).verify(&ExecuteInput {
        pre_state_root: f.headers[2].state_root,
        post_state_root: post,
        gas_used: gas,
        anchor: &[0xde, 0xad],
        trace: &encoded,
    });
    assert_eq!(raw, Err(ExecuteError::MalformedAnchor));
    // A block claiming more transactions than its gas pays for is refused before execution.
    let mut stuffed = trace.clone();
    let tx = stuffed.blocks[1].body.transactions[0].clone();
    stuffed.blocks[1].body.transactions.extend(std::iter::repeat_n(tx, 100));
    assert!(matches!(execute(&stuffed.encode(), post, gas, &anchors), Err(ExecuteError::TooManyTransactions { .. })));

    // Encoding: version, length bounds, trailing bytes, batch index without blobs.
    let body = &encoded[1..];
    let mut other = vec![0x03];
    other.extend_from_slice(body);
    assert_eq!(AnyTrace::decode(&other), Err(TraceError::UnsupportedVersion(3)));
    // A version 0x01 body is not a version 0x02 one (which has no witness field).
    other[0] = 0x02;
    assert!(matches!(AnyTrace::decode(&other), Err(TraceError::Rlp(_))));
    assert!(matches!(Trace::decode(&encoded), Err(TraceError::WrongVersion { got: 1, expected: 0 })));
    let mut trailing = encoded.to_vec();
    trailing.push(0);
    assert_eq!(AnyTrace::decode(&trailing), Err(TraceError::TrailingBytes(1)));
    let mut indexed = trace.clone();
    indexed.first_batch_index = 1;
    assert_eq!(AnyTrace::decode(&indexed.encode()), Err(TraceError::BatchIndexWithoutBlobs(1)));
    let empty = RunTrace { blocks: vec![], ..trace };
    assert_eq!(AnyTrace::decode(&empty.encode()), Err(TraceError::RunLength(0)));
    // Too many blocks is refused from the list header, before any block decodes (these
    // "blocks" are empty strings that would not decode).
    let mut fake = Vec::new();
    let items = vec![Bytes::new(); MAX_RUN_BLOCKS + 1];
    alloy_rlp::encode_list::<_, Bytes>(&items, &mut fake);
    let mut outer = Vec::new();
    alloy_rlp::Header { list: true, payload_length: fake.len() + 3 }.encode(&mut outer);
    outer.extend_from_slice(&fake);
    outer.extend_from_slice(&[0xc0, 0xc0, 0x80]);
    let mut bytes = vec![0x01];
    bytes.extend_from_slice(&outer);
    assert_eq!(AnyTrace::decode(&bytes), Err(TraceError::RunLength(MAX_RUN_BLOCKS + 1)));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Random corruptions of a valid run trace never panic: they decode to an error or to
    /// something EXECUTE refuses (or, at worst, to the same run).
    #[test]
    fn corrupted_run_traces_never_panic(at in 0usize..100_000, byte in proptest::prelude::any::<u8>()) {
        let r = run();
        let trace = RunTrace { blocks: r.blocks.clone(), witness: r.witness.clone(), blob_refs: vec![], first_batch_index: 0 };
        let mut encoded = trace.encode().to_vec();
        let at = at % encoded.len();
        encoded[at] = byte;
        let post = r.blocks[3].header.state_root;
        let gas: u64 = r.blocks.iter().map(|b| b.header.gas_used).sum();
        let _ = execute(&encoded, post, gas, &[Bytes::new(), Bytes::new(), Bytes::new(), Bytes::new()]);
    }
}
