//! Why sequencing or posting fails, and how bad it is.

use crate::Overrun;
use alloy_primitives::Address;
use nrd_bridge::NativeRollup::NativeRollupErrors;
use nrd_chain::Classify;
use nrd_l1_client::{L1Error, TxError};

pub use nrd_chain::Severity;

/// Why L1 refuses (or would refuse) a batch, from the contract's error, EXECUTE's revert
/// reason, the receipt and the EXECUTE meter. docs/protocol.md §9 has the table of which ones
/// stop posting.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// EXECUTE's per-L1-block gas limit was (or would be) passed: someone else's EXECUTE calls
    /// used the capacity of that L1 block. Retried in a later L1 block.
    #[error("EXECUTE gas limit of the L1 block taken: {used} used + {requested} requested > {limit}")]
    ExecuteCapacity {
        /// EXECUTE gas used in that L1 block by others.
        used: u64,
        /// EXECUTE gas the batch declares.
        requested: u64,
        /// The per-block limit.
        limit: u64,
    },
    /// The transaction ran out of gas (EXECUTE charges its fee as L1 gas, so a fee higher than
    /// foreseen is this too). Retried with more gas.
    #[error("out of gas: used {used} of the {gas_limit} it was sent with")]
    OutOfGas {
        /// Gas limit it was sent with.
        gas_limit: u64,
        /// Gas it used.
        used: u64,
    },
    /// Another party advanced the rollup (`WrongParent`, `WrongNumber`, or L1's head is not
    /// the batch's parent any more). The node must rebuild from L1.
    #[error("another party advanced the rollup: L1's L2 head is {posted}, the batch starts at {first}")]
    HeadMoved {
        /// `NativeRollup.headNumber`.
        posted: u64,
        /// First block of the batch.
        first: u64,
    },
    /// The key is not the sequencer's and `advance` is not open to anyone yet.
    #[error("{caller} is not the rollup's sequencer; advance is open to anyone from L1 time {open_at}")]
    NotSequencer {
        /// The submitting account.
        caller: Address,
        /// `openToAllAt`.
        open_at: u64,
    },
    /// A block's timestamp is ahead of L1's: a later L1 block takes it.
    #[error("L2 block timestamp {timestamp} is ahead of L1's {l1_time}")]
    FutureBlock {
        /// The L2 block's timestamp.
        timestamp: u64,
        /// L1's `block.timestamp`.
        l1_time: u64,
    },
    /// The transaction reverted on L1, but neither the receipt, the meter nor a simulation of
    /// the same blocks now says why. Retried a few times, then critical.
    #[error("reverted on L1 {attempts} time(s) in a row while the same blocks simulate without error")]
    Unexplained {
        /// Reverts in a row so far.
        attempts: u32,
    },
    /// EXECUTE verified one of the node's own blocks and found it invalid (its trace, witness,
    /// roots or gas do not re-execute): the node's block is wrong.
    #[error("EXECUTE refuses L2 block {number}: {reason}")]
    InvalidBlock {
        /// The L2 block.
        number: u64,
        /// EXECUTE's revert reason.
        reason: String,
    },
    /// The rollup contract's rules refuse the batch (`BadL1Anchor`, `AnchorBudgetExceeded`,
    /// `OverdueMessage`, `MessageMismatch`, a malformed trace, …): the node's blocks or the
    /// messages they apply are wrong for L1.
    #[error("the rollup contract refuses the batch: {0:?}")]
    ContractRule(Box<NativeRollupErrors>),
    /// L1 refuses with an error nrd does not know (a newer contract?).
    #[error("L1 refuses the batch with an unknown error: {0}")]
    Unknown(String),
    /// A single stored block is too large for any `advance` (sealed by an older version, or
    /// L1's limits shrank).
    #[error("L2 block {number} cannot be posted by one advance: {overrun}")]
    Unpostable {
        /// The block.
        number: u64,
        /// The limit it does not fit.
        overrun: Overrun,
    },
}

/// Reverts in a row without an explanation before [`Refusal::Unexplained`] becomes critical.
pub const MAX_UNEXPLAINED: u32 = 3;

impl Refusal {
    /// How bad it is: [`Severity::Critical`] only when the refusal proves the node's own
    /// blocks wrong or unpostable (or is not understood).
    pub const fn severity(&self) -> Severity {
        match self {
            Self::ExecuteCapacity { .. }
            | Self::OutOfGas { .. }
            | Self::NotSequencer { .. }
            | Self::FutureBlock { .. } => Severity::Temporary,
            Self::Unexplained { attempts } if *attempts < MAX_UNEXPLAINED => Severity::Temporary,
            Self::HeadMoved { .. } => Severity::Reset,
            Self::Unexplained { .. }
            | Self::InvalidBlock { .. }
            | Self::ContractRule(_)
            | Self::Unknown(_)
            | Self::Unpostable { .. } => Severity::Critical,
        }
    }

    /// A short label (metrics, the start of `nrd_rollupStatus.halted`).
    pub const fn label(&self) -> &'static str {
        match self {
            Self::ExecuteCapacity { .. } => "execute_capacity",
            Self::OutOfGas { .. } => "out_of_gas",
            Self::HeadMoved { .. } => "head_moved",
            Self::NotSequencer { .. } => "not_sequencer",
            Self::FutureBlock { .. } => "future_block",
            Self::Unexplained { .. } => "unexplained_revert",
            Self::InvalidBlock { .. } => "invalid_block",
            Self::ContractRule(_) => "contract_rule",
            Self::Unknown(_) => "unknown",
            Self::Unpostable { .. } => "unpostable",
        }
    }
}

/// A sequencer failure.
#[derive(Debug, thiserror::Error)]
pub enum SequencerError {
    /// Building or recording a block failed.
    #[error("block: {0}")]
    Block(#[from] nrd_chain::BlockError),
    /// The derivation function refused the inputs.
    #[error("derivation: {0}")]
    Derivation(#[from] nrd_derivation::DerivationError),
    /// The node (chain, store) failed.
    #[error("node: {0}")]
    Node(#[from] nrd_node::NodeError),
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] nrd_storage::StoreError),
    /// A block (or its witness) to post is missing.
    #[error("block {0} or its witness is missing from the store")]
    Missing(u64),
    /// L1 could not be reached or answered oddly (retried).
    #[error("L1: {0}")]
    L1(#[from] L1Error),
    /// Sending an L1 transaction failed otherwise (retried).
    #[error("L1 transaction: {0}")]
    Tx(#[source] TxError),
    /// L1 answered without something it must have.
    #[error("L1 answered without {0}")]
    L1Missing(&'static str),
    /// Signing a transaction failed.
    #[error("signing: {0}")]
    Sign(#[from] alloy_signer::Error),
    /// The producer refuses to seal block `number`: no `advance` could post it, even without
    /// transactions (its L1 messages alone are too large).
    #[error("L2 block {number} cannot be posted by one advance even without transactions: {overrun}")]
    Unpostable {
        /// The block that was not sealed.
        number: u64,
        /// The limit it does not fit.
        overrun: Overrun,
    },
    /// L1's fee is above what the submitter may pay (`sequencer.max_fee_per_gas`): nothing is
    /// sent until it falls.
    #[error("L1 base fee {base_fee} wei is above the submitter's cap of {cap} wei per gas")]
    FeeAboveCap {
        /// L1's next base fee.
        base_fee: u128,
        /// The cap.
        cap: u128,
    },
    /// L1 refused (or, simulated, would refuse) the batch of L2 blocks `first..=last`.
    #[error("L1 refuses L2 blocks {first}..={last}: {refusal}")]
    Refused {
        /// First L2 block of the batch.
        first: u64,
        /// Last L2 block of the batch.
        last: u64,
        /// Why, typed.
        refusal: Refusal,
    },
}

impl From<TxError> for SequencerError {
    /// The sender's errors as the submitter has always reported them: L1 failures, fees above
    /// the cap, signing.
    fn from(e: TxError) -> Self {
        match e {
            TxError::L1(e) => Self::L1(e),
            TxError::FeeAboveCap { base_fee, cap } => Self::FeeAboveCap { base_fee, cap },
            TxError::Sign(e) => Self::Sign(e),
            other => Self::Tx(other),
        }
    }
}

impl Classify for Refusal {
    fn severity(&self) -> Severity {
        Self::severity(self)
    }
}

impl Classify for SequencerError {
    fn severity(&self) -> Severity {
        Self::severity(self)
    }
}

impl SequencerError {
    /// What a caller should do about it: a refusal's own severity; the node's blocks, store
    /// records and derivation critical; L1 trouble (unreachable, fees above the cap, signing,
    /// a view that does not decode) temporary — the submitter retries it.
    pub fn severity(&self) -> Severity {
        match self {
            Self::Refused { refusal, .. } => refusal.severity(),
            Self::Node(e) => e.severity(),
            Self::Unpostable { .. } | Self::Block(_) | Self::Derivation(_) | Self::Missing(_) => Severity::Critical,
            Self::Store(_)
            | Self::L1(_)
            | Self::Tx(_)
            | Self::L1Missing(_)
            | Self::Sign(_)
            | Self::FeeAboveCap { .. } => Severity::Temporary,
        }
    }
}
