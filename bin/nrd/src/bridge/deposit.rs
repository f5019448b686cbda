//! L1 → L2: `deposit` and `force-include` enqueue a message in `NativeRollup`; the L2 applies it.

use super::{BridgeError, Context, event, format_ether, parse_amount, wait_for};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolCall;
use clap::Args;
use nrd_bridge::{L1_MESSAGE_INBOX, L1MessageInbox, NativeRollup, alias_of};

/// Gas of the L2 call of a message when `--gas-limit` is not given.
const DEFAULT_MESSAGE_GAS: u64 = 100_000;

/// The L2 call of a message (flags of `deposit` and `force-include`).
#[derive(Debug, Args)]
pub(crate) struct L2CallArgs {
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

/// `nrd bridge deposit` flags.
#[derive(Debug, Args)]
pub(crate) struct DepositArgs {
    /// The L2 recipient (an account, or a contract called with `--data`).
    #[arg(long)]
    to: Address,
    /// Wei to deposit: a number of wei or an amount with a unit (`1ether`, `0.5eth`, `20gwei`).
    #[arg(long, value_parser = parse_amount)]
    value: U256,
    #[command(flatten)]
    call: L2CallArgs,
}

/// `nrd bridge force-include` flags.
#[derive(Debug, Args)]
pub(crate) struct ForceIncludeArgs {
    /// The L2 address to call.
    #[arg(long)]
    to: Address,
    /// Wei the alias sends with the L2 call (from what it holds, including `--mint`).
    #[arg(long, value_parser = parse_amount, default_value = "0")]
    value: U256,
    /// Wei to bring from L1 and credit to the alias first (`msg.value`).
    #[arg(long, value_parser = parse_amount, default_value = "0")]
    mint: U256,
    #[command(flatten)]
    call: L2CallArgs,
}

pub(crate) async fn deposit(ctx: &Context, signer: &PrivateKeySigner, args: &DepositArgs) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let call = NativeRollup::depositCall { to: args.to, gasLimit: args.call.gas_limit, data: args.call.data.clone() };
    let l2_start = if args.call.wait { Some(ctx.l2.block_number().await?) } else { None };
    let receipt =
        ctx.l1.send(signer, rollup, args.value, call.abi_encode().into(), "NativeRollup.deposit", ctx.timeout).await?;
    let message = event::<NativeRollup::MessageEnqueued>(&receipt, rollup)?;
    println!("message index: {}", message.index);
    println!("l2 recipient: {} receives {}", args.to, format_ether(args.value));
    println!("l2 sender (alias of {}): {}", signer.address(), alias_of(signer.address()));
    match l2_start {
        Some(start) => wait_applied(ctx, message.index, start, !args.call.data.is_empty()).await,
        None => {
            println!(
                "next: the L2 applies message {} in one of its next blocks (`--wait` waits for it: L1MessageInbox.nextIndex() > {})",
                message.index, message.index
            );
            Ok(())
        }
    }
}

pub(crate) async fn force_include(
    ctx: &Context,
    signer: &PrivateKeySigner,
    args: &ForceIncludeArgs,
) -> Result<(), BridgeError> {
    let rollup = ctx.rollup().await?;
    let call = NativeRollup::sendMessageCall {
        to: args.to,
        value: args.value,
        gasLimit: args.call.gas_limit,
        data: args.call.data.clone(),
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
    let l2_start = if args.call.wait { Some(ctx.l2.block_number().await?) } else { None };
    let receipt = ctx
        .l1
        .send(signer, rollup, args.mint, call.abi_encode().into(), "NativeRollup.sendMessage", ctx.timeout)
        .await?;
    let message = event::<NativeRollup::MessageEnqueued>(&receipt, rollup)?;
    let window = ctx.l1.view(rollup, NativeRollup::forcedInclusionWindowCall {}, BlockNumberOrTag::Latest).await?;
    let deadline = message.enqueuedAt.saturating_add(window);
    println!("message index: {}", message.index);
    println!("l2 sender (alias of {}): {alias}", signer.address());
    println!("l2 call: {} with {} and {} gas", args.to, format_ether(args.value), args.call.gas_limit);
    println!("enqueued at: L1 time {}", message.enqueuedAt);
    println!("deadline: L1 time {deadline} (enqueued at + forcedInclusionWindow {window} s)");
    println!(
        "note: from the deadline on, NativeRollup refuses any advance that leaves message {} out (OverdueMessage), \
         and once the sequencer has posted nothing for {window} s anyone may advance the rollup",
        message.index
    );
    match l2_start {
        Some(start) => wait_applied(ctx, message.index, start, !args.call.data.is_empty()).await,
        None => {
            println!("next: the L2 applies message {} (`--wait` waits for it)", message.index);
            Ok(())
        }
    }
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
