//! # nrd-l1-watcher
//!
//! How nrd's L2 nodes (sequencer, batch submitter, follower) see L1: only through this crate.
//!
//! - [`L1Client`]: standard Ethereum JSON-RPC over HTTP (blocks, receipts, logs, nonces, fees,
//!   calls, sending raw transactions) and the beacon API's blob endpoint (blobs checked against
//!   their KZG commitments), with typed errors ([`L1Error`]) that say whether a retry can help.
//! - [`L1Watcher`]: follows L1 for one `NativeRollup` contract, block by block after
//!   `confirmations`, yielding each block's L1→L2 messages (`MessageEnqueued` events) and the
//!   L2 blocks its successful `advance` transactions posted (decoded with
//!   [`nrd_derivation::decode_advance`], blob-mode batches from the beacon API), and reporting
//!   L1 reorgs with the common ancestor (docs/protocol.md §8.6).
//! - Two ways for the watcher to learn of new heads ([`HeadSource`]): **polling** (the
//!   default: `eth_blockNumber` every `poll_interval`) and a **WebSocket subscription**
//!   (`eth_subscribe("newHeads")`, [`L1Watcher::with_ws`]), whose notifications replace the
//!   sleep between polls. Blocks, logs, receipts and blobs are read over HTTP JSON-RPC in both
//!   modes, with the same confirmations and parent-hash reorg detection. When the subscription
//!   cannot be opened or drops, the watcher warns, polls, and reopens it later: it never stops
//!   following L1.
//! - Pure decoding helpers: [`decode_message`], [`advance_input`], [`parse_blob_sidecars`].

mod beacon;
mod client;
mod decode;
mod error;
mod heads;
mod watcher;

pub use beacon::parse_blob_sidecars;
pub use client::{FeeEstimate, L1Client, L1ClientConfig};
pub use decode::{advance_input, decode_message, message_filter, message_from_event};
pub use error::{EXECUTION_REVERTED, L1Error, LIMIT_EXCEEDED};
pub use heads::{DEFAULT_WS_RETRY, HeadSource};
pub use watcher::{Advance, DEFAULT_HISTORY, L1Block, L1Event, L1Watcher, WatcherConfig};
