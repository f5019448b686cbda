//! Errors of a conformance run: the run's own, and each failing test's.

use alloy_primitives::{Address, B256};
use nrd_chain::BlockError;
use nrd_execute_client::ExecuteError;
use std::path::PathBuf;

/// Why a conformance run could not run at all (failing tests are in the [`Report`]).
///
/// [`Report`]: crate::Report
#[derive(Debug, thiserror::Error)]
pub enum ConformanceError {
    /// The fixture path, or a directory under it, could not be listed.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The path given to the run.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// Why one test failed (or its fixture file could not be read).
#[derive(Debug, thiserror::Error)]
pub enum TestError {
    /// The fixture file could not be read.
    #[error("cannot read fixture file: {0}")]
    ReadFile(#[source] std::io::Error),
    /// The fixture file is not BlockchainTests JSON.
    #[error("cannot read fixture file: {0}")]
    ParseFile(#[source] serde_json::Error),
    /// An account's nonce in `pre` or `postState` does not fit a `u64`.
    #[error("nonce of {0} exceeds u64")]
    NonceOverflow(Address),
    /// `genesisRLP` does not decode.
    #[error("genesis: {0}")]
    Genesis(#[source] DecodeError),
    /// `genesisRLP` hashes to another hash than `genesisBlockHeader.hash`.
    #[error("genesis hashes to {computed}, fixture says {expected}")]
    GenesisHash {
        /// The hash of `genesisRLP`'s header.
        computed: B256,
        /// `genesisBlockHeader.hash`.
        expected: B256,
    },
    /// The state root of `pre` is not the genesis header's.
    #[error("pre state root {computed} != genesis state root {genesis}")]
    PreStateRoot {
        /// The root of `pre`.
        computed: B256,
        /// The genesis header's state root.
        genesis: B256,
    },
    /// A block that must be accepted was rejected.
    #[error("block {index} rejected: {source}")]
    BlockRejected {
        /// The block's index in `blocks`.
        index: usize,
        /// Why it was rejected.
        #[source]
        source: ImportError,
    },
    /// A block with `expectException` was accepted.
    #[error("block {index} accepted, expected {exception}")]
    BlockAccepted {
        /// The block's index in `blocks`.
        index: usize,
        /// Its `expectException`.
        exception: String,
    },
    /// The stateless half failed for an accepted block.
    #[error("block {index}: {source}")]
    Stateless {
        /// The block's index in `blocks`.
        index: usize,
        /// What the stateless verifier did wrong.
        #[source]
        source: StatelessError,
    },
    /// The chain ended at another head than `lastblockhash`.
    #[error("head is {head}, expected lastblockhash {expected}")]
    LastBlockHash {
        /// The head reached.
        head: B256,
        /// `lastblockhash`.
        expected: B256,
    },
    /// The fixture says nothing of the post state.
    #[error("fixture has neither postState nor postStateHash")]
    NoPostState,
    /// The head's state is not `postState` (or does not hash to `postStateHash`).
    #[error("post state root {computed} != expected {expected}{diff}")]
    PostStateRoot {
        /// The head's state root.
        computed: B256,
        /// The root of `postState`, or `postStateHash`.
        expected: B256,
        /// The first differences, as ` (N differences: …)`, when `postState` is given.
        diff: String,
    },
}

/// Why a block's RLP does not decode.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// Not hex.
    #[error("rlp is not hex: {0}")]
    Hex(#[source] alloy_primitives::hex::FromHexError),
    /// Not an RLP block.
    #[error("rlp: {0}")]
    Rlp(#[source] alloy_rlp::Error),
    /// Bytes left after the block.
    #[error("{0} bytes after the block")]
    TrailingBytes(usize),
}

/// Why the stateful import rejected a block.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The block does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// Its parent is not a block of the test (or not reachable through `BLOCKHASH` ancestors).
    #[error("unknown parent {0}")]
    UnknownParent(B256),
    /// Execution or validation refused it.
    #[error(transparent)]
    Block(#[from] BlockError),
}

/// How the EXECUTE verifier, run statelessly on an accepted block, went wrong.
#[derive(Debug, thiserror::Error)]
pub enum StatelessError {
    /// The block with its recorded witness was rejected.
    #[error("stateless: valid block rejected: {0}")]
    ValidBlockRejected(#[source] ExecuteError),
    /// It computed another post-state root than the header's.
    #[error("stateless: computed {computed} instead of {expected}")]
    StateRoot {
        /// The root computed.
        computed: B256,
        /// The header's state root.
        expected: B256,
    },
    /// A forged input was rejected, but not for the reason it was forged for.
    #[error("stateless: {check} rejected for the wrong reason: {source}")]
    WrongReason {
        /// The forgery.
        check: &'static str,
        /// The rejection.
        #[source]
        source: ExecuteError,
    },
    /// A forged input was accepted.
    #[error("stateless: {check} accepted")]
    Accepted {
        /// The forgery.
        check: &'static str,
    },
}
