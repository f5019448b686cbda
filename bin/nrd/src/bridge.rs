//! `nrd bridge`: the user side of the rollup bridge, over plain Ethereum JSON-RPC to L1 and L2.
//!
//! - `deposit` and `force-include` enqueue an L1→L2 message in `NativeRollup` (`deposit`,
//!   `sendMessage`); the L2 applies it from the sender's alias (`nrd_bridge::alias_of`);
//! - `withdraw` calls `L2ToL1MessagePasser.initiateWithdrawal` on L2;
//! - `prove-withdrawal` waits until L1 holds the state root of an L2 block that has the
//!   withdrawal and writes the `eth_getProof` proof of its `sentMessages` slot;
//! - `claim` checks the claim with `eth_call` (decoding `NativeRollup`'s errors) and sends it;
//! - `advance` (in `bridge_advance`) posts the next L2 blocks itself when the sequencer has been
//!   silent past the forced-inclusion window.
//!
//! `nrd governance` (`governance.rs`) shares the flags, endpoints and error decoding.
//!
//! The user guide is `docs/bridge.md`; the rules are `docs/protocol.md` §8. Keys come from
//! `--private-key` / `NRD_PRIVATE_KEY` or an encrypted keystore and are never printed.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{BlockId, BlockNumberOrTag, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256};
use alloy_rpc_types_eth::{EIP1186AccountProofResponse, Header, TransactionReceipt, TransactionRequest};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolEvent, SolInterface};
use clap::{Args, Subcommand};
use jsonrpsee::rpc_params;
use nrd_bridge::{
    L1_MESSAGE_INBOX, L1MessageInbox, L2_TO_L1_MESSAGE_PASSER, L2ToL1MessagePasser, NativeRollup, Withdrawal, alias_of,
    withdrawal_hash, withdrawal_slot,
};
use nrd_l1_client::{EXECUTION_REVERTED, L1Client, L1ClientConfig, L1Error};
use serde::{Deserialize, Serialize};
use std::{
    fmt,
    path::PathBuf,
    process::ExitCode,
    time::{Duration, Instant},
};

/// Gas of the L2 call of a message when `--gas-limit` is not given.
const DEFAULT_MESSAGE_GAS: u64 = 100_000;
/// How often waits poll the nodes.
pub(crate) const POLL: Duration = Duration::from_millis(500);

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
    Deposit(DepositArgs),
    /// Starts a withdrawal of ETH from L2 to an L1 address (`L2ToL1MessagePasser.initiateWithdrawal`).
    Withdraw(WithdrawArgs),
    /// Waits until L1 verified an L2 block holding a withdrawal and writes the proof `claim` needs.
    ProveWithdrawal(ProveArgs),
    /// Claims a proven withdrawal on L1 (`NativeRollup.claimWithdrawal`) once the delay has passed.
    Claim(ClaimArgs),
    /// Sends an L2 call through L1 (`NativeRollup.sendMessage`): the sequencer must include it
    /// within the forced-inclusion window. It runs from the sender's alias.
    ForceInclude(ForceIncludeArgs),
    /// Posts the next L2 blocks (with the pending L1 messages) when the sequencer has been
    /// silent past the forced-inclusion window: rebuilds the L2 from L1 alone, in process.
    Advance(crate::bridge_advance::AdvanceArgs),
    /// Prints the L2 address calls from an L1 address come from (its alias).
    Alias {
        /// The L1 address.
        address: Address,
    },
}

#[derive(Debug, Args)]
struct DepositArgs {
    /// The L2 recipient (an account, or a contract called with `--data`).
    #[arg(long)]
    to: Address,
    /// Wei to deposit: a number of wei or an amount with a unit (`1ether`, `0.5eth`, `20gwei`).
    #[arg(long, value_parser = parse_amount)]
    value: U256,
    /// Gas of the L2 call (at most 5,000,000).
    #[arg(long, default_value_t = DEFAULT_MESSAGE_GAS)]
    gas_limit: u64,
    /// Calldata of the L2 call (hex).
    #[arg(long, default_value = "0x")]
    data: Bytes,
    /// Wait until the L2 applied the message.
    #[arg(long)]
    wait: bool,
}

#[derive(Debug, Args)]
struct WithdrawArgs {
    /// The L1 recipient (called with `--data` when the withdrawal is claimed).
    #[arg(long)]
    to: Address,
    /// Wei to withdraw: a number of wei or an amount with a unit (`1ether`).
    #[arg(long, value_parser = parse_amount)]
    value: U256,
    /// Calldata of the L1 call made when the withdrawal is claimed (hex).
    #[arg(long, default_value = "0x")]
    data: Bytes,
}

#[derive(Debug, Args)]
struct ProveArgs {
    /// The L2 transaction that initiated the withdrawal.
    #[arg(long, required_unless_present = "sender")]
    tx: Option<B256>,
    /// With `--tx`: which of the transaction's withdrawals (by nonce). Without: the withdrawal's nonce.
    #[arg(long)]
    nonce: Option<U256>,
    /// Without `--tx`: the withdrawal's L2 sender.
    #[arg(long, requires_all = ["nonce", "target", "value"], conflicts_with = "tx")]
    sender: Option<Address>,
    /// Without `--tx`: the withdrawal's L1 target.
    #[arg(long)]
    target: Option<Address>,
    /// Without `--tx`: the withdrawal's value in wei.
    #[arg(long, value_parser = parse_amount)]
    value: Option<U256>,
    /// Without `--tx`: the withdrawal's data.
    #[arg(long, default_value = "0x")]
    data: Bytes,
    /// The L2 block to prove against (its state root must be on L1). Default: the withdrawal's
    /// block, or the newest posted block when the node no longer keeps that block's state.
    #[arg(long)]
    l2_block: Option<u64>,
    /// Write the proof to this file (default: print it on stdout, the report on stderr).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ClaimArgs {
    /// A proof file written by `prove-withdrawal`.
    #[arg(long)]
    proof: PathBuf,
    /// Only check the claim with `eth_call`; send nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Args)]
struct ForceIncludeArgs {
    /// The L2 address to call.
    #[arg(long)]
    to: Address,
    /// Wei the alias sends with the L2 call (from what it holds, including `--mint`).
    #[arg(long, value_parser = parse_amount, default_value = "0")]
    value: U256,
    /// Wei to bring from L1 and credit to the alias first (`msg.value`).
    #[arg(long, value_parser = parse_amount, default_value = "0")]
    mint: U256,
    /// Gas of the L2 call (at most 5,000,000).
    #[arg(long, default_value_t = DEFAULT_MESSAGE_GAS)]
    gas_limit: u64,
    /// Calldata of the L2 call (hex).
    #[arg(long, default_value = "0x")]
    data: Bytes,
    /// Wait until the L2 applied the message.
    #[arg(long)]
    wait: bool,
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
        BridgeCommand::Deposit(a) => deposit(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::ForceInclude(a) => force_include(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::Withdraw(a) => withdraw(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::ProveWithdrawal(a) => prove(&ctx, a).await,
        BridgeCommand::Claim(a) => claim(&ctx, &args.common.key.signer()?, a).await,
        BridgeCommand::Advance(a) => crate::bridge_advance::advance(&ctx, &args.common.key.signer()?, a).await,
    }
}

// ---------------------------------------------------------------- errors

/// Which chain an endpoint is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Chain {
    L1,
    L2,
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::L1 => "L1",
            Self::L2 => "L2",
        })
    }
}

/// Why a bridge (or governance) command failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BridgeError {
    /// The node could not be reached.
    #[error("cannot reach the {chain} node at {url}: {reason}")]
    Unreachable { chain: Chain, url: String, reason: String },
    /// The node answered with an error (or garbage).
    #[error("{chain} node at {url}: {message}")]
    Node { chain: Chain, url: String, message: String },
    /// A transaction or call would revert; the reason is decoded.
    #[error("{what} would revert on {chain}: {reason}")]
    WouldRevert { what: String, chain: Chain, reason: String },
    /// A sent transaction reverted.
    #[error("{what} reverted on {chain} in block {block} (transaction {tx})")]
    Reverted { what: String, chain: Chain, block: u64, tx: B256 },
    /// A wait ran out of time.
    #[error("timed out after {seconds} s waiting for {what}")]
    Timeout { what: String, seconds: u64 },
    /// Bad input, or a state the command cannot work with.
    #[error("{0}")]
    Invalid(String),
}

/// A readable form of revert data: `NativeRollup` errors first, then the L2 predeploys',
/// `Error(string)` and `Panic(uint256)`.
pub(crate) fn decode_revert(data: &[u8]) -> String {
    use NativeRollup::NativeRollupErrors as E;
    if let Ok(error) = E::abi_decode(data) {
        return match error {
            E::DepositsPaused(_) => "DepositsPaused: deposits (ETH into the rollup) are paused by governance".into(),
            E::MessageGasTooHigh(e) => {
                format!("MessageGasTooHigh: gas limit {} above the maximum {}", e.gasLimit, e.max)
            }
            E::MessageDataTooLarge(e) => format!("MessageDataTooLarge: {} bytes of data, at most {}", e.size, e.max),
            E::UnknownStateRoot(e) => {
                format!("UnknownStateRoot: L1 holds no state root for L2 block {} (not posted yet?)", e.l2Block)
            }
            E::WithdrawalNotReady(e) => format!(
                "WithdrawalNotReady: the state root of L2 block {} becomes usable at L1 time {}",
                e.l2Block, e.readyAt
            ),
            E::AlreadyClaimed(e) => format!("AlreadyClaimed: withdrawal {} was already claimed", e.withdrawalHash),
            E::WithdrawalNotProven(e) => {
                format!("WithdrawalNotProven: the proof does not show withdrawal {} as sent", e.withdrawalHash)
            }
            E::MerkleProofInvalid(e) => format!(
                "MerkleProofInvalid: proof node {}: {} (is the proof for this block's state root?)",
                e.nodeIndex, e.reason
            ),
            E::RLPMalformed(e) => format!("RLPMalformed: the proof is not well-formed RLP: {}", e.reason),
            E::WithdrawalCallFailed(e) => format!(
                "WithdrawalCallFailed: the call to the target failed ({}) for withdrawal {}; it can be retried",
                nested_revert(&e.reason),
                e.withdrawalHash
            ),
            E::NotOwner(e) => format!("NotOwner: {} is not the rollup's owner (NativeRollup.owner())", e.caller),
            E::NotScheduled(e) => {
                format!("NotScheduled: action {} is not queued (never queued, or already executed or cancelled)", e.id)
            }
            E::TimelockNotElapsed(e) => {
                format!("TimelockNotElapsed: action {} becomes executable at L1 time {}", e.id, e.executableAt)
            }
            E::NotSequencer(e) => format!(
                "NotSequencer: {} is not the sequencer; advance is open to anyone from L1 time {}",
                e.caller, e.openToAllAt
            ),
            E::OverdueMessage(e) => format!(
                "OverdueMessage: L1 message {} is past its deadline (L1 time {}): an advance must include it",
                e.index, e.deadline
            ),
            other => format!("{other:?}"),
        };
    }
    if let Ok(e) = L2ToL1MessagePasser::L2ToL1MessagePasserErrors::abi_decode(data) {
        return format!("{e:?}");
    }
    if let Ok(e) = alloy_sol_types::Revert::abi_decode(data) {
        return format!("Error({:?})", e.reason);
    }
    if let Ok(e) = alloy_sol_types::Panic::abi_decode(data) {
        return format!("Panic({})", e.code);
    }
    if data.is_empty() {
        "reverted without a reason".into()
    } else {
        format!("unknown revert data {}", Bytes::copy_from_slice(data))
    }
}

fn nested_revert(data: &[u8]) -> String {
    if data.is_empty() { "no reason".into() } else { decode_revert(data) }
}

// ---------------------------------------------------------------- endpoints

/// One chain's JSON-RPC endpoint.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub(crate) chain: Chain,
    pub(crate) url: String,
    pub(crate) client: L1Client,
}

impl Endpoint {
    fn new(chain: Chain, url: &str) -> Result<Self, BridgeError> {
        let client = L1Client::new(L1ClientConfig::new(url).with_timeout(Duration::from_secs(30)))
            .map_err(|e| BridgeError::Invalid(format!("--{}-rpc-url {url}: {e}", chain.to_string().to_lowercase())))?;
        Ok(Self { chain, url: url.to_owned(), client })
    }

    /// `e` as this endpoint's error.
    pub(crate) fn err(&self, e: L1Error) -> BridgeError {
        let (chain, url) = (self.chain, self.url.clone());
        match e {
            e @ (L1Error::Transport { .. } | L1Error::Timeout { .. }) => {
                let reason = match &e {
                    L1Error::Transport { source, .. } => nrd_l1_client::error_chain(&**source),
                    _ => "request timed out".into(),
                };
                BridgeError::Unreachable { chain, url, reason }
            }
            L1Error::Rpc { code, message, .. } => {
                BridgeError::Node { chain, url, message: format!("JSON-RPC error {code}: {message}") }
            }
            other => BridgeError::Node { chain, url, message: other.to_string() },
        }
    }

    /// `e` from a call or estimate of `what`: the decoded revert reason when it reverted.
    pub(crate) fn call_err(&self, e: L1Error, what: &str) -> BridgeError {
        if let Some(data) = e.revert_data() {
            return BridgeError::WouldRevert { what: what.into(), chain: self.chain, reason: decode_revert(&data) };
        }
        match e {
            L1Error::Rpc { code: EXECUTION_REVERTED, message, .. } => {
                BridgeError::WouldRevert { what: what.into(), chain: self.chain, reason: message }
            }
            other => self.err(other),
        }
    }

    pub(crate) async fn block_number(&self) -> Result<u64, BridgeError> {
        self.client.block_number().await.map_err(|e| self.err(e))
    }

    pub(crate) async fn header(&self, number: BlockNumberOrTag) -> Result<Header, BridgeError> {
        self.client
            .header(number)
            .await
            .map_err(|e| self.err(e))?
            .ok_or_else(|| BridgeError::Invalid(format!("{} has no block {number}", self.chain)))
    }

    /// The timestamp of the latest block.
    pub(crate) async fn now(&self) -> Result<u64, BridgeError> {
        Ok(self.header(BlockNumberOrTag::Latest).await?.timestamp)
    }

    /// A view call of `to`, decoded.
    pub(crate) async fn view<C: SolCall>(
        &self,
        to: Address,
        call: C,
        block: BlockNumberOrTag,
    ) -> Result<C::Return, BridgeError> {
        let request = TransactionRequest::default().to(to).input(call.abi_encode().into());
        let out = self.client.call(&request, block).await.map_err(|e| self.call_err(e, C::SIGNATURE))?;
        C::abi_decode_returns(&out).map_err(|e| BridgeError::Node {
            chain: self.chain,
            url: self.url.clone(),
            message: format!("{} at {to} returned {out}: {e} (is it the right contract?)", C::SIGNATURE),
        })
    }

    pub(crate) async fn receipt(&self, tx: B256) -> Result<Option<TransactionReceipt>, BridgeError> {
        self.client.transaction_receipt(tx).await.map_err(|e| self.err(e))
    }

    /// Signs and sends a call of `to` from `signer`, after checking it with `eth_estimateGas`
    /// (a revert is reported decoded, nothing is sent), and waits for its receipt.
    pub(crate) async fn send(
        &self,
        signer: &PrivateKeySigner,
        to: Address,
        value: U256,
        input: Bytes,
        what: &str,
        timeout: Duration,
    ) -> Result<TransactionReceipt, BridgeError> {
        let from = signer.address();
        let request = TransactionRequest::default().from(from).to(to).value(value).input(input.clone().into());
        let gas =
            self.client.estimate_gas(&request, BlockNumberOrTag::Pending).await.map_err(|e| self.call_err(e, what))?;
        let chain_id = self.client.chain_id().await.map_err(|e| self.err(e))?;
        let nonce = self.client.nonce(from, BlockNumberOrTag::Pending).await.map_err(|e| self.err(e))?;
        let fees = self.client.fee_estimate().await.map_err(|e| self.err(e))?;
        let tx = TxEip1559 {
            chain_id,
            nonce,
            gas_limit: gas.saturating_add(gas / 4).saturating_add(10_000),
            max_fee_per_gas: fees.max_fee_per_gas(),
            max_priority_fee_per_gas: fees.priority_fee.min(fees.max_fee_per_gas()),
            to: TxKind::Call(to),
            value,
            input,
            access_list: Default::default(),
        };
        let signature = signer
            .sign_hash_sync(&tx.signature_hash())
            .map_err(|e| BridgeError::Invalid(format!("cannot sign the transaction: {e}")))?;
        let raw = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
        let hash = self.client.send_raw_transaction(&raw).await.map_err(|e| self.err(e))?;
        println!("sent {what} on {} from {from}", self.chain);
        println!("{} tx: {hash}", self.chain.to_string().to_lowercase());
        let receipt = wait_for(&format!("{} transaction {hash} to be mined", self.chain), timeout, || async {
            self.receipt(hash).await
        })
        .await?;
        let block = receipt.block_number.unwrap_or_default();
        if !receipt.status() {
            return Err(BridgeError::Reverted { what: what.into(), chain: self.chain, block, tx: hash });
        }
        println!("{} block: {block} (gas used {})", self.chain.to_string().to_lowercase(), receipt.gas_used);
        Ok(receipt)
    }

    /// The first L1 block to read for `rollup`'s history: the first block at or after its
    /// deployment, found from headers alone by binary search on the deployment block's time
    /// (`stateRootPostedAt(0)`, set by the constructor).
    pub(crate) async fn deployment_block(&self, rollup: Address) -> Result<u64, BridgeError> {
        let deployed_at =
            self.view(rollup, NativeRollup::stateRootPostedAtCall { l2Block: 0 }, BlockNumberOrTag::Latest).await?;
        let (mut low, mut high) = (0, self.block_number().await?);
        while low < high {
            let middle = low + (high - low) / 2;
            if self.header(BlockNumberOrTag::Number(middle)).await?.timestamp >= deployed_at {
                high = middle;
            } else {
                low = middle + 1;
            }
        }
        Ok(low)
    }
}

/// Polls `check` every [`POLL`] until it returns `Some`, for at most `timeout`.
pub(crate) async fn wait_for<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, BridgeError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, BridgeError>>,
{
    let start = Instant::now();
    loop {
        if let Some(value) = check().await? {
            return Ok(value);
        }
        if start.elapsed() >= timeout {
            return Err(BridgeError::Timeout { what: what.into(), seconds: timeout.as_secs() });
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The two chains and the rollup contract.
#[derive(Debug)]
pub(crate) struct Context {
    pub(crate) l1: Endpoint,
    pub(crate) l2: Endpoint,
    pub(crate) rollup: Option<Address>,
    pub(crate) timeout: Duration,
}

impl Context {
    pub(crate) fn new(common: &CommonArgs) -> Result<Self, BridgeError> {
        Ok(Self {
            l1: Endpoint::new(Chain::L1, &common.l1_rpc_url)?,
            l2: Endpoint::new(Chain::L2, &common.l2_rpc_url)?,
            rollup: common.rollup,
            timeout: Duration::from_secs(common.timeout),
        })
    }

    /// `--rollup`, else the `rollup` the L2 node reports in `nrd_rollupStatus`.
    pub(crate) async fn rollup(&self) -> Result<Address, BridgeError> {
        if let Some(rollup) = self.rollup {
            return Ok(rollup);
        }
        let status: serde_json::Value = self
            .l2
            .client
            .raw_request("nrd_rollupStatus", rpc_params![])
            .await
            .map_err(|e| self.l2.err(e))
            .map_err(|e| BridgeError::Invalid(format!("{e} (cannot learn the rollup address: pass --rollup)")))?;
        status["rollup"].as_str().and_then(|s| s.parse().ok()).ok_or_else(|| {
            BridgeError::Invalid(format!(
                "nrd_rollupStatus of {} has no rollup address: pass --rollup ({status})",
                self.l2.url
            ))
        })
    }
}

// ---------------------------------------------------------------- L1 → L2

async fn deposit(ctx: &Context, signer: &PrivateKeySigner, args: &DepositArgs) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let call = NativeRollup::depositCall { to: args.to, gasLimit: args.gas_limit, data: args.data.clone() };
    let l2_start = if args.wait { Some(ctx.l2.block_number().await?) } else { None };
    let receipt =
        ctx.l1.send(signer, rollup, args.value, call.abi_encode().into(), "NativeRollup.deposit", ctx.timeout).await?;
    let message = event::<NativeRollup::MessageEnqueued>(&receipt, rollup)?;
    println!("message index: {}", message.index);
    println!("l2 recipient: {} receives {}", args.to, format_ether(args.value));
    println!("l2 sender (alias of {}): {}", signer.address(), alias_of(signer.address()));
    match l2_start {
        Some(start) => wait_applied(ctx, message.index, start, !args.data.is_empty()).await,
        None => {
            println!(
                "next: the L2 applies message {} in one of its next blocks (`--wait` waits for it: L1MessageInbox.nextIndex() > {})",
                message.index, message.index
            );
            Ok(())
        }
    }
}

async fn force_include(ctx: &Context, signer: &PrivateKeySigner, args: &ForceIncludeArgs) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let call = NativeRollup::sendMessageCall {
        to: args.to,
        value: args.value,
        gasLimit: args.gas_limit,
        data: args.data.clone(),
    };
    let alias = alias_of(signer.address());
    if args.value > args.mint {
        // Best effort (the L2 may be unreachable): the alias pays `value` from what it holds.
        if let Ok(held) = ctx.l2.client.balance(alias, BlockNumberOrTag::Latest).await
            && held.saturating_add(args.mint) < args.value
        {
            println!(
                "warning: the alias {alias} holds {} on L2: with --mint {} the L2 call of {} will fail unless it \
                 receives ETH before the message applies",
                format_ether(held),
                format_ether(args.mint),
                format_ether(args.value)
            );
        }
    }
    let l2_start = if args.wait { Some(ctx.l2.block_number().await?) } else { None };
    let receipt = ctx
        .l1
        .send(signer, rollup, args.mint, call.abi_encode().into(), "NativeRollup.sendMessage", ctx.timeout)
        .await?;
    let message = event::<NativeRollup::MessageEnqueued>(&receipt, rollup)?;
    let window = ctx.l1.view(rollup, NativeRollup::forcedInclusionWindowCall {}, BlockNumberOrTag::Latest).await?;
    let deadline = message.enqueuedAt.saturating_add(window);
    println!("message index: {}", message.index);
    println!("l2 sender (alias of {}): {alias}", signer.address());
    println!("l2 call: {} with {} and {} gas", args.to, format_ether(args.value), args.gas_limit);
    println!("enqueued at: L1 time {}", message.enqueuedAt);
    println!("deadline: L1 time {deadline} (enqueued at + forcedInclusionWindow {window} s)");
    println!(
        "note: from the deadline on, NativeRollup refuses any advance that leaves message {} out (OverdueMessage), \
         and once the sequencer has posted nothing for {window} s anyone may advance the rollup",
        message.index
    );
    match l2_start {
        Some(start) => wait_applied(ctx, message.index, start, !args.data.is_empty()).await,
        None => {
            println!("next: the L2 applies message {} (`--wait` waits for it)", message.index);
            Ok(())
        }
    }
}

/// The first `E` event `contract` emitted in `receipt`, if any.
pub(crate) fn find_event<E: SolEvent>(receipt: &TransactionReceipt, contract: Address) -> Option<E> {
    receipt.logs().iter().filter(|log| log.address() == contract).find_map(|log| E::decode_log_data(log.data()).ok())
}

/// The first `E` event `contract` emitted in `receipt`; an error naming the event when there is none.
pub(crate) fn event<E: SolEvent>(receipt: &TransactionReceipt, contract: Address) -> Result<E, BridgeError> {
    find_event(receipt, contract).ok_or_else(|| {
        let name = E::SIGNATURE.split('(').next().unwrap_or(E::SIGNATURE);
        BridgeError::Invalid(format!("{} emitted no {name} event", receipt.transaction_hash))
    })
}

/// Waits until the L2 applied message `index` (`L1MessageInbox.nextIndex() > index`) and reports
/// the L2 block that applied it (found by `nextIndex` at each block since `l2_start`: the anchor
/// is a system call, so its `MessageApplied` events are in no receipt).
pub(crate) async fn wait_applied(ctx: &Context, index: u64, l2_start: u64, has_call: bool) -> Result<(), BridgeError> {
    println!("waiting for the L2 to apply message {index} ...");
    let next_at = |block: u64| async move {
        ctx.l2.view(L1_MESSAGE_INBOX, L1MessageInbox::nextIndexCall {}, BlockNumberOrTag::Number(block)).await
    };
    let seen = wait_for(&format!("the L2 to apply message {index}"), ctx.timeout, || async {
        let head = ctx.l2.block_number().await?;
        Ok((next_at(head).await? > index).then_some(head))
    })
    .await?;
    let mut applied = seen;
    for block in l2_start..seen {
        match next_at(block).await {
            Ok(next) if next > index => {
                applied = block;
                break;
            }
            Ok(_) => {}
            // The node no longer keeps that state: report the bound.
            Err(_) => break,
        }
    }
    println!("applied in l2 block: {applied}");
    if has_call {
        println!(
            "note: the L2 call ran from the alias; whether it succeeded shows in its effects (the anchor is a \
             system call: its MessageApplied event is in no receipt). ETH minted for a failed call stays at the alias."
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- L2 → L1

/// A withdrawal as JSON: amounts as decimal strings, bytes as hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WithdrawalJson {
    #[serde(with = "decimal")]
    nonce: U256,
    sender: Address,
    target: Address,
    #[serde(with = "decimal")]
    value: U256,
    data: Bytes,
}

impl From<&WithdrawalJson> for Withdrawal {
    fn from(w: &WithdrawalJson) -> Self {
        Self { nonce: w.nonce, sender: w.sender, target: w.target, value: w.value, data: w.data.clone() }
    }
}

impl From<&L2ToL1MessagePasser::WithdrawalInitiated> for WithdrawalJson {
    fn from(e: &L2ToL1MessagePasser::WithdrawalInitiated) -> Self {
        Self { nonce: e.nonce, sender: e.sender, target: e.target, value: e.value, data: e.data.clone() }
    }
}

/// What `prove-withdrawal` writes and `claim` reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ProofFile {
    withdrawal: WithdrawalJson,
    withdrawal_hash: B256,
    /// The L2 block whose state root (stored on L1) the proofs are against.
    l2_block: u64,
    state_root: B256,
    rollup: Address,
    account_proof: Vec<Bytes>,
    storage_proof: Vec<Bytes>,
}

mod decimal {
    use alloy_primitives::U256;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &U256, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&value.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<U256, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_amount(&text).map_err(serde::de::Error::custom)
    }
}

async fn withdraw(ctx: &Context, signer: &PrivateKeySigner, args: &WithdrawArgs) -> Result<(), BridgeError> {
    let call = L2ToL1MessagePasser::initiateWithdrawalCall { target: args.to, data: args.data.clone() };
    let receipt = ctx
        .l2
        .send(
            signer,
            L2_TO_L1_MESSAGE_PASSER,
            args.value,
            call.abi_encode().into(),
            "L2ToL1MessagePasser.initiateWithdrawal",
            ctx.timeout,
        )
        .await?;
    let (_, event) = initiated(&receipt, None)?;
    let block = receipt.block_number.unwrap_or_default();
    let json = serde_json::json!({
        "withdrawal": WithdrawalJson::from(&event),
        "withdrawalHash": event.withdrawalHash,
        "l2Block": block,
        "l2Tx": receipt.transaction_hash,
    });
    println!("withdrawal hash: {}", event.withdrawalHash);
    println!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    // Best effort: the delay needs L1 and the rollup address, which this command does not need.
    let delay = match ctx.rollup().await {
        Ok(rollup) => ctx.l1.view(rollup, NativeRollup::withdrawalDelayCall {}, BlockNumberOrTag::Latest).await.ok(),
        Err(_) => None,
    };
    println!(
        "next: once L2 block {block} is posted to L1 (the L2's `safe` block reaches it), run \
         `nrd bridge prove-withdrawal --tx {} --out <file>`; claim with `nrd bridge claim --proof <file>` {}",
        receipt.transaction_hash,
        match delay {
            Some(d) => format!("{d} s after that block's state root is posted (NativeRollup.withdrawalDelay)"),
            None => "after NativeRollup.withdrawalDelay() from that block's posting".into(),
        }
    );
    Ok(())
}

/// The `WithdrawalInitiated` events of `receipt` (the one with `nonce`, if given; else the only one).
fn initiated(
    receipt: &TransactionReceipt,
    nonce: Option<U256>,
) -> Result<(u64, L2ToL1MessagePasser::WithdrawalInitiated), BridgeError> {
    let tx = receipt.transaction_hash;
    let events: Vec<_> = receipt
        .logs()
        .iter()
        .filter(|log| log.address() == L2_TO_L1_MESSAGE_PASSER)
        .filter_map(|log| L2ToL1MessagePasser::WithdrawalInitiated::decode_log_data(log.data()).ok())
        .filter(|e| nonce.is_none_or(|n| e.nonce == n))
        .collect();
    let block = receipt.block_number.unwrap_or_default();
    match events.len() {
        1 => Ok((block, events.into_iter().next().expect("one event"))),
        0 if nonce.is_some() => Err(BridgeError::Invalid(format!(
            "L2 transaction {tx} initiated no withdrawal with nonce {}",
            nonce.unwrap_or_default()
        ))),
        0 => Err(BridgeError::Invalid(format!("L2 transaction {tx} initiated no withdrawal"))),
        _ => Err(BridgeError::Invalid(format!(
            "L2 transaction {tx} initiated {} withdrawals (nonces {}): pick one with --nonce",
            events.len(),
            events.iter().map(|e| e.nonce.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Where `prove-withdrawal` reports: stdout, or stderr when the proof itself goes to stdout.
#[derive(Debug, Clone, Copy)]
struct Report {
    stderr: bool,
}

impl Report {
    fn line(self, text: impl fmt::Display) {
        if self.stderr {
            eprintln!("{text}");
        } else {
            println!("{text}");
        }
    }
}

async fn prove(ctx: &Context, args: &ProveArgs) -> Result<(), BridgeError> {
    let report = Report { stderr: args.out.is_none() };
    let rollup = ctx.rollup().await?;

    // The withdrawal, and the L2 block from which on it exists.
    let (withdrawal, initiated_in) = match args.tx {
        Some(tx) => {
            let receipt = ctx.l2.receipt(tx).await?.ok_or_else(|| {
                BridgeError::Invalid(format!("L2 transaction {tx} not found on {} (not mined yet?)", ctx.l2.url))
            })?;
            if !receipt.status() {
                return Err(BridgeError::Invalid(format!("L2 transaction {tx} reverted: it withdrew nothing")));
            }
            let (block, event) = initiated(&receipt, args.nonce)?;
            let w = WithdrawalJson::from(&event);
            if withdrawal_hash(&Withdrawal::from(&w)) != event.withdrawalHash {
                return Err(BridgeError::Invalid(format!(
                    "withdrawal {} of {tx}: its fields do not hash to it (not nrd's L2ToL1MessagePasser?)",
                    event.withdrawalHash
                )));
            }
            (w, Some(block))
        }
        None => {
            let missing = |name: &str| BridgeError::Invalid(format!("without --tx, --{name} is needed"));
            let w = WithdrawalJson {
                nonce: args.nonce.ok_or_else(|| missing("nonce"))?,
                sender: args.sender.ok_or_else(|| missing("sender"))?,
                target: args.target.ok_or_else(|| missing("target"))?,
                value: args.value.ok_or_else(|| missing("value"))?,
                data: args.data.clone(),
            };
            (w, None)
        }
    };
    let hash = withdrawal_hash(&Withdrawal::from(&withdrawal));
    report.line(format_args!("withdrawal hash: {hash}"));

    // Wait until L1 verified an L2 block at or after it.
    let wanted = args.l2_block.or(initiated_in);
    let head_call = || ctx.l1.view(rollup, NativeRollup::headNumberCall {}, BlockNumberOrTag::Latest);
    let mut head = head_call().await?;
    if let Some(wanted) = wanted
        && head < wanted
    {
        report
            .line(format_args!("waiting for L2 block {wanted} to be posted to L1 (L1 has L2 blocks up to {head}) ..."));
        head = wait_for(&format!("L2 block {wanted} to be posted to L1"), ctx.timeout, || async {
            let head = head_call().await?;
            Ok((head >= wanted).then_some(head))
        })
        .await?;
    }

    // The proof, against the requested block, else the withdrawal's block, else the newest posted.
    let mut candidates: Vec<u64> = wanted.into_iter().collect();
    if args.l2_block.is_none() && !candidates.contains(&head) {
        candidates.push(head);
    }
    let mut failures = Vec::new();
    let mut found = None;
    for block in candidates {
        match proof_at(ctx, rollup, hash, block).await {
            Ok(found_proof) => {
                found = Some((block, found_proof));
                break;
            }
            Err(e) => failures.push(format!("block {block}: {e}")),
        }
    }
    let Some((l2_block, (state_root, proof))) = found else {
        return Err(BridgeError::Invalid(format!("no proof of withdrawal {hash}: {}", failures.join("; "))));
    };
    for failure in &failures {
        report.line(format_args!(
            "note: {failure}; proving against the newest posted L2 block {l2_block} instead (the withdrawal delay \
             counts from its posting)"
        ));
    }
    let storage = proof.storage_proof.into_iter().next().ok_or_else(|| {
        BridgeError::Invalid(format!("eth_getProof at L2 block {l2_block} returned no storage proof"))
    })?;
    if storage.value != U256::from(1) {
        return Err(BridgeError::Invalid(format!(
            "withdrawal {hash} is not recorded in L2 block {l2_block} (sentMessages slot is {}): \
             check the withdrawal fields, or prove against a later block",
            storage.value
        )));
    }
    let file = ProofFile {
        withdrawal,
        withdrawal_hash: hash,
        l2_block,
        state_root,
        rollup,
        account_proof: proof.account_proof,
        storage_proof: storage.proof,
    };
    let json = serde_json::to_string_pretty(&file)
        .map_err(|e| BridgeError::Invalid(format!("cannot encode the proof: {e}")))?;
    match &args.out {
        Some(path) => {
            std::fs::write(path, format!("{json}\n"))
                .map_err(|e| BridgeError::Invalid(format!("cannot write {}: {e}", path.display())))?;
            report.line(format_args!("proof: {}", path.display()));
        }
        None => println!("{json}"),
    }
    report.line(format_args!("l2 block: {l2_block} (state root {state_root}, verified on L1)"));

    // When it becomes claimable: fixed when the block was posted (a later change of
    // withdrawalDelay does not move it).
    let posted_at = ctx
        .l1
        .view(rollup, NativeRollup::stateRootPostedAtCall { l2Block: l2_block }, BlockNumberOrTag::Latest)
        .await?;
    let ready_at =
        ctx.l1.view(rollup, NativeRollup::withdrawableAtCall { l2Block: l2_block }, BlockNumberOrTag::Latest).await?;
    let now = ctx.l1.now().await?;
    report.line(format_args!(
        "claimable from: L1 time {ready_at} ({}; state root posted at {posted_at})",
        until(now, ready_at)
    ));
    report.line(format_args!(
        "next: nrd bridge claim --proof {}",
        args.out.as_deref().map_or("<file>".into(), |p| p.display().to_string())
    ));
    Ok(())
}

/// The passer's proof for withdrawal `hash` at L2 block `block`, after checking the L2 node's
/// state root of that block is the one L1 stored.
async fn proof_at(
    ctx: &Context,
    rollup: Address,
    hash: B256,
    block: u64,
) -> Result<(B256, EIP1186AccountProofResponse), BridgeError> {
    let on_l1 = ctx.l1.view(rollup, NativeRollup::stateRootsCall(block), BlockNumberOrTag::Latest).await?;
    if on_l1.is_zero() {
        return Err(BridgeError::Invalid(format!("L1 holds no state root for L2 block {block} yet")));
    }
    let on_l2 = ctx.l2.header(BlockNumberOrTag::Number(block)).await?.state_root;
    if on_l2 != on_l1 {
        return Err(BridgeError::Invalid(format!(
            "the L2 node's block {block} has state root {on_l2}, L1 verified {on_l1}: the node is not on the rollup's chain"
        )));
    }
    let slot = withdrawal_slot(hash);
    let proof: EIP1186AccountProofResponse = ctx
        .l2
        .client
        .raw_request("eth_getProof", rpc_params![L2_TO_L1_MESSAGE_PASSER, vec![slot], BlockId::number(block)])
        .await
        .map_err(|e| ctx.l2.err(e))?;
    Ok((on_l1, proof))
}

async fn claim(ctx: &Context, signer: &PrivateKeySigner, args: &ClaimArgs) -> Result<(), BridgeError> {
    let text = std::fs::read_to_string(&args.proof)
        .map_err(|e| BridgeError::Invalid(format!("cannot read {}: {e}", args.proof.display())))?;
    let file: ProofFile = serde_json::from_str(&text)
        .map_err(|e| BridgeError::Invalid(format!("{} is not a withdrawal proof: {e}", args.proof.display())))?;
    let withdrawal = Withdrawal::from(&file.withdrawal);
    let hash = withdrawal_hash(&withdrawal);
    if hash != file.withdrawal_hash {
        return Err(BridgeError::Invalid(format!(
            "{}: the withdrawal hashes to {hash}, not to its withdrawalHash {}",
            args.proof.display(),
            file.withdrawal_hash
        )));
    }
    let rollup = match ctx.rollup {
        Some(rollup) => rollup,
        None => file.rollup,
    };
    let call = NativeRollup::claimWithdrawalCall {
        w: withdrawal,
        l2Block: file.l2_block,
        accountProof: file.account_proof.clone(),
        storageProof: file.storage_proof.clone(),
    };
    let input: Bytes = call.abi_encode().into();
    println!("withdrawal hash: {hash}");
    println!("l2 block: {}", file.l2_block);

    // Check first: a claim that would revert says why, with the time it becomes ready.
    let request = TransactionRequest::default().from(signer.address()).to(rollup).input(input.clone().into());
    if let Err(e) = ctx.l1.client.call(&request, BlockNumberOrTag::Pending).await {
        let mut error = ctx.l1.call_err(e, "NativeRollup.claimWithdrawal");
        if let BridgeError::WouldRevert { reason, .. } = &mut error {
            if let Some(ready_at) = ready_at_of(reason) {
                let now = ctx.l1.now().await?;
                reason.push_str(&format!(" ({}; L1 time now {now})", until(now, ready_at)));
            } else if reason.starts_with("WithdrawalCallFailed")
                && let Ok(held) = ctx.l1.client.balance(rollup, BlockNumberOrTag::Latest).await
                && held < file.withdrawal.value
            {
                reason.push_str(&format!(
                    " — NativeRollup holds only {}, less than the withdrawal's {}",
                    format_ether(held),
                    format_ether(file.withdrawal.value)
                ));
            }
        }
        return Err(error);
    }
    if args.dry_run {
        println!("check: the claim would succeed (dry run: nothing sent)");
        return Ok(());
    }
    let receipt = ctx.l1.send(signer, rollup, U256::ZERO, input, "NativeRollup.claimWithdrawal", ctx.timeout).await?;
    match find_event::<NativeRollup::WithdrawalClaimed>(&receipt, rollup) {
        Some(e) => println!("claimed: {} to {} (withdrawal {})", format_ether(e.value), e.target, e.withdrawalHash),
        None => println!("claimed: withdrawal {hash}"),
    }
    Ok(())
}

/// The `readyAt` of a decoded `WithdrawalNotReady` reason.
fn ready_at_of(reason: &str) -> Option<u64> {
    time_at_end(reason, "WithdrawalNotReady:")
}

/// The L1 time a decoded reason starting with `prefix` ends with (`… at L1 time T`).
pub(crate) fn time_at_end(reason: &str, prefix: &str) -> Option<u64> {
    reason.strip_prefix(prefix)?.rsplit(' ').next()?.parse().ok()
}

// ---------------------------------------------------------------- amounts and time

/// Wei from `1000`, `0x3e8`, `1ether`, `1.5 eth`, `20gwei`, `5wei`.
pub(crate) fn parse_amount(text: &str) -> Result<U256, String> {
    let s = text.trim().to_ascii_lowercase();
    if let Some(hex) = s.strip_prefix("0x") {
        return U256::from_str_radix(hex, 16).map_err(|e| format!("`{text}`: {e}"));
    }
    let (number, decimals) = if let Some(n) = s.strip_suffix("ether").or_else(|| s.strip_suffix("eth")) {
        (n, 18)
    } else if let Some(n) = s.strip_suffix("gwei") {
        (n, 9)
    } else if let Some(n) = s.strip_suffix("wei") {
        (n, 0)
    } else {
        (s.as_str(), 0)
    };
    let number = number.trim();
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = |d: &str| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit());
    if !(digits(int) || (int.is_empty() && digits(frac))) || !(frac.is_empty() || digits(frac)) {
        return Err(format!("`{text}` is not an amount (wei, or a number with ether/eth/gwei/wei)"));
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > decimals {
        return Err(format!("`{text}` has more decimals than wei allows"));
    }
    let scaled = format!("{}{frac}{}", if int.is_empty() { "0" } else { int }, "0".repeat(decimals - frac.len()));
    U256::from_str_radix(&scaled, 10).map_err(|e| format!("`{text}`: {e}"))
}

/// `value` wei as `1.5 ETH (1500000000000000000 wei)`.
pub(crate) fn format_ether(value: U256) -> String {
    let unit = U256::from(10u64).pow(U256::from(18));
    let (int, frac) = value.div_rem(unit);
    let frac = format!("{frac:0>18}");
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() { format!("{int} ETH ({value} wei)") } else { format!("{int}.{frac} ETH ({value} wei)") }
}

/// `in 42 s` or `reached 3 s ago` for an L1 time `at` seen at L1 time `now`.
pub(crate) fn until(now: u64, at: u64) -> String {
    if at > now { format!("in {} s", at - now) } else { format!("reached {} s ago", now - at) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        let ether = U256::from(10u64).pow(U256::from(18));
        assert_eq!(parse_amount("1ether"), Ok(ether));
        assert_eq!(parse_amount("1 ETH"), Ok(ether));
        assert_eq!(parse_amount("0.5ether"), Ok(ether / U256::from(2)));
        assert_eq!(parse_amount(".25eth"), Ok(ether / U256::from(4)));
        assert_eq!(parse_amount("20gwei"), Ok(U256::from(20_000_000_000u64)));
        assert_eq!(parse_amount("1000"), Ok(U256::from(1000)));
        assert_eq!(parse_amount("7wei"), Ok(U256::from(7)));
        assert_eq!(parse_amount("0x10"), Ok(U256::from(16)));
        assert!(parse_amount("1.5wei").is_err());
        assert!(parse_amount("1foo").is_err());
        assert!(parse_amount("").is_err());
        assert!(parse_amount("-1").is_err());
        assert!(parse_amount("1.2.3ether").is_err());
        assert_eq!(format_ether(ether + ether / U256::from(2)), "1.5 ETH (1500000000000000000 wei)");
        assert_eq!(format_ether(U256::ZERO), "0 ETH (0 wei)");
    }

    #[test]
    fn reverts_are_decoded() {
        let e = NativeRollup::WithdrawalNotReady { l2Block: 7, readyAt: 1234 };
        let reason = decode_revert(&e.abi_encode());
        assert!(reason.starts_with("WithdrawalNotReady"), "{reason}");
        assert_eq!(ready_at_of(&reason), Some(1234));
        let e = NativeRollup::AlreadyClaimed { withdrawalHash: B256::repeat_byte(1) };
        assert!(decode_revert(&e.abi_encode()).starts_with("AlreadyClaimed"));
        let e = NativeRollup::MerkleProofInvalid { nodeIndex: U256::ZERO, reason: "root hash mismatch".into() };
        assert!(decode_revert(&e.abi_encode()).contains("root hash mismatch"));
        let e = alloy_sol_types::Revert::from("nope");
        assert_eq!(decode_revert(&e.abi_encode()), "Error(\"nope\")");
        assert_eq!(decode_revert(&[]), "reverted without a reason");
        assert!(decode_revert(&[1, 2, 3]).starts_with("unknown revert data"));
    }

    #[test]
    fn proof_files_round_trip() {
        let file = ProofFile {
            withdrawal: WithdrawalJson {
                nonce: U256::from(3),
                sender: Address::repeat_byte(1),
                target: Address::repeat_byte(2),
                value: U256::from(10u64).pow(U256::from(18)),
                data: Bytes::from(vec![0xab]),
            },
            withdrawal_hash: B256::ZERO,
            l2_block: 9,
            state_root: B256::repeat_byte(3),
            rollup: Address::repeat_byte(4),
            account_proof: vec![Bytes::from(vec![1, 2])],
            storage_proof: vec![],
        };
        let json = serde_json::to_value(&file).unwrap();
        assert_eq!(json["withdrawal"]["value"], "1000000000000000000");
        assert_eq!(json["l2Block"], 9);
        let back: ProofFile = serde_json::from_value(json).unwrap();
        assert_eq!(back.withdrawal, file.withdrawal);
    }

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
