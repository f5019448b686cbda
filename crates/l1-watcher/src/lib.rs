//! # nrd-l1-watcher
//!
//! How nrd's L2 nodes (sequencer, follower) follow L1 for one `NativeRollup` contract. L1 is
//! read through `nrd-l1-client`'s [`nrd_l1_client::L1Provider`] seam: the
//! [`nrd_l1_client::L1Client`] (JSON-RPC and the
//! beacon API) in production, an in-memory chain in unit tests.
//!
//! - [`L1Watcher`]: yields L1 block by block after `confirmations`, each with the rollup's
//!   L1→L2 messages (`MessageEnqueued` events) and the L2 blocks its successful `advance`
//!   transactions posted (decoded with [`nrd_derivation::decode_advance`], blob-mode batches from
//!   the beacon API), and reports L1 reorgs with the common ancestor (docs/protocol.md §8.6).
//!   It resumes after a restart from the blocks the caller processed
//!   ([`L1Watcher::resume_after`]).
//! - Two ways for the watcher to learn of new heads ([`HeadSource`]): **polling** (the
//!   default: `eth_blockNumber` every `poll_interval`) and a **WebSocket subscription**
//!   (`eth_subscribe("newHeads")`, [`L1Watcher::with_ws`]), whose notifications replace the
//!   sleep between polls. Blocks, logs, receipts and blobs are read through the provider in both
//!   modes, with the same confirmations and parent-hash reorg detection. When the subscription
//!   cannot be opened or drops, the watcher warns, polls, and reopens it later: it never stops
//!   following L1.
//! - [`WatcherError`]: why following failed, classified ([`nrd_chain::Classify`]): L1
//!   unreachable or a blob not served yet is temporary (retry), undecodable rollup data or a
//!   reorg deeper than the remembered history is critical.
//! - Pure decoding helpers: [`decode_message`], [`message_from_event`], [`message_filter`],
//!   [`advance_input`].
//!
//! ```ignore
//! let mut watcher = L1Watcher::new(client, rollup, WatcherConfig { start_block, confirmations: 2, poll_interval })
//!     .with_ws("ws://127.0.0.1:8546");
//! loop {
//!     match watcher.next().await {
//!         Ok(L1Event::Block(block)) => { /* block.messages, block.advances */ }
//!         Ok(L1Event::Reorg { common_ancestor }) => { /* forget what came after it */ }
//!         Err(e) if e.severity().is_retryable() => tokio::time::sleep(poll_interval).await,
//!         Err(e) => return Err(e),
//!     }
//! }
//! ```

mod decode;
mod error;
mod heads;
#[cfg(test)]
mod tests;
mod watcher;

pub use decode::{advance_input, decode_message, message_filter, message_from_event};
pub use error::WatcherError;
pub use heads::{DEFAULT_WS_RETRY, HeadSource};
pub use watcher::{Advance, DEFAULT_HISTORY, DEFAULT_SUBSCRIBE_TIMEOUT, L1Block, L1Event, L1Watcher, WatcherConfig};
