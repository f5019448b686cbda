//! A Merkle-Patricia trie that can be partly blinded.
//!
//! One structure serves both sides of nrd: the full state of a node (every node in memory,
//! hashes cached so a block's root is recomputed only along changed paths) and the sparse trie
//! of the stateless verifier (subtrees known only by hash until a witness node reveals them).
//! Every operation takes a [`NodeResolver`]: it reveals blinded nodes on demand and can observe
//! every committed node an operation touches, which is how witnesses are recorded.
//!
//! Nodes are shared copy-on-write: cloning a trie is O(1) and the clone and the original then
//! copy only the nodes on the paths they change. A node keeping a state per block for history
//! pays for what each block changed, not for the whole state. Reads of revealed paths never copy.
//!
//! Why our own trie rather than `kona-mpt`: kona-mpt drags a second, older alloy-consensus
//! through op-alloy, and it cannot report which committed nodes an update touched, which our
//! witness recorder needs. `alloy-trie`'s `HashBuilder` only builds roots from sorted leaves; it is
//! used in tests as the independent reference this trie is checked against.

mod nibbles;
mod node;

use alloy_primitives::{B256, Bytes, keccak256};
use alloy_trie::EMPTY_ROOT_HASH;
pub(crate) use nibbles::Nibbles;
use nibbles::common_prefix;
use node::{BranchNode, ExtensionNode, Node, NodeRef};
use std::sync::Arc;

/// Errors of trie operations.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrieError {
    /// A blinded node was needed and the resolver does not have it.
    #[error("trie node {0} is needed but missing from the witness")]
    MissingNode(B256),
    /// A node's bytes are not a valid trie node.
    #[error("malformed trie node: {0}")]
    MalformedNode(#[from] MalformedNode),
    /// The store holding the nodes failed to read one (I/O, a corrupt record).
    #[error("trie node {hash} could not be read: {source}")]
    Store {
        /// The node asked for.
        hash: B256,
        /// What the store reported.
        #[source]
        source: crate::StoreFault,
    },
}

impl crate::Classify for TrieError {
    fn severity(&self) -> crate::Severity {
        match self {
            Self::Store { source, .. } => source.severity(),
            // A witness (or store) that lacks a node or holds a bad one will not change on retry.
            Self::MissingNode(_) | Self::MalformedNode(_) => crate::Severity::Critical,
        }
    }
}

/// How a node's bytes fail to be a trie node.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedNode {
    /// The bytes are not valid RLP.
    #[error(transparent)]
    Rlp(#[from] alloy_rlp::Error),
    /// Bytes follow the node's RLP.
    #[error("trailing bytes after node")]
    TrailingBytes,
    /// Inline nodes nest deeper than any real trie does.
    #[error("inline nodes nested too deeply")]
    TooDeep,
    /// The node is an RLP string, not a list.
    #[error("node is not an RLP list")]
    NotAList,
    /// A list of neither 2 (leaf, extension) nor 17 (branch) items.
    #[error("node list has {0} items, expected 2 or 17")]
    ItemCount(usize),
    /// The path of a leaf or extension is not hex-prefix encoded.
    #[error("invalid hex-prefix path")]
    HexPrefix,
    /// An extension with an empty path.
    #[error("extension node with empty path")]
    EmptyExtension,
    /// An extension whose child is empty.
    #[error("extension node without child")]
    ExtensionWithoutChild,
    /// A list where a string item belongs.
    #[error("expected a string item, found a list")]
    ListItem,
    /// An inline child that should have been referenced by hash.
    #[error("inline child of 32 bytes or more")]
    LargeInlineChild,
    /// A child reference that is neither empty nor a 32-byte hash.
    #[error("child reference of {0} bytes")]
    ChildReference(usize),
}

impl crate::Classify for MalformedNode {
    fn severity(&self) -> crate::Severity {
        // The node's bytes are what they are: decoding them again fails again.
        crate::Severity::Critical
    }
}

/// Reveals blinded nodes and observes committed nodes as operations touch them.
pub trait NodeResolver {
    /// The RLP of the node whose hash is `hash`.
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError>;

    /// Whether [`NodeResolver::visit`] should be called (computing encodings costs time).
    fn records(&self) -> bool {
        false
    }

    /// Called with every committed, hash-referenced node (and the root) an operation passes
    /// through: exactly the nodes a sparse copy of the trie would need revealed.
    fn visit(&mut self, _hash: B256, _encoding: Vec<u8>) {}
}

/// Sees every committed node an operation passes through (see [`NodeResolver::visit`]).
pub trait NodeObserver {
    /// Called with a node's hash and RLP encoding.
    fn visit(&mut self, hash: B256, encoding: Vec<u8>);
}

impl NodeObserver for NodeRecorder {
    fn visit(&mut self, hash: B256, encoding: Vec<u8>) {
        self.nodes.entry(hash).or_insert_with(|| encoding.into());
    }
}

/// The nodes on one path, root first: a Merkle proof.
#[derive(Debug, Default, Clone)]
pub struct ProofNodes(pub Vec<Bytes>);

impl NodeObserver for ProofNodes {
    fn visit(&mut self, _hash: B256, encoding: Vec<u8>) {
        self.0.push(encoding.into());
    }
}

/// A resolver whose visits go to an observer (when there is one).
pub struct Observed<'a, R> {
    /// Reveals blinded nodes.
    pub inner: R,
    /// Sees every committed node touched.
    pub observer: Option<&'a mut dyn NodeObserver>,
}

impl<R: std::fmt::Debug> std::fmt::Debug for Observed<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observed").field("inner", &self.inner).field("observed", &self.observer.is_some()).finish()
    }
}

impl<R: NodeResolver> NodeResolver for Observed<'_, R> {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        self.inner.resolve(hash)
    }

    fn records(&self) -> bool {
        self.observer.is_some()
    }

    fn visit(&mut self, hash: B256, encoding: Vec<u8>) {
        if let Some(observer) = self.observer.as_mut() {
            observer.visit(hash, encoding);
        }
    }
}

impl<R: NodeResolver + ?Sized> NodeResolver for &mut R {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        (**self).resolve(hash)
    }

    fn records(&self) -> bool {
        (**self).records()
    }

    fn visit(&mut self, hash: B256, encoding: Vec<u8>) {
        (**self).visit(hash, encoding);
    }
}

/// Resolver for fully-revealed tries: there is never anything to reveal.
#[derive(Debug, Clone, Copy, Default)]
pub struct FullyRevealed;

impl NodeResolver for FullyRevealed {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        Err(TrieError::MissingNode(*hash))
    }
}

/// Records every committed node an operation touches: a witness of those operations.
#[derive(Debug, Default, Clone)]
pub struct NodeRecorder {
    /// Node encodings by hash.
    pub nodes: alloy_primitives::map::B256Map<Bytes>,
}

impl NodeResolver for NodeRecorder {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        Err(TrieError::MissingNode(*hash))
    }

    fn records(&self) -> bool {
        true
    }

    fn visit(&mut self, hash: B256, encoding: Vec<u8>) {
        self.nodes.entry(hash).or_insert_with(|| encoding.into());
    }
}

/// A Merkle-Patricia trie over raw byte keys (callers hash keys for secure tries).
#[derive(Debug, Clone, Default)]
pub struct Trie {
    root: Node,
}

impl Trie {
    /// An empty trie.
    pub fn new() -> Self {
        Self::default()
    }

    /// A trie known only by its root hash; nodes are revealed through a resolver.
    pub fn from_root(root: B256) -> Self {
        if root == EMPTY_ROOT_HASH { Self::new() } else { Self { root: Node::Hash(root) } }
    }

    /// Whether the trie has no entries (a blinded root counts as non-empty).
    pub fn is_empty(&self) -> bool {
        matches!(self.root, Node::Empty)
    }

    /// The value at `key`.
    pub fn get(&mut self, key: &[u8], r: &mut impl NodeResolver) -> Result<Option<Vec<u8>>, TrieError> {
        let path = Nibbles::unpack(key);
        get_at(&mut self.root, path.as_slice(), r, true)
    }

    /// The value at `key`, without revealing anything (a blinded node on the path is an error).
    pub fn get_ref(&self, key: &[u8]) -> Result<Option<&[u8]>, TrieError> {
        let path = Nibbles::unpack(key);
        let mut path = path.as_slice();
        let mut node = &self.root;
        loop {
            match node {
                Node::Empty => return Ok(None),
                Node::Hash(hash) => return Err(TrieError::MissingNode(*hash)),
                Node::Leaf(leaf) => return Ok((leaf.key.as_slice() == path).then_some(leaf.value.as_slice())),
                Node::Extension(ext) => match path.strip_prefix(ext.key.as_slice()) {
                    Some(rest) => (node, path) = (&ext.child, rest),
                    None => return Ok(None),
                },
                Node::Branch(branch) => match path.split_first() {
                    None => return Ok(branch.value.as_deref()),
                    Some((&i, rest)) => (node, path) = (&branch.children[i as usize], rest),
                },
            }
        }
    }

    /// Sets `key` to `value`; an empty value removes the key.
    pub fn insert(&mut self, key: &[u8], value: Vec<u8>, r: &mut impl NodeResolver) -> Result<(), TrieError> {
        if value.is_empty() {
            return self.remove(key, r).map(|_| ());
        }
        let path = Nibbles::unpack(key);
        insert_at(&mut self.root, path.as_slice(), value, r, true)
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove(&mut self, key: &[u8], r: &mut impl NodeResolver) -> Result<bool, TrieError> {
        let path = Nibbles::unpack(key);
        remove_at(&mut self.root, path.as_slice(), r, true)
    }

    /// The root hash, computed along changed paths only.
    pub fn root(&mut self) -> B256 {
        match self.root.commit() {
            NodeRef::Hash(hash) => hash,
            NodeRef::Inline(raw) if matches!(self.root, Node::Empty) => {
                debug_assert_eq!(raw, [alloy_rlp::EMPTY_STRING_CODE]);
                EMPTY_ROOT_HASH
            }
            NodeRef::Inline(raw) => keccak256(raw),
        }
    }

    /// Every key in order (blinded subtrees are skipped), packed back into bytes.
    pub fn keys(&self) -> Vec<Vec<u8>> {
        fn walk(node: &Node, prefix: &mut Vec<u8>, out: &mut Vec<Vec<u8>>) {
            let pack =
                |nibbles: &[u8]| nibbles.chunks(2).map(|c| (c[0] << 4) | c.get(1).copied().unwrap_or(0)).collect();
            match node {
                Node::Empty | Node::Hash(_) => {}
                Node::Leaf(leaf) => out.push(pack(&[prefix.as_slice(), leaf.key.as_slice()].concat())),
                Node::Extension(ext) => {
                    let len = prefix.len();
                    prefix.extend_from_slice(ext.key.as_slice());
                    walk(&ext.child, prefix, out);
                    prefix.truncate(len);
                }
                Node::Branch(branch) => {
                    if branch.value.is_some() {
                        out.push(pack(prefix));
                    }
                    for (i, child) in branch.children.iter().enumerate() {
                        prefix.push(i as u8);
                        walk(child, prefix, out);
                        prefix.pop();
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(&self.root, &mut Vec::new(), &mut out);
        out
    }

    /// Reveals every node through `r` (a subtree about to be dropped whole is counted this way).
    pub fn reveal_all(&mut self, r: &mut impl NodeResolver) -> Result<(), TrieError> {
        // Subtrees with nothing blinded are only reported, never written: that would copy nodes
        // other clones of the trie share.
        fn walk(node: &mut Node, r: &mut impl NodeResolver, is_root: bool) -> Result<(), TrieError> {
            touch(node, r, is_root)?;
            match node {
                Node::Empty | Node::Hash(_) | Node::Leaf(_) => Ok(()),
                Node::Extension(ext) if blinded(&ext.child) => walk(&mut Arc::make_mut(ext).child, r, false),
                Node::Branch(branch) if branch.children.iter().any(blinded) => {
                    Arc::make_mut(branch).children.iter_mut().try_for_each(|c| walk(c, r, false))
                }
                Node::Extension(ext) => {
                    report_all(&ext.child, r);
                    Ok(())
                }
                Node::Branch(branch) => {
                    branch.children.iter().for_each(|c| report_all(c, r));
                    Ok(())
                }
            }
        }
        fn report_all(node: &Node, r: &mut impl NodeResolver) {
            report(node, r, false);
            match node {
                Node::Extension(ext) => report_all(&ext.child, r),
                Node::Branch(branch) => branch.children.iter().for_each(|c| report_all(c, r)),
                Node::Empty | Node::Hash(_) | Node::Leaf(_) => {}
            }
        }
        walk(&mut self.root, r, true)
    }

    /// Every revealed node a store keeps by hash (hash-referenced nodes and a non-empty root),
    /// as `(hash, encoding)`, root first; hashes are committed first.
    pub fn revealed_nodes(&mut self, out: &mut Vec<(B256, Vec<u8>)>) {
        fn walk(node: &Node, out: &mut Vec<(B256, Vec<u8>)>, is_root: bool) {
            let stored = match node.cached_ref() {
                _ if matches!(node, Node::Empty | Node::Hash(_)) => None,
                Some(NodeRef::Hash(hash)) => Some(hash),
                Some(NodeRef::Inline(raw)) if is_root => Some(keccak256(raw)),
                _ => None,
            };
            if let Some(hash) = stored
                && let Some(enc) = node.clean_encoding()
            {
                out.push((hash, enc));
            }
            match node {
                Node::Extension(ext) => walk(&ext.child, out, false),
                Node::Branch(branch) => branch.children.iter().for_each(|c| walk(c, out, false)),
                _ => {}
            }
        }
        self.root();
        walk(&self.root, out, true);
    }

    /// The proof of `key` (present or absent): the RLP of every node on its path, root first.
    pub fn proof(&mut self, key: &[u8]) -> Result<Vec<Bytes>, TrieError> {
        self.root();
        let mut collector = ProofCollector::default();
        self.get(key, &mut collector)?;
        Ok(collector.nodes)
    }
}

#[derive(Default)]
struct ProofCollector {
    nodes: Vec<Bytes>,
}

impl NodeResolver for ProofCollector {
    fn resolve(&mut self, hash: &B256) -> Result<Bytes, TrieError> {
        Err(TrieError::MissingNode(*hash))
    }

    fn records(&self) -> bool {
        true
    }

    fn visit(&mut self, _hash: B256, encoding: Vec<u8>) {
        self.nodes.push(encoding.into());
    }
}

/// Reveals `node` if blinded, and reports it to the resolver if it is committed and referenced
/// by hash (or is the root).
fn touch(node: &mut Node, r: &mut impl NodeResolver, is_root: bool) -> Result<(), TrieError> {
    if let Node::Hash(hash) = *node {
        let bytes = r.resolve(&hash)?;
        // A resolver keyed by hash may still hand back other bytes; never trust it.
        if keccak256(&bytes) != hash {
            return Err(TrieError::MissingNode(hash));
        }
        *node = Node::decode(&bytes, NodeRef::Hash(hash))?;
        if r.records() {
            r.visit(hash, bytes.to_vec());
        }
        return Ok(());
    }
    report(node, r, is_root);
    Ok(())
}

/// Whether `node`'s subtree holds a blinded node.
fn blinded(node: &Node) -> bool {
    match node {
        Node::Hash(_) => true,
        Node::Empty | Node::Leaf(_) => false,
        Node::Extension(ext) => blinded(&ext.child),
        Node::Branch(branch) => branch.children.iter().any(blinded),
    }
}

/// Whether the path to `path` from `node` is revealed all the way (reading it changes nothing).
fn revealed_along(node: &Node, path: &[u8]) -> bool {
    match node {
        Node::Hash(_) => false,
        Node::Empty | Node::Leaf(_) => true,
        Node::Extension(ext) => {
            path.strip_prefix(ext.key.as_slice()).is_none_or(|rest| revealed_along(&ext.child, rest))
        }
        Node::Branch(branch) => {
            path.split_first().is_none_or(|(&i, rest)| revealed_along(&branch.children[i as usize], rest))
        }
    }
}

/// Reports a revealed `node` to a recording resolver if it is committed and referenced by hash
/// (or is the root).
fn report(node: &Node, r: &mut impl NodeResolver, is_root: bool) {
    if r.records() {
        match node.cached_ref() {
            Some(NodeRef::Hash(hash)) if !matches!(node, Node::Empty) => {
                if let Some(enc) = node.clean_encoding() {
                    r.visit(hash, enc);
                }
            }
            Some(NodeRef::Inline(_)) if is_root && !matches!(node, Node::Empty) => {
                if let Some(enc) = node.clean_encoding() {
                    r.visit(keccak256(&enc), enc);
                }
            }
            _ => {}
        }
    }
}

/// [`get_at`] on a path with nothing blinded: reads only (nodes shared with other clones of
/// the trie stay shared), reporting the same nodes.
fn get_revealed(node: &Node, path: &[u8], r: &mut impl NodeResolver, is_root: bool) -> Option<Vec<u8>> {
    report(node, r, is_root);
    match node {
        Node::Empty | Node::Hash(_) => None,
        Node::Leaf(leaf) => (leaf.key.as_slice() == path).then(|| leaf.value.clone()),
        Node::Extension(ext) => get_revealed(&ext.child, path.strip_prefix(ext.key.as_slice())?, r, false),
        Node::Branch(branch) => match path.split_first() {
            None => branch.value.clone(),
            Some((&i, rest)) => get_revealed(&branch.children[i as usize], rest, r, false),
        },
    }
}

fn get_at(
    node: &mut Node,
    path: &[u8],
    r: &mut impl NodeResolver,
    is_root: bool,
) -> Result<Option<Vec<u8>>, TrieError> {
    if revealed_along(node, path) {
        return Ok(get_revealed(node, path, r, is_root));
    }
    touch(node, r, is_root)?;
    match node {
        Node::Empty | Node::Hash(_) => Ok(None),
        Node::Leaf(leaf) => Ok((leaf.key.as_slice() == path).then(|| leaf.value.clone())),
        Node::Extension(ext) => match path.strip_prefix(ext.key.as_slice()) {
            Some(rest) => get_at(&mut Arc::make_mut(ext).child, rest, r, false),
            None => Ok(None),
        },
        Node::Branch(branch) => match path.split_first() {
            None => Ok(branch.value.clone()),
            Some((&i, rest)) => get_at(&mut Arc::make_mut(branch).children[i as usize], rest, r, false),
        },
    }
}

/// Puts `value` at `path` under a fresh branch, or as the branch value when `path` is empty.
fn branch_put(branch: &mut BranchNode, path: &[u8], value: Vec<u8>) {
    match path.split_first() {
        None => branch.value = Some(value),
        Some((&i, rest)) => branch.children[i as usize] = Node::leaf(Nibbles::from_slice(rest), value),
    }
}

fn insert_at(
    node: &mut Node,
    path: &[u8],
    value: Vec<u8>,
    r: &mut impl NodeResolver,
    is_root: bool,
) -> Result<(), TrieError> {
    touch(node, r, is_root)?;
    match node {
        Node::Empty | Node::Hash(_) => {
            *node = Node::leaf(Nibbles::from_slice(path), value);
        }
        Node::Leaf(leaf) => {
            if leaf.key.as_slice() == path {
                if leaf.value != value {
                    let leaf = Arc::make_mut(leaf);
                    leaf.value = value;
                    leaf.cache = None;
                }
                return Ok(());
            }
            let cp = common_prefix(leaf.key.as_slice(), path);
            let mut branch = BranchNode::default();
            let old_value = leaf.value.clone();
            branch_put(&mut branch, &leaf.key.as_slice()[cp..], old_value);
            branch_put(&mut branch, &path[cp..], value);
            *node = Node::extension(Nibbles::from_slice(&path[..cp]), Node::Branch(Arc::new(branch)));
        }
        Node::Extension(ext) => {
            let cp = common_prefix(ext.key.as_slice(), path);
            let ext = Arc::make_mut(ext);
            if cp == ext.key.len() {
                ext.cache = None;
                return insert_at(&mut ext.child, &path[cp..], value, r, false);
            }
            let mut branch = BranchNode::default();
            let key = ext.key.as_slice();
            let child = std::mem::take(&mut ext.child);
            branch.children[key[cp] as usize] = Node::extension(Nibbles::from_slice(&key[cp + 1..]), child);
            branch_put(&mut branch, &path[cp..], value);
            *node = Node::extension(Nibbles::from_slice(&path[..cp]), Node::Branch(Arc::new(branch)));
        }
        Node::Branch(branch) => {
            let branch = Arc::make_mut(branch);
            branch.cache = None;
            match path.split_first() {
                None => branch.value = Some(value),
                Some((&i, rest)) => insert_at(&mut branch.children[i as usize], rest, value, r, false)?,
            }
        }
    }
    Ok(())
}

fn remove_at(node: &mut Node, path: &[u8], r: &mut impl NodeResolver, is_root: bool) -> Result<bool, TrieError> {
    touch(node, r, is_root)?;
    match node {
        Node::Empty | Node::Hash(_) => Ok(false),
        Node::Leaf(leaf) => {
            if leaf.key.as_slice() != path {
                return Ok(false);
            }
            *node = Node::Empty;
            Ok(true)
        }
        Node::Extension(ext) => {
            let Some(rest) = path.strip_prefix(ext.key.as_slice()) else { return Ok(false) };
            let ext = Arc::make_mut(ext);
            if !remove_at(&mut ext.child, rest, r, false)? {
                return Ok(false);
            }
            let ExtensionNode { key, child, .. } = ext;
            let merged = match std::mem::take(child) {
                Node::Empty => Node::Empty,
                Node::Leaf(mut cl) => {
                    let l = Arc::make_mut(&mut cl);
                    l.key = key.join(l.key.as_slice());
                    l.cache = None;
                    Node::Leaf(cl)
                }
                Node::Extension(mut ce) => {
                    let e = Arc::make_mut(&mut ce);
                    e.key = key.join(e.key.as_slice());
                    e.cache = None;
                    Node::Extension(ce)
                }
                other => Node::extension(std::mem::take(key), other),
            };
            *node = merged;
            Ok(true)
        }
        Node::Branch(branch) => {
            let branch = Arc::make_mut(branch);
            match path.split_first() {
                None => {
                    if branch.value.take().is_none() {
                        return Ok(false);
                    }
                }
                Some((&i, rest)) => {
                    if !remove_at(&mut branch.children[i as usize], rest, r, false)? {
                        return Ok(false);
                    }
                }
            }
            branch.cache = None;
            let mut live = branch.children.iter().enumerate().filter(|(_, c)| !matches!(c, Node::Empty));
            let first = live.next().map(|(i, _)| i);
            let more = live.next().is_some();
            match (first, more, branch.value.is_some()) {
                (_, true, _) | (Some(_), false, true) => {}
                (None, _, true) => {
                    let value = branch.value.take().unwrap_or_default();
                    *node = Node::leaf(Nibbles::default(), value);
                }
                (None, _, false) => *node = Node::Empty,
                (Some(i), false, false) => {
                    // One child left: fold it into this position. Its kind decides the shape,
                    // so a blinded child must be revealed.
                    let mut child = std::mem::take(&mut branch.children[i]);
                    touch(&mut child, r, false)?;
                    let nibble = i as u8;
                    *node = match child {
                        Node::Leaf(mut cl) => {
                            let l = Arc::make_mut(&mut cl);
                            l.key = l.key.prepend(nibble);
                            l.cache = None;
                            Node::Leaf(cl)
                        }
                        Node::Extension(mut ce) => {
                            let e = Arc::make_mut(&mut ce);
                            e.key = e.key.prepend(nibble);
                            e.cache = None;
                            Node::Extension(ce)
                        }
                        other => Node::Extension(Arc::new(ExtensionNode {
                            key: Nibbles::from_slice(&[nibble]),
                            child: other,
                            cache: None,
                        })),
                    };
                }
            }
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests;
