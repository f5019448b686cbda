//! Trie tests: ethereum/tests TrieTests vectors, alloy-trie as a reference, sparse reveal.

use super::*;
use alloy_primitives::{b256, hex};
use proptest::prelude::*;
use serde_json::Value;
use std::{collections::BTreeMap, path::PathBuf};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ethereum-tests/TrieTests")
}

/// TrieTests strings: `0x…` is hex, anything else is the raw UTF-8 bytes.
fn bytes_of(s: &str) -> Vec<u8> {
    match s.strip_prefix("0x") {
        Some(h) => hex::decode(h).expect("fixture hex"),
        None => s.as_bytes().to_vec(),
    }
}

fn load(name: &str) -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(fixtures().join(name)).expect("fixture file");
    serde_json::from_str(&text).expect("fixture json")
}

fn run_root_file(name: &str, secure: bool) -> usize {
    let mut ran = 0;
    for (test, case) in load(name) {
        let pairs: Vec<(Vec<u8>, Option<Vec<u8>>)> = match &case["in"] {
            Value::Array(items) => {
                items.iter().map(|kv| (bytes_of(kv[0].as_str().expect("key")), kv[1].as_str().map(bytes_of))).collect()
            }
            Value::Object(map) => map.iter().map(|(k, v)| (bytes_of(k), v.as_str().map(bytes_of))).collect(),
            other => panic!("{name}/{test}: unexpected input {other}"),
        };
        let mut trie = Trie::new();
        for (key, value) in pairs {
            let key = if secure { keccak256(&key).to_vec() } else { key };
            let r = &mut FullyRevealed;
            match value {
                Some(v) => trie.insert(&key, v, r).expect("insert"),
                None => {
                    trie.remove(&key, r).expect("remove");
                }
            }
        }
        let expected: B256 = case["root"].as_str().expect("root").parse().expect("root hex");
        assert_eq!(trie.root(), expected, "{name}/{test}");
        ran += 1;
    }
    ran
}

#[test]
fn ethereum_trie_tests_roots() {
    let mut ran = 0;
    ran += run_root_file("trietest.json", false);
    ran += run_root_file("trieanyorder.json", false);
    ran += run_root_file("trietest_secureTrie.json", true);
    ran += run_root_file("trieanyorder_secureTrie.json", true);
    ran += run_root_file("hex_encoded_securetrie_test.json", true);
    assert!(ran > 20, "only {ran} TrieTests cases found");
}

#[test]
fn ethereum_trie_tests_next_prev() {
    for (test, case) in load("trietestnextprev.json") {
        let mut trie = Trie::new();
        for key in case["in"].as_array().expect("in") {
            let key = bytes_of(key.as_str().expect("key"));
            trie.insert(&key, b"x".to_vec(), &mut FullyRevealed).expect("insert");
        }
        let keys = trie.keys();
        for row in case["tests"].as_array().expect("tests") {
            let probe = bytes_of(row[0].as_str().expect("probe"));
            let prev = keys.iter().rev().find(|k| k.as_slice() < probe.as_slice()).cloned().unwrap_or_default();
            let next = keys.iter().find(|k| k.as_slice() > probe.as_slice()).cloned().unwrap_or_default();
            assert_eq!(prev, bytes_of(row[1].as_str().expect("prev")), "{test} prev of {:?}", row[0]);
            assert_eq!(next, bytes_of(row[2].as_str().expect("next")), "{test} next of {:?}", row[0]);
        }
    }
}

#[test]
fn empty_trie_root() {
    assert_eq!(Trie::new().root(), EMPTY_ROOT_HASH);
    assert_eq!(EMPTY_ROOT_HASH, b256!("56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421"));
}

fn reference_root(map: &BTreeMap<B256, Vec<u8>>) -> B256 {
    let mut hb = alloy_trie::HashBuilder::default();
    for (k, v) in map {
        hb.add_leaf(alloy_trie::Nibbles::unpack(k), v);
    }
    hb.root()
}

/// Operations on 32-byte keys drawn from a small space, so inserts, updates and deletes collide.
fn ops() -> impl Strategy<Value = Vec<(u8, u8, Option<u8>)>> {
    prop::collection::vec((any::<u8>(), 0u8..40, prop::option::of(any::<u8>())), 1..120)
}

fn key(seed: u8, spread: u8) -> B256 {
    // Keys share prefixes often enough to build extensions and deep branches.
    let mut k = [0u8; 32];
    k[0] = spread % 3;
    k[1] = seed % 7;
    k[31] = seed;
    keccak256([spread]).0[..2].iter().enumerate().for_each(|(i, b)| k[2 + i] = *b & 0x11);
    B256::from(k)
}

/// Applies one generated operation to the trie and its model; whether the trie and the model
/// agreed that a removed key was there.
fn apply_op(trie: &mut Trie, model: &mut BTreeMap<B256, Vec<u8>>, seed: u8, spread: u8, value: Option<u8>) -> bool {
    let k = key(seed, spread);
    match value {
        Some(v) => {
            let v = vec![v; 1 + (v as usize % 40)];
            trie.insert(k.as_slice(), v.clone(), &mut FullyRevealed).unwrap();
            model.insert(k, v);
            true
        }
        None => trie.remove(k.as_slice(), &mut FullyRevealed).unwrap() == model.remove(&k).is_some(),
    }
}

proptest! {
    #[test]
    fn matches_alloy_hash_builder(ops in ops()) {
        let mut trie = Trie::new();
        let mut model = BTreeMap::new();
        for (seed, spread, value) in ops {
            prop_assert!(apply_op(&mut trie, &mut model, seed, spread, value), "removal disagrees with the model");
            if seed % 5 == 0 {
                prop_assert_eq!(trie.root(), reference_root(&model));
            }
        }
        prop_assert_eq!(trie.root(), reference_root(&model));
        for (k, v) in &model {
            prop_assert_eq!(trie.get(k.as_slice(), &mut FullyRevealed).unwrap(), Some(v.clone()));
            let proof = trie.proof(k.as_slice()).unwrap();
            prop_assert!(alloy_trie::proof::verify_proof(
                trie.root(), alloy_trie::Nibbles::unpack(k), Some(v.clone()), proof.iter()).is_ok());
        }
    }

    /// A sparse copy revealed only from the nodes recorded on the full trie reaches the same root
    /// after the same updates, and uses every recorded node.
    #[test]
    fn sparse_copy_from_recorded_nodes(initial in ops(), updates in ops()) {
        let mut full = Trie::new();
        for (seed, spread, value) in initial {
            full.insert(key(seed, spread).as_slice(), vec![value.unwrap_or(1); 33], &mut FullyRevealed).unwrap();
        }
        let pre_root = full.root();
        let mut recorder = NodeRecorder::default();
        for (seed, spread, value) in &updates {
            let k = key(*seed, *spread);
            match value {
                Some(v) => full.insert(k.as_slice(), vec![*v; 3], &mut recorder).unwrap(),
                None => { full.remove(k.as_slice(), &mut recorder).unwrap(); }
            }
        }
        let post_root = full.root();

        let mut resolver = MapResolver { nodes: recorder.nodes.clone(), used: Default::default() };
        let mut sparse = Trie::from_root(pre_root);
        for (seed, spread, value) in &updates {
            let k = key(*seed, *spread);
            match value {
                Some(v) => sparse.insert(k.as_slice(), vec![*v; 3], &mut resolver).unwrap(),
                None => { sparse.remove(k.as_slice(), &mut resolver).unwrap(); }
            }
        }
        prop_assert_eq!(sparse.root(), post_root);
        prop_assert_eq!(resolver.used.len(), recorder.nodes.len(), "every recorded node is needed");

        // Without any one recorded node the sparse copy cannot finish.
        if let Some(dropped) = recorder.nodes.keys().next().copied() {
            let mut nodes = recorder.nodes.clone();
            nodes.remove(&dropped);
            let mut resolver = MapResolver { nodes, used: Default::default() };
            let mut sparse = Trie::from_root(pre_root);
            let mut err = None;
            for (seed, spread, value) in &updates {
                let k = key(*seed, *spread);
                let res = match value {
                    Some(v) => sparse.insert(k.as_slice(), vec![*v; 3], &mut resolver),
                    None => sparse.remove(k.as_slice(), &mut resolver).map(|_| ()),
                };
                if let Err(e) = res { err = Some(e); break; }
            }
            prop_assert_eq!(err, Some(TrieError::MissingNode(dropped)));
        }
    }

    /// Clones share nodes copy-on-write, yet behave as the deep copies they used to be: a clone
    /// taken after each batch keeps that batch's contents and root however the original and the
    /// other clones change afterwards (each clone is changed too, then checked against its own
    /// model).
    #[test]
    fn clones_are_independent(batches in prop::collection::vec(ops(), 1..6)) {
        let apply = |trie: &mut Trie, model: &mut BTreeMap<B256, Vec<u8>>, ops: &[(u8, u8, Option<u8>)]| {
            for &(seed, spread, value) in ops {
                assert!(apply_op(trie, model, seed, spread, value), "removal disagrees with the model");
            }
        };
        let mut trie = Trie::new();
        let mut model = BTreeMap::new();
        let mut clones = Vec::new();
        for (i, batch) in batches.iter().enumerate() {
            apply(&mut trie, &mut model, batch);
            // Some clones are taken with the root hashed, some with changes not yet hashed.
            if i % 2 == 0 {
                trie.root();
            }
            clones.push((trie.clone(), model.clone()));
        }
        // Change every clone differently after the fact; the others must not see it.
        for (i, (clone, model)) in clones.iter_mut().enumerate().filter(|(i, _)| i % 2 == 1) {
            let mut reversed = batches[i].clone();
            reversed.reverse();
            apply(clone, model, &reversed);
        }
        apply(&mut trie, &mut model, &batches[0]);
        prop_assert_eq!(trie.root(), reference_root(&model));
        for (clone, model) in &mut clones {
            prop_assert_eq!(clone.root(), reference_root(model));
            for (k, v) in model.iter() {
                prop_assert_eq!(clone.get_ref(k.as_slice()).unwrap(), Some(v.as_slice()));
            }
            prop_assert_eq!(clone.keys().len(), model.len());
        }
    }

    #[test]
    fn decoding_arbitrary_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let hash = keccak256(&bytes);
        let mut resolver = MapResolver { nodes: [(hash, Bytes::from(bytes))].into_iter().collect(), used: Default::default() };
        let mut trie = Trie::from_root(hash);
        let _ = trie.get(&[1, 2, 3], &mut resolver);
        let _ = trie.insert(&[1, 2, 3], vec![1], &mut resolver);
        let _ = trie.remove(&[4, 5], &mut resolver);
    }
}

struct MapResolver {
    nodes: alloy_primitives::map::B256Map<Bytes>,
    used: alloy_primitives::map::B256Set,
}

impl NodeResolver for MapResolver {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        let node = self.nodes.get(hash).cloned().ok_or(TrieError::MissingNode(*hash))?;
        self.used.insert(*hash);
        Ok(node)
    }
}

#[test]
fn malformed_nodes_are_typed_errors() {
    let cases: &[&[u8]] = &[&[0x82, 1, 2], &[0xc0], &[0xc2, 0x80, 0x80], &[0xc2, 0x40, 0x80], &[0xc2, 0x20, 0xc0]];
    for raw in cases {
        let hash = keccak256(raw);
        let mut resolver = MapResolver {
            nodes: [(hash, Bytes::copy_from_slice(raw))].into_iter().collect(),
            used: Default::default(),
        };
        let err = Trie::from_root(hash).get(&[0], &mut resolver).unwrap_err();
        assert!(matches!(err, TrieError::MalformedNode(_)), "{raw:?}: {err}");
    }
}
