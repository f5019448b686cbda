#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The Solidity Merkle-Patricia proof verifier (`contracts/lib/MerkleTrie.sol`), run in the EVM
//! through its test harness (`contracts/test/MerkleTrieHarness.sol`, committed artifact) on
//! nrd-chain's engine, against proofs of nrd-chain's own trie.

use std::sync::LazyLock;

use alloy_consensus::{Header, TrieAccount};
use alloy_primitives::{Address, B256, Bytes, KECCAK256_EMPTY, U256, address, keccak256, map::HashMap};
use alloy_sol_types::{SolCall, SolError, sol};
use nrd_chain::{ChainSpec, FullyRevealed, GenesisAccount, MemoryState, StateProvider, StateRef, Trie, TrieState};
use proptest::prelude::*;
use revm::context::TxEnv;
use revm::primitives::{TxKind, hardfork::SpecId};

sol! {
    #[derive(Debug, PartialEq, Eq)]
    interface IMerkleTrieHarness {
        function get(bytes key, bytes[] proof, bytes32 root) external pure returns (bool exists, bytes value);
        function getSecure(bytes key, bytes[] proof, bytes32 root) external pure returns (bool exists, bytes value);
        function accountStorageRoot(bytes account) external pure returns (bytes32);
        function decodeUint(bytes rlpUint) external pure returns (uint256);
        function storageSlotValue(bytes32 stateRoot, address account, bytes32 slot, bytes[] accountProof, bytes[] storageProof)
            external pure returns (bool exists, uint256 value);
        function storageSlotValueGas(bytes32 stateRoot, address account, bytes32 slot, bytes[] accountProof, bytes[] storageProof)
            external view returns (bool exists, uint256 value, uint256 gasUsed);
    }

    error MerkleProofInvalid(uint256 nodeIndex, string reason);
    error RLPMalformed(string reason);
}

const HARNESS: Address = address!("0x00000000000000000000000000000000000c0de1");
const EMPTY_ROOT: B256 = alloy_primitives::b256!("0x56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421");

/// A chain whose genesis holds the harness; calls run on top of it.
struct Evm {
    spec: ChainSpec,
    header: Header,
    state: MemoryState,
}

static EVM: LazyLock<Evm> = LazyLock::new(|| {
    let artifact: serde_json::Value =
        serde_json::from_str(include_str!("../artifacts/MerkleTrieHarness.json")).expect("artifact is JSON");
    let code: Bytes = artifact["deployedBytecode"].as_str().expect("deployedBytecode").parse().expect("hex");
    assert!(!code.is_empty(), "harness has runtime code");
    let alloc = [(HARNESS, GenesisAccount { code, ..Default::default() })];
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let spec = ChainSpec::post_merge(1337, SpecId::PRAGUE, None);
    let header = spec.genesis_header(state.root(), 100_000_000, 0);
    Evm { spec, header, state }
});

/// Why the verifier refused a proof: one of its custom errors, nothing else.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rejection {
    Proof { node: u64, reason: String },
    Rlp(String),
}

/// Calls the harness; `Err` is the revert data. Also returns the transaction's gas.
fn call(data: Vec<u8>) -> (Result<Bytes, Bytes>, u64) {
    let evm = &*EVM;
    let tx = TxEnv {
        caller: Address::repeat_byte(0x11),
        kind: TxKind::Call(HARNESS),
        data: data.into(),
        gas_limit: 50_000_000,
        chain_id: Some(evm.spec.chain_id),
        ..Default::default()
    };
    let hashes = HashMap::<u64, B256>::default();
    let out = nrd_chain::simulate(&evm.spec, &evm.header, tx, &mut StateRef(&evm.state), &hashes).expect("simulate");
    let gas = out.result.tx_gas_used();
    let success = out.result.is_success();
    assert!(!out.result.is_halt(), "harness call halted: {:?}", out.result);
    let output = out.result.into_output().unwrap_or_default();
    (if success { Ok(output) } else { Err(output) }, gas)
}

/// Decodes revert data; anything but the verifier's custom errors (a panic, an empty revert from
/// running out of gas or a failed ABI decode) fails the test.
fn rejection(data: &[u8]) -> Rejection {
    if let Ok(e) = MerkleProofInvalid::abi_decode(data) {
        return Rejection::Proof { node: e.nodeIndex.to(), reason: e.reason };
    }
    if let Ok(e) = RLPMalformed::abi_decode(data) {
        return Rejection::Rlp(e.reason);
    }
    panic!("revert data {} is not a verifier error", Bytes::copy_from_slice(data));
}

fn run<C: SolCall>(c: &C) -> Result<C::Return, Rejection> {
    match call(c.abi_encode()).0 {
        Ok(out) => Ok(C::abi_decode_returns(&out).expect("return data decodes")),
        Err(data) => Err(rejection(&data)),
    }
}

fn get(key: &[u8], proof: &[Bytes], root: B256) -> Result<(bool, Bytes), Rejection> {
    run(&IMerkleTrieHarness::getCall { key: key.to_vec().into(), proof: proof.to_vec(), root })
        .map(|r| (r.exists, r.value))
}

fn proof_rejected(key: &[u8], proof: &[Bytes], root: B256) -> Rejection {
    match get(key, proof, root) {
        Ok(answer) => panic!("proof of {} accepted with {answer:?}", Bytes::copy_from_slice(key)),
        Err(r) => r,
    }
}

fn invalid(node: u64, reason: &str) -> Rejection {
    Rejection::Proof { node, reason: reason.into() }
}

fn decode_uint(raw: &[u8]) -> Result<U256, Rejection> {
    run(&IMerkleTrieHarness::decodeUintCall { rlpUint: raw.to_vec().into() })
}

fn account_storage_root(raw: &[u8]) -> Result<B256, Rejection> {
    run(&IMerkleTrieHarness::accountStorageRootCall { account: raw.to_vec().into() })
}

fn build_trie(entries: &[(Vec<u8>, Vec<u8>)]) -> Trie {
    let mut trie = Trie::new();
    for (key, value) in entries {
        trie.insert(key, value.clone(), &mut FullyRevealed).unwrap();
    }
    trie.root();
    trie
}

fn truth(trie: &mut Trie, key: &[u8]) -> (bool, Bytes) {
    let value = trie.get(key, &mut FullyRevealed).unwrap();
    (value.is_some(), value.unwrap_or_default().into())
}

/// RLP of a byte string.
fn rlp_str(bytes: &[u8]) -> Vec<u8> {
    alloy_rlp::encode(bytes)
}

/// RLP of a list of already-encoded items.
fn rlp_list(items: &[Vec<u8>]) -> Vec<u8> {
    let payload: Vec<u8> = items.concat();
    let mut out = Vec::new();
    alloy_rlp::Header { list: true, payload_length: payload.len() }.encode(&mut out);
    out.extend_from_slice(&payload);
    out
}

/// A branch node: children by nibble (already-encoded references), empty elsewhere, no value.
fn branch(children: &[(usize, Vec<u8>)]) -> Vec<u8> {
    let mut items = vec![vec![0x80]; 17];
    for (i, c) in children {
        items[*i] = c.clone();
    }
    rlp_list(&items)
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Short keys over a tiny alphabet: long shared prefixes, keys that are prefixes of others
        // (values in branches), tiny leaves that get embedded in their parents.
        prop::collection::vec(prop::sample::select(vec![0x00u8, 0x01, 0x10, 0x11, 0xab, 0xff]), 1..5),
        // Secure-trie style keys.
        prop::collection::vec(any::<u8>(), 32..=32),
    ]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Tiny values (single bytes below 0x80 encode as themselves): embedded nodes.
        prop::collection::vec(any::<u8>(), 1..3),
        // Up to long strings (56 bytes and more take a long-form RLP header).
        prop::collection::vec(any::<u8>(), 1..90),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Inclusion and exclusion proofs of random tries verify to exactly what the trie holds, and
    /// tampered, re-rooted, truncated, extended or foreign proofs never give a wrong answer.
    #[test]
    fn random_tries_agree_with_the_rust_trie(
        entries in prop::collection::vec((key_strategy(), value_strategy()), 1..200),
        absent in prop::collection::vec(key_strategy(), 0..12),
        pick in any::<prop::sample::Index>(),
        byte in any::<prop::sample::Index>(),
        flip in 1u8..=255,
    ) {
        let mut trie = build_trie(&entries);
        let root = trie.root();
        let mut queries: Vec<Vec<u8>> = entries.iter().take(16).map(|(k, _)| k.clone()).collect();
        queries.extend(absent);
        for (key, _) in entries.iter().take(6) {
            queries.push(key[..key.len() - 1].to_vec()); // a prefix, maybe the empty key
            queries.push([key.as_slice(), &[0x10]].concat()); // an extension
        }
        let mut proofs = Vec::new();
        for key in &queries {
            let proof = trie.proof(key).unwrap();
            let expected = truth(&mut trie, key);
            prop_assert_eq!(get(key, &proof, root), Ok(expected), "key {}", Bytes::copy_from_slice(key));
            proofs.push(proof);
        }

        let i = pick.index(queries.len());
        let (key, proof) = (&queries[i], &proofs[i]);
        prop_assert!(!proof.is_empty());
        // A flipped byte anywhere in any node.
        let mut tampered = proof.clone();
        let n = pick.index(proof.len());
        let mut node = tampered[n].to_vec();
        let at = byte.index(node.len());
        node[at] ^= flip;
        tampered[n] = node.into();
        prop_assert_eq!(proof_rejected(key, &tampered, root), invalid(n as u64, "node hash mismatch"));
        // Another root.
        let other = B256::from(U256::from_be_bytes(root.0) ^ U256::from(flip));
        prop_assert_eq!(proof_rejected(key, proof, other), invalid(0, "node hash mismatch"));
        // Truncated.
        let short = &proof[..proof.len() - 1];
        let reason = if short.is_empty() { "empty proof for a non-empty root" } else { "proof truncated" };
        prop_assert_eq!(proof_rejected(key, short, root), invalid(short.len() as u64, reason));
        // One node too many (a node of the trie itself, so it hashes fine where it belongs).
        let mut long = proof.clone();
        long.push(proofs[pick.index(proofs.len())].last().unwrap().clone());
        prop_assert_eq!(proof_rejected(key, &long, root), invalid(proof.len() as u64, "extra proof nodes"));
        // A proof of another key: either refused or, when it happens to cover this key's path, true.
        for (other_key, other_proof) in queries.iter().zip(&proofs).take(8) {
            match get(key, other_proof, root) {
                Ok(answer) => prop_assert_eq!(answer, truth(&mut trie, key), "proof of {}", Bytes::copy_from_slice(other_key)),
                Err(Rejection::Proof { .. }) => {}
                Err(r) => prop_assert!(false, "a proof of a valid trie rejected as malformed RLP: {:?}", r),
            }
        }
    }

    /// A lone "root node" of arbitrary bytes (committed to by its root) never panics the verifier
    /// nor makes it read out of bounds: it answers or reverts with one of its errors.
    #[test]
    fn arbitrary_root_nodes_never_panic(node in prop::collection::vec(any::<u8>(), 0..80), key in key_strategy()) {
        let root = keccak256(&node);
        if let Ok((true, value)) = get(&key, &[node.clone().into()], root) {
            // Only a real leaf or branch holding the key can say so: the value is inside the node.
            prop_assert!(!value.is_empty() && node.windows(value.len()).any(|w| w == value.as_ref()));
        }
    }

    /// `accountStorageRoot` reads the third field of any account.
    #[test]
    fn account_storage_root_roundtrips(nonce in any::<u64>(), balance in any::<[u8; 32]>(), root in any::<[u8; 32]>(), code in any::<[u8; 32]>()) {
        let (balance, storage_root, code_hash) = (U256::from_be_bytes(balance), B256::from(root), B256::from(code));
        let account = TrieAccount { nonce, balance, storage_root, code_hash };
        prop_assert_eq!(account_storage_root(&alloy_rlp::encode(account)), Ok(storage_root));
    }

    /// `decodeUint` inverts `rlp(uint)`.
    #[test]
    fn decode_uint_roundtrips(value in any::<[u8; 32]>(), bits in 0usize..=256) {
        let value = U256::from_be_bytes(value);
        let value = if bits == 256 { value } else { value & ((U256::from(1) << bits) - U256::from(1)) };
        prop_assert_eq!(decode_uint(&alloy_rlp::encode(value)), Ok(value));
    }
}

#[test]
fn empty_trie() {
    let key = [0x12u8, 0x34];
    assert_eq!(Trie::new().proof(&key).unwrap(), Vec::<Bytes>::new(), "our trie proves emptiness with no nodes");
    assert_eq!(get(&key, &[], EMPTY_ROOT), Ok((false, Bytes::new())));
    assert_eq!(get(&[], &[], EMPTY_ROOT), Ok((false, Bytes::new())));
    // The empty root node spelled out (some clients do) is fine, anything after it is not.
    assert_eq!(get(&key, &[vec![0x80].into()], EMPTY_ROOT), Ok((false, Bytes::new())));
    assert_eq!(
        proof_rejected(&key, &[vec![0x80].into(), vec![0x80].into()], EMPTY_ROOT),
        invalid(1, "extra proof nodes")
    );
    assert_eq!(proof_rejected(&key, &[], B256::repeat_byte(1)), invalid(0, "empty proof for a non-empty root"));
    assert_eq!(proof_rejected(&key, &[vec![0xc0].into()], EMPTY_ROOT), invalid(0, "node hash mismatch"));
}

#[test]
fn embedded_nodes_and_branch_values() {
    // Everything here is tiny: the leaves (and one branch) sit inside their parents.
    let entries: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (vec![0x01], vec![0x01]),
        (vec![0x01, 0x02], vec![0x02]),
        (vec![0x01, 0x03], vec![0x03]),
        (vec![0x02], b"a value long enough to be hashed on its own".to_vec()),
        (vec![0x11], vec![0x7f]),
        (vec![0x12], vec![0x80]),
    ];
    let mut trie = build_trie(&entries);
    let root = trie.root();
    for (key, value) in &entries {
        let proof = trie.proof(key).unwrap();
        assert_eq!(get(key, &proof, root), Ok((true, value.clone().into())), "key {key:?}");
    }
    for key in [vec![], vec![0x00], vec![0x01, 0x04], vec![0x01, 0x02, 0x03], vec![0x13], vec![0x10], vec![0xff]] {
        let proof = trie.proof(&key).unwrap();
        assert_eq!(get(&key, &proof, root), Ok((false, Bytes::new())), "key {key:?}");
    }
    // A single tiny entry: the root node itself is under 32 bytes, still referenced by hash.
    let mut single = build_trie(&[(vec![0xaa], vec![0x01])]);
    let proof = single.proof(&[0xaa]).unwrap();
    assert!(proof.len() == 1 && proof[0].len() < 32);
    assert_eq!(get(&[0xaa], &proof, single.root()), Ok((true, vec![0x01].into())));
    assert_eq!(get(&[0xab], &single.proof(&[0xab]).unwrap(), single.root()), Ok((false, Bytes::new())));
}

/// A key that ends inside an extension (or a leaf) is absent, even when the nibbles after it
/// (the zero padding of its memory word) would continue the extension's path.
#[test]
fn keys_ending_inside_a_path_are_absent() {
    let long = vec![0x99; 40];
    let entries =
        vec![(vec![0x12, 0x00, 0x00, 0x00], long.clone()), (vec![0x12, 0x00, 0x00, 0x00, 0x05], vec![0x01; 40])];
    let mut trie = build_trie(&entries);
    let root = trie.root();
    for key in [vec![0x12], vec![0x12, 0x00], vec![0x12, 0x00, 0x00], vec![0x12, 0x00, 0x00, 0x00, 0x05, 0x00]] {
        assert_eq!(truth(&mut trie, &key), (false, Bytes::new()));
        assert_eq!(get(&key, &trie.proof(&key).unwrap(), root), Ok((false, Bytes::new())), "key {key:?}");
    }
    assert_eq!(get(&entries[0].0, &trie.proof(&entries[0].0).unwrap(), root), Ok((true, long.into())));
}

#[test]
fn rejections_name_the_failing_node() {
    let entries: Vec<(Vec<u8>, Vec<u8>)> =
        (0u32..300).map(|i| (keccak256(i.to_be_bytes()).to_vec(), vec![0xaa; 1 + (i % 40) as usize])).collect();
    let mut trie = build_trie(&entries);
    let root = trie.root();
    let key = &entries[7].0;
    let proof = trie.proof(key).unwrap();
    assert!(proof.len() >= 3, "a deep enough proof");
    assert_eq!(get(key, &proof, root), Ok((true, entries[7].1.clone().into())));

    let mut tampered = proof.clone();
    let mut node = tampered[1].to_vec();
    node[10] ^= 1;
    tampered[1] = node.into();
    assert_eq!(proof_rejected(key, &tampered, root), invalid(1, "node hash mismatch"));
    assert_eq!(proof_rejected(key, &proof, keccak256(b"another root")), invalid(0, "node hash mismatch"));
    let n = proof.len() as u64;
    assert_eq!(proof_rejected(key, &proof[..proof.len() - 1], root), invalid(n - 1, "proof truncated"));
    assert_eq!(proof_rejected(key, &proof[..1], root), invalid(1, "proof truncated"));
    let mut long = proof.clone();
    long.push(proof[1].clone());
    assert_eq!(proof_rejected(key, &long, root), invalid(n, "extra proof nodes"));
    assert_eq!(proof_rejected(key, &[], root), invalid(0, "empty proof for a non-empty root"));
    let mut swapped = proof;
    swapped.swap(1, 2);
    assert_eq!(proof_rejected(key, &swapped, root), invalid(1, "node hash mismatch"));

    // Exclusion proofs are held to the same rules.
    let missing = keccak256(b"not in the trie");
    let proof = trie.proof(missing.as_slice()).unwrap();
    assert_eq!(get(missing.as_slice(), &proof, root), Ok((false, Bytes::new())));
    let mut long = proof.clone();
    long.push(trie.proof(key).unwrap().last().unwrap().clone());
    assert_eq!(proof_rejected(missing.as_slice(), &long, root), invalid(proof.len() as u64, "extra proof nodes"));
    let mut bad = proof;
    bad[0] = vec![0xde, 0xad, 0xbe, 0xef].into();
    assert_eq!(proof_rejected(missing.as_slice(), &bad, root), invalid(0, "node hash mismatch"));
    // Secure lookups hash the key first.
    let (k, v) = (b"some key".to_vec(), vec![0x42; 40]);
    let mut secure = build_trie(&[(keccak256(&k).to_vec(), v.clone()), (keccak256(b"other").to_vec(), vec![1])]);
    let proof = secure.proof(keccak256(&k).as_slice()).unwrap();
    let result = run(&IMerkleTrieHarness::getSecureCall { key: k.into(), proof, root: secure.root() }).unwrap();
    assert_eq!((result.exists, result.value), (true, v.into()));
}

/// Nodes that hash to their reference but are not valid trie nodes: each proof is `[node]` with
/// root `keccak256(node)` (or a two-node proof built on top), so only node checks can refuse it.
#[test]
fn malformed_nodes_are_refused() {
    let key = [0x12u8, 0x34];
    let leaf = |path: &[u8], value: &[u8]| rlp_list(&[rlp_str(path), rlp_str(value)]);
    let single = |node: Vec<u8>| -> Rejection { proof_rejected(&key, &[node.clone().into()], keccak256(&node)) };
    let rlp = |s: &str| Rejection::Rlp(s.into());

    // RLP-level.
    assert_eq!(single(vec![]), rlp("item out of bounds"));
    assert_eq!(single(vec![0xc1]), rlp("list exceeds input"));
    assert_eq!(single(vec![0xc3, 0x82, 0x20]), rlp("list exceeds input"));
    assert_eq!(single(vec![0xc2, 0x83, 0x20]), rlp("string exceeds input"));
    assert_eq!(single(vec![0xc3, 0x81, 0x05, 0x01]), rlp("non-canonical single byte"));
    assert_eq!(single([vec![0xf8, 0x04], leaf(&[0x20, 0x12, 0x34], &[1])].concat()), rlp("non-canonical long length"));
    assert_eq!(single(vec![0xf9, 0x00, 0x40]), rlp("length has leading zero"));
    assert_eq!(single(vec![0xfb, 0x01, 0x02]), rlp("length exceeds input"));
    assert_eq!(single(vec![0xf8, 0xff, 0x00]), rlp("item exceeds input"));
    // Node-level.
    assert_eq!(single(rlp_str(&[0x20, 0x12, 0x34])), invalid(0, "node is not a list"));
    assert_eq!(single([leaf(&[0x20, 0x12, 0x34], &[1]), vec![0x00]].concat()), invalid(0, "trailing bytes after node"));
    assert_eq!(single(rlp_list(&vec![rlp_str(&[0x20]); 3])), invalid(0, "node has neither 2 nor 17 items"));
    assert_eq!(single(rlp_list(&vec![vec![0x80]; 18])), invalid(0, "node has more than 17 items"));
    assert_eq!(single(leaf(&[0x40, 0x12, 0x34], &[1])), invalid(0, "invalid hex-prefix flag"));
    assert_eq!(single(leaf(&[0x21, 0x12, 0x34], &[1])), invalid(0, "invalid hex-prefix padding"));
    assert_eq!(single(rlp_list(&[vec![0x80], rlp_str(&[1])])), invalid(0, "node path is not a non-empty string"));
    assert_eq!(single(rlp_list(&[rlp_str(&[0x20, 0x12, 0x34]), rlp_list(&[])])), invalid(0, "leaf value is a list"));
    assert_eq!(single(rlp_list(&[rlp_str(&[0x20, 0x12, 0x34]), vec![0x80]])), invalid(0, "leaf value is empty"));
    assert_eq!(single(rlp_list(&[rlp_str(&[0x00]), rlp_str(&[0xaa; 32])])), invalid(0, "extension path is empty"));
    assert_eq!(single(rlp_list(&[rlp_str(&[0x11]), vec![0x80]])), invalid(0, "extension child is empty"));
    assert_eq!(
        single(rlp_list(&[rlp_str(&[0x11]), rlp_str(&[0xaa; 31])])),
        invalid(0, "child reference is neither hash nor node")
    );
    assert_eq!(single(branch(&[(1, rlp_str(&[0xaa; 5]))])), invalid(0, "child reference is neither hash nor node"));
    let big_inline = leaf(&[0x30], &[0xbb; 30]);
    assert!(big_inline.len() >= 32);
    assert_eq!(single(branch(&[(1, big_inline)])), invalid(0, "embedded node of 32 bytes or more"));
    let mut with_list_value = vec![vec![0x80]; 17];
    with_list_value[16] = rlp_list(&[]);
    assert_eq!(
        proof_rejected(&[], &[rlp_list(&with_list_value).into()], keccak256(rlp_list(&with_list_value))),
        invalid(0, "branch value is a list")
    );
    // A node under 32 bytes may only be embedded, never referenced by hash (except the root).
    let tiny = leaf(&[0x32, 0x34], &[1]);
    let parent = branch(&[(1, rlp_str(keccak256(&tiny).as_slice())), (2, rlp_str(&[0xcc; 32]))]);
    let proof: Vec<Bytes> = vec![parent.clone().into(), tiny.into()];
    assert_eq!(proof_rejected(&key, &proof, keccak256(&parent)), invalid(1, "node under 32 bytes referenced by hash"));
    // The same nodes built correctly verify: the tiny leaf embedded, the parent as the root.
    let parent = branch(&[(1, leaf(&[0x32, 0x34], &[1])), (2, rlp_str(&[0xcc; 32]))]);
    assert_eq!(get(&key, &[parent.clone().into()], keccak256(&parent)), Ok((true, vec![1].into())));
    assert_eq!(get(&[0x22], &[parent.clone().into()], keccak256(&parent)), Err(invalid(1, "proof truncated")));
    assert_eq!(get(&[0x32], &[parent.clone().into()], keccak256(&parent)), Ok((false, Bytes::new())));
}

#[test]
fn decode_uint_vectors() {
    assert_eq!(decode_uint(&[0x80]), Ok(U256::ZERO));
    assert_eq!(decode_uint(&[0x01]), Ok(U256::from(1)));
    assert_eq!(decode_uint(&[0x7f]), Ok(U256::from(0x7f)));
    assert_eq!(decode_uint(&[0x81, 0x80]), Ok(U256::from(0x80)));
    assert_eq!(decode_uint(&[0x82, 0x01, 0x00]), Ok(U256::from(0x100)));
    assert_eq!(decode_uint(&[[0xa0].as_slice(), &[0xff; 32]].concat()), Ok(U256::MAX));
    let rlp = |s: &str| Err(Rejection::Rlp(s.into()));
    assert_eq!(decode_uint(&[]), rlp("item out of bounds"));
    assert_eq!(decode_uint(&[0x00]), rlp("integer has leading zero"));
    assert_eq!(decode_uint(&[0x81, 0x05]), rlp("non-canonical single byte"));
    assert_eq!(decode_uint(&[0x82, 0x00, 0x01]), rlp("integer has leading zero"));
    assert_eq!(decode_uint(&[[0xa1].as_slice(), &[0xff; 33]].concat()), rlp("integer too long"));
    assert_eq!(decode_uint(&[0x81]), rlp("string exceeds input"));
    assert_eq!(decode_uint(&[0xc0]), rlp("integer is a list"));
    assert_eq!(decode_uint(&[0x01, 0x02]), rlp("trailing bytes after integer"));
    assert_eq!(decode_uint(&[0xb8, 0x01, 0x01]), rlp("non-canonical long length"));
}

#[test]
fn account_storage_root_vectors() {
    let root = B256::repeat_byte(0x5a);
    let good = TrieAccount { nonce: 3, balance: U256::from(10), storage_root: root, code_hash: KECCAK256_EMPTY };
    let encoded = alloy_rlp::encode(good);
    assert_eq!(account_storage_root(&encoded), Ok(root));
    let field = |v: &[u8]| rlp_str(v);
    let fields = |f: &[Vec<u8>]| rlp_list(f);
    let (n, b, r, c) = (field(&[3]), field(&[10]), field(root.as_slice()), field(KECCAK256_EMPTY.as_slice()));
    let rlp = |s: &str| Err(Rejection::Rlp(s.into()));
    assert_eq!(account_storage_root(&fields(&[n.clone(), b.clone(), r.clone()])), rlp("item out of bounds"));
    assert_eq!(
        account_storage_root(&fields(&[n.clone(), b.clone(), r.clone(), c.clone(), c.clone()])),
        rlp("account has more than 4 fields")
    );
    assert_eq!(
        account_storage_root(&fields(&[n, b.clone(), field(&[0x5a; 31]), c.clone()])),
        rlp("expected a 32-byte string")
    );
    assert_eq!(
        account_storage_root(&fields(&[field(&[0, 3]), b.clone(), r.clone(), c.clone()])),
        rlp("integer has leading zero")
    );
    assert_eq!(account_storage_root(&fields(&[field(&[1; 9]), b, r, c])), rlp("integer too long"));
    assert_eq!(account_storage_root(&[encoded.as_slice(), &[0x80]].concat()), rlp("account is not a single list"));
    assert_eq!(account_storage_root(&rlp_str(&encoded)), rlp("account is not a single list"));
    assert_eq!(account_storage_root(&encoded[..encoded.len() - 1]), rlp("item exceeds input"));
}

/// The slot of `mapping[key]` for a mapping declared at slot `index`.
fn mapping_slot(key: B256, index: U256) -> U256 {
    U256::from_be_bytes(keccak256([key.0, index.to_be_bytes()].concat()).0)
}

/// Account proof → storage root → storage proof → value, end to end against a realistic state.
#[test]
fn storage_slot_values_end_to_end() {
    let contract = address!("0x4200000000000000000000000000000000000016");
    let holder = B256::left_padding_from(address!("0x00000000000000000000000000000000000000aa").as_slice());
    let withdrawal = mapping_slot(holder, U256::ZERO);
    let mut storage: HashMap<U256, U256> = HashMap::default();
    storage.insert(withdrawal, U256::from(1));
    storage.insert(U256::ZERO, U256::from(0x1234));
    storage.insert(U256::from(1), U256::MAX);
    storage.insert(U256::from(2), U256::from(0x80));
    for i in 0u64..40 {
        storage.insert(mapping_slot(B256::from(U256::from(i + 1000)), U256::from(3)), U256::from(i + 1));
    }
    let mut alloc: Vec<(Address, GenesisAccount)> = vec![(
        contract,
        GenesisAccount { code: vec![0x60, 0x00, 0x54, 0x00].into(), storage: storage.clone(), ..Default::default() },
    )];
    for i in 0u64..1000 {
        let address = Address::from_slice(&keccak256(i.to_be_bytes())[12..]);
        alloc.push((address, GenesisAccount { balance: U256::from(i + 1), nonce: i % 7, ..Default::default() }));
    }
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let state_root = state.root();

    let read = |state: &mut MemoryState, account: Address, slot: U256| {
        let (account_proof, mut storage_proofs) = proof(state, account, &[slot]);
        let storage_proof = storage_proofs.pop().unwrap();
        let request = IMerkleTrieHarness::storageSlotValueGasCall {
            stateRoot: state_root,
            account,
            slot: B256::from(slot),
            accountProof: account_proof.clone(),
            storageProof: storage_proof.clone(),
        };
        let (out, tx_gas) = call(request.abi_encode());
        let out =
            IMerkleTrieHarness::storageSlotValueGasCall::abi_decode_returns(&out.map_err(|e| rejection(&e)).unwrap())
                .unwrap();
        (out.exists, out.value, out.gasUsed.to::<u64>(), tx_gas, account_proof, storage_proof)
    };

    // Gas by proof depth (account + storage nodes): (count, verifier gas, whole-call gas, bytes).
    let mut by_depth: std::collections::BTreeMap<usize, (u64, u64, u64, usize)> = Default::default();
    for (slot, value) in &storage {
        let (exists, got, gas, tx_gas, account_proof, storage_proof) = read(&mut state, contract, *slot);
        assert_eq!((exists, got), (true, *value), "slot {slot}");
        assert_eq!(StateRef(&state).storage(contract, *slot).unwrap(), *value);
        let entry = by_depth.entry(account_proof.len() + storage_proof.len()).or_default();
        entry.0 += 1;
        entry.1 += gas;
        entry.2 += tx_gas;
        entry.3 += account_proof.iter().chain(&storage_proof).map(|n| n.len()).sum::<usize>();
    }
    for (nodes, (count, gas, tx_gas, bytes)) in &by_depth {
        println!(
            "storageSlotValue, {nodes} nodes (~{} proof bytes): {} gas in the verifier, {} gas for the whole call (mean of {count})",
            *bytes as u64 / count,
            gas / count,
            tx_gas / count
        );
    }
    let (exists, value, gas, _, account_proof, storage_proof) = read(&mut state, contract, withdrawal);
    assert_eq!((exists, value), (true, U256::from(1)));
    let nodes = account_proof.len() + storage_proof.len();
    assert!((6..=8).contains(&nodes), "a typical depth ({nodes} nodes)");
    assert!(gas < 15_000 * nodes as u64, "verification gas {gas} for {nodes} nodes");

    // An absent slot and an absent account read as (false, 0).
    let (exists, value, ..) = read(&mut state, contract, mapping_slot(B256::repeat_byte(7), U256::ZERO));
    assert_eq!((exists, value), (false, U256::ZERO));
    let (exists, value, _, _, account_proof, storage_proof) = read(&mut state, Address::repeat_byte(0x77), U256::ZERO);
    assert_eq!((exists, value), (false, U256::ZERO));
    assert!(storage_proof.is_empty() && !account_proof.is_empty());
    // An account without storage: its storage root is the empty root.
    let plain = alloc[5].0;
    let (exists, value, ..) = read(&mut state, plain, U256::ZERO);
    assert_eq!((exists, value), (false, U256::ZERO));

    // A storage proof against another account's storage root, or a storage proof given for an
    // absent account, is refused.
    let (account_proof, _) = proof(&mut state, plain, &[]);
    let (_, mut storage_proofs) = proof(&mut state, contract, &[withdrawal]);
    let storage_proof = storage_proofs.pop().unwrap();
    let forged = IMerkleTrieHarness::storageSlotValueCall {
        stateRoot: state_root,
        account: plain,
        slot: B256::from(withdrawal),
        accountProof: account_proof,
        storageProof: storage_proof.clone(),
    };
    assert_eq!(run(&forged), Err(invalid(0, "node hash mismatch")));
    let (absent_proof, _) = proof(&mut state, Address::repeat_byte(0x77), &[]);
    let forged = IMerkleTrieHarness::storageSlotValueCall {
        account: Address::repeat_byte(0x77),
        accountProof: absent_proof,
        ..forged
    };
    assert_eq!(run(&forged), Err(invalid(0, "node hash mismatch")));
    // The withdrawal slot of another holder is not set.
    let (account_proof, mut storage_proofs) = proof(&mut state, contract, &[withdrawal + U256::from(1)]);
    let other = IMerkleTrieHarness::storageSlotValueCall {
        stateRoot: state_root,
        account: contract,
        slot: B256::from(withdrawal + U256::from(1)),
        accountProof: account_proof,
        storageProof: storage_proofs.pop().unwrap(),
    };
    let out = run(&other).unwrap();
    assert_eq!((out.exists, out.value), (false, U256::ZERO));
    // ...and the real slot's proof does not prove it set either.
    let other = IMerkleTrieHarness::storageSlotValueCall { storageProof: storage_proof, ..other };
    match run(&other) {
        Ok(out) => assert_eq!((out.exists, out.value), (false, U256::ZERO)),
        Err(Rejection::Proof { .. }) => {}
        Err(r) => panic!("unexpected {r:?}"),
    }
}

/// The account's proof and one storage proof per slot, from the state's trie.
fn proof(state: &mut MemoryState, account: Address, slots: &[U256]) -> (Vec<Bytes>, Vec<Vec<Bytes>>) {
    let proof = state.proof(account, slots).unwrap();
    (proof.account_proof, proof.storage.into_iter().map(|(_, nodes)| nodes).collect())
}
