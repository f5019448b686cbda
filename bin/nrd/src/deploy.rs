//! `nrd deploy`: deploys `NativeRollup` for an L2 genesis on an L1 (an `nrd l1` by default) and
//! prints its address and deployment block, which the nodes' configs name.

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use clap::Args;
use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_node_builder::{LaunchError, RollupParams, deploy_rollup, read_genesis};
use std::{path::PathBuf, process::ExitCode};

/// Test account 1 of the standard test mnemonic: the default owner for an `nrd l1` set up by hand
/// (`nrd devnet` deploys with accounts of its own: owner 11, sequencer 10).
const DEV_OWNER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
/// Test account 0: the sequencer of `config/sequencer.toml`.
const DEV_SEQUENCER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

/// `nrd deploy` arguments.
#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// L1 JSON-RPC URL.
    #[arg(long, default_value = "http://127.0.0.1:8546")]
    l1_rpc_url: String,
    /// The L2 genesis the rollup starts from.
    #[arg(long, default_value = "config/l2-genesis.json")]
    genesis: PathBuf,
    /// Owner key (hex); `NRD_OWNER_KEY` overrides. Default: test account 1.
    #[arg(long, env = "NRD_OWNER_KEY", default_value = DEV_OWNER_KEY, hide_default_value = true, hide_env_values = true)]
    owner_key: String,
    /// Sequencer address. Default: test account 0.
    #[arg(long, default_value = DEV_SEQUENCER)]
    sequencer: Address,
    #[command(flatten)]
    params: RollupParams,
}

pub(crate) fn run(args: &DeployArgs) -> ExitCode {
    crate::block_on(deploy(args))
}

async fn deploy(args: &DeployArgs) -> Result<(), LaunchError> {
    let genesis = read_genesis(&args.genesis)?;
    let owner: PrivateKeySigner = args
        .owner_key
        .trim()
        .parse()
        .map_err(|_| LaunchError::Option { flag: "--owner-key", problem: "is not a 32-byte hex private key".into() })?;
    let client = L1Client::new(L1ClientConfig::new(&args.l1_rpc_url))
        .map_err(|source| LaunchError::l1_config(args.l1_rpc_url.clone(), source))?;
    let (rollup, block) = deploy_rollup(&client, &owner, args.sequencer, &genesis, args.params).await?;
    println!("rollup {rollup}");
    println!("block  {block}");
    Ok(())
}
