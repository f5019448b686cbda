//! Differential test: L1 and a follower judge the same random and mutated L2 blocks.
//!
//! - **L1**: `NativeRollup.advance` from the sequencer on the in-process devnet, in calldata or
//!   blob mode (the contract's header rules, then EXECUTE's stateless re-execution).
//! - **Follower**: what `nrd_node::L2Chain::import` does with L1 data (docs/protocol.md §8.6):
//!   `decode_advance` of the same transaction (blobs from its sidecar), the rollup's header rules
//!   (`check_header_rules`), and a stateful `import_block` with the anchor `anchor_calldata` builds.
//!
//! Each round builds a valid block on the rollup's head with random transfers, withdrawals,
//! reverting calls and L1 deposits, derives a few mutations of it (header fields, body,
//! witness, anchor and messages, and blocks re-sealed with changed inputs), and posts them one by
//! one until one is accepted; the valid block comes last. A block both accept becomes the new
//! head of both. They must agree on every block: accepted by both or refused by both. Two kinds
//! of case differ by design and are checked as such:
//! - a witness that is not exactly the block's: L1 refuses, while the block itself (all a
//!   follower reads) is unchanged and valid;
//! - rules only the contract can check, because they involve L1's state at posting time (a
//!   timestamp ahead of L1's clock): L1 refuses; a follower never sees such a block, since it
//!   only reads what L1 accepted.
//!
//! The seed is fixed (`NRD_DIFF_SEED` overrides it); a disagreement prints the seed, the round,
//! the mutation, the mode and both verdicts.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use alloy_consensus::{Header, Sealed};
use alloy_eips::eip4895::Withdrawal as BeaconWithdrawal;
use alloy_primitives::{Address, B256, Bloom, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolError, SolInterface};
use nrd_bridge::{L1_MESSAGE_INBOX, L1Message, L2_TO_L1_MESSAGE_PASSER, L2ToL1MessagePasser, NativeRollup};
use nrd_chain::{MemoryState, StateProvider, StateRef, import_block};
use nrd_derivation::{
    AdvanceTx, DaMode, PostedBlock, anchor_calldata, check_header_rules, decode_advance, encode_advance,
};
use nrd_execute_client::Ancestors;
use nrd_testkit::{ETH, Rollup, l2_key};
use std::collections::BTreeMap;

const SEED: u64 = 0x6e72_645f_6469_6666;
/// Runtime of the refunder: `n = calldata[0..32]`; for `n` down to 1, `sstore(n, 1); sstore(n, 0)`
/// (each pair refunds most of its cost, up to the cap of a fifth of the gas spent).
const REFUNDER_RUNTIME: [u8; 24] = [
    0x5f, 0x35, 0x5b, 0x80, 0x15, 0x60, 0x16, 0x57, 0x60, 0x01, 0x81, 0x55, 0x5f, 0x81, 0x55, 0x60, 0x01, 0x90, 0x03,
    0x60, 0x02, 0x56, 0x5b, 0x00,
];
const ROUNDS: usize = 50;
/// Mutations tried per round before the valid block (those not tried yet first).
const MUTATIONS: usize = 5;

/// SplitMix64: a seeded generator small enough to read.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    fn b256(&mut self) -> B256 {
        B256::from_slice(&self.bytes(32))
    }

    fn address(&mut self) -> Address {
        Address::from_slice(&self.bytes(20))
    }

    /// `value` with one byte changed.
    fn flip(&mut self, value: B256) -> B256 {
        let mut bytes = value.0;
        bytes[self.below(32)] ^= 1 + (self.next() % 255) as u8;
        B256::from(bytes)
    }
}

/// What a case checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// L1 and the follower must agree.
    Block,
    /// Only the witness changed: L1 must refuse; the follower, reading the block only, accepts.
    Witness,
    /// A rule of the contract on L1's state at posting: L1 refuses, the follower accepts.
    ContractOnly,
}

/// A block to judge.
struct Case {
    label: String,
    kind: Kind,
    posted: PostedBlock,
}

/// The follower: the L2 chain rebuilt from L1 data only.
struct Follower {
    spec: nrd_chain::ChainSpec,
    gas_limit: u64,
    state: MemoryState,
    headers: Vec<Sealed<Header>>,
}

impl Follower {
    fn new(r: &Rollup) -> Self {
        let mut state = r.l2.genesis.state();
        let headers = vec![r.l2.genesis.header(state.root())];
        Self { spec: r.l2.genesis.spec(), gas_limit: r.l2.genesis.gas_limit(), state, headers }
    }

    /// The follower's verdict on an `advance` transaction: the post-state of its (one) block.
    fn judge(&self, r: &Rollup, tx: &AdvanceTx) -> Result<(PostedBlock, MemoryState), String> {
        let blobs: BTreeMap<B256, alloy_eips::eip4844::Blob> = tx
            .sidecar
            .as_ref()
            .map(|s| s.versioned_hashes().zip(s.blobs.iter().copied()).collect())
            .unwrap_or_default();
        let lookup = |hash: &B256| blobs.get(hash).copied();
        let mut posted = decode_advance(&tx.calldata, &lookup).map_err(|e| format!("decode: {e}"))?;
        assert_eq!(posted.len(), 1, "one block per advance");
        let posted = posted.remove(0);
        let l1_hash =
            r.l1.devnet
                .block(posted.l1_anchor)
                .ok_or_else(|| format!("L1 block {} does not exist", posted.l1_anchor))?
                .hash;
        check_header_rules(&posted.block, l1_hash, self.gas_limit).map_err(|e| format!("header rules: {e}"))?;
        let anchor = anchor_calldata(posted.l1_anchor, l1_hash, &posted.messages);
        let ancestors = Ancestors::new(self.headers.iter().rev().take(256).cloned().collect()).unwrap();
        let parent = self.headers.last().unwrap();
        let mut state = self.state.clone();
        import_block(&self.spec, parent, &posted.block, &anchor, &mut state, &ancestors)
            .map_err(|e| format!("import: {e}"))?;
        Ok((posted, state))
    }
}

/// L1's verdict: the advance from the sequencer, sealed.
fn post(r: &mut Rollup, tx: &AdvanceTx) -> bool {
    let seq = r.sequencer();
    let out = match &tx.sidecar {
        None => r.l1.send(&seq, alloy_primitives::TxKind::Call(r.address), U256::ZERO, tx.calldata.clone()),
        Some(sidecar) => r.l1.send_blobs(&seq, r.address, tx.calldata.clone(), sidecar.clone()),
    };
    out.success
}

/// Why L1 refuses `posted` (simulated in calldata mode on the current head), for the report.
fn l1_reason(r: &Rollup, posted: &PostedBlock) -> String {
    let Ok(tx) = encode_advance(std::slice::from_ref(posted), DaMode::Calldata) else {
        return "does not encode".into();
    };
    match r.l1.call(r.sequencer().address(), r.address, U256::ZERO, tx.calldata) {
        Ok(_) => "accepted in a calldata-mode simulation".into(),
        Err(data) => match NativeRollup::NativeRollupErrors::abi_decode(&data) {
            Ok(NativeRollup::NativeRollupErrors::ExecuteFailed(e)) => {
                let reason = alloy_sol_types::Revert::abi_decode(&e.reason).map(|r| r.reason).unwrap_or_default();
                format!("ExecuteFailed: {reason}")
            }
            Ok(other) => format!("{other:?}"),
            Err(_) => format!("revert 0x{}", alloy_primitives::hex::encode(&data)),
        },
    }
}

/// Runtime of the prober: `n = calldata[0..32]`; `n` times `call(gas, 0xab, 1 wei, …)`, which
/// fails before running anything (the prober has no balance) and hands all the gas it was
/// given back: EXECUTE's work budget must count none of it.
const PROBER_RUNTIME: [u8; 28] = [
    0x5f, 0x35, 0x5b, 0x80, 0x15, 0x60, 0x1a, 0x57, 0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x60, 0xab, 0x5a, 0xf1, 0x50,
    0x60, 0x01, 0x90, 0x03, 0x60, 0x02, 0x56, 0x5b, 0x00,
];

/// A transaction deploying `runtime` (under 256 bytes) from `key`.
fn deploy(key: &PrivateKeySigner, nonce: u64, runtime: &[u8]) -> alloy_consensus::TxEnvelope {
    let len = u8::try_from(runtime.len()).unwrap();
    // codecopy(0, 10, len); return(0, len); then the runtime.
    let mut init = vec![0x60, len, 0x60, 0x0a, 0x5f, 0x39, 0x60, len, 0x5f, 0xf3];
    init.extend_from_slice(runtime);
    let tx = alloy_consensus::TxEip1559 {
        chain_id: nrd_testkit::L2_CHAIN_ID,
        nonce,
        gas_limit: 200_000,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 1,
        to: alloy_primitives::TxKind::Create,
        value: U256::ZERO,
        input: init.into(),
        access_list: Default::default(),
    };
    nrd_test_utils::sign(key, tx)
}

/// Calldata for the refunder and the prober: `n` rounds.
fn refunds(n: u64) -> Bytes {
    U256::from(n).to_be_bytes::<32>().to_vec().into()
}

fn account_nonce(r: &Rollup, address: Address) -> u64 {
    StateRef(&r.l2.state).account(address).unwrap().map_or(0, |a| a.nonce)
}

/// Random L2 transactions: transfers, withdrawals, calls that revert, calls with large refunds,
/// calls whose inner calls fail at once.
fn random_txs(
    r: &Rollup,
    rng: &mut Rng,
    keys: &[PrivateKeySigner],
    [refunder, prober]: [Address; 2],
) -> Vec<alloy_consensus::TxEnvelope> {
    let mut nonces: Vec<u64> = keys.iter().map(|k| account_nonce(r, k.address())).collect();
    (0..rng.below(7))
        .map(|_| {
            let k = rng.below(keys.len());
            nonces[k] += 1;
            let nonce = nonces[k] - 1;
            match rng.below(13) {
                10 | 11 => r.l2.tx(&keys[k], nonce, refunder, U256::ZERO, refunds(1 + rng.next() % 14)),
                12 => r.l2.tx(&keys[k], nonce, prober, U256::ZERO, refunds(1 + rng.next() % 10)),
                0..=5 => {
                    let to = if rng.chance(30) { keys[rng.below(keys.len())].address() } else { rng.address() };
                    r.l2.tx(&keys[k], nonce, to, U256::from(rng.next() % 1_000_000_000_000), Bytes::new())
                }
                6 | 7 => {
                    let target = rng.address();
                    let len = rng.below(40);
                    let data = Bytes::from(rng.bytes(len));
                    let call = L2ToL1MessagePasser::initiateWithdrawalCall { target, data }.abi_encode();
                    r.l2.tx(&keys[k], nonce, L2_TO_L1_MESSAGE_PASSER, U256::from(rng.next() % 1_000_000), call.into())
                }
                // Not the system caller: the inbox reverts.
                _ => r.l2.tx(&keys[k], nonce, L1_MESSAGE_INBOX, U256::ZERO, Bytes::from(rng.bytes(4))),
            }
        })
        .collect()
}

/// The mutations of `valid` (built on the rollup's head with `pending` messages and `txs`).
fn mutations(
    r: &Rollup,
    rng: &mut Rng,
    valid: &PostedBlock,
    pending: &[L1Message],
    txs: &[alloy_consensus::TxEnvelope],
    last_anchor: u64,
) -> Vec<Case> {
    let mut cases = Vec::new();
    let h = &valid.block.header;
    let parent = r.l2.head().clone();
    let mut raw = |label: &str, kind: Kind, edit: &mut dyn FnMut(&mut PostedBlock)| {
        let mut posted = valid.clone();
        edit(&mut posted);
        cases.push(Case { label: label.into(), kind, posted });
    };
    let b = Kind::Block;
    // Header fields, changed without re-sealing.
    let (x, y, z) = (rng.b256(), rng.address(), rng.below(32) + 1);
    let extra = Bytes::from(rng.bytes(z));
    let flipped = [rng.flip(h.state_root), rng.flip(h.mix_hash), rng.flip(h.withdrawals_root.unwrap_or_default())];
    raw("header: state root", b, &mut |p| p.block.header.state_root = flipped[0]);
    raw("header: gas used + 1", b, &mut |p| p.block.header.gas_used += 1);
    if h.gas_used > 0 {
        raw("header: gas used - 1", b, &mut |p| p.block.header.gas_used -= 1);
    }
    raw("header: gas limit + 1", b, &mut |p| p.block.header.gas_limit += 1);
    raw("header: gas limit - 1", b, &mut |p| p.block.header.gas_limit -= 1);
    raw("header: timestamp + 1", b, &mut |p| p.block.header.timestamp += 1);
    if h.timestamp > parent.timestamp + 1 {
        raw("header: timestamp - 1", b, &mut |p| p.block.header.timestamp -= 1);
    }
    raw("header: mixHash", b, &mut |p| p.block.header.mix_hash = flipped[1]);
    raw("header: parent beacon root", b, &mut |p| p.block.header.parent_beacon_block_root = Some(x));
    raw("header: extra data", b, &mut |p| p.block.header.extra_data = extra.clone());
    raw("header: 33 bytes of extra data", b, &mut |p| p.block.header.extra_data = Bytes::from(vec![7u8; 33]));
    raw("header: beneficiary", b, &mut |p| p.block.header.beneficiary = y);
    raw("header: base fee + 1", b, &mut |p| {
        p.block.header.base_fee_per_gas = p.block.header.base_fee_per_gas.map(|f| f + 1)
    });
    raw("header: withdrawals root", b, &mut |p| p.block.header.withdrawals_root = Some(flipped[2]));
    raw("header: blob gas used", b, &mut |p| p.block.header.blob_gas_used = Some(131_072));
    raw("header: excess blob gas", b, &mut |p| p.block.header.excess_blob_gas = Some(131_072));
    raw("header: requests hash", b, &mut |p| p.block.header.requests_hash = Some(x));
    raw("header: receipts root", b, &mut |p| p.block.header.receipts_root = x);
    raw("header: transactions root", b, &mut |p| p.block.header.transactions_root = x);
    raw("header: logs bloom", b, &mut |p| p.block.header.logs_bloom = Bloom::repeat_byte(1));
    raw("header: parent hash", b, &mut |p| p.block.header.parent_hash = x);
    raw("header: number + 1", b, &mut |p| p.block.header.number += 1);
    raw("header: difficulty", b, &mut |p| p.block.header.difficulty = U256::from(1));
    raw("header: nonce", b, &mut |p| p.block.header.nonce = alloy_primitives::B64::repeat_byte(1));
    // The body.
    let withdrawal = BeaconWithdrawal { index: 0, validator_index: 1, address: y, amount: 1_000_000_000 };
    for recompute in [false, true] {
        let label = |what: &str| format!("body: {what}{}", if recompute { " (root updated)" } else { "" });
        let mut with_txs = |label: String, edit: &dyn Fn(&mut Vec<alloy_consensus::TxEnvelope>)| {
            let mut posted = valid.clone();
            edit(&mut posted.block.body.transactions);
            if recompute {
                posted.block.header.transactions_root =
                    alloy_consensus::proofs::calculate_transaction_root(&posted.block.body.transactions);
            }
            cases.push(Case { label, kind: b, posted });
        };
        if !txs.is_empty() {
            with_txs(label("drop the last tx"), &|t| {
                t.pop();
            });
            with_txs(label("duplicate the first tx"), &|t| t.push(t[0].clone()));
        }
        if txs.len() >= 2 {
            with_txs(label("swap the first two txs"), &|t| t.swap(0, 1));
        }
        let mut posted = valid.clone();
        posted.block.body.withdrawals = Some(vec![withdrawal].into());
        if recompute {
            posted.block.header.withdrawals_root =
                Some(alloy_consensus::proofs::calculate_withdrawals_root(&[withdrawal]));
        }
        cases.push(Case { label: label("an EIP-4895 withdrawal"), kind: b, posted });
    }
    let mut posted = valid.clone();
    posted.block.body.ommers = vec![parent.inner().clone()];
    cases.push(Case { label: "body: an ommer".into(), kind: b, posted });
    // The witness.
    let w = Kind::Witness;
    let node = rng.below(valid.witness.state.len());
    let len = 40 + rng.below(500);
    let junk = Bytes::from(rng.bytes(len));
    let mut raw = |label: &str, kind: Kind, edit: &mut dyn FnMut(&mut PostedBlock)| {
        let mut posted = valid.clone();
        edit(&mut posted);
        cases.push(Case { label: label.into(), kind, posted });
    };
    raw("witness: drop a node", w, &mut |p| {
        p.witness.state.remove(node);
    });
    raw("witness: drop the last header", w, &mut |p| {
        p.witness.headers.pop();
    });
    raw("witness: add an unused node", w, &mut |p| p.witness.state.push(junk.clone()));
    raw("witness: a node twice", w, &mut |p| p.witness.state.push(p.witness.state[node].clone()));
    raw("witness: add an unused code", w, &mut |p| p.witness.codes.push(junk.clone()));
    if !valid.witness.codes.is_empty() {
        raw("witness: drop a code", w, &mut |p| {
            p.witness.codes.pop();
        });
    }
    if r.l2.headers.len() >= 2 {
        let grandparent: Bytes = alloy_rlp::encode(r.l2.headers[r.l2.headers.len() - 2].inner()).into();
        raw("witness: an unused ancestor header", w, &mut |p| p.witness.headers.push(grandparent.clone()));
    }
    // The anchor and the messages.
    let head = r.l1.head_ref().number;
    if valid.l1_anchor > 0 {
        raw("anchor: previous L1 block", b, &mut |p| p.l1_anchor -= 1);
    }
    if valid.l1_anchor < head {
        raw("anchor: next L1 block", b, &mut |p| p.l1_anchor += 1);
    }
    if !valid.messages.is_empty() {
        raw("messages: drop the last", b, &mut |p| {
            p.messages.pop();
        });
        raw("messages: the first with another value", b, &mut |p| p.messages[0].value += U256::from(1));
    }
    if let Some(next) = r.queue.get(r.applied + valid.messages.len()) {
        raw("messages: add the next pending one", b, &mut |p| p.messages.push(next.clone()));
    }
    raw("messages: add a forged one", b, &mut |p| {
        let index = r.applied as u64 + p.messages.len() as u64;
        p.messages.push(L1Message {
            kind: 0,
            from: y,
            to: y,
            mint: U256::from(ETH),
            value: U256::ZERO,
            gasLimit: 100_000,
            index,
            enqueuedAt: 1,
            data: Bytes::new(),
        });
    });
    // Re-sealed: a block built (and its witness recorded) from changed inputs.
    let l1 = r.l1.block_ref(valid.l1_anchor);
    let mut reseal = |label: &str,
                      kind: Kind,
                      pending: &[L1Message],
                      l1: nrd_derivation::L1BlockRef,
                      tamper: &dyn Fn(&mut nrd_chain::BlockAttributes)| {
        let (posted, _) = r.l2.propose(pending, txs.to_vec(), l1, tamper);
        cases.push(Case { label: format!("re-sealed: {label}"), kind, posted });
    };
    reseal("extra data", b, pending, l1, &|a| a.extra_data = extra.clone());
    reseal("beneficiary", b, pending, l1, &|a| a.beneficiary = y);
    reseal("gas limit + 1", b, pending, l1, &|a| a.gas_limit += 1);
    reseal("prevRandao", b, pending, l1, &|a| a.prev_randao = x);
    reseal("parent beacon root", b, pending, l1, &|a| a.parent_beacon_block_root = Some(x));
    reseal("an EIP-4895 withdrawal", b, pending, l1, &|a| a.withdrawals = Some(vec![withdrawal]));
    reseal("timestamp far ahead of L1", Kind::ContractOnly, pending, l1, &|a| a.timestamp += 10_000);
    if !pending.is_empty() {
        reseal("one message fewer", b, &pending[..pending.len() - 1], l1, &|_| {});
    }
    if valid.l1_anchor > last_anchor {
        let older = r.l1.block_ref(last_anchor + rng.below((valid.l1_anchor - last_anchor) as usize) as u64);
        reseal("an older L1 block (not before the last anchor)", b, pending, older, &|_| {});
    }
    cases
}

#[test]
fn l1_and_the_follower_agree_on_random_and_mutated_blocks() {
    let seed = std::env::var("NRD_DIFF_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(SEED);
    let mut rng = Rng(seed);
    let keys: Vec<PrivateKeySigner> = (0..4).map(|i| l2_key(&format!("differential {i}"))).collect();
    let prefunded: Vec<(Address, U256)> = keys.iter().map(|k| (k.address(), U256::from(1_000 * ETH))).collect();
    let mut r = Rollup::new(&prefunded);
    let mut follower = Follower::new(&r);
    let mut last_anchor = 0u64;
    // The refunder and the prober, deployed by the first key's first transactions.
    let contracts = [keys[0].address().create(0), keys[0].address().create(1)];
    let refunder = contracts[0];
    let mut tally: BTreeMap<String, [usize; 2]> = BTreeMap::new();
    for round in 0..ROUNDS {
        let deployed = account_nonce(&r, keys[0].address()) > 0;
        for _ in 0..rng.below(3) {
            let key = r.l1.key(2 + rng.below(4));
            let value = U256::from(1 + rng.next() % 1_000_000_000_000);
            let out = if deployed && rng.chance(30) {
                // A forced transaction into the refunder: refunds inside the anchor system call.
                let data = refunds(1 + rng.next() % 20);
                r.send(
                    &key,
                    value,
                    NativeRollup::sendMessageCall { to: refunder, value: U256::ZERO, gasLimit: 1_000_000, data },
                )
            } else {
                let to = if rng.chance(50) { keys[rng.below(keys.len())].address() } else { rng.address() };
                let gas = 100_000 + rng.below(200_000) as u64;
                r.send(&key, value, NativeRollup::depositCall { to, gasLimit: gas, data: Bytes::new() })
            };
            assert!(out.success, "message sent");
        }
        r.l1.increase_time(2);
        let pending = if rng.chance(80) { r.pending() } else { Vec::new() };
        let txs = if deployed {
            random_txs(&r, &mut rng, &keys, contracts)
        } else {
            vec![deploy(&keys[0], 0, &REFUNDER_RUNTIME), deploy(&keys[0], 1, &PROBER_RUNTIME)]
        };
        // Anchored to L1's head, like the sequencer, or at times to an older block (allowed).
        let head = r.l1.head_ref().number;
        let anchor =
            if rng.chance(70) { head } else { last_anchor + rng.below((head - last_anchor) as usize + 1) as u64 };
        let (valid, _) = r.l2.propose(&pending, txs.clone(), r.l1.block_ref(anchor), |_| {});
        let mode = if rng.chance(50) { DaMode::Calldata } else { DaMode::Blob };
        let mut all = mutations(&r, &mut rng, &valid, &pending, &txs, last_anchor);
        let mut cases = Vec::new();
        while cases.len() < MUTATIONS && !all.is_empty() {
            let untried: Vec<usize> = (0..all.len()).filter(|&i| !tally.contains_key(&all[i].label)).collect();
            let pick = if untried.is_empty() { rng.below(all.len()) } else { untried[rng.below(untried.len())] };
            cases.push(all.swap_remove(pick));
        }
        cases.push(Case { label: "valid".into(), kind: Kind::Block, posted: valid });
        for case in cases {
            let tx = encode_advance(std::slice::from_ref(&case.posted), mode).expect("every case encodes");
            let following = follower.judge(&r, &tx);
            let accepted = post(&mut r, &tx);
            let agree = match case.kind {
                Kind::Block => accepted == following.is_ok(),
                Kind::Witness | Kind::ContractOnly => !accepted && following.is_ok(),
            };
            if !agree {
                let l1 = if accepted {
                    "accepted".to_string()
                } else {
                    format!("refused ({})", l1_reason(&r, &case.posted))
                };
                let follower = match &following {
                    Ok(_) => "accepted".to_string(),
                    Err(e) => format!("refused ({e})"),
                };
                panic!(
                    "disagreement (seed {seed}, round {round}, {mode:?} mode, expected {:?}): `{}`\n  L1: {l1}\n  follower: {follower}\n  block: {:?}",
                    case.kind, case.label, case.posted.block.header
                );
            }
            tally.entry(case.label.clone()).or_default()[usize::from(accepted)] += 1;
            if accepted {
                let (posted, state) = following.expect("the follower accepted");
                r.applied += posted.messages.len();
                last_anchor = posted.l1_anchor;
                r.l2.headers.push(Sealed::new(posted.block.header.clone()));
                r.l2.state = state.clone();
                r.l2.states.push(state.clone());
                follower.headers.push(Sealed::new(posted.block.header.clone()));
                follower.state = state;
                break;
            }
        }
        assert_eq!(r.view(NativeRollup::headHashCall {}), r.l2.head().hash(), "round {round}: L1's head is ours");
    }
    for contract in contracts {
        let code = StateRef(&r.l2.state).account(contract).unwrap().map(|a| a.code_hash);
        assert!(code.is_some_and(|h| h != alloy_primitives::KECCAK256_EMPTY), "{contract} was deployed");
    }
    eprintln!("seed {seed}: {} L2 blocks; case: [refused, accepted]", r.l2.headers.len() - 1);
    for (label, [refused, accepted]) in &tally {
        eprintln!("  {label}: [{refused}, {accepted}]");
    }
    let refused: usize = tally.values().map(|t| t[0]).sum();
    let accepted: usize = tally.values().map(|t| t[1]).sum();
    assert!(refused >= ROUNDS && accepted == ROUNDS, "refused {refused}, accepted {accepted}");
}
