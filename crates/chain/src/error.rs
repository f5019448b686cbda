//! Why a block is rejected.

use crate::{Classify, Severity, SharedError, state::StateError, validation::MIN_GAS_LIMIT};
use alloy_eips::eip4844::DATA_GAS_PER_BLOB;
use alloy_evm::block::BlockExecutionError;
use alloy_primitives::{B256, Bytes};
use revm::{
    context::{
        result::{EVMError, HaltReason, InvalidTransaction},
        tx::TxEnvBuildError,
    },
    database_interface::bal::EvmDatabaseError,
};

/// An error of revm running on nrd's state (its database errors are [`StateError`]s).
pub type EvmError = EVMError<EvmDatabaseError<StateError>>;

/// Ways a header can break the rules relative to its parent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// `parent_hash` is not the parent's hash.
    #[error("parent hash {got} is not the parent's hash {expected}")]
    ParentHash {
        /// The parent's hash.
        expected: B256,
        /// What the header says.
        got: B256,
    },
    /// The number is not the parent's plus one.
    #[error("block number {got} does not follow parent number {parent}")]
    Number {
        /// The parent's number.
        parent: u64,
        /// The header's number.
        got: u64,
    },
    /// The timestamp does not increase.
    #[error("timestamp {got} is not after the parent's {parent}")]
    Timestamp {
        /// The parent's timestamp.
        parent: u64,
        /// The header's timestamp.
        got: u64,
    },
    /// Gas limit out of bounds.
    #[error(
        "gas limit {got} is out of bounds (parent {parent}, minimum {MIN_GAS_LIMIT}, maximum 2^63-1, change < 1/1024)"
    )]
    GasLimit {
        /// The parent's gas limit.
        parent: u64,
        /// The header's gas limit.
        got: u64,
    },
    /// More gas used than the limit.
    #[error("gas used {used} exceeds gas limit {limit}")]
    GasUsedExceedsLimit {
        /// Gas used.
        used: u64,
        /// Gas limit.
        limit: u64,
    },
    /// Extra data longer than 32 bytes.
    #[error("extra data is {0} bytes, at most 32 allowed")]
    ExtraDataTooLong(usize),
    /// A field that must be zero after the merge is not.
    #[error("{0} must be zero after the merge")]
    NonZeroAfterMerge(&'static str),
    /// Ommers are forbidden after the merge.
    #[error("ommers hash must be the empty list hash after the merge")]
    OmmersAfterMerge,
    /// Base fee is not what EIP-1559 gives.
    #[error("base fee {got:?} is wrong, EIP-1559 gives {expected:?}")]
    BaseFee {
        /// Computed from the parent.
        expected: Option<u64>,
        /// In the header.
        got: Option<u64>,
    },
    /// A field the active fork requires is missing.
    #[error("{0} is required by the active fork but missing")]
    MissingField(&'static str),
    /// A field the active fork does not have is present.
    #[error("{0} is not allowed before its fork")]
    UnexpectedField(&'static str),
    /// Excess blob gas is not what EIP-4844 gives.
    #[error("excess blob gas {got} is wrong, EIP-4844 gives {expected}")]
    ExcessBlobGas {
        /// Computed from the parent.
        expected: u64,
        /// In the header.
        got: u64,
    },
    /// Blob gas used is above the block maximum or not a whole number of blobs.
    #[error("blob gas used {got} is invalid (max {max}, multiple of {DATA_GAS_PER_BLOB})")]
    BlobGasUsed {
        /// In the header.
        got: u64,
        /// Per-block maximum.
        max: u64,
    },
}

impl Classify for HeaderError {
    fn severity(&self) -> Severity {
        // A header breaks a consensus rule: importing it again cannot help.
        Severity::Critical
    }
}

/// Why the anchor system call of a rollup chain failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnchorError {
    /// revm refused the call's transaction fields.
    #[error("{0:?}")]
    Build(TxEnvBuildError),
    /// The EVM could not run the call.
    #[error(transparent)]
    Evm(#[from] EvmError),
    /// The call reverted, with this output.
    #[error("reverted with 0x{}", alloy_primitives::hex::encode(.0))]
    Reverted(Bytes),
    /// The call halted (out of gas, invalid opcode, …).
    #[error("halted: {0:?}")]
    Halted(HaltReason),
}

impl Classify for AnchorError {
    fn severity(&self) -> Severity {
        match self {
            Self::Evm(EVMError::Database(EvmDatabaseError::Database(state))) => state.severity(),
            // The block's anchor (or the chain's anchor contract) is wrong: it always fails.
            _ => Severity::Critical,
        }
    }
}

/// A block could not be imported.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// The block's bytes are not a valid RLP block.
    #[error("block does not decode: {0}")]
    Decode(#[from] alloy_rlp::Error),
    /// The header breaks a rule relative to its parent.
    #[error("invalid header: {0}")]
    Header(#[from] HeaderError),
    /// A transaction's signature does not recover a sender (alloy's recovery error is opaque:
    /// it says no more than this).
    #[error("transaction {index} has an invalid signature: Failed to recover the signer")]
    InvalidSignature {
        /// Position in the block.
        index: usize,
    },
    /// A transaction cannot be included (nonce, balance, fee caps, gas, type rules...).
    #[error("transaction {hash} is invalid: {reason}")]
    InvalidTransaction {
        /// Transaction hash (zero for a simulated call).
        hash: B256,
        /// Why, as revm's transaction validation says.
        reason: InvalidTransaction,
    },
    /// The transaction's gas limit is more than the block has left.
    #[error("transaction {hash} gas limit {gas_limit} is more than the block's remaining {available}")]
    BlockGasExhausted {
        /// Transaction hash.
        hash: B256,
        /// Its gas limit.
        gas_limit: u64,
        /// Gas the block has left.
        available: u64,
    },
    /// More blobs than a block may carry.
    #[error("block carries {count} blobs, at most {max} allowed")]
    TooManyBlobs {
        /// Blobs in the block.
        count: u64,
        /// Per-block maximum.
        max: u64,
    },
    /// The chain has no anchor contract, yet the block was given an anchor.
    #[error("this chain has no anchor contract, so the anchor must be empty (got {0} bytes)")]
    UnexpectedAnchor(usize),
    /// The chain's anchor rule gives this anchor no gas limit: it is not a well-formed anchor.
    #[error("the anchor is malformed (the chain's anchor rule gives it no gas limit)")]
    MalformedAnchor,
    /// Execution spent more gas than the caller's budget (EXECUTE's bound on its work).
    #[error("execution spent more than its budget of {budget} gas")]
    WorkBudgetExceeded {
        /// The budget.
        budget: u64,
    },
    /// The anchor system call reverted or halted: the block may not apply these L1 messages.
    #[error("anchor system call failed: {0}")]
    AnchorFailed(#[from] AnchorError),
    /// Execution failed for a reason other than an invalid transaction.
    #[error("block execution failed: {0}")]
    Execution(#[source] SharedError<BlockExecutionError>),
    /// A simulated call could not run for a reason other than its transaction's fields (the
    /// environment revm was given, or a custom EVM failure).
    #[error("execution failed: {0}")]
    Evm(EvmError),
    /// A transaction settlement could not read the state it writes to.
    #[error("block execution failed: settlement: {what} unavailable")]
    Settlement {
        /// `account` or `storage`.
        what: &'static str,
        /// The state error.
        #[source]
        source: EvmDatabaseError<StateError>,
    },
    /// State needed for execution is unavailable (for a stateless verifier: the witness lacks it).
    #[error("state unavailable: {0}")]
    State(#[from] StateError),
    /// A header commitment does not match what the block computes.
    #[error("{field} mismatch: header has {header}, block computes {computed}")]
    Mismatch {
        /// Which commitment.
        field: &'static str,
        /// The header's value.
        header: String,
        /// The computed value.
        computed: String,
    },
}

impl BlockError {
    /// Whether a block builder should keep the transaction for a later block: the block was
    /// full (gas or blobs) or the sender's earlier nonce is still missing.
    pub fn may_fit_later(&self) -> bool {
        matches!(
            self,
            Self::BlockGasExhausted { .. }
                | Self::TooManyBlobs { .. }
                | Self::InvalidTransaction { reason: InvalidTransaction::NonceTooHigh { .. }, .. }
        )
    }
}

impl Classify for BlockError {
    fn severity(&self) -> Severity {
        match self {
            Self::Header(e) => e.severity(),
            Self::AnchorFailed(e) => e.severity(),
            Self::Evm(EVMError::Database(EvmDatabaseError::Database(e)))
            | Self::State(e)
            | Self::Settlement { source: EvmDatabaseError::Database(e), .. } => e.severity(),
            // The block (or the call) breaks a rule or does not fit: the same input fails again.
            _ => Severity::Critical,
        }
    }
}

/// Result alias for block import.
pub type BlockResult<T> = Result<T, BlockError>;
