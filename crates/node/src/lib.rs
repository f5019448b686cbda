//! # nrd-node
//!
//! The L2 node: what a sequencer and a follower have in common.
//!
//! - [`L2Chain`]: the canonical L2 chain — blocks in memory and in the store (`nrd-storage`,
//!   redb), recent states for calls, the head state, safe and finalized heads, new-head
//!   notifications. Reopening a store resumes where the node stopped.
//! - [`L2Node`]: the chain as the JSON-RPC serves it (`nrd_rpc::Backend`): `eth_*` like any
//!   Ethereum node, `safe`/`finalized` tags from L1 posting, the sequencer's pool behind
//!   [`TxSink`] when the node sequences, and [`RollupRpc`] (`nrd_rollupStatus`).
//! - [`Follower`]: rebuilds the chain from L1 alone — `advance` transactions and their blobs,
//!   through `nrd-l1-watcher` over `nrd-l1-client`'s provider seam — with the derivation
//!   function, and checks every block it imports against the hash L1 recorded.

mod chain;
mod error;
mod follower;
mod node;
mod rpc;

pub use chain::{
    ANCESTORS, BlockL1Info, CHECKPOINT_L1_BLOCK, L2Chain, Prefetch, StateHistory, adopt_genesis, checkpoint_l1_block,
};
pub use error::NodeError;
pub use follower::{Follower, FollowerConfig, L1View};
pub use node::{L2Node, RollupStatus, TxSink};
/// The error of [`TxSink::submit`] (the seam's, from `nrd-rpc`).
pub use nrd_rpc::BackendError;
pub use rpc::{RollupApiServer, RollupRpc};
