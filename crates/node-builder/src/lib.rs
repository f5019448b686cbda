//! # nrd-node-builder
//!
//! How nrd's L2 nodes are launched: everything `nrd node`, `nrd devnet` and
//! `nrd bridge advance` share, so the binary only parses flags and calls in here (reth keeps
//! launching in its node-builder crate the same way).
//!
//! - [`NodeConfig`]: a node's configuration — the TOML file (`config/sequencer.toml`,
//!   `config/follower.toml`), `NRD_*` environment variables over it, flags over both — checked
//!   once before anything starts, with errors ([`ConfigError`]) that name the key and where its
//!   value came from. Every key is in `docs/config.md` (a test checks it).
//! - [`NodeBuilder`]: from a configuration to a [`RunningNode`] — the store ([`open_store`]),
//!   the chain, the follower, and by role the block producer and batch submitter or a
//!   self-proposer, and the JSON-RPC server. [`run_node`] is the whole of `nrd node`
//!   (with the operations endpoint); [`NodeBuilder::launch_proposer`] hands the self-proposer
//!   to `nrd bridge advance` to step.
//! - [`deploy_rollup`]: `NativeRollup` for an L2 genesis, with [`RollupParams`] checked against
//!   the contract's governance bounds first.
//! - [`run_devnet`]: `nrd devnet`, the L1 devnet and a whole rollup in one process;
//!   [`run_l1`]: `nrd l1`, the L1 devnet alone.
//! - The operations endpoint: `/metrics`, `/health`, `/ready` ([`serve_ops`], [`watch_node`],
//!   [`watch_l1`]; metric names are `nrd-metrics`').
//! - Checkpoint start ([`export_checkpoint`], [`import_checkpoint`]): the state at one block
//!   of a stopped node, and a new node's store loaded from it after L1 confirmed its block.
//! - The devnet L2 genesis ([`devnet_genesis`]).
//!
//! Errors are [`LaunchError`] (and [`DeployError`]), classified with
//! [`nrd_chain::Classify`]: a port in use or an L1 that does not answer yet is temporary; a
//! configuration, genesis or store that cannot be used is critical.

mod checkpoint;
mod config;
mod deploy;
mod devnet;
mod error;
mod genesis;
mod launch;
mod ops;

pub use checkpoint::{
    CheckpointCommandError, CheckpointCommandResult, ImportedCheckpoint, export_checkpoint, import_checkpoint,
};
pub use config::{
    ConfigError, ConfigResult, L1Section, Layers, NodeConfig, Origin, ProposerSection, Resolved, Role, SECRET_KEYS,
    SequencerSection, StateSection, env_name, known_keys,
};
pub use deploy::{RollupParams, deploy_rollup};
pub use devnet::{DevnetOptions, SEQUENCER_ACCOUNT, run_devnet, run_l1};
pub use error::{DeployError, LaunchError, LaunchResult};
pub use genesis::{DEVNET_L2_CHAIN_ID, DEVNET_L2_GAS_LIMIT, devnet_genesis, devnet_genesis_with_gas_limit};
pub use launch::{
    NodeBuilder, RunningNode, l1_advance_limits, memory_store, open_store, read_genesis, run_node, submitter_config,
};
pub use ops::{MAX_LAG_BLOCKS, MIN_SUBMITTER_BALANCE_WEI, serve_ops, watch_l1, watch_node};
