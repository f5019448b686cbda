//! # nrd-l1-devnet
//!
//! The L1 a native rollup needs and no public client ships: a single-node Ethereum devnet with
//! the EXECUTE precompile, built on `nrd-chain`.
//!
//! - **Block production** ([`Devnet::seal`], [`Devnet::run`]): on an interval, or one block per
//!   transaction (`block_time_ms = 0`); EIP-1559 base fee, EIP-4844 blob gas, Prague rules.
//! - **Pool** ([`Pool`]): signature, chain id, nonce, balance, fee caps, intrinsic gas and
//!   KZG checks at admission (geth's error messages), nonce queues per sender, replacement by
//!   fee bump, candidates ordered by effective tip.
//! - **EXECUTE** at `0x…0101`, metered cumulatively per block in its own storage
//!   ([`Devnet::execute_gas`]); blob references resolve through the [`BlobStore`].
//! - **Dev accounts** from the standard test mnemonic, **snapshots** and **set-head** for tests
//!   that need reorgs.
//! - **History**: the state after each of the last 256 blocks (and after every snapshot's block)
//!   is kept for reads, proofs and rewinds. Kept states share their unchanged trie nodes
//!   copy-on-write (`nrd_chain::MemoryState` clones cost a reference count per storage trie, not
//!   a copy of the state), so sealing a block costs what the block changed, also in
//!   per-transaction sealing.
//!
//! - **Its RPC** ([`serve_l1`]): the devnet is an `nrd_rpc::Backend`, served by `nrd-rpc`'s
//!   generic Ethereum JSON-RPC with the devnet methods beside (`nrd_executeGas`, `evm_mine`,
//!   `evm_snapshot`, `evm_revert`, `debug_setHead`, `evm_increaseTime`,
//!   `evm_setNextBlockTimestamp`: [`DevnetRpc`]); and the beacon API blob endpoint
//!   ([`beacon_router`], [`serve_beacon`]) on its own port, as a consensus client would serve it.

mod beacon;
mod blobs;
mod config;
mod node;
mod rpc;

pub use beacon::{router as beacon_router, serve_beacon};
pub use blobs::{BlobStore, StoredBlob};
pub use config::{DevnetConfig, TEST_MNEMONIC};
pub use node::{Devnet, DevnetError, TxLocation, dev_accounts};
pub use nrd_txpool::{AdmissionContext, Pool, PoolError, PoolLimits, PooledTx, decode_pooled};
pub use rpc::{DevnetApiServer, DevnetRpc, serve_l1};
