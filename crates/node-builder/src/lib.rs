//! # nrd-node-builder
//!
//! Launching nrd's L2 nodes (work in progress: being moved here from `bin/nrd`).

mod genesis;

pub use genesis::{DEVNET_L2_CHAIN_ID, DEVNET_L2_GAS_LIMIT, devnet_genesis, devnet_genesis_with_gas_limit};
