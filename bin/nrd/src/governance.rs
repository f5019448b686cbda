//! `nrd governance`: the rollup owner's timelocked actions on `NativeRollup` (docs/protocol.md
//! §8.7), over plain JSON-RPC to L1 (and to L2 for the L2 side of governance messages):
//!
//! - `queue <action>` schedules an action (`schedule`) and prints its id and when it becomes
//!   executable;
//! - `execute <id>` carries it out once the timelock delay has passed (checked with `eth_call`
//!   first: too early is reported decoded, with the time), printing the events it emitted;
//! - `cancel <id>` drops it;
//! - `status` prints the current parameters and every action with its state, from the
//!   `ActionScheduled` / `ActionExecuted` / `ActionCancelled` events;
//! - `l2-parameter <key>` reads `L2Governance.parameters(key)` on L2.
//!
//! Keys, endpoints and error decoding are `nrd bridge`'s (`crate::bridge`).

use crate::bridge::{BridgeError, CommonArgs, Context, Endpoint, event, time_at_end, until, wait_applied};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
use alloy_rpc_types_eth::{Filter, Log, TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolValue};
use clap::{Args, Subcommand};
use nrd_bridge::{Action, L2_GOVERNANCE, L2Governance, NativeRollup};
use std::{collections::BTreeMap, process::ExitCode};

/// Most L1 blocks one `eth_getLogs` asks for (nodes cap the range; nrd's L1 at 10,000).
const LOG_CHUNK: u64 = 5_000;

/// `nrd governance` arguments.
#[derive(Debug, Args)]
pub(crate) struct GovernanceArgs {
    #[command(flatten)]
    common: CommonArgs,
    #[command(subcommand)]
    command: GovernanceCommand,
}

#[derive(Debug, Subcommand)]
enum GovernanceCommand {
    /// Queues a timelocked owner action (`NativeRollup.schedule`); prints its id and the L1 time
    /// from which it can be executed.
    Queue {
        #[command(subcommand)]
        action: ActionArg,
    },
    /// Carries out a queued action once its timelock delay has passed (`NativeRollup.execute`).
    Execute(ExecuteArgs),
    /// Drops a queued action (`NativeRollup.cancel`).
    Cancel {
        /// The action id `queue` printed.
        id: B256,
    },
    /// The rollup's current parameters and its governance actions (queued, executed,
    /// cancelled), from `NativeRollup`'s events.
    #[command(alias = "show")]
    Status,
    /// An L2 parameter as L2 holds it: `L2Governance.parameters(key)` on the L2 node.
    L2Parameter {
        /// The key: 32 bytes in hex, or a name (the key is then its keccak256, e.g. `l2.gasLimit`).
        #[arg(value_parser = parse_key)]
        key: B256,
    },
}

#[derive(Debug, Args)]
struct ExecuteArgs {
    /// The action id `queue` printed.
    id: B256,
    /// For `set-l2-parameter`: wait until the L2 applied the governance message.
    #[arg(long)]
    wait: bool,
}

/// The actions of `NativeRollup.Action`, as `queue` subcommands.
#[derive(Debug, Clone, Subcommand)]
enum ActionArg {
    /// A new sequencer (the one key that may advance the rollup while it is live).
    SetSequencer {
        /// Its L1 address.
        address: Address,
    },
    /// A new forced-inclusion window: how long a message may wait, and how long the sequencer
    /// may stay silent before anyone may advance.
    SetForcedInclusionWindow {
        /// Seconds.
        seconds: u64,
    },
    /// A new withdrawal delay (from the posting of an L2 state root to claims against it).
    SetWithdrawalDelay {
        /// Seconds.
        seconds: u64,
    },
    /// Pause deposits (ETH into the rollup); withdrawals, forced transactions and `advance` go on.
    PauseDeposits,
    /// Unpause deposits.
    UnpauseDeposits,
    /// A new timelock delay for later actions.
    SetTimelockDelay {
        /// Seconds.
        seconds: u64,
    },
    /// A new owner.
    TransferOwnership {
        /// Its L1 address.
        address: Address,
    },
    /// A governance message to L2: `L2Governance.setParameter(key, value)` on L2, applied with
    /// the L1 messages of the next L2 block after `execute`.
    SetL2Parameter {
        /// The key: 32 bytes in hex, or a name (the key is then its keccak256, e.g. `l2.gasLimit`).
        #[arg(value_parser = parse_key)]
        key: B256,
        /// The value: decimal or 0x-hex.
        #[arg(value_parser = parse_u256)]
        value: U256,
    },
}

impl ActionArg {
    /// The contract's action number and its ABI-encoded payload.
    fn encode(&self) -> (Action, Bytes) {
        match self {
            Self::SetSequencer { address } => (Action::SetSequencer, address.abi_encode().into()),
            Self::SetForcedInclusionWindow { seconds } => {
                (Action::SetForcedInclusionWindow, seconds.abi_encode().into())
            }
            Self::SetWithdrawalDelay { seconds } => (Action::SetWithdrawalDelay, seconds.abi_encode().into()),
            Self::PauseDeposits => (Action::SetDepositsPaused, true.abi_encode().into()),
            Self::UnpauseDeposits => (Action::SetDepositsPaused, false.abi_encode().into()),
            Self::SetTimelockDelay { seconds } => (Action::SetTimelockDelay, seconds.abi_encode().into()),
            Self::TransferOwnership { address } => (Action::TransferOwnership, address.abi_encode().into()),
            Self::SetL2Parameter { key, value } => (Action::SetL2Parameter, (*key, *value).abi_encode_params().into()),
        }
    }
}

/// A key from 32 hex bytes, else the keccak256 of the name.
fn parse_key(text: &str) -> Result<B256, String> {
    let text = text.trim();
    if text.starts_with("0x") && text.len() == 66 {
        return text.parse().map_err(|e| format!("`{text}`: {e}"));
    }
    if text.is_empty() {
        return Err("an empty key".into());
    }
    Ok(keccak256(text.as_bytes()))
}

fn parse_u256(text: &str) -> Result<U256, String> {
    text.trim().parse().map_err(|e| format!("`{text}` is not a number: {e}"))
}

/// `action(payload)` in words, e.g. `SetWithdrawalDelay(5 s)`.
fn describe(action: u8, payload: &[u8]) -> String {
    let seconds = || {
        u64::abi_decode(payload)
            .map_or_else(|_| format!("payload {}", Bytes::copy_from_slice(payload)), |s| format!("{s} s"))
    };
    let address = || {
        Address::abi_decode(payload)
            .map_or_else(|_| format!("payload {}", Bytes::copy_from_slice(payload)), |a| a.to_string())
    };
    match action {
        a if a == Action::SetSequencer as u8 => format!("SetSequencer({})", address()),
        a if a == Action::SetForcedInclusionWindow as u8 => format!("SetForcedInclusionWindow({})", seconds()),
        a if a == Action::SetWithdrawalDelay as u8 => format!("SetWithdrawalDelay({})", seconds()),
        a if a == Action::SetDepositsPaused as u8 => match bool::abi_decode(payload) {
            Ok(true) => "SetDepositsPaused(true): pause deposits".into(),
            Ok(false) => "SetDepositsPaused(false): unpause deposits".into(),
            Err(_) => format!("SetDepositsPaused(payload {})", Bytes::copy_from_slice(payload)),
        },
        a if a == Action::SetTimelockDelay as u8 => format!("SetTimelockDelay({})", seconds()),
        a if a == Action::TransferOwnership as u8 => format!("TransferOwnership({})", address()),
        a if a == Action::SetL2Parameter as u8 => match <(B256, U256)>::abi_decode_params(payload) {
            Ok((key, value)) => format!("SetL2Parameter(key {key}, value {value})"),
            Err(_) => format!("SetL2Parameter(payload {})", Bytes::copy_from_slice(payload)),
        },
        other => format!("action {other} (payload {})", Bytes::copy_from_slice(payload)),
    }
}

/// A `bytes32` parameter name as text (`"withdrawalDelay"`), else hex.
fn name_of(name: B256) -> String {
    let bytes = name.as_slice();
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    match std::str::from_utf8(&bytes[..end]) {
        Ok(text) if !text.is_empty() && text.bytes().all(|b| b.is_ascii_graphic()) => text.to_string(),
        _ => name.to_string(),
    }
}

/// Runs `nrd governance …`.
pub(crate) fn run(args: GovernanceArgs) -> ExitCode {
    crate::block_on(async move { governance(args).await.map_err(|e| e.to_string()) })
}

async fn governance(args: GovernanceArgs) -> Result<(), BridgeError> {
    let ctx = Context::new(&args.common)?;
    match &args.command {
        GovernanceCommand::Queue { action } => queue(&ctx, &args.common.key.signer()?, action).await,
        GovernanceCommand::Execute(a) => execute(&ctx, &args.common.key.signer()?, a).await,
        GovernanceCommand::Cancel { id } => cancel(&ctx, &args.common.key.signer()?, *id).await,
        GovernanceCommand::Status => status(&ctx).await,
        GovernanceCommand::L2Parameter { key } => {
            let value =
                ctx.l2.view(L2_GOVERNANCE, L2Governance::parametersCall(*key), BlockNumberOrTag::Latest).await?;
            println!("key: {key}");
            println!("value: {value}");
            Ok(())
        }
    }
}

// ---------------------------------------------------------------- events

/// One governance action as its events tell it.
#[derive(Debug, Clone)]
struct Scheduled {
    action: u8,
    payload: Bytes,
    nonce: U256,
    executable_at: u64,
    /// L1 block of the `ActionScheduled` event.
    block: u64,
    /// Where it ended, if it did: executed or cancelled, and in which L1 block.
    ended: Option<(&'static str, u64)>,
}

/// `rollup`'s logs matching `filter` (address, topics) from its deployment to the latest block,
/// asked for in ranges of [`LOG_CHUNK`] blocks.
async fn logs(l1: &Endpoint, rollup: Address, filter: Filter) -> Result<Vec<Log>, BridgeError> {
    let from = l1.deployment_block(rollup).await?;
    let to = l1.block_number().await?;
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = start.saturating_add(LOG_CHUNK - 1).min(to);
        let chunk = filter.clone().address(rollup).from_block(start).to_block(end);
        out.extend(l1.client.logs(&chunk).await.map_err(|e| l1.err(e))?);
        start = end + 1;
    }
    Ok(out)
}

/// Every action of `rollup` (or only `id`), by id, in the order they were scheduled.
async fn actions(l1: &Endpoint, rollup: Address, id: Option<B256>) -> Result<Vec<(B256, Scheduled)>, BridgeError> {
    let mut filter = Filter::new().event_signature(vec![
        NativeRollup::ActionScheduled::SIGNATURE_HASH,
        NativeRollup::ActionExecuted::SIGNATURE_HASH,
        NativeRollup::ActionCancelled::SIGNATURE_HASH,
    ]);
    if let Some(id) = id {
        filter = filter.topic1(id);
    }
    let mut order = Vec::new();
    let mut by_id: BTreeMap<B256, Scheduled> = BTreeMap::new();
    for log in logs(l1, rollup, filter).await? {
        let block = log.block_number.unwrap_or_default();
        if let Ok(e) = NativeRollup::ActionScheduled::decode_log_data(log.data()) {
            order.push(e.id);
            by_id.insert(
                e.id,
                Scheduled {
                    action: e.action,
                    payload: e.payload,
                    nonce: e.nonce,
                    executable_at: e.executableAt,
                    block,
                    ended: None,
                },
            );
        } else if let Ok(e) = NativeRollup::ActionExecuted::decode_log_data(log.data()) {
            if let Some(s) = by_id.get_mut(&e.id) {
                s.ended = Some(("executed", block));
            }
        } else if let Ok(e) = NativeRollup::ActionCancelled::decode_log_data(log.data())
            && let Some(s) = by_id.get_mut(&e.id)
        {
            s.ended = Some(("cancelled", block));
        }
    }
    Ok(order.into_iter().filter_map(|id| by_id.get(&id).map(|s| (id, s.clone()))).collect())
}

/// Prints the governance events `rollup` emitted in `receipt`.
fn print_events(receipt: &TransactionReceipt, rollup: Address) {
    for log in receipt.logs().iter().filter(|log| log.address() == rollup) {
        let data = log.data();
        if let Ok(e) = NativeRollup::ActionExecuted::decode_log_data(data) {
            println!("event ActionExecuted: {} {}", e.id, describe(e.action, &e.payload));
        } else if let Ok(e) = NativeRollup::ParameterChanged::decode_log_data(data) {
            println!("event ParameterChanged: {} {} -> {}", name_of(e.name), e.previous, e.value);
        } else if let Ok(e) = NativeRollup::SequencerChanged::decode_log_data(data) {
            println!("event SequencerChanged: {} -> {}", e.previous, e.sequencer);
        } else if let Ok(e) = NativeRollup::OwnershipTransferred::decode_log_data(data) {
            println!("event OwnershipTransferred: {} -> {}", e.previous, e.owner);
        } else if let Ok(e) = NativeRollup::ActionCancelled::decode_log_data(data) {
            println!("event ActionCancelled: {}", e.id);
        } else if let Ok(e) = NativeRollup::MessageEnqueued::decode_log_data(data) {
            println!("event MessageEnqueued: L1 message {} (governance) to {}", e.index, e.to);
        }
    }
}

// ---------------------------------------------------------------- commands

async fn queue(ctx: &Context, signer: &PrivateKeySigner, action: &ActionArg) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let (kind, payload) = action.encode();
    let call = NativeRollup::scheduleCall { action: kind as u8, payload: payload.clone() };
    let receipt =
        ctx.l1.send(signer, rollup, U256::ZERO, call.abi_encode().into(), "NativeRollup.schedule", ctx.timeout).await?;
    let scheduled = event::<NativeRollup::ActionScheduled>(&receipt, rollup)?;
    let delay = ctx.l1.view(rollup, NativeRollup::timelockDelayCall {}, BlockNumberOrTag::Latest).await?;
    let now = ctx.l1.now().await?;
    println!("action: {}", describe(scheduled.action, &scheduled.payload));
    println!("action id: {}", scheduled.id);
    println!("nonce: {}", scheduled.nonce);
    println!(
        "executable at: L1 time {} ({}; timelockDelay {delay} s)",
        scheduled.executableAt,
        until(now, scheduled.executableAt)
    );
    println!(
        "next: nrd governance execute {} (from L1 time {} on), or cancel it",
        scheduled.id, scheduled.executableAt
    );
    Ok(())
}

async fn execute(ctx: &Context, signer: &PrivateKeySigner, args: &ExecuteArgs) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let found = actions(&ctx.l1, rollup, Some(args.id)).await?;
    let Some((id, action)) = found.into_iter().next() else {
        return Err(BridgeError::Invalid(format!(
            "no action {} was ever queued on rollup {rollup} (no ActionScheduled event)",
            args.id
        )));
    };
    println!("action: {}", describe(action.action, &action.payload));
    println!("action id: {id} (nonce {}, queued in L1 block {})", action.nonce, action.block);
    let call =
        NativeRollup::executeCall { action: action.action, payload: action.payload.clone(), nonce: action.nonce };
    let input: Bytes = call.abi_encode().into();

    // Check first: too early (or already done) says so, with the time.
    let request = TransactionRequest::default().from(signer.address()).to(rollup).input(input.clone().into());
    if let Err(e) = ctx.l1.client.call(&request, BlockNumberOrTag::Pending).await {
        let mut error = ctx.l1.call_err(e, "NativeRollup.execute");
        if let BridgeError::WouldRevert { reason, .. } = &mut error {
            if let Some(at) = time_at_end(reason, "TimelockNotElapsed:") {
                let now = ctx.l1.now().await?;
                reason.push_str(&format!(" ({}; L1 time now {now})", until(now, at)));
            } else if let Some((how, block)) = action.ended {
                reason.push_str(&format!(" — it was {how} in L1 block {block}"));
            }
        }
        return Err(error);
    }
    let l2_start = if args.wait && action.action == Action::SetL2Parameter as u8 {
        Some(ctx.l2.block_number().await?)
    } else {
        None
    };
    let receipt = ctx.l1.send(signer, rollup, U256::ZERO, input, "NativeRollup.execute", ctx.timeout).await?;
    print_events(&receipt, rollup);
    if action.action == Action::SetL2Parameter as u8 {
        let message = event::<NativeRollup::MessageEnqueued>(&receipt, rollup)?;
        let (key, value) = <(B256, U256)>::abi_decode_params(&action.payload).unwrap_or_default();
        match l2_start {
            Some(start) => {
                wait_applied(ctx, message.index, start, false).await?;
                let now =
                    ctx.l2.view(L2_GOVERNANCE, L2Governance::parametersCall(key), BlockNumberOrTag::Latest).await?;
                println!("l2 parameter {key}: {now}");
            }
            None => println!(
                "next: the L2 applies message {} in one of its next blocks: L2Governance.parameters({key}) becomes \
                 {value} (`--wait` waits for it; `nrd governance l2-parameter {key}` reads it)",
                message.index
            ),
        }
    }
    Ok(())
}

async fn cancel(ctx: &Context, signer: &PrivateKeySigner, id: B256) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let call = NativeRollup::cancelCall { id };
    let receipt =
        ctx.l1.send(signer, rollup, U256::ZERO, call.abi_encode().into(), "NativeRollup.cancel", ctx.timeout).await?;
    print_events(&receipt, rollup);
    Ok(())
}

async fn status(ctx: &Context) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let l1 = &ctx.l1;
    let at = BlockNumberOrTag::Latest;
    let owner = l1.view(rollup, NativeRollup::ownerCall {}, at).await?;
    let sequencer = l1.view(rollup, NativeRollup::sequencerCall {}, at).await?;
    let window = l1.view(rollup, NativeRollup::forcedInclusionWindowCall {}, at).await?;
    let withdrawal_delay = l1.view(rollup, NativeRollup::withdrawalDelayCall {}, at).await?;
    let timelock = l1.view(rollup, NativeRollup::timelockDelayCall {}, at).await?;
    let paused = l1.view(rollup, NativeRollup::depositsPausedCall {}, at).await?;
    let head = l1.view(rollup, NativeRollup::headNumberCall {}, at).await?;
    let last_advance = l1.view(rollup, NativeRollup::lastAdvanceAtCall {}, at).await?;
    let now = l1.now().await?;
    println!("rollup: {rollup}");
    println!("owner: {owner}");
    println!("sequencer: {sequencer}");
    println!("forced inclusion window: {window} s");
    println!("withdrawal delay: {withdrawal_delay} s");
    println!("timelock delay: {timelock} s");
    println!("deposits paused: {paused}");
    let opens_at = last_advance.saturating_add(window).saturating_add(1);
    let open = if now >= opens_at {
        "open to anyone (the sequencer has been silent past the window)".to_string()
    } else {
        format!("open to anyone from L1 time {opens_at} ({})", until(now, opens_at))
    };
    println!("l2 head on L1: {head} (last advance at L1 time {last_advance}; advance {open})");
    println!("l1 time: {now}");
    let all = actions(l1, rollup, None).await?;
    let queued: Vec<_> = all.iter().filter(|(_, a)| a.ended.is_none()).collect();
    println!("queued actions: {}", queued.len());
    for (id, a) in &queued {
        let when = if now >= a.executable_at {
            format!("executable now (since L1 time {})", a.executable_at)
        } else {
            format!("executable at L1 time {} ({})", a.executable_at, until(now, a.executable_at))
        };
        println!("  {id} {} nonce {} {when}", describe(a.action, &a.payload), a.nonce);
    }
    let done: Vec<_> = all.iter().filter(|(_, a)| a.ended.is_some()).collect();
    if !done.is_empty() {
        println!("past actions: {}", done.len());
        for (id, a) in done {
            let (how, block) = a.ended.unwrap_or_default();
            println!("  {id} {} nonce {} {how} in L1 block {block}", describe(a.action, &a.payload), a.nonce);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::decode_revert;
    use alloy_sol_types::SolError;

    #[test]
    fn actions_encode_as_the_contract_decodes_them() {
        let (action, payload) = ActionArg::SetWithdrawalDelay { seconds: 5 }.encode();
        assert_eq!(action, Action::SetWithdrawalDelay);
        assert_eq!(describe(action as u8, &payload), "SetWithdrawalDelay(5 s)");
        let key = parse_key("l2.gasLimit").unwrap();
        assert_eq!(key, keccak256("l2.gasLimit"));
        assert_eq!(parse_key(&key.to_string()).unwrap(), key);
        let (action, payload) = ActionArg::SetL2Parameter { key, value: U256::from(7) }.encode();
        assert_eq!(payload.len(), 64);
        assert!(describe(action as u8, &payload).contains("value 7"));
        let (_, paused) = ActionArg::PauseDeposits.encode();
        assert!(describe(Action::SetDepositsPaused as u8, &paused).contains("pause deposits"));
    }

    #[test]
    fn parameter_names_read_as_text() {
        let mut name = [0u8; 32];
        name[..15].copy_from_slice(b"withdrawalDelay");
        assert_eq!(name_of(B256::from(name)), "withdrawalDelay");
        assert_eq!(name_of(B256::repeat_byte(0xff)), B256::repeat_byte(0xff).to_string());
    }

    #[test]
    fn governance_reverts_are_decoded() {
        let e = NativeRollup::TimelockNotElapsed { id: B256::ZERO, executableAt: 99 };
        let reason = decode_revert(&e.abi_encode());
        assert!(reason.starts_with("TimelockNotElapsed"), "{reason}");
        assert_eq!(time_at_end(&reason, "TimelockNotElapsed:"), Some(99));
        let e = NativeRollup::NotOwner { caller: Address::repeat_byte(1) };
        assert!(decode_revert(&e.abi_encode()).starts_with("NotOwner"));
        let e = NativeRollup::NotSequencer { caller: Address::repeat_byte(1), openToAllAt: 5 };
        assert!(decode_revert(&e.abi_encode()).contains("from L1 time 5"));
    }
}
