//! `nrd genesis`: the L2 genesis (`config/l2-genesis.json`), its state root and block hash.

use clap::Subcommand;
use nrd_derivation::L2Genesis;
use std::{path::PathBuf, process::ExitCode};

#[derive(Debug, Subcommand)]
pub(crate) enum GenesisCommand {
    /// Prints the genesis JSON: FILE's after checking it, else the devnet's.
    Print {
        /// A genesis file to check and print.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Prints chain id, state root and genesis block hash.
    Root {
        /// A genesis file (default: the devnet's).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

fn load(file: Option<&PathBuf>) -> Result<L2Genesis, nrd_node_builder::LaunchError> {
    match file {
        None => Ok(nrd_node_builder::devnet_genesis()),
        Some(path) => nrd_node_builder::read_genesis(path),
    }
}

pub(crate) fn run(command: &GenesisCommand) -> ExitCode {
    crate::report(match command {
        GenesisCommand::Print { file } => load(file.as_ref()).map(|g| print!("{}", g.to_json())),
        GenesisCommand::Root { file } => load(file.as_ref()).map(|g| {
            let root = g.state().root();
            println!("chain id     {}", g.chain_id());
            println!("state root   {root}");
            println!("genesis hash {}", g.header(root).hash());
        }),
    })
}
