//! L2 → L1: `withdraw` on L2, `prove-withdrawal` once L1 holds the state root, `claim` after
//! the withdrawal delay.

use super::{BridgeError, Context, find_event, format_ether, parse_amount, time_at_end, until, wait_for};
use alloy_eips::{BlockId, BlockNumberOrTag};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rpc_types_eth::{EIP1186AccountProofResponse, TransactionReceipt, TransactionRequest};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent};
use clap::Args;
use jsonrpsee::rpc_params;
use nrd_bridge::{
    L2_TO_L1_MESSAGE_PASSER, L2ToL1MessagePasser, NativeRollup, Withdrawal, withdrawal_hash, withdrawal_slot,
};
use serde::{Deserialize, Serialize};
use std::{fmt, path::PathBuf};

#[derive(Debug, Args)]
pub(crate) struct WithdrawArgs {
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
pub(crate) struct ProveArgs {
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
pub(crate) struct ClaimArgs {
    /// A proof file written by `prove-withdrawal`.
    #[arg(long)]
    proof: PathBuf,
    /// Only check the claim with `eth_call`; send nothing.
    #[arg(long)]
    dry_run: bool,
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

pub(crate) async fn withdraw(ctx: &Context, signer: &PrivateKeySigner, args: &WithdrawArgs) -> Result<(), BridgeError> {
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

pub(crate) async fn prove(ctx: &Context, args: &ProveArgs) -> Result<(), BridgeError> {
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

pub(crate) async fn claim(ctx: &Context, signer: &PrivateKeySigner, args: &ClaimArgs) -> Result<(), BridgeError> {
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

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
}
