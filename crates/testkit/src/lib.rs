//! # nrd-testkit
//!
//! A native rollup on one machine, in process, for tests and benchmarks: the L1 devnet
//! ([`L1`], blocks sealed one per transaction, clock under control) with `NativeRollup`
//! deployed, and an L2 chain ([`L2`]) built with the derivation function and posted with
//! `advance` ([`Rollup`]). Everything is real: EXECUTE re-executes each L2 block statelessly,
//! blobs carry KZG commitments. Helpers panic on unexpected failures, as tests want.
// Test ergonomics: calls are taken by value so tests can write them inline.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_pass_by_value, missing_docs)]

use alloy_consensus::{Header, Sealed, TxEip1559, TxEip4844, TxEnvelope, transaction::Recovered};
use alloy_eips::eip4844::BlobTransactionSidecar;
use alloy_primitives::{Address, B256, Bytes, Log, TxKind, U256, map::HashMap};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{SolCall, SolEvent, SolInterface, SolValue};
use nrd_bridge::{L1Message, NativeRollup};
use nrd_chain::{MemoryState, StateRef, build_block};
use nrd_derivation::{
    AdvanceTx, DaMode, L1BlockRef, L2Genesis, PostedBlock, SequencingConfig, block_inputs, encode_advance,
};
use nrd_execute_client::{Ancestors, ExecutionWitness, record_block, record_run};
use nrd_l1_devnet::{Devnet, DevnetConfig};
use nrd_test_utils::{raw, raw_blob, sign};
use std::sync::Arc;

pub const ETH: u128 = 1_000_000_000_000_000_000;
pub const WINDOW: u64 = 3_600;
pub const WITHDRAWAL_DELAY: u64 = 600;
pub const TIMELOCK: u64 = 86_400;
pub const L2_CHAIN_ID: u64 = 901;

/// What an L1 transaction did.
#[derive(Debug)]
pub struct Outcome {
    pub hash: B256,
    pub success: bool,
    pub gas_used: u64,
    pub logs: Vec<Log>,
    pub block: u64,
}

/// The L1 devnet, driven block by block.
#[derive(Debug)]
pub struct L1 {
    pub devnet: Arc<Devnet>,
}

impl Default for L1 {
    fn default() -> Self {
        Self::new()
    }
}

impl L1 {
    pub fn new() -> Self {
        // Blocks are sealed by the test, one per transaction.
        let devnet = Devnet::new(DevnetConfig { block_time_ms: 3_600_000, ..Default::default() }).unwrap();
        Self { devnet }
    }

    pub fn key(&self, i: usize) -> PrivateKeySigner {
        self.devnet.accounts()[i].clone()
    }

    fn eip1559(&self, key: &PrivateKeySigner, to: TxKind, value: U256, data: Bytes) -> TxEip1559 {
        TxEip1559 {
            chain_id: self.devnet.spec().chain_id,
            nonce: self.devnet.pending_nonce(key.address()).unwrap(),
            gas_limit: 50_000_000,
            max_fee_per_gas: 100_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to,
            value,
            input: data,
            ..Default::default()
        }
    }

    /// Sends a transaction and seals it into its own block.
    pub fn send(&self, key: &PrivateKeySigner, to: TxKind, value: U256, data: Bytes) -> Outcome {
        let tx = self.eip1559(key, to, value, data);
        self.submit(&raw(&sign(key, tx)))
    }

    /// Sends a blob transaction (EIP-4844 sidecar form) and seals it.
    pub fn send_blobs(
        &self,
        key: &PrivateKeySigner,
        to: Address,
        data: Bytes,
        sidecar: BlobTransactionSidecar,
    ) -> Outcome {
        let base = self.eip1559(key, TxKind::Call(to), U256::ZERO, data);
        let tx = TxEip4844 {
            chain_id: base.chain_id,
            nonce: base.nonce,
            gas_limit: base.gas_limit,
            max_fee_per_gas: base.max_fee_per_gas,
            max_priority_fee_per_gas: base.max_priority_fee_per_gas,
            to,
            value: U256::ZERO,
            access_list: Default::default(),
            blob_versioned_hashes: sidecar.versioned_hashes().collect(),
            max_fee_per_blob_gas: 1_000_000_000,
            input: base.input,
        };
        self.submit(&raw_blob(key, tx, sidecar))
    }

    fn submit(&self, raw: &[u8]) -> Outcome {
        let hash = self.devnet.submit_raw(raw).unwrap();
        self.devnet.seal().unwrap();
        let at = self.devnet.transaction(hash).expect("transaction sealed");
        let receipt = &at.block.receipts[at.index];
        let previous = if at.index == 0 { 0 } else { at.block.receipts[at.index - 1].cumulative_gas_used() };
        Outcome {
            hash,
            success: receipt.status(),
            gas_used: receipt.cumulative_gas_used() - previous,
            logs: receipt.logs().to_vec(),
            block: at.block.number(),
        }
    }

    /// Runs a call against the head state (as `eth_call` on the pending block would): the
    /// output, or the revert data.
    pub fn call(&self, from: Address, to: Address, value: U256, data: Bytes) -> Result<Bytes, Bytes> {
        let head = self.devnet.head();
        let state = self.devnet.state_at(head.number()).unwrap();
        let header = self.devnet.pending_header();
        let hashes: HashMap<u64, B256> = (0..=head.number()).map(|n| (n, self.devnet.block(n).unwrap().hash)).collect();
        let tx = revm::context::TxEnv {
            caller: from,
            gas_limit: 50_000_000,
            kind: TxKind::Call(to),
            value,
            data,
            nonce: self.devnet.pending_nonce(from).unwrap(),
            chain_id: Some(self.devnet.spec().chain_id),
            ..Default::default()
        };
        let out = nrd_chain::simulate(self.devnet.spec(), &header, tx, &mut StateRef(&state), &hashes).unwrap();
        match out.result {
            revm::context::result::ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            revm::context::result::ExecutionResult::Revert { output, .. } => Err(output),
            other => Err(Bytes::from(format!("{other:?}").into_bytes())),
        }
    }

    pub fn head_ref(&self) -> L1BlockRef {
        let head = self.devnet.head();
        L1BlockRef { number: head.number(), hash: head.hash, timestamp: head.header().timestamp }
    }

    pub fn block_ref(&self, number: u64) -> L1BlockRef {
        let b = self.devnet.block(number).unwrap();
        L1BlockRef { number, hash: b.hash, timestamp: b.header().timestamp }
    }

    pub fn balance(&self, address: Address) -> U256 {
        let state = self.devnet.state_at(self.devnet.head().number()).unwrap();
        nrd_chain::StateProvider::account(&mut StateRef(&state), address).unwrap().map_or(U256::ZERO, |a| a.balance)
    }

    pub fn increase_time(&self, seconds: u64) {
        self.devnet.increase_time(seconds);
    }
}

/// The L2 chain as the sequencer keeps it.
#[derive(Debug, Clone)]
pub struct L2 {
    pub genesis: L2Genesis,
    pub spec: nrd_chain::ChainSpec,
    pub state: MemoryState,
    /// Headers, genesis first.
    pub headers: Vec<Sealed<Header>>,
    /// Every state, by block number (for proofs at a block).
    pub states: Vec<MemoryState>,
    pub config: SequencingConfig,
}

impl L2 {
    pub fn new(prefunded: &[(Address, U256)]) -> Self {
        let genesis = L2Genesis::new(L2_CHAIN_ID, 30_000_000, prefunded);
        let mut state = genesis.state();
        let header = genesis.header(state.root());
        let config = SequencingConfig { gas_limit: 30_000_000, fee_recipient: Address::with_last_byte(0xfe) };
        Self { spec: genesis.spec(), states: vec![state.clone()], genesis, state, headers: vec![header], config }
    }

    pub fn head(&self) -> &Sealed<Header> {
        self.headers.last().unwrap()
    }

    fn ancestors(&self) -> Ancestors {
        Ancestors::new(self.headers.iter().rev().take(256).cloned().collect()).unwrap()
    }

    /// Builds the next block with `pending` messages (the derivation function picks) and
    /// `txs`, anchored to `l1`; imports it, recording its witness.
    pub fn build(&mut self, pending: &[L1Message], txs: Vec<TxEnvelope>, l1: L1BlockRef) -> PostedBlock {
        let (posted, state) = self.propose(pending, txs, l1, |_| {});
        self.state = state;
        self.headers.push(Sealed::new(posted.block.header.clone()));
        self.states.push(self.state.clone());
        posted
    }

    /// The block [`Self::build`] would make, after `tamper` changed its inputs (what a proposer
    /// could do), with its witness and post-state; the chain is left as it was.
    pub fn propose(
        &self,
        pending: &[L1Message],
        txs: Vec<TxEnvelope>,
        l1: L1BlockRef,
        tamper: impl FnOnce(&mut nrd_chain::BlockAttributes),
    ) -> (PostedBlock, MemoryState) {
        let parent = self.head().clone();
        let txs = txs
            .into_iter()
            .map(|tx| {
                let signer = alloy_consensus::transaction::SignerRecoverable::recover_signer(&tx).unwrap();
                Recovered::new_unchecked(tx, signer)
            })
            .collect();
        let timestamp = (parent.timestamp + 1).max(l1.timestamp);
        let mut inputs = block_inputs(&parent, pending, txs, timestamp, l1, &self.config).unwrap();
        tamper(&mut inputs.attributes);
        let anchor = inputs.attributes.anchor.clone();
        let ancestors = self.ancestors();
        let mut state = self.state.clone();
        let built =
            build_block(&self.spec, &parent, inputs.attributes, inputs.transactions, &mut state.clone(), &ancestors)
                .unwrap();
        assert!(built.rejected.is_empty(), "rejected: {:?}", built.rejected);
        let (_, witness) = record_block(&self.spec, &built.block, &anchor, &mut state, &ancestors).unwrap();
        (PostedBlock { block: built.block, witness, l1_anchor: l1.number, messages: inputs.messages }, state)
    }

    /// The witness of `blocks` (built by [`Self::build`], consecutive) as one run: recorded over
    /// the state before the first, with each block's anchor rebuilt from its messages and its
    /// header's L1 hash (`mixHash`, the header rule).
    pub fn run_witness(&self, blocks: &[PostedBlock]) -> ExecutionWitness {
        let first = blocks[0].block.header.number;
        let parent = usize::try_from(first - 1).unwrap();
        let ancestors = Ancestors::new(self.headers[..=parent].iter().rev().take(256).cloned().collect()).unwrap();
        let anchors: Vec<Bytes> = blocks
            .iter()
            .map(|b| nrd_derivation::anchor_calldata(b.l1_anchor, b.block.header.mix_hash, &b.messages))
            .collect();
        let anchors: Vec<&[u8]> = anchors.iter().map(|a| a.as_ref()).collect();
        let all: Vec<_> = blocks.iter().map(|b| b.block.clone()).collect();
        let mut source = nrd_chain::MemorySource::new(self.states[parent].clone());
        record_run(&self.spec, &all, &anchors, &mut source, &ancestors).unwrap()
    }

    pub fn balance(&self, address: Address) -> U256 {
        nrd_chain::StateProvider::account(&mut StateRef(&self.state), address)
            .unwrap()
            .map_or(U256::ZERO, |a| a.balance)
    }

    pub fn storage(&self, address: Address, slot: U256) -> U256 {
        nrd_chain::StateProvider::storage(&mut StateRef(&self.state), address, slot).unwrap()
    }

    /// Signs an EIP-1559 L2 transaction.
    pub fn tx(&self, key: &PrivateKeySigner, nonce: u64, to: Address, value: U256, data: Bytes) -> TxEnvelope {
        let tx = TxEip1559 {
            chain_id: L2_CHAIN_ID,
            nonce,
            gas_limit: 500_000,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1,
            to: TxKind::Call(to),
            value,
            input: data,
            ..Default::default()
        };
        sign(key, tx)
    }
}

/// L1 and L2 together, with `NativeRollup` deployed (sequencer = key 0, owner = key 1).
#[derive(Debug)]
pub struct Rollup {
    pub l1: L1,
    pub l2: L2,
    pub address: Address,
    /// Every message enqueued so far, by index.
    pub queue: Vec<L1Message>,
    /// Next message the L2 has not applied.
    pub applied: usize,
}

impl Rollup {
    pub fn new(prefunded: &[(Address, U256)]) -> Self {
        let l1 = L1::new();
        let l2 = L2::new(prefunded);
        let genesis = l2.head();
        let args = (
            l1.key(1).address(),
            l1.key(0).address(),
            genesis.state_root,
            genesis.hash(),
            WINDOW,
            WITHDRAWAL_DELAY,
            TIMELOCK,
            l2.genesis.gas_limit(),
        )
            .abi_encode_params();
        let mut code = NativeRollup::BYTECODE.to_vec();
        code.extend_from_slice(&args);
        let deploy = l1.send(&l1.key(1), TxKind::Create, U256::ZERO, code.into());
        assert!(deploy.success, "NativeRollup deploys");
        let address = l1.key(1).address().create(0);
        Self { l1, l2, address, queue: Vec::new(), applied: 0 }
    }

    pub fn sequencer(&self) -> PrivateKeySigner {
        self.l1.key(0)
    }

    pub fn owner(&self) -> PrivateKeySigner {
        self.l1.key(1)
    }

    /// Sends `call` to the rollup from `key`, remembering the messages it enqueued.
    pub fn send(&mut self, key: &PrivateKeySigner, value: U256, call: impl SolCall) -> Outcome {
        let outcome = self.l1.send(key, TxKind::Call(self.address), value, call.abi_encode().into());
        self.collect(&outcome);
        outcome
    }

    /// Reads `MessageEnqueued` events into the queue.
    pub fn collect(&mut self, outcome: &Outcome) {
        for log in &outcome.logs {
            if let Ok(log) = NativeRollup::MessageEnqueued::decode_log(log) {
                let e = &log.data;
                assert_eq!(e.index as usize, self.queue.len());
                self.queue.push(L1Message {
                    kind: e.kind,
                    from: e.from,
                    to: e.to,
                    mint: e.mint,
                    value: e.value,
                    gasLimit: e.gasLimit,
                    index: e.index,
                    enqueuedAt: e.enqueuedAt,
                    data: e.data.clone(),
                });
            }
        }
    }

    /// Messages enqueued but not yet applied on L2.
    pub fn pending(&self) -> Vec<L1Message> {
        self.queue[self.applied..].to_vec()
    }

    /// Builds an L2 block on the current L1 head with the pending messages (when `messages`)
    /// and `txs`.
    pub fn build(&mut self, messages: bool, txs: Vec<TxEnvelope>) -> PostedBlock {
        let pending = if messages { self.pending() } else { Vec::new() };
        let block = self.l2.build(&pending, txs, self.l1.head_ref());
        self.applied += block.messages.len();
        block
    }

    pub fn advance_calldata(&self, blocks: &[PostedBlock], mode: DaMode) -> AdvanceTx {
        encode_advance(blocks, mode).unwrap()
    }

    /// Posts `blocks` from `key` in `mode`.
    pub fn advance(&mut self, key: &PrivateKeySigner, blocks: &[PostedBlock], mode: DaMode) -> Outcome {
        let tx = encode_advance(blocks, mode).unwrap();
        match tx.sidecar {
            None => self.l1.send(key, TxKind::Call(self.address), U256::ZERO, tx.calldata),
            Some(sidecar) => self.l1.send_blobs(key, self.address, tx.calldata, sidecar),
        }
    }

    /// Posts `blocks` from `key` in `mode` as one run (`advanceRun`, one EXECUTE).
    pub fn advance_run(&mut self, key: &PrivateKeySigner, blocks: &[PostedBlock], mode: DaMode) -> Outcome {
        let witness = self.l2.run_witness(blocks);
        let tx = nrd_derivation::encode_advance_run(blocks, &witness, mode).unwrap();
        match tx.sidecar {
            None => self.l1.send(key, TxKind::Call(self.address), U256::ZERO, tx.calldata),
            Some(sidecar) => self.l1.send_blobs(key, self.address, tx.calldata, sidecar),
        }
    }

    /// Simulates `call` from `from`; the decoded rollup error when it reverts with one.
    pub fn try_call(&self, from: Address, call: impl SolCall) -> Result<Bytes, NativeRollup::NativeRollupErrors> {
        self.l1.call(from, self.address, U256::ZERO, call.abi_encode().into()).map_err(|data| {
            NativeRollup::NativeRollupErrors::abi_decode(&data)
                .unwrap_or_else(|_| panic!("revert data is a NativeRollup error: {data}"))
        })
    }

    /// Reads a view of the rollup.
    pub fn view<C: SolCall>(&self, call: C) -> C::Return {
        let out = self.l1.call(Address::ZERO, self.address, U256::ZERO, call.abi_encode().into()).unwrap();
        C::abi_decode_returns(&out).unwrap()
    }
}

pub fn l2_key(label: &str) -> PrivateKeySigner {
    nrd_test_utils::key(label)
}
