//! The stateless verifier against a small chain built here: every witness defect is its own
//! typed error, and no byte string — random or a mutated valid trace — makes it panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Block, Header, TxEnvelope};
use alloy_primitives::{B256, Bytes, keccak256};
use nrd_chain::BlockError;
use nrd_execute_client::{
    ExecuteError, ExecuteInput, ExecutionWitness, Reexecution, Trace, TraceError, Verifier, VerifyError, verify_block,
};
use proptest::prelude::*;

mod common;
use common::{fixture, header_rlp};

fn verify(witness: &ExecutionWitness) -> Result<(), VerifyError> {
    let f = fixture();
    verify_block(&f.spec, f.headers[1].state_root, &f.block, &[], witness).map(|_| ())
}

#[test]
fn recorded_witness_verifies() {
    let f = fixture();
    assert_eq!(f.witness.headers.len(), 2, "BLOCKHASH(n-2) needs parent and grandparent");
    assert_eq!(f.witness.codes.len(), 2);
    let verified = verify_block(&f.spec, f.headers[1].state_root, &f.block, &[], &f.witness).unwrap();
    assert_eq!(verified.state_root, f.block.header.state_root);
    assert_eq!(verified.hash, f.headers[2].hash());
}

#[test]
fn each_witness_defect_is_its_own_error() {
    let f = fixture();
    let w = &f.witness;

    // Truncated: every single node and code is needed.
    for i in 0..w.state.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.state.remove(i));
        assert_eq!(verify(&t), Err(VerifyError::MissingNode(dropped)));
    }
    for i in 0..w.codes.len() {
        let mut t = w.clone();
        let dropped = keccak256(t.codes.remove(i));
        assert_eq!(verify(&t), Err(VerifyError::MissingCode(dropped)));
    }
    let mut t = w.clone();
    t.headers.truncate(1);
    assert_eq!(verify(&t), Err(VerifyError::MissingHeader(0)));

    // Forged node: its hash changes, so the real one is missing.
    let mut t = w.clone();
    let mut forged = t.state[0].to_vec();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    t.state[0] = forged.into();
    assert_eq!(verify(&t), Err(VerifyError::MissingNode(keccak256(&w.state[0]))));

    // Extra entries.
    let mut t = w.clone();
    t.state.push(Bytes::from_static(&[0xc2, 0x20, 0x01]));
    assert_eq!(verify(&t), Err(VerifyError::UnusedNode(keccak256([0xc2, 0x20, 0x01]))));
    let mut t = w.clone();
    t.codes.push(Bytes::from_static(&[0x00]));
    assert_eq!(verify(&t), Err(VerifyError::UnusedCode(keccak256([0x00]))));
    let mut t = w.clone();
    t.state.push(t.state[0].clone());
    assert_eq!(verify(&t), Err(VerifyError::DuplicateEntry(keccak256(&w.state[0]))));

    // Headers: a parent that does not hash right, a stray header, garbage.
    let mut t = w.clone();
    let mut parent = f.headers[1].inner().clone();
    parent.gas_limit += 1;
    t.headers[0] = header_rlp(&parent);
    assert_eq!(verify(&t), Err(VerifyError::MissingParentHeader(f.block.header.parent_hash)));
    let mut t = w.clone();
    t.headers.push(header_rlp(&Header { number: 99, ..Default::default() }));
    assert!(matches!(verify(&t), Err(VerifyError::UnusedHeader(_))));
    let mut t = w.clone();
    t.headers.push(Bytes::from_static(&[0xc1, 0x80]));
    assert!(matches!(verify(&t), Err(VerifyError::MalformedHeader { index: 2, .. })));

    // A trace for another parent.
    assert_eq!(
        verify_block(&f.spec, f.headers[0].state_root, &f.block, &[], w),
        Err(VerifyError::PreStateRootMismatch {
            pre_state_root: f.headers[0].state_root,
            parent: f.headers[1].state_root
        })
    );
}

#[test]
fn forged_blocks_are_invalid_blocks() {
    let f = fixture();
    let mut forged = f.block.clone();
    forged.header.gas_used += 1;
    assert!(matches!(
        verify_block(&f.spec, f.headers[1].state_root, &forged, &[], &f.witness),
        Err(VerifyError::InvalidBlock(BlockError::Mismatch { field: "gas used", .. }))
    ));
    let mut forged = f.block.clone();
    forged.body.transactions.pop();
    assert!(matches!(
        verify_block(&f.spec, f.headers[1].state_root, &forged, &[], &f.witness),
        Err(VerifyError::InvalidBlock(BlockError::Mismatch { field: "transactions root", .. }))
    ));
}

fn execute_input(trace: &[u8], post: B256, gas_used: u64) -> Result<(), ExecuteError> {
    let f = fixture();
    Reexecution::new(f.spec.clone())
        .verify(&ExecuteInput {
            pre_state_root: f.headers[1].state_root,
            post_state_root: post,
            gas_used,
            anchor: &[],
            trace,
        })
        .map(|_| ())
}

#[test]
fn execute_checks_the_claims_and_the_trace_encoding() {
    let f = fixture();
    let trace =
        Trace { block: f.block.clone(), witness: f.witness.clone(), blob_refs: vec![], batch_index: 0 }.encode();
    assert_eq!(Trace::decode(&trace).unwrap().block, f.block);
    let (root, gas) = (f.block.header.state_root, f.block.header.gas_used);
    execute_input(&trace, root, gas).unwrap();
    assert!(matches!(execute_input(&trace, B256::ZERO, gas), Err(ExecuteError::PostStateRoot { .. })));
    assert!(matches!(execute_input(&trace, root, gas - 1), Err(ExecuteError::GasUsed { .. })));
    assert_eq!(execute_input(&[], root, gas), Err(ExecuteError::Trace(TraceError::Empty)));
    let mut v1 = trace.to_vec();
    v1[0] = 7;
    assert_eq!(execute_input(&v1, root, gas), Err(ExecuteError::Trace(TraceError::UnsupportedVersion(7))));
    let mut long = trace.to_vec();
    long.push(0);
    assert_eq!(execute_input(&long, root, gas), Err(ExecuteError::Trace(TraceError::TrailingBytes(1))));
    assert!(matches!(
        execute_input(&trace[..trace.len() - 10], root, gas),
        Err(ExecuteError::Trace(TraceError::Rlp(_)))
    ));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_the_decoders(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = Trace::decode(&bytes);
        let mut versioned = vec![0u8];
        versioned.extend_from_slice(&bytes);
        let _ = Trace::decode(&versioned);
        let _ = <ExecutionWitness as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
        let _ = <Block<TxEnvelope> as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
        let _ = <Header as alloy_rlp::Decodable>::decode(&mut bytes.as_slice());
    }

    /// Flip bytes of a valid trace anywhere: decoding and verification return errors, never panic.
    #[test]
    fn mutated_traces_never_panic_the_verifier(flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..), 1..4)) {
        let f = fixture();
        let mut trace = Trace { block: f.block.clone(), witness: f.witness.clone(), blob_refs: vec![], batch_index: 0 }.encode().to_vec();
        for (at, xor) in flips {
            let i = at.index(trace.len());
            trace[i] ^= xor;
        }
        let _ = execute_input(&trace, f.block.header.state_root, f.block.header.gas_used);
    }
}
