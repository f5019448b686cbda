//! `nrd devnet`: a whole native rollup in one process — the L1 devnet with EXECUTE, the rollup
//! contract deployed on it, the L2 genesis, a sequencer (block production and batch submission)
//! and a follower that rebuilds the L2 from L1 alone, each with its JSON-RPC
//! ([`nrd_node_builder::run_devnet`]).

use nrd_node_builder::{DevnetOptions, run_devnet};
use std::process::ExitCode;

pub(crate) fn run(options: DevnetOptions) -> ExitCode {
    crate::block_on(run_devnet(options, tokio::signal::ctrl_c()))
}
