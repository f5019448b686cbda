//! `nrd genesis`: the L2 genesis (`config/l2-genesis.json`), its state root and block hash.

use alloy_primitives::U256;
use clap::Subcommand;
use nrd_derivation::L2Genesis;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};
use std::{path::PathBuf, process::ExitCode};

/// Chain id of the devnet L2.
pub(crate) const DEVNET_L2_CHAIN_ID: u64 = 901;
/// Block gas limit of the devnet L2.
pub(crate) const DEVNET_L2_GAS_LIMIT: u64 = 30_000_000;
/// Test accounts the devnet L2 prefunds.
const DEVNET_ACCOUNTS: u32 = 10;
/// Their balance, in ether.
const DEVNET_BALANCE_ETH: u64 = 10_000;

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

/// The devnet L2 genesis: chain 901, the predeploys, and the test mnemonic's first ten accounts
/// with 10 000 ETH each (so wallets work at once; that ETH is not backed on L1).
pub(crate) fn devnet() -> L2Genesis {
    devnet_with_gas_limit(DEVNET_L2_GAS_LIMIT)
}

/// The devnet L2 genesis with another block gas limit (`nrd devnet --l2-gas-limit`).
pub(crate) fn devnet_with_gas_limit(gas_limit: u64) -> L2Genesis {
    let accounts = dev_accounts(TEST_MNEMONIC, DEVNET_ACCOUNTS).unwrap_or_default();
    let balance = U256::from(DEVNET_BALANCE_ETH) * U256::from(10u128.pow(18));
    let prefunded: Vec<_> = accounts.iter().map(|a| (a.address(), balance)).collect();
    L2Genesis::new(DEVNET_L2_CHAIN_ID, gas_limit, &prefunded)
}

fn load(file: Option<&PathBuf>) -> Result<L2Genesis, String> {
    match file {
        None => Ok(devnet()),
        Some(path) => {
            let json = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            L2Genesis::from_json(&json).map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}

pub(crate) fn run(command: &GenesisCommand) -> ExitCode {
    let result = match command {
        GenesisCommand::Print { file } => load(file.as_ref()).map(|g| print!("{}", g.to_json())),
        GenesisCommand::Root { file } => load(file.as_ref()).map(|g| {
            let root = g.state().root();
            println!("chain id     {}", g.chain_id());
            println!("state root   {root}");
            println!("genesis hash {}", g.header(root).hash());
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
