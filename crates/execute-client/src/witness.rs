//! The execution witness: everything a stateless verifier needs to re-execute one block.

use alloy_primitives::Bytes;
use alloy_rlp::{RlpDecodable, RlpEncodable};
use serde::{Deserialize, Serialize};

/// State-access proofs for one block, in the shape of `debug_executionWitness`.
///
/// - `state`: RLP of every Merkle-Patricia node (account and storage tries) the block reads or
///   writes, including the siblings a deletion folds in; each exactly once, no others.
/// - `codes`: bytecode of every contract the block runs or reads, each once.
/// - `headers`: RLP of the parent header and of every ancestor back to the oldest one
///   `BLOCKHASH` reads (parent first, descending).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, RlpEncodable, RlpDecodable)]
pub struct ExecutionWitness {
    /// Trie nodes.
    pub state: Vec<Bytes>,
    /// Bytecodes.
    pub codes: Vec<Bytes>,
    /// Ancestor headers, RLP-encoded.
    pub headers: Vec<Bytes>,
}

impl ExecutionWitness {
    /// Nodes, codes and headers it holds.
    pub fn items(&self) -> usize {
        self.state.len() + self.codes.len() + self.headers.len()
    }

    /// Total bytes of nodes, codes and headers.
    pub fn size(&self) -> usize {
        [&self.state, &self.codes, &self.headers].iter().flat_map(|v| v.iter()).map(|b| b.len()).sum()
    }
}
