//! `nrd bridge`: the user side of the rollup bridge, over plain Ethereum JSON-RPC to L1 and L2.
//!
//! - `deposit` and `force-include` enqueue an L1→L2 message in `NativeRollup` (`deposit`,
//!   `sendMessage`); the L2 applies it from the sender's alias (`nrd_bridge::alias_of`);
//! - `withdraw` calls `L2ToL1MessagePasser.initiateWithdrawal` on L2;
//! - `prove-withdrawal` waits until L1 holds the state root of an L2 block that has the
//!   withdrawal and writes the `eth_getProof` proof of its `sentMessages` slot;
//! - `claim` checks the claim with `eth_call` (decoding `NativeRollup`'s errors) and sends it;
//! - `advance` (`advance.rs`) posts the next L2 blocks itself when the sequencer has been
//!   silent past the forced-inclusion window.
//!
//! `nrd governance` (`governance.rs`) shares the flags, endpoints and error decoding (`client.rs`).
//!
//! The user guide is `docs/bridge.md`; the rules are `docs/protocol.md` §8. Keys come from
//! `--private-key` / `NRD_PRIVATE_KEY` or an encrypted keystore and are never printed.

mod advance;
mod amount;
mod client;
mod deposit;
mod withdraw;

pub(crate) use amount::{format_ether, parse_amount};
#[cfg(test)]
pub(crate) use client::decode_revert;
pub(crate) use client::{BridgeError, Context, Endpoint, POLL, event, find_event, time_at_end, until, wait_for};
pub(crate) use deposit::wait_applied;

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use clap::{Args, Subcommand};
use nrd_bridge::alias_of;
use std::{fmt, path::PathBuf, process::ExitCode};

/// `nrd bridge` arguments.
#[derive(Debug, Args)]
pub(crate) struct BridgeArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: BridgeCommand,
}

/// Flags every bridge (and governance) command takes.
#[derive(Debug, Args)]
#[command(next_help_heading = "Endpoints")]
pub(crate) struct CommonArgs {
    /// L1 JSON-RPC URL.
    #[arg(long, global = true, env = "NRD_L1_RPC_URL", default_value = "http://127.0.0.1:8546")]
    l1_rpc_url: String,
    /// L2 JSON-RPC URL (an nrd sequencer or follower).
    #[arg(long, global = true, env = "NRD_L2_RPC_URL", default_value = "http://127.0.0.1:8545")]
    l2_rpc_url: String,
    /// The `NativeRollup` contract on L1 (default: the `rollup` of the L2 node's `nrd_rollupStatus`).
    #[arg(long, global = true)]
    rollup: Option<Address>,
    /// Seconds to wait for a transaction to be mined or for what `--wait` waits for.
    #[arg(long, global = true, default_value_t = 300)]
    timeout: u64,
    #[command(flatten)]
    pub(crate) key: KeyArgs,
}

/// Where the signing key comes from. Never printed: `Debug` hides the secrets.
#[derive(Args)]
#[command(next_help_heading = "Sender key")]
pub(crate) struct KeyArgs {
    /// Hex private key of the sender.
    #[arg(long, global = true, env = "NRD_PRIVATE_KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// An encrypted JSON keystore (Web3 Secret Storage) holding the sender's key; takes precedence
    /// over `--private-key`.
    #[arg(long, global = true)]
    keystore: Option<PathBuf>,
    /// Password of `--keystore`.
    #[arg(long, global = true, env = "NRD_KEYSTORE_PASSWORD", hide_env_values = true)]
    password: Option<String>,
}

impl fmt::Debug for KeyArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |set: bool| if set { "<hidden>" } else { "<none>" };
        f.debug_struct("KeyArgs")
            .field("private_key", &hidden(self.private_key.is_some()))
            .field("keystore", &self.keystore)
            .field("password", &hidden(self.password.is_some()))
            .finish()
    }
}

impl KeyArgs {
    /// The sender's key, from the keystore or the private key.
    pub(crate) fn signer(&self) -> Result<PrivateKeySigner, BridgeError> {
        if let Some(path) = &self.keystore {
            let password = self.password.as_deref().ok_or_else(|| {
                BridgeError::Invalid(format!(
                    "keystore {} needs a password: --password or NRD_KEYSTORE_PASSWORD",
                    path.display()
                ))
            })?;
            return PrivateKeySigner::decrypt_keystore(path, password)
                .map_err(|e| BridgeError::Invalid(format!("cannot open keystore {}: {e}", path.display())));
        }
        match self.private_key.as_deref() {
            // The parse error would not show the key either, but say nothing about its content.
            Some(key) => key.trim().parse().map_err(|_| {
                BridgeError::Invalid("--private-key / NRD_PRIVATE_KEY is not a 32-byte hex private key".into())
            }),
            None => Err(BridgeError::Invalid(
                "this command sends a transaction: give a key with --private-key, NRD_PRIVATE_KEY or --keystore".into(),
            )),
        }
    }
}

#[derive(Debug, Subcommand)]
enum BridgeCommand {
    /// Deposits ETH to an L2 address (`NativeRollup.deposit` on L1); the L2 credits it in the
    /// next blocks.
    Deposit(deposit::DepositArgs),
    /// Starts a withdrawal of ETH from L2 to an L1 address (`L2ToL1MessagePasser.initiateWithdrawal`).
    Withdraw(withdraw::WithdrawArgs),
    /// Waits until L1 verified an L2 block holding a withdrawal and writes the proof `claim` needs.
    ProveWithdrawal(withdraw::ProveArgs),
    /// Claims a proven withdrawal on L1 (`NativeRollup.claimWithdrawal`) once the delay has passed.
    Claim(withdraw::ClaimArgs),
    /// Sends an L2 call through L1 (`NativeRollup.sendMessage`): the sequencer must include it
    /// within the forced-inclusion window. It runs from the sender's alias.
    ForceInclude(deposit::ForceIncludeArgs),
    /// Posts the next L2 blocks (with the pending L1 messages) when the sequencer has been
    /// silent past the forced-inclusion window: rebuilds the L2 from L1 alone, in process.
    Advance(advance::AdvanceArgs),
    /// Prints the L2 address calls from an L1 address come from (its alias).
    Alias {
        /// The L1 address.
        address: Address,
    },
}

/// Runs `nrd bridge …`.
pub(crate) fn run(args: BridgeArgs) -> ExitCode {
    crate::block_on(async move { bridge(args).await.map_err(|e| e.to_string()) })
}

async fn bridge(args: BridgeArgs) -> Result<(), BridgeError> {
    let ctx = Context::new(&args.common)?;
    match &args.command {
        BridgeCommand::Alias { address } => {
            println!("l1 address: {address}");
            println!("l2 alias:   {}", alias_of(*address));
            Ok(())
        }
        BridgeCommand::Deposit(a) => deposit::deposit(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::ForceInclude(a) => deposit::force_include(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::Withdraw(a) => withdraw::withdraw(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::ProveWithdrawal(a) => withdraw::prove(&ctx, a).await,
        BridgeCommand::Claim(a) => withdraw::claim(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::Advance(a) => advance::advance(&ctx, &args.common.key.signer()?, a).await,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn key_args_never_show_secrets() {
        let keys = KeyArgs {
            private_key: Some("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80".into()),
            keystore: None,
            password: Some("hunter2".into()),
        };
        let shown = format!("{keys:?}");
        assert!(!shown.contains("ac0974") && !shown.contains("hunter2"), "{shown}");
        let bad = KeyArgs { private_key: Some("0xnot-a-key-secret".into()), keystore: None, password: None };
        let err = bad.signer().unwrap_err().to_string();
        assert!(!err.contains("secret"), "{err}");
    }
}
