//! `nrd genesis`: the L2 genesis (`config/l2-genesis.json`), its state root and block hash, and
//! large genesis files for benchmarks and tests.

use alloy_primitives::{Address, B256, U256};
use clap::Subcommand;
use nrd_derivation::{L2Genesis, SyntheticAccounts};
use nrd_node_builder::LaunchError;
use std::{collections::BTreeMap, path::PathBuf, process::ExitCode};

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
    /// Prints a genesis with many accounts: `--accounts N` generated ones (three numbers in
    /// `config.nrdSyntheticAccounts`, expanded identically by every node) and/or the accounts of
    /// a geth-style `alloc` file, on top of FILE's genesis (default: the devnet's).
    Generate {
        /// The genesis to extend (default: the devnet's).
        #[arg(long)]
        file: Option<PathBuf>,
        /// How many accounts to generate.
        #[arg(long, default_value_t = 0)]
        accounts: u64,
        /// Wei each generated account holds.
        #[arg(long, default_value_t = U256::from(10u64.pow(18)))]
        balance: U256,
        /// Varies the generated addresses (32 bytes, hex).
        #[arg(long, default_value_t = B256::ZERO)]
        seed: B256,
        /// A geth-style allocation to add: a JSON object of address → account (`balance`,
        /// `nonce`, `code`, `storage`), or a whole genesis file whose `alloc` is taken.
        #[arg(long)]
        alloc: Option<PathBuf>,
    },
}

/// Why `nrd genesis` failed.
#[derive(Debug, thiserror::Error)]
enum GenesisCliError {
    /// The base genesis does not load.
    #[error(transparent)]
    Launch(#[from] LaunchError),
    /// The `--alloc` file cannot be read.
    #[error("--alloc {}: {source}", path.display())]
    AllocRead {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The `--alloc` file is not an allocation.
    #[error("--alloc {}: not a geth-style alloc: {source}", path.display())]
    AllocJson {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// What would be printed is not a valid L2 genesis.
    #[error("the generated genesis does not load: {0}")]
    Genesis(#[from] nrd_derivation::GenesisError),
}

fn load(file: Option<&PathBuf>) -> Result<L2Genesis, LaunchError> {
    match file {
        None => Ok(nrd_node_builder::devnet_genesis()),
        Some(path) => nrd_node_builder::read_genesis(path),
    }
}

/// Reads a geth-style allocation, alone or inside a genesis file.
fn read_alloc(path: &PathBuf) -> Result<Vec<(Address, nrd_chain::GenesisAccount)>, GenesisCliError> {
    let json = |source| GenesisCliError::AllocJson { path: path.clone(), source };
    let text =
        std::fs::read_to_string(path).map_err(|source| GenesisCliError::AllocRead { path: path.clone(), source })?;
    let mut value: serde_json::Value = serde_json::from_str(&text).map_err(json)?;
    let alloc = value.get_mut("alloc").map(serde_json::Value::take).unwrap_or(value);
    let alloc: BTreeMap<Address, alloy_genesis::GenesisAccount> = serde_json::from_value(alloc).map_err(json)?;
    Ok(alloc
        .into_iter()
        .map(|(address, account)| {
            let storage = account
                .storage
                .iter()
                .flatten()
                .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
                .collect();
            let account = nrd_chain::GenesisAccount {
                nonce: account.nonce.unwrap_or_default(),
                balance: account.balance,
                code: account.code.unwrap_or_default(),
                storage,
            };
            (address, account)
        })
        .collect())
}

pub(crate) fn run(command: &GenesisCommand) -> ExitCode {
    crate::report(match command {
        GenesisCommand::Print { file } => {
            load(file.as_ref()).map(|g| print!("{}", g.to_json())).map_err(GenesisCliError::from)
        }
        GenesisCommand::Root { file } => load(file.as_ref()).map_err(GenesisCliError::from).map(|g| {
            let root = g.state_root();
            println!("chain id     {}", g.chain_id());
            println!("state root   {root}");
            println!("genesis hash {}", g.header(root).hash());
        }),
        GenesisCommand::Generate { file, accounts, balance, seed, alloc } => (|| -> Result<(), GenesisCliError> {
            let mut genesis = load(file.as_ref())?;
            if let Some(path) = alloc {
                genesis = genesis.with_accounts(read_alloc(path)?);
            }
            let synthetic =
                (*accounts > 0).then_some(SyntheticAccounts { count: *accounts, balance: *balance, seed: *seed });
            let genesis = genesis.with_synthetic(synthetic);
            // What is printed must load: the same checks as any genesis file.
            let genesis = L2Genesis::from_json(&genesis.to_json())?;
            print!("{}", genesis.to_json());
            Ok(())
        })(),
    })
}
