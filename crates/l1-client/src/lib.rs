//! # nrd-l1-client
//!
//! nrd's one access layer to L1: every read and every transaction of the sequencer, the
//! batch submitter, the follower and the operator commands goes through this crate.
//!
//! - [`L1Client`]: standard Ethereum JSON-RPC over HTTP (blocks, receipts, logs, nonces, fees,
//!   calls, gas estimates, raw transactions) and the beacon API's blob endpoint (blobs checked
//!   against their KZG commitments, [`parse_blob_sidecars`]). [`L1Client::view_call`] is a typed
//!   `eth_call` of an `alloy_sol_types::SolCall`: the return decoded, a revert decoded with
//!   [`L1Error::revert`] / [`L1Error::revert_reason`].
//! - [`L1Provider`]: the reads that following L1 needs (chain id, head, blocks and headers by
//!   number, tag or hash, block receipts, logs, transaction receipts, blob sidecars) as a small
//!   trait. [`L1Client`] implements it; `nrd-l1-watcher` and the node's follower are generic over
//!   it, so their logic is unit-tested against an in-memory chain.
//! - [`TxSender`]: signs and sends L1 transactions from one account ([`DynSigner`]: any alloy
//!   signer) — the pending nonce from L1 counted on locally and read again after a failed send,
//!   EIP-1559 fees from [`L1Client::fee_estimate`] within caps ([`TxSenderConfig`]), gas
//!   estimates with a margin, EIP-4844 blob transactions with their sidecar ([`L1Tx`]),
//!   replacement of a stuck transaction with fees bumped at least as much as nodes require
//!   ([`TxFees::replacement_floor`]: +10% fee cap and tip, +100% blob fee cap), and waiting for
//!   the receipt with a timeout. Failures are [`TxError`].
//! - [`L1Error`]: why a request failed, keeping its source, and classified
//!   ([`nrd_chain::Classify`]): unreachable endpoints, timeouts, rate limits and data not served
//!   yet are [`nrd_chain::Severity::Temporary`]; answers that will not change are
//!   [`nrd_chain::Severity::Critical`].
//!
//! ```ignore
//! let client = L1Client::new(L1ClientConfig::new("http://127.0.0.1:8546").with_beacon("http://127.0.0.1:5052"))?;
//! let head = client.view_call(rollup, &NativeRollup::headNumberCall {}, BlockNumberOrTag::Latest).await?;
//! let sender = TxSender::connect(client, key, TxSenderConfig::default()).await?;
//! let receipt = sender.send_and_wait(L1Tx::call(rollup, call.abi_encode()).with_value(amount)).await?;
//! ```

mod beacon;
mod client;
mod error;
mod provider;
mod sender;

pub use beacon::parse_blob_sidecars;
pub use client::{FeeEstimate, L1Client, L1ClientConfig};
pub use error::{BoxError, EXECUTION_REVERTED, L1Error, LIMIT_EXCEEDED, error_chain};
pub use provider::L1Provider;
pub use sender::{DynSigner, L1Tx, Priced, SentTx, TxError, TxFees, TxSender, TxSenderConfig};
