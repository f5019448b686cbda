//! placeholder
pub mod trie;
