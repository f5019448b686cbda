//! `nrd checkpoint …`: start a follower from a state snapshot instead of replaying the chain.
//!
//! `export` writes the state at one block of a stopped node's data directory to a file;
//! `import` loads such a file into a new node's data directory, after checking its block
//! against the `BlockAdvanced` event the rollup contract emitted for it in a finalized L1 block.

use crate::node::ConfigArgs;
use clap::Subcommand;
use std::{path::PathBuf, process::ExitCode};

/// `nrd checkpoint …`.
#[derive(Debug, Subcommand)]
pub(crate) enum CheckpointCommand {
    /// Writes the state after a block of a stopped node (its data directory) to a file.
    Export {
        /// The node's data directory (`data_dir`, holding `chain.redb`); stop the node first.
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The block (default: the head). Its state must still be kept (`state.history_blocks`);
        /// pick one posted in a finalized L1 block, or `import` refuses it.
        #[arg(long)]
        block: Option<u64>,
        /// The checkpoint file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Loads a checkpoint into a new node's data directory, once L1 confirms its block; then
    /// `nrd node` with the same configuration starts there.
    Import {
        #[command(flatten)]
        config: ConfigArgs,
        /// The checkpoint file.
        file: PathBuf,
    },
}

pub(crate) fn run(command: CheckpointCommand) -> ExitCode {
    match command {
        CheckpointCommand::Export { data_dir, block, out } => {
            crate::report(nrd_node_builder::export_checkpoint(&data_dir, block, &out).map(|s| {
                println!(
                    "exported block {} (state root {}): {} accounts, {} storage slots, {} codes to {}",
                    s.number,
                    s.state_root,
                    s.accounts,
                    s.slots,
                    s.codes,
                    out.display()
                );
            }))
        }
        CheckpointCommand::Import { config, file } => crate::block_on(async move {
            let config = config.resolve().map_err(|e| e.to_string())?.config;
            let imported = nrd_node_builder::import_checkpoint(&config, &file).await.map_err(|e| e.to_string())?;
            let s = imported.summary;
            println!(
                "imported block {} (state root {}, posted in L1 block {}): {} accounts, {} storage slots, {} codes into {}",
                s.number,
                s.state_root,
                imported.l1_block,
                s.accounts,
                s.slots,
                s.codes,
                config.data_dir.display()
            );
            Ok::<(), String>(())
        }),
    }
}
