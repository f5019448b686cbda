//! `nrd-bench rollup`: what posting L2 blocks costs on L1. Real `NativeRollup.advance`
//! transactions on the in-process L1 devnet (EXECUTE re-executes every block statelessly, blobs
//! carry real KZG commitments): L1 gas per L2 block and per L2 transaction in calldata and blob
//! mode, block by block (`advance`) and as one run (`advanceRun`: one EXECUTE, one merged
//! witness), with the EXECUTE fee (paid as L1 gas) shown apart from the rest; calldata and blob
//! bytes, and the compressed DA bytes per transfer.

use crate::BenchError;
use alloy_consensus::TxEnvelope;
use alloy_primitives::{Address, Bytes, U256, keccak256};
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::{DaMode, PostedBlock, encode_advance, encode_advance_run};
use nrd_execute_client::{Compression, MeterConfig, USABLE_BYTES_PER_BLOB, blobs_to_payload, encode_batch};
use nrd_testkit::{ETH, Rollup};

/// One measured `advance`.
struct Posted {
    gas: u64,
    /// The part of `gas` that is the EXECUTE fee (charged as L1 gas at the transaction's price).
    fee_gas: u64,
    calldata: usize,
    blobs: usize,
    /// Bytes of the blob payload (the compressed batch, with the run's witness in a run).
    blob_bytes: usize,
    witness: usize,
}

/// The `i`-th of `accounts` existing L2 accounts (recipients are drawn from them).
fn account(i: usize) -> Address {
    Address::from_slice(&keccak256(format!("bench account {i}"))[..20])
}

fn transfers(
    r: &Rollup,
    keys: &[PrivateKeySigner],
    nonces: &mut [u64],
    count: usize,
    salt: u64,
    accounts: usize,
) -> Vec<TxEnvelope> {
    (0..count)
        .map(|i| {
            let k = i % keys.len();
            nonces[k] += 1;
            // Recipients spread over the whole state: the costly case for witnesses.
            let pick = u64::from_be_bytes(keccak256(format!("{salt}/{i}"))[..8].try_into().unwrap_or_default());
            let to = account((pick % accounts.max(1) as u64) as usize);
            r.l2.tx(&keys[k], nonces[k] - 1, to, U256::from(1_000 + i as u64), Bytes::new())
        })
        .collect()
}

fn post(
    blocks: usize,
    per_block: usize,
    senders: usize,
    accounts: usize,
    mode: DaMode,
    run: bool,
) -> Result<(Posted, Vec<PostedBlock>), BenchError> {
    let keys: Vec<PrivateKeySigner> = (0..senders)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(format!("bench sender {i}"))).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    let mut prefunded: Vec<(Address, U256)> = keys.iter().map(|k| (k.address(), U256::from(100 * ETH))).collect();
    prefunded.extend((0..accounts).map(|i| (account(i), U256::from(1))));
    let mut r = Rollup::new(&prefunded);
    let mut nonces = vec![0u64; senders];
    let mut batch = Vec::with_capacity(blocks);
    for b in 0..blocks {
        let txs = transfers(&r, &keys, &mut nonces, per_block, b as u64, accounts);
        batch.push(r.build(false, txs));
    }
    let (tx, witness) = if run {
        let witness = r.l2.run_witness(&batch);
        let len = alloy_rlp::encode(&witness).len();
        (encode_advance_run(&batch, &witness, mode).map_err(|e| e.to_string())?, len)
    } else {
        let len = batch.iter().map(|b| alloy_rlp::encode(&b.witness).len()).sum();
        (encode_advance(&batch, mode).map_err(|e| e.to_string())?, len)
    };
    let (calldata, blobs) = (tx.calldata.len(), tx.sidecar.as_ref().map_or(0, |s| s.blobs.len()));
    // The harness sends with a 50M gas limit: a calldata too large for it (its EIP-7623 floor
    // above) is not sent.
    let intrinsic = revm::context_interface::cfg::gas::calculate_initial_tx_gas(
        revm::primitives::hardfork::SpecId::PRAGUE,
        &tx.calldata,
        false,
        0,
        0,
        0,
        None,
    );
    let needed = intrinsic.initial_total_gas().max(intrinsic.floor_gas);
    if needed > 50_000_000 {
        return Err(
            format!("{calldata} bytes of calldata need {needed} gas before execution, above the 50M sent").into()
        );
    }
    let blob_bytes = match &tx.sidecar {
        None => 0,
        Some(s) => blobs_to_payload(&s.blobs.iter().collect::<Vec<_>>()).map_err(|e| e.to_string())?.len(),
    };
    // The L2 blocks took a second each; L1 posts them once the last one is in the past.
    r.l1.increase_time(blocks as u64);
    // The EXECUTE fee the posting pays, as L1 gas: at the next L1 block's EXECUTE base fee and
    // the transaction's price (the testkit's 1 gwei tip over the next L1 base fee).
    let devnet = &r.l1.devnet;
    let head = devnet.head();
    let meter = devnet.execute_gas(head.number()).ok_or_else(|| "the devnet has no EXECUTE meter".to_string())?;
    let meter_config = MeterConfig::default();
    let next_fee = meter_config.next_base_fee(meter.base_fee, meter.used);
    let price = u128::from(
        head.header().next_block_base_fee(alloy_eips::eip1559::BaseFeeParams::ethereum()).unwrap_or_default(),
    ) + 1_000_000_000;
    let execute_gas: u64 = batch.iter().map(PostedBlock::execute_gas).sum();
    let fee_gas = meter_config.fee_gas(execute_gas, next_fee, price);
    let seq = r.sequencer();
    let out = if run { r.advance_run(&seq, &batch, mode) } else { r.advance(&seq, &batch, mode) };
    if !out.success {
        return Err(format!("advance of {blocks}x{per_block} in {mode:?} mode (run: {run}) failed").into());
    }
    Ok((Posted { gas: out.gas_used, fee_gas, calldata, blobs, blob_bytes, witness }, batch))
}

/// What `nrd-bench rollup` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// Batch shapes `BLOCKSxTRANSFERS`, comma separated.
    #[arg(long, default_value = "1x100,4x100,1x600", value_delimiter = ',', value_parser = parse_shape)]
    pub(crate) shapes: Vec<(usize, usize)>,
    /// Distinct L2 senders.
    #[arg(long, default_value_t = 50)]
    pub(crate) senders: usize,
    /// Other accounts in the L2 state (recipients are drawn among them).
    #[arg(long, default_value_t = 100_000)]
    pub(crate) accounts: usize,
}

/// A batch shape `BLOCKSxTRANSFERS` (at least one block).
fn parse_shape(value: &str) -> Result<(usize, usize), String> {
    let (blocks, txs) = value.split_once('x').ok_or_else(|| format!("`{value}` is not BLOCKSxTRANSFERS"))?;
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|e| format!("`{value}`: {e}"));
    match (parse(blocks)?, parse(txs)?) {
        (0, _) => Err(format!("`{value}`: at least one block")),
        shape => Ok(shape),
    }
}

pub(crate) fn run(args: &Args) -> Result<(), BenchError> {
    let (shapes, senders, accounts) = (&args.shapes, args.senders, args.accounts);
    println!("L2 state: {accounts} accounts besides {senders} senders; recipients drawn among them");
    println!();
    println!(
        "| L2 blocks x transfers | mode | posted as | advance L1 gas | of it EXECUTE fee | gas / L2 tx | gas / L2 tx without the fee | calldata bytes | witness bytes | blobs | blob bytes / L2 tx |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut all_txs: Vec<Vec<TxEnvelope>> = Vec::new();
    for &(blocks, per_block) in shapes {
        for mode in [DaMode::Calldata, DaMode::Blob] {
            for run in [false, true] {
                let posted_as = if run { "one run" } else { "blocks" };
                let (p, batch) = match post(blocks, per_block, senders, accounts, mode, run) {
                    Ok(done) => done,
                    // A shape L1 cannot take in one transaction (calldata or blob limits) is a
                    // result too.
                    Err(e) => {
                        println!(
                            "| {blocks} x {per_block} | {mode:?} | {posted_as} | does not post: {e} | | | | | | | |"
                        );
                        continue;
                    }
                };
                let txs = (blocks * per_block).max(1) as f64;
                println!(
                    "| {blocks} x {per_block} | {mode:?} | {posted_as} | {} | {} | {:.0} | {:.0} | {} | {} | {} | {:.0} |",
                    p.gas,
                    p.fee_gas,
                    p.gas as f64 / txs,
                    p.gas.saturating_sub(p.fee_gas) as f64 / txs,
                    p.calldata,
                    p.witness,
                    p.blobs,
                    p.blob_bytes as f64 / txs
                );
                if mode == DaMode::Blob && !run {
                    all_txs.extend(batch.iter().map(|b| b.block.body.transactions.clone()));
                }
            }
        }
    }
    // Data availability: the batch format of blob mode on every transfer posted above.
    let count: usize = all_txs.iter().map(Vec::len).sum();
    let raw = encode_batch(&all_txs, Compression::None).len();
    let brotli = encode_batch(&all_txs, Compression::Brotli).len();
    let per_tx = brotli as f64 / count as f64;
    println!();
    println!("DA over {count} transfers ({} blocks):", all_txs.len());
    println!("  raw batch        {raw} bytes, {:.1} bytes/transfer", raw as f64 / count as f64);
    println!("  brotli batch     {brotli} bytes, {per_tx:.1} bytes/transfer");
    println!(
        "  transfers / blob {:.0} (usable {USABLE_BYTES_PER_BLOB} bytes per blob; public reference ~900)",
        USABLE_BYTES_PER_BLOB as f64 / per_tx
    );
    Ok(())
}
