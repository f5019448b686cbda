//! # nrd-sequencer
//!
//! The rollup's sequencer: it orders L2 transactions and gets them verified on L1.
//!
//! - [`Mempool`]: the L2 transaction pool (`nrd-txpool`: nonce queues, fee-bump replacement,
//!   per-sender and total limits) in front of the chain; saved in the store so a restart keeps it.
//! - [`BlockProducer`]: seals an L2 block every block time with the derivation function — the
//!   pending L1 messages (forced ones never left behind), anchored to the newest L1 block seen,
//!   then transactions by tip — and records its witness. Every block fits one `advance` on its
//!   own: one that does not is built again with fewer transactions before it is stored.
//! - [`advance_cost`]: the L1 cost model of one `advance` (intrinsic gas with the EIP-7623
//!   floor, EXECUTE's charges, the contract's memory and work) and [`AdvanceLimits`], shared by
//!   the producer and the submitter.
//! - [`Submitter`]: posts runs of sealed blocks to `NativeRollup.advance` (blob mode by default,
//!   or calldata), tracks inclusion, resubmits with higher fees (up to a cap) when stuck,
//!   retries temporary refusals ([`Refusal`], [`Severity`]) and halts with the typed reason when
//!   L1 proves a block wrong. The contract's head is the source of truth for what was posted, so
//!   a restart never posts twice.
//! - [`SelfProposer`]: liveness without the sequencer — a follower with an L1 key that, once
//!   the sequencer has been silent for the forced-inclusion window, builds the next blocks with
//!   the derivation function (L1 messages only) and posts them itself.

mod cost;
mod error;
mod producer;
mod proposer;
mod submitter;

pub use cost::{
    AdvanceCost, AdvanceLimits, Overrun, advance_cost, advance_run_cost, cost_of, execute_fee_gas, run_cost_of,
};
pub use error::{MAX_UNEXPLAINED, Refusal, SequencerError, Severity};
pub use producer::{BlockProducer, Mempool};
pub use proposer::{ProposerStep, SelfProposer};
pub use submitter::{DEFAULT_MAX_FEE, RecordedRefusal, Submitter, SubmitterConfig, clear_refusal};
