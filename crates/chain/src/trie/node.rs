//! Merkle-Patricia trie nodes: in-memory form, RLP encoding and decoding.

use super::{MalformedNode, TrieError, nibbles::Nibbles};
use alloy_primitives::{B256, keccak256};
use alloy_rlp::{BufMut, Encodable, Header, PayloadView};
use std::sync::Arc;

/// How a parent refers to a child: the child's RLP when shorter than 32 bytes, else its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NodeRef {
    Inline(Vec<u8>),
    Hash(B256),
}

impl NodeRef {
    pub(crate) fn from_encoding(encoding: Vec<u8>) -> Self {
        if encoding.len() < 32 { Self::Inline(encoding) } else { Self::Hash(keccak256(&encoding)) }
    }

    fn encode(&self, out: &mut dyn BufMut) {
        match self {
            Self::Inline(raw) => out.put_slice(raw),
            Self::Hash(hash) => hash.encode(out),
        }
    }

    fn length(&self) -> usize {
        match self {
            Self::Inline(raw) => raw.len(),
            Self::Hash(_) => 33,
        }
    }
}

/// A trie node. `Hash` is a blinded subtree: only its hash is known until it is revealed.
///
/// `cache` holds the node's reference as its parent sees it; it is `Some` exactly while the
/// node is unchanged since the last hash computation ("clean"). Clean nodes are the ones that
/// exist in the last committed trie, which is what witness recording relies on.
///
/// Nodes are shared copy-on-write (`Arc`): cloning a trie costs one reference count, and a
/// change copies only the nodes on its path that another clone still holds (`Arc::make_mut`),
/// so states kept per block for history share everything they did not change.
#[derive(Debug, Clone, Default)]
pub(crate) enum Node {
    #[default]
    Empty,
    Hash(B256),
    Leaf(Arc<LeafNode>),
    Extension(Arc<ExtensionNode>),
    Branch(Arc<BranchNode>),
}

#[derive(Debug, Clone)]
pub(crate) struct LeafNode {
    pub(crate) key: Nibbles,
    pub(crate) value: Vec<u8>,
    pub(crate) cache: Option<NodeRef>,
}

#[derive(Debug, Clone)]
pub(crate) struct ExtensionNode {
    pub(crate) key: Nibbles,
    pub(crate) child: Node,
    pub(crate) cache: Option<NodeRef>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct BranchNode {
    pub(crate) children: [Node; 16],
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) cache: Option<NodeRef>,
}

impl Node {
    pub(crate) fn leaf(key: Nibbles, value: Vec<u8>) -> Self {
        Self::Leaf(Arc::new(LeafNode { key, value, cache: None }))
    }

    pub(crate) fn extension(key: Nibbles, child: Self) -> Self {
        if key.is_empty() {
            return child;
        }
        Self::Extension(Arc::new(ExtensionNode { key, child, cache: None }))
    }

    /// The cached reference of a clean node (always known for `Hash` nodes).
    pub(crate) fn cached_ref(&self) -> Option<NodeRef> {
        match self {
            Self::Empty => Some(NodeRef::Inline(vec![alloy_rlp::EMPTY_STRING_CODE])),
            Self::Hash(hash) => Some(NodeRef::Hash(*hash)),
            Self::Leaf(leaf) => leaf.cache.clone(),
            Self::Extension(ext) => ext.cache.clone(),
            Self::Branch(branch) => branch.cache.clone(),
        }
    }

    /// Computes (and caches, bottom-up) the reference of this node.
    pub(crate) fn commit(&mut self) -> NodeRef {
        if let Some(cached) = self.cached_ref() {
            return cached;
        }
        match self {
            Self::Leaf(leaf) => {
                let encoded = encode_leaf(&leaf.key, &leaf.value);
                let r = NodeRef::from_encoding(encoded);
                Arc::make_mut(leaf).cache = Some(r.clone());
                r
            }
            Self::Extension(ext) => {
                let ext = Arc::make_mut(ext);
                let child = ext.child.commit();
                let encoded = encode_extension(&ext.key, &child);
                let r = NodeRef::from_encoding(encoded);
                ext.cache = Some(r.clone());
                r
            }
            Self::Branch(branch) => {
                let branch = Arc::make_mut(branch);
                let refs: Vec<NodeRef> = branch.children.iter_mut().map(Self::commit).collect();
                let encoded = encode_branch(&refs, branch.value.as_deref());
                let r = NodeRef::from_encoding(encoded);
                branch.cache = Some(r.clone());
                r
            }
            Self::Empty | Self::Hash(_) => unreachable!("empty and hash nodes are always clean"),
        }
    }

    /// The RLP encoding of a clean node, from the cached references of its children.
    /// `None` for `Empty`, `Hash` and dirty nodes.
    pub(crate) fn clean_encoding(&self) -> Option<Vec<u8>> {
        match self {
            Self::Empty | Self::Hash(_) => None,
            Self::Leaf(leaf) => leaf.cache.as_ref().map(|_| encode_leaf(&leaf.key, &leaf.value)),
            Self::Extension(ext) => {
                ext.cache.as_ref()?;
                Some(encode_extension(&ext.key, &ext.child.cached_ref()?))
            }
            Self::Branch(branch) => {
                branch.cache.as_ref()?;
                let refs = branch.children.iter().map(Self::cached_ref).collect::<Option<Vec<_>>>()?;
                Some(encode_branch(&refs, branch.value.as_deref()))
            }
        }
    }

    /// Decodes a node from its RLP, marking it clean with `self_ref`.
    pub(crate) fn decode(bytes: &[u8], self_ref: NodeRef) -> Result<Self, TrieError> {
        let mut buf = bytes;
        let mut node = decode_node(&mut buf, 0)?;
        if !buf.is_empty() {
            return Err(MalformedNode::TrailingBytes.into());
        }
        set_cache(&mut node, self_ref);
        Ok(node)
    }
}

fn set_cache(node: &mut Node, r: NodeRef) {
    match node {
        Node::Leaf(leaf) => Arc::make_mut(leaf).cache = Some(r),
        Node::Extension(ext) => Arc::make_mut(ext).cache = Some(r),
        Node::Branch(branch) => Arc::make_mut(branch).cache = Some(r),
        Node::Empty | Node::Hash(_) => {}
    }
}

/// Nesting bound for inline nodes: an inline node is shorter than 32 bytes, so real tries never
/// nest deeper than a handful of levels; the bound protects the decoder from crafted input.
const MAX_INLINE_DEPTH: usize = 64;

fn decode_node(buf: &mut &[u8], depth: usize) -> Result<Node, TrieError> {
    if depth > MAX_INLINE_DEPTH {
        return Err(MalformedNode::TooDeep.into());
    }
    let start = *buf;
    let items = match Header::decode_raw(buf).map_err(MalformedNode::from)? {
        PayloadView::List(items) => items,
        PayloadView::String(_) => return Err(MalformedNode::NotAList.into()),
    };
    let consumed = start.len() - buf.len();
    let raw = &start[..consumed];
    let mut node = match items.len() {
        2 => {
            let path = string_item(items[0])?;
            let (key, is_leaf) = Nibbles::decode_hex_prefix(path).ok_or(MalformedNode::HexPrefix)?;
            if is_leaf {
                Node::leaf(key, string_item(items[1])?.to_vec())
            } else {
                if key.is_empty() {
                    return Err(MalformedNode::EmptyExtension.into());
                }
                let child = decode_child(items[1], depth)?;
                if matches!(child, Node::Empty) {
                    return Err(MalformedNode::ExtensionWithoutChild.into());
                }
                Node::Extension(Arc::new(ExtensionNode { key, child, cache: None }))
            }
        }
        17 => {
            let mut branch = BranchNode::default();
            for (slot, item) in branch.children.iter_mut().zip(&items[..16]) {
                *slot = decode_child(item, depth)?;
            }
            let value = string_item(items[16])?;
            if !value.is_empty() {
                branch.value = Some(value.to_vec());
            }
            Node::Branch(Arc::new(branch))
        }
        n => return Err(MalformedNode::ItemCount(n).into()),
    };
    if depth > 0 {
        // Inline children are clean too: their reference is their own encoding.
        set_cache(&mut node, NodeRef::Inline(raw.to_vec()));
    }
    Ok(node)
}

fn string_item(item: &[u8]) -> Result<&[u8], TrieError> {
    let mut buf = item;
    let header = Header::decode(&mut buf).map_err(MalformedNode::from)?;
    if header.list {
        return Err(MalformedNode::ListItem.into());
    }
    Ok(buf)
}

fn decode_child(item: &[u8], depth: usize) -> Result<Node, TrieError> {
    let mut buf = item;
    let header = Header::decode(&mut buf).map_err(MalformedNode::from)?;
    if header.list {
        if item.len() >= 32 {
            return Err(MalformedNode::LargeInlineChild.into());
        }
        let mut inner = item;
        return decode_node(&mut inner, depth + 1);
    }
    match buf.len() {
        0 => Ok(Node::Empty),
        32 => Ok(Node::Hash(B256::from_slice(buf))),
        n => Err(MalformedNode::ChildReference(n).into()),
    }
}

fn list_header(payload_length: usize, out: &mut Vec<u8>) {
    Header { list: true, payload_length }.encode(out);
}

pub(crate) fn encode_leaf(key: &Nibbles, value: &[u8]) -> Vec<u8> {
    let path = key.encode_hex_prefix(true);
    let payload = path.as_slice().length() + value.length();
    let mut out = Vec::with_capacity(payload + 4);
    list_header(payload, &mut out);
    path.as_slice().encode(&mut out);
    value.encode(&mut out);
    out
}

fn encode_extension(key: &Nibbles, child: &NodeRef) -> Vec<u8> {
    let path = key.encode_hex_prefix(false);
    let payload = path.as_slice().length() + child.length();
    let mut out = Vec::with_capacity(payload + 4);
    list_header(payload, &mut out);
    path.as_slice().encode(&mut out);
    child.encode(&mut out);
    out
}

fn encode_branch(children: &[NodeRef], value: Option<&[u8]>) -> Vec<u8> {
    let value = value.unwrap_or_default();
    let payload = children.iter().map(NodeRef::length).sum::<usize>() + value.length();
    let mut out = Vec::with_capacity(payload + 4);
    list_header(payload, &mut out);
    for child in children {
        child.encode(&mut out);
    }
    value.encode(&mut out);
    out
}
