//! `nrd-bench execute-attacks`: what EXECUTE costs the L1 node's CPU per unit of L1 gas its
//! caller pays, for inputs built to make it work hard, next to ordinary worst-case L1
//! transactions measured in the same run.
//!
//! The invariant under test: the CPU EXECUTE spends is bounded by the L1 gas (EXECUTE's fee
//! included: it is paid as L1 gas at the transaction's price, so the receipt's gas used holds
//! it) that its caller pays, whether the trace verifies or not. Every row is an L1 block built
//! with `build_block` over an in-memory L1 state with EXECUTE installed (the harness of
//! `crates/execute-client/tests`), each block on the same genesis so the EXECUTE base fee and the
//! L1 base fee are the same in every run. A row's figure is the block's CPU time (this thread's,
//! from `/proc/thread-self/schedstat`; wall time where that is unavailable) divided by the
//! block's gas used.
//!
//! Two fee settings are measured: **parity** (the EXECUTE base fee equals the L1 gas price, so
//! one EXECUTE gas costs one L1 gas) and the **default** `MeterConfig` (initial EXECUTE base fee
//! 0.001 gwei) at an L1 gas price of 0.875 gwei, as on a fresh devnet. The per-L1-block EXECUTE
//! limit is lifted in both, so that every call in a block does its work: that limit is a
//! separate bound (per block, not per gas paid).

use crate::BenchError;
use alloy_consensus::{
    Block, Header, Sealed, SignableTransaction, TxEip1559, TxEip4844, TxEnvelope, proofs::calculate_transaction_root,
    transaction::Recovered,
};
use alloy_eips::{eip1559::BaseFeeParams, eip4844::Blob};
use alloy_evm::precompiles::{Precompile, PrecompileInput};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256, map::B256Set};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::{Revert, SolError};
use nrd_bridge::{L1_MESSAGE_INBOX, L1Message, anchor_gas_limit};
use nrd_chain::{
    ANCHOR_CALLER, BlockAttributes, BuiltBlock, ChainSpec, GenesisAccount, MemoryState, TrieState, build_block,
    system_contracts,
};
use nrd_derivation::{L2Genesis, anchor_calldata};
use nrd_execute_client::{
    Ancestors, BlobRunTrace, BlobSource, Compression, EXECUTE_ADDRESS, ExecutePrecompile, ExecutionWitness,
    MAX_BATCH_BYTES, MeterConfig, Reexecution, Trace, encode_batch, encode_execute_input, encode_run_anchors,
    encode_witness_batch, payload_to_blobs, record_block,
};
use revm::precompile::{PrecompileId, PrecompileResult};
use revm::primitives::hardfork::SpecId;
use std::{
    collections::HashMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

const L1_CHAIN_ID: u64 = 900;
const L2_CHAIN_ID: u64 = 902;
/// The L1 blocks are measured, not limited: every row's transactions fit one block.
const L1_GAS_LIMIT: u64 = 1_000_000_000_000;
const L2_GAS_LIMIT: u64 = 30_000_000;
/// What the L1 transactions offer; with no tip, they pay the base fee of block 1 (0.875 gwei).
const L1_MAX_FEE: u128 = 2_000_000_000;

/// L1 contracts of the ordinary worst cases and of the callers.
const KECCAK_LOOP: Address = address!("0x000000000000000000000000000000000000a001");
const ECRECOVER_LOOP: Address = address!("0x000000000000000000000000000000000000a002");
const JUMP_LOOP: Address = address!("0x000000000000000000000000000000000000a003");
/// Calls EXECUTE with its calldata, then reverts.
const REVERTER: Address = address!("0x000000000000000000000000000000000000b001");
/// Calls EXECUTE with its calldata [`REPEATED_CALLS`] times.
const REPEATER: Address = address!("0x000000000000000000000000000000000000b003");
/// EXECUTE calls [`REPEATER`] makes per transaction.
const REPEATED_CALLS: u16 = 50;
/// Calls EXECUTE with its calldata and logs `(success, return data)` (finds the verdict).
const LOGGER: Address = address!("0x000000000000000000000000000000000000b002");
/// The L2 loop `JUMPDEST PUSH0 JUMP`.
const L2_LOOP: Address = address!("0x000000000000000000000000000000000000100f");
const L2_BENEFICIARY: Address = address!("0x00000000000000000000000000000000000000fe");

/// `JUMPDEST PUSH0 JUMP`: 11 gas per three instructions, forever.
const LOOP_CODE: [u8; 3] = [0x5b, 0x5f, 0x56];

/// Calls EXECUTE once with its calldata (all gas), then `revert(0, 0)`.
fn reverter_code() -> Bytes {
    // calldatacopy(0, 0, calldatasize); call(gas, 0x0101, 0, 0, calldatasize, 0, 0); pop; revert(0, 0)
    Bytes::from_static(&[
        0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x61, 0x01, 0x01, 0x5a, 0xf1, 0x50, 0x5f, 0x5f, 0xfd,
    ])
}

/// Calls EXECUTE with its calldata `calls` times (all gas each time), then stops.
fn repeater_code(calls: u16) -> Bytes {
    let [hi, lo] = calls.to_be_bytes();
    let mut code = vec![0x61, hi, lo, 0x36, 0x5f, 0x5f, 0x37]; // counter; calldatacopy(0, 0, calldatasize)
    code.push(0x5b); // 7: loop
    code.extend_from_slice(&[0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x61, 0x01, 0x01, 0x5a, 0xf1, 0x50]); // call; pop
    code.extend_from_slice(&[0x60, 0x01, 0x90, 0x03, 0x80, 0x60, 0x07, 0x57, 0x00]); // counter - 1; loop while not 0
    code.into()
}

fn logger_code() -> Bytes {
    let mut code = vec![0x36, 0x5f, 0x5f, 0x37]; // calldatacopy(0, 0, calldatasize)
    code.extend_from_slice(&[0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x61, 0x01, 0x01, 0x5a, 0xf1]); // call → success
    code.extend_from_slice(&[0x3d, 0x5f, 0x5f, 0x3e]); // returndatacopy(0, 0, returndatasize)
    code.extend_from_slice(&[0x3d, 0x5f, 0xa1, 0x00]); // log1(0, returndatasize, success); stop
    code.into()
}

/// `keccak256(mem[0..32])` in a loop: 54 gas per iteration.
fn keccak_loop_code() -> Bytes {
    Bytes::from_static(&[0x5b, 0x60, 0x20, 0x5f, 0x20, 0x50, 0x5f, 0x56])
}

/// A valid `(hash, v, r, s)` in memory, then STATICCALL the ECRECOVER precompile in a loop
/// (3,000 gas for the precompile plus ~135 for the call and the loop).
fn ecrecover_loop_code() -> Bytes {
    let key = PrivateKeySigner::from_bytes(&keccak256("bench ecrecover key")).expect("a valid key");
    let hash = keccak256("bench ecrecover message");
    let sig = key.sign_hash_sync(&hash).expect("signing with a local key");
    let mut code = vec![0x7f];
    code.extend_from_slice(hash.as_slice());
    code.extend_from_slice(&[0x5f, 0x52]); // mstore(0, hash)
    code.extend_from_slice(&[0x60, 27 + u8::from(sig.v()), 0x60, 0x20, 0x52]); // mstore(32, v)
    code.push(0x7f);
    code.extend_from_slice(&sig.r().to_be_bytes::<32>());
    code.extend_from_slice(&[0x60, 0x40, 0x52]); // mstore(64, r)
    code.push(0x7f);
    code.extend_from_slice(&sig.s().to_be_bytes::<32>());
    code.extend_from_slice(&[0x60, 0x60, 0x52]); // mstore(96, s)
    let start = u8::try_from(code.len()).expect("prologue under 256 bytes");
    // staticcall(gas, 1, 0, 128, 128, 32); pop; jump(start)
    code.extend_from_slice(&[
        0x5b, 0x60, 0x20, 0x60, 0x80, 0x60, 0x80, 0x5f, 0x60, 0x01, 0x5a, 0xfa, 0x50, 0x60, start, 0x56,
    ]);
    code.into()
}

/// EXECUTE's fee setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pricing {
    /// The EXECUTE base fee equals the L1 gas price.
    Parity,
    /// `MeterConfig::default()`'s initial base fee.
    Default,
}

/// EXECUTE, timed (the share of a block's time spent inside it).
#[derive(Debug)]
struct Timed {
    inner: Arc<ExecutePrecompile>,
    nanos: AtomicU64,
}

impl Precompile for Timed {
    fn precompile_id(&self) -> &PrecompileId {
        self.inner.precompile_id()
    }

    fn call(&self, input: PrecompileInput<'_>) -> PrecompileResult {
        let start = Instant::now();
        let out = self.inner.call(input);
        let spent = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.nanos.fetch_add(spent, Ordering::Relaxed);
        out
    }

    fn supports_caching(&self) -> bool {
        false
    }
}

/// Blobs by stand-in versioned hash (the precompile trusts the node's KZG check at admission,
/// which this harness has no pool for).
#[derive(Debug, Default)]
struct Blobs(RwLock<HashMap<B256, Arc<Blob>>>);

impl BlobSource for Blobs {
    fn blob(&self, versioned_hash: &B256) -> Option<Arc<Blob>> {
        self.0.read().ok()?.get(versioned_hash).cloned()
    }
}

impl Blobs {
    fn insert(&self, blobs: Vec<Blob>) -> Vec<B256> {
        blobs
            .into_iter()
            .map(|blob| {
                let mut hash = keccak256(blob.as_slice());
                hash[0] = 0x01;
                if let Ok(mut map) = self.0.write() {
                    map.insert(hash, Arc::new(blob));
                }
                hash
            })
            .collect()
    }
}

/// An L1 chain with EXECUTE verifying blocks of one L2 spec, at one fee setting.
struct L1 {
    spec: ChainSpec,
    state: MemoryState,
    genesis: Sealed<Header>,
    key: PrivateKeySigner,
    /// The gas price the transactions pay in block 1.
    price: u128,
    /// EXECUTE's base fee in block 1.
    execute_base_fee: u128,
    timer: Arc<Timed>,
}

impl L1 {
    fn new(l2: &ChainSpec, pricing: Pricing, blobs: Arc<Blobs>) -> Self {
        let key = PrivateKeySigner::from_bytes(&keccak256("bench attacks l1 key")).expect("a valid key");
        let alloc = [
            (key.address(), GenesisAccount { balance: U256::from(10u128.pow(27)), ..Default::default() }),
            (EXECUTE_ADDRESS, GenesisAccount { nonce: 1, ..Default::default() }),
            (KECCAK_LOOP, GenesisAccount { code: keccak_loop_code(), ..Default::default() }),
            (ECRECOVER_LOOP, GenesisAccount { code: ecrecover_loop_code(), ..Default::default() }),
            (JUMP_LOOP, GenesisAccount { code: Bytes::from_static(&LOOP_CODE), ..Default::default() }),
            (REVERTER, GenesisAccount { code: reverter_code(), ..Default::default() }),
            (REPEATER, GenesisAccount { code: repeater_code(REPEATED_CALLS), ..Default::default() }),
            (LOGGER, GenesisAccount { code: logger_code(), ..Default::default() }),
        ];
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let plain = ChainSpec::post_merge(L1_CHAIN_ID, SpecId::PRAGUE, None);
        let genesis = Sealed::new(plain.genesis_header(state.root(), L1_GAS_LIMIT, 1));
        let price = u128::from(genesis.next_block_base_fee(BaseFeeParams::ethereum()).unwrap_or_default());
        let defaults = MeterConfig::default();
        let initial_base_fee = match pricing {
            Pricing::Parity => u64::try_from(price).unwrap_or(u64::MAX),
            Pricing::Default => defaults.initial_base_fee,
        };
        // No per-block limit in the way: every call of a block does its work.
        let meter = MeterConfig { target: u64::MAX / 8, limit: u64::MAX / 4, initial_base_fee, ..defaults };
        let inner = Arc::new(ExecutePrecompile::new(Reexecution::new(l2.clone()), meter, blobs));
        let timer = Arc::new(Timed { inner: inner.clone(), nanos: AtomicU64::new(0) });
        let spec = plain.with_precompile(EXECUTE_ADDRESS, timer.clone()).with_settlement(inner);
        Self { spec, state, genesis, key, price, execute_base_fee: u128::from(initial_base_fee), timer }
    }

    /// L1 gas of EXECUTE's fee for `declared` EXECUTE gas.
    fn fee_gas(&self, declared: u64) -> u64 {
        u64::try_from((u128::from(declared) * self.execute_base_fee).div_ceil(self.price.max(1))).unwrap_or(u64::MAX)
    }

    /// Gas that certainly covers a call with `input` declaring `declared` (intrinsic gas with the
    /// EIP-7623 floor, EXECUTE's charges, up to a whole batch of decoding, the work of a caller).
    fn enough_gas(&self, input: &[u8], declared: u64, blobs: usize) -> u64 {
        let len = input.len() as u64;
        let memory = (len / 32 + 1) * 3 + (len / 32 + 1).pow(2) / 512;
        21_000 + 48 * len + 50_000 + self.fee_gas(declared) + 4_000 * blobs as u64 + memory + 5_000_000
    }

    fn sign(&self, nonce: u64, to: Address, gas_limit: u64, input: Bytes, blobs: &[B256]) -> Recovered<TxEnvelope> {
        let envelope = if blobs.is_empty() {
            let tx = TxEip1559 {
                chain_id: L1_CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: L1_MAX_FEE,
                max_priority_fee_per_gas: 0,
                to: TxKind::Call(to),
                value: U256::ZERO,
                input,
                access_list: Default::default(),
            };
            let sig = self.key.sign_hash_sync(&tx.signature_hash()).expect("signing with a local key");
            TxEnvelope::from(tx.into_signed(sig))
        } else {
            let tx = TxEip4844 {
                chain_id: L1_CHAIN_ID,
                nonce,
                gas_limit,
                max_fee_per_gas: L1_MAX_FEE,
                max_priority_fee_per_gas: 0,
                to,
                value: U256::ZERO,
                access_list: Default::default(),
                blob_versioned_hashes: blobs.to_vec(),
                max_fee_per_blob_gas: 1_000_000,
                input,
            };
            let sig = self.key.sign_hash_sync(&tx.signature_hash()).expect("signing with a local key");
            TxEnvelope::from(tx.into_signed(sig))
        };
        Recovered::new_unchecked(envelope, self.key.address())
    }

    /// Builds block 1 with `txs` on a copy of the genesis state.
    fn build(&self, txs: &[Recovered<TxEnvelope>]) -> BuiltBlock {
        let mut state = self.state.clone();
        let attrs = BlockAttributes { timestamp: 13, gas_limit: L1_GAS_LIMIT, ..Default::default() };
        let ancestors = Ancestors::parent_only(self.genesis.clone());
        let built = build_block(&self.spec, &self.genesis, attrs, txs.to_vec(), &mut state, &ancestors)
            .expect("L1 block builds");
        assert!(built.rejected.is_empty(), "L1 refused transactions: {:?}", built.rejected);
        built
    }

    /// Builds the block `times` times: (CPU ns, wall ns, wall ns inside EXECUTE), per build.
    fn time(&self, txs: &[Recovered<TxEnvelope>], times: u32) -> (u64, u64, u64) {
        self.timer.nanos.store(0, Ordering::Relaxed);
        let clock = CpuClock::start();
        for _ in 0..times {
            self.build(txs);
        }
        let (cpu, wall) = clock.elapsed();
        let times = u64::from(times.max(1));
        (cpu / times, wall / times, self.timer.nanos.load(Ordering::Relaxed) / times)
    }
}

/// CPU time of this thread (from `/proc/thread-self/schedstat`, which the kernel brings up to
/// date at scheduler ticks: measurements span many ticks) and wall time. Where the file does
/// not exist, CPU time is wall time.
struct CpuClock {
    cpu: Option<u64>,
    wall: Instant,
}

fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

impl CpuClock {
    fn start() -> Self {
        Self { cpu: thread_cpu_ns(), wall: Instant::now() }
    }

    /// (CPU ns, wall ns) since the start.
    fn elapsed(&self) -> (u64, u64) {
        let wall = u64::try_from(self.wall.elapsed().as_nanos()).unwrap_or(u64::MAX);
        match (self.cpu, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b.saturating_sub(a), wall),
            _ => (wall, wall),
        }
    }
}

/// How an attack reaches EXECUTE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    /// The transaction calls EXECUTE itself.
    Direct,
    /// A contract calls EXECUTE, then reverts.
    Reverting,
    /// A contract calls EXECUTE [`REPEATED_CALLS`] times.
    Repeated,
}

/// One EXECUTE call of an attack (repeated with fresh nonces to fill a block).
#[derive(Debug, Clone)]
struct Call {
    input: Bytes,
    declared: u64,
    blobs: Vec<B256>,
    /// `None`: enough gas for everything; `Some`: exactly this transaction gas limit.
    gas: Option<u64>,
}

impl Call {
    fn calldata(pre: B256, post: B256, declared: u64, anchor: &[u8], trace: &Trace) -> Self {
        Self {
            input: encode_execute_input(pre, post, declared, anchor, &trace.encode()),
            declared,
            blobs: vec![],
            gas: None,
        }
    }

    fn gas_on(&self, l1: &L1) -> u64 {
        self.gas.unwrap_or_else(|| l1.enough_gas(&self.input, self.declared, self.blobs.len()))
    }
}

/// A row of the table: an ordinary L1 block or an attack, each a set of transactions.
struct Row {
    family: &'static str,
    name: String,
    /// L2 spec with the anchor rule (family 6) or without.
    anchored: bool,
    kind: RowKind,
}

enum RowKind {
    /// Ordinary L1 transactions: `count` calls of `gas` to `to`.
    Ordinary { to: Address, count: usize, gas: u64 },
    /// EXECUTE calls: `calls` (one L1 transaction each), through `via`.
    Execute { calls: Vec<Call>, via: Via },
}

impl Row {
    fn txs(&self, l1: &L1) -> Vec<Recovered<TxEnvelope>> {
        match &self.kind {
            RowKind::Ordinary { to, count, gas } => {
                (0..*count).map(|n| l1.sign(n as u64, *to, *gas, Bytes::new(), &[])).collect()
            }
            RowKind::Execute { calls, via } => calls
                .iter()
                .enumerate()
                .map(|(n, call)| {
                    let to = match via {
                        Via::Direct => EXECUTE_ADDRESS,
                        Via::Reverting => REVERTER,
                        Via::Repeated => REPEATER,
                    };
                    l1.sign(n as u64, to, call.gas_on(l1), call.input.clone(), &call.blobs)
                })
                .collect(),
        }
    }

    /// What EXECUTE answers the row's first call (through the logging contract).
    fn verdict(&self, l1: &L1) -> String {
        let RowKind::Execute { calls, .. } = &self.kind else { return "(no EXECUTE)".into() };
        let call = &calls[0];
        let gas = call.gas_on(l1) + call.gas_on(l1) / 32;
        let tx = l1.sign(0, LOGGER, gas, call.input.clone(), &call.blobs);
        let built = l1.build(&[tx]);
        let Some(log) = built.executed.receipts[0].logs().first() else {
            return "no log: caller ran out of gas".into();
        };
        if log.topics().first() == Some(&B256::with_last_byte(1)) {
            return "accepted".into();
        }
        if log.data.data.is_empty() {
            return "halted: out of gas".into();
        }
        Revert::abi_decode(&log.data.data).map_or_else(|_| "reverted (undecodable)".into(), |r| shorten(&r.reason))
    }
}

fn shorten(reason: &str) -> String {
    let reason = reason.replace('|', "/");
    match reason.char_indices().nth(90) {
        Some((i, _)) => format!("{}…", &reason[..i]),
        None => reason,
    }
}

// ------------------------------------------------------------------ the L2 side

/// A caller-made L2 pre-state and its genesis header (the parent of the attack block).
struct L2Pre {
    spec: ChainSpec,
    state: MemoryState,
    parent: Sealed<Header>,
    /// The accounts of the allocation.
    addresses: Vec<Address>,
}

fn attacker() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&keccak256("bench attacks l2 key")).expect("a valid key")
}

/// The plain L2 (no anchor): the Prague system contracts (with `system_code` where given),
/// the attacker's account and the loop contract.
fn plain_pre(system_code: Option<&[u8]>) -> L2Pre {
    let spec = ChainSpec::post_merge(L2_CHAIN_ID, SpecId::PRAGUE, None);
    let mut alloc: Vec<(Address, GenesisAccount)> = system_contracts()
        .into_iter()
        .map(|(a, mut g)| {
            if let Some(code) = system_code {
                g.code = Bytes::copy_from_slice(code);
            }
            (a, g)
        })
        .collect();
    alloc.push((attacker().address(), GenesisAccount { balance: U256::from(10u128.pow(27)), ..Default::default() }));
    alloc.push((L2_LOOP, GenesisAccount { code: Bytes::from_static(&LOOP_CODE), ..Default::default() }));
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let parent = Sealed::new(spec.genesis_header(state.root(), L2_GAS_LIMIT, 1_000));
    L2Pre { spec, state, parent, addresses: alloc.iter().map(|(a, _)| *a).collect() }
}

/// An nrd L2 (anchor rule, predeploys) with the loop contract, and `edit` applied to the
/// allocation (a caller-made pre-state may hold anything).
fn anchored_pre(edit: impl Fn(&mut Vec<(Address, GenesisAccount)>)) -> L2Pre {
    let genesis = L2Genesis::new(L2_CHAIN_ID, L2_GAS_LIMIT, &[(attacker().address(), U256::from(10u128.pow(27)))]);
    let mut alloc = genesis.alloc();
    alloc.push((L2_LOOP, GenesisAccount { code: Bytes::from_static(&LOOP_CODE), ..Default::default() }));
    edit(&mut alloc);
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let parent = genesis.header(state.root());
    L2Pre { spec: genesis.spec(), state, parent, addresses: alloc.iter().map(|(a, _)| *a).collect() }
}

fn l2_attrs(parent: &Header, anchor: Bytes) -> BlockAttributes {
    BlockAttributes {
        timestamp: parent.timestamp + 12,
        beneficiary: L2_BENEFICIARY,
        gas_limit: L2_GAS_LIMIT,
        prev_randao: B256::repeat_byte(7),
        parent_beacon_block_root: Some(B256::repeat_byte(7)),
        withdrawals: Some(vec![]),
        extra_data: Bytes::new(),
        anchor,
    }
}

fn l2_tx(nonce: u64, to: Address, gas_limit: u64, value: u64) -> TxEnvelope {
    let key = attacker();
    let tx = TxEip1559 {
        chain_id: L2_CHAIN_ID,
        nonce,
        gas_limit,
        max_fee_per_gas: 10_000_000_000,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(to),
        value: U256::from(value),
        input: Bytes::new(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("signing with a local key");
    TxEnvelope::from(tx.into_signed(sig))
}

/// A valid block of `txs` on `pre` with its recorded witness.
fn valid_block(pre: &L2Pre, txs: Vec<TxEnvelope>, anchor: &Bytes) -> (Block<TxEnvelope>, ExecutionWitness) {
    let sender = attacker().address();
    let txs = txs.into_iter().map(|tx| Recovered::new_unchecked(tx, sender)).collect();
    let ancestors = Ancestors::parent_only(pre.parent.clone());
    let attrs = l2_attrs(&pre.parent, anchor.clone());
    let built =
        build_block(&pre.spec, &pre.parent, attrs, txs, &mut pre.state.clone(), &ancestors).expect("L2 block builds");
    assert!(built.rejected.is_empty(), "L2 refused: {:?}", built.rejected);
    let (_, witness) =
        record_block(&pre.spec, &built.block, anchor, &mut pre.state.clone(), &ancestors).expect("L2 block records");
    (built.block, witness)
}

/// A header for a block on `pre.parent` whose execution cannot be recorded (it fails): built
/// with the same parent on `host`'s state, so every field the header rules check is right.
fn header_on(pre: &L2Pre, host: &L2Pre, anchor: Bytes) -> Block<TxEnvelope> {
    let ancestors = Ancestors::parent_only(pre.parent.clone());
    let attrs = l2_attrs(&pre.parent, anchor);
    build_block(&host.spec, &pre.parent, attrs, vec![], &mut host.state.clone(), &ancestors)
        .expect("template block builds")
        .block
}

/// Everything on the paths to `addresses` in `pre`'s state, the codes, and the parent header:
/// a witness for blocks that fail before the unused-node check.
fn proof_witness(pre: &L2Pre, addresses: &[Address], codes: &[Bytes]) -> ExecutionWitness {
    let mut state = pre.state.clone();
    let mut seen = B256Set::default();
    let mut nodes = Vec::new();
    for address in addresses {
        let proof = state.proof(*address, &[]).expect("proof from a full state").account_proof;
        for node in proof {
            if seen.insert(keccak256(&node)) {
                nodes.push(node);
            }
        }
    }
    ExecutionWitness {
        state: nodes,
        codes: codes.to_vec(),
        headers: vec![alloy_rlp::encode(pre.parent.inner()).into()],
    }
}

fn with_txs(mut block: Block<TxEnvelope>, txs: Vec<TxEnvelope>, gas_used: u64) -> Block<TxEnvelope> {
    block.header.transactions_root = calculate_transaction_root(&txs);
    block.header.gas_used = gas_used;
    block.body.transactions = txs;
    block
}

fn trace(block: Block<TxEnvelope>, witness: ExecutionWitness) -> Trace {
    Trace { block, witness, blob_refs: vec![], batch_index: 0 }
}

fn repeat(call: &Call, n: usize) -> Vec<Call> {
    vec![call.clone(); n]
}

fn blob_call(pre: &L2Pre, template: &Block<TxEnvelope>, refs: Vec<B256>, carried: Vec<B256>, gas: Option<u64>) -> Call {
    let mut block = template.clone();
    block.body.transactions.clear();
    block.header.gas_used = 21_000;
    let trace = Trace { block, witness: ExecutionWitness::default(), blob_refs: refs, batch_index: 0 };
    let mut call = Call::calldata(pre.parent.state_root, template.header.state_root, 21_000, &[], &trace);
    call.blobs = carried;
    call.gas = gas;
    call
}

/// A run of `block` with its witness in a blob (trace and batch version 0x02). The batch's entry
/// 0 is `junk` (decoded and paid for, not used), so that calls with different junk use different
/// blobs and none is served from EXECUTE's batch cache.
fn blob_run_call(
    pre: &L2Pre,
    block: &Block<TxEnvelope>,
    witness: &ExecutionWitness,
    junk: TxEnvelope,
    blobs: &Blobs,
    gas: Option<u64>,
) -> Call {
    let entries = vec![vec![junk], block.body.transactions.clone()];
    let refs = blobs.insert(payload_to_blobs(&encode_witness_batch(&entries, witness)));
    let mut stripped = block.clone();
    stripped.body.transactions.clear();
    let trace = BlobRunTrace { blocks: vec![stripped], blob_refs: refs.clone(), first_batch_index: 1 };
    let declared = block.header.gas_used;
    let anchors = encode_run_anchors(&[Bytes::new()]);
    Call {
        input: encode_execute_input(
            pre.parent.state_root,
            block.header.state_root,
            declared,
            &anchors,
            &trace.encode(),
        ),
        declared,
        blobs: refs,
        gas,
    }
}

/// A transaction whose input is `len` zero bytes (a batch of it is a brotli bomb).
fn zero_input_tx(len: usize, nonce: u64) -> TxEnvelope {
    let key = attacker();
    let tx = TxEip1559 {
        chain_id: L2_CHAIN_ID,
        nonce,
        gas_limit: 21_000,
        max_fee_per_gas: 1,
        max_priority_fee_per_gas: 0,
        to: TxKind::Call(Address::ZERO),
        value: U256::ZERO,
        input: vec![0u8; len].into(),
        access_list: Default::default(),
    };
    let sig = key.sign_hash_sync(&tx.signature_hash()).expect("signing with a local key");
    TxEnvelope::from(tx.into_signed(sig))
}

/// Every row, built once (the inputs do not depend on the fee setting).
fn rows(blobs: &Blobs) -> Vec<Row> {
    let mut rows = Vec::new();
    let ordinary = |family, name: &str, to, count, gas| Row {
        family,
        name: name.into(),
        anchored: false,
        kind: RowKind::Ordinary { to, count, gas },
    };
    rows.push(ordinary("ref", "KECCAK256 loop (30 txs x 1M gas)", KECCAK_LOOP, 30, 1_000_000));
    rows.push(ordinary("ref", "ECRECOVER precompile loop (30 txs x 1M gas)", ECRECOVER_LOOP, 30, 1_000_000));
    rows.push(ordinary("ref", "JUMPDEST PUSH0 JUMP loop (30 txs x 1M gas)", JUMP_LOOP, 30, 1_000_000));
    let execute = |family, name: String, anchored, calls, via| Row {
        family,
        name,
        anchored,
        kind: RowKind::Execute { calls, via },
    };

    let plain = plain_pre(None);
    let pre_root = plain.parent.state_root;

    // An honest block: 50 transfers, valid, for scale.
    let transfers: Vec<TxEnvelope> =
        (0..50).map(|i| l2_tx(i, Address::with_last_byte(0x40 + i as u8), 21_000, 1_000)).collect();
    let (honest, honest_witness) = valid_block(&plain, transfers, &Bytes::new());
    let honest_gas = honest.header.gas_used;
    let honest_call = Call::calldata(
        pre_root,
        honest.header.state_root,
        honest_gas,
        &[],
        &trace(honest.clone(), honest_witness.clone()),
    );
    rows.push(execute(
        "valid",
        format!("honest block, 50 transfers (G = {honest_gas})"),
        false,
        repeat(&honest_call, 20),
        Via::Direct,
    ));
    // The same block as a run with its witness in a blob (trace 0x02), a different blob per call.
    let calls: Vec<Call> = (0..9u64)
        .map(|k| blob_run_call(&plain, &honest, &honest_witness, l2_tx(100 + k, L2_LOOP, 21_000, 0), blobs, None))
        .collect();
    rows.push(execute(
        "valid",
        format!("as above, witness in a blob (trace 0x02), 9 blobs (G = {honest_gas})"),
        false,
        calls,
        Via::Direct,
    ));

    // 1, 2: a transaction of the whole block gas limit running a loop, declaring little gas. The
    // witness is recorded on the same block with a 100k-gas transaction (same touched state).
    let (small, loop_witness) = valid_block(&plain, vec![l2_tx(0, L2_LOOP, 100_000, 0)], &Bytes::new());
    let looping = |declared: u64| {
        let block = with_txs(small.clone(), vec![l2_tx(0, L2_LOOP, L2_GAS_LIMIT, 0)], declared);
        Call::calldata(pre_root, block.header.state_root, declared, &[], &trace(block, loop_witness.clone()))
    };
    for (declared, count) in [(21_000, 100), (10_000_000, 4)] {
        rows.push(execute(
            "1",
            format!("30M-gas loop tx, declared G = {declared}"),
            false,
            repeat(&looping(declared), count),
            Via::Direct,
        ));
    }
    for (declared, count) in [(21_000, 100), (10_000_000, 4)] {
        rows.push(execute(
            "2",
            format!("as 1, G = {declared}, from a contract that reverts"),
            false,
            repeat(&looping(declared), count),
            Via::Reverting,
        ));
    }
    // The loop in the system contracts of a caller-made pre-state, which the block's system calls
    // would run uninspected (EXECUTE refuses code other than the standard one); empty block, G = 0.
    let system_loop = plain_pre(Some(&LOOP_CODE));
    let empty = header_on(&system_loop, &plain, Bytes::new());
    let witness = proof_witness(&system_loop, &touchable(&system_loop), &[Bytes::from_static(&LOOP_CODE)]);
    let call = Call::calldata(system_loop.parent.state_root, empty.header.state_root, 0, &[], &trace(empty, witness));
    rows.push(execute(
        "1",
        "loop in the system contracts (no-anchor spec), empty block, G = 0".into(),
        false,
        repeat(&call, 10),
        Via::Direct,
    ));

    // 3: many transactions, too many for the declared gas: refused before sender recovery.
    let template = header_on(&plain, &plain, Bytes::new());
    let many: Vec<TxEnvelope> = (0..1_000).map(|i| l2_tx(i, Address::with_last_byte(i as u8), 21_000, 1)).collect();
    let block = with_txs(template.clone(), many, 21_000);
    let call =
        Call::calldata(pre_root, block.header.state_root, 21_000, &[], &trace(block, ExecutionWitness::default()));
    rows.push(execute("3", "1,000 txs declaring 21,000 gas, calldata".into(), false, repeat(&call, 10), Via::Direct));
    // The same in blob mode, a different batch per transaction (a repeated one would be cached).
    let calls: Vec<Call> = (0..9u64)
        .map(|k| {
            let txs: Vec<TxEnvelope> =
                (0..1_000).map(|i| l2_tx(k * 1_000 + i, Address::with_last_byte(i as u8), 21_000, 1)).collect();
            let blob = payload_to_blobs(&encode_batch(&[txs], Compression::Brotli));
            assert_eq!(blob.len(), 1, "1,000 transfers fit one blob");
            let refs = blobs.insert(blob);
            blob_call(&plain, &template, refs.clone(), refs, None)
        })
        .collect();
    rows.push(execute("3", "1,000 txs declaring 21,000 gas, blob (brotli), 9 blobs".into(), false, calls, Via::Direct));

    // 4: one blob referenced 1,000 times; brotli bombs.
    let one = blobs.insert(payload_to_blobs(&encode_batch(&[vec![l2_tx(0, L2_LOOP, 21_000, 0)]], Compression::Brotli)));
    let dup = blob_call(&plain, &template, vec![one[0]; 1_000], one.clone(), None);
    rows.push(execute("4", "one blob referenced 1,000 times".into(), false, repeat(&dup, 9), Via::Direct));
    let bomb = blobs.insert(payload_to_blobs(&encode_batch(
        &[vec![zero_input_tx(MAX_BATCH_BYTES + 65_536, 0)]],
        Compression::Brotli,
    )));
    for gas in [2_000_000, 8_000_000] {
        let call = blob_call(&plain, &template, bomb.clone(), bomb.clone(), Some(gas));
        rows.push(execute(
            "4",
            format!("brotli bomb (16 MiB + 64 KiB of zeros), tx gas {gas}"),
            false,
            repeat(&call, 9),
            Via::Direct,
        ));
    }
    let call = blob_call(&plain, &template, bomb.clone(), bomb, Some(12_000_000));
    rows.push(execute(
        "4",
        format!("brotli bomb as above, {REPEATED_CALLS} calls from a contract in one blob tx of 12M gas"),
        false,
        repeat(&call, 2),
        Via::Repeated,
    ));
    // A batch of 16 MiB of identical small transactions: decoded (and charged), then refused for
    // the tx count. A different transaction per blob, so none is cached.
    let calls: Vec<Call> = (0..3u64)
        .map(|k| {
            let tx = l2_tx(k, L2_LOOP, 21_000, 0);
            let per = alloy_rlp::Encodable::length(&tx);
            let count = (MAX_BATCH_BYTES - 64) / per;
            let refs = blobs.insert(payload_to_blobs(&encode_batch(&[vec![tx; count]], Compression::Brotli)));
            blob_call(&plain, &template, refs.clone(), refs, Some(6_000_000))
        })
        .collect();
    rows.push(execute("4", "brotli batch of ~150k identical txs (16 MiB decoded)".into(), false, calls, Via::Direct));

    // 5: a witness padded with unused nodes (hashed before execution, refused after it).
    let (one_transfer, w) =
        valid_block(&plain, vec![l2_tx(0, Address::with_last_byte(0x33), 21_000, 1)], &Bytes::new());
    for (size, count) in [(532usize, 2_000usize), (3, 300_000)] {
        let mut padded = w.clone();
        // Distinct nodes: the index, then filler (no real node is this short or has this filler).
        padded.state.extend((0..count as u32).map(|i| {
            let mut node = i.to_be_bytes()[1..].to_vec();
            node.resize(size, 0xab);
            Bytes::from(node)
        }));
        let g = one_transfer.header.gas_used;
        let call = Call::calldata(
            pre_root,
            one_transfer.header.state_root,
            g,
            &[],
            &trace(one_transfer.clone(), padded.clone()),
        );
        rows.push(execute(
            "5",
            format!("witness + {count} unused {size}-byte nodes"),
            false,
            repeat(&call, 5),
            Via::Direct,
        ));
        // The same padding in blobs (trace 0x02): different blobs per call, at most 9 per block.
        let call = |k: u64| {
            blob_run_call(&plain, &one_transfer, &padded, l2_tx(100 + k, L2_LOOP, 21_000, 0), blobs, Some(29_000_000))
        };
        let first = call(0);
        let per_call = first.blobs.len();
        let mut calls = vec![first];
        calls.extend((1..(9 / per_call).max(1) as u64).map(call));
        rows.push(execute(
            "5",
            format!("as above, witness in blobs (trace 0x02), {per_call} blob(s) per call"),
            false,
            calls,
            Via::Direct,
        ));
    }

    // 6: the anchor (nrd's L2 spec). Messages costing the whole anchor budget, each calling the
    // loop with 4.8M gas: valid with the real inbox; with the loop at the inbox (caller-made
    // pre-state) the anchor runs out of gas.
    let messages: Vec<L1Message> = (0..4u64)
        .map(|i| L1Message {
            kind: 0,
            from: Address::repeat_byte(0x11),
            to: L2_LOOP,
            mint: U256::ZERO,
            value: U256::ZERO,
            gasLimit: 4_800_000,
            index: i,
            enqueuedAt: 0,
            data: Bytes::new(),
        })
        .collect();
    let anchor = anchor_calldata(1, B256::repeat_byte(7), &messages);
    let anchor_gas = anchor_gas_limit(&anchor).expect("a well-formed anchor");
    let real = anchored_pre(|_| {});
    let (heavy, heavy_witness) = valid_block(&real, vec![], &anchor);
    let declared = heavy.header.gas_used + anchor_gas;
    let call = Call::calldata(
        real.parent.state_root,
        heavy.header.state_root,
        declared,
        &anchor,
        &trace(heavy, heavy_witness),
    );
    rows.push(execute(
        "6",
        format!("heavy anchor, 4 messages x 4.8M gas, valid (G = {declared})"),
        true,
        repeat(&call, 3),
        Via::Direct,
    ));
    let looping_inbox = anchored_pre(|alloc| {
        for (a, g) in alloc.iter_mut() {
            if *a == L1_MESSAGE_INBOX {
                g.code = Bytes::from_static(&LOOP_CODE);
            }
        }
    });
    let mut codes: Vec<Bytes> = system_contracts().into_iter().map(|(_, g)| g.code).collect();
    codes.push(Bytes::from_static(&LOOP_CODE));
    let block = header_on(&looping_inbox, &real, anchor.clone());
    let witness = proof_witness(&looping_inbox, &touchable(&looping_inbox), &codes);
    let call = Call::calldata(
        looping_inbox.parent.state_root,
        block.header.state_root,
        anchor_gas,
        &anchor,
        &trace(block, witness),
    );
    rows.push(execute(
        "6",
        format!("loop at the inbox, anchor at the budget (G = {anchor_gas})"),
        true,
        repeat(&call, 3),
        Via::Direct,
    ));
    // The loop in the system contracts of nrd's L2 spec: refused before any work.
    let system_loop = anchored_pre(|alloc| {
        let system: Vec<Address> = system_contracts().into_iter().map(|(a, _)| a).collect();
        for (a, g) in alloc.iter_mut() {
            if system.contains(a) {
                g.code = Bytes::from_static(&LOOP_CODE);
            }
        }
    });
    let light = anchor_calldata(1, B256::repeat_byte(7), &[]);
    let light_gas = anchor_gas_limit(&light).expect("a well-formed anchor");
    let block = header_on(&system_loop, &real, light.clone());
    let witness = proof_witness(&system_loop, &touchable(&system_loop), &codes);
    let call = Call::calldata(
        system_loop.parent.state_root,
        block.header.state_root,
        light_gas,
        &light,
        &trace(block, witness),
    );
    rows.push(execute(
        "6",
        format!("loop in the system contracts (nrd's L2 spec), G = {light_gas}"),
        true,
        repeat(&call, 20),
        Via::Direct,
    ));
    rows
}

/// Every account a block on `pre` may touch: the allocation, the anchor's caller, the
/// beneficiary.
fn touchable(pre: &L2Pre) -> Vec<Address> {
    pre.addresses.iter().copied().chain([ANCHOR_CALLER, L2_BENEFICIARY]).collect()
}

// ------------------------------------------------------------------ measuring and the report

/// One row on one L1: its transactions, how many builds fill a measuring window, its samples.
struct Series<'a> {
    l1: &'a L1,
    txs: Vec<Recovered<TxEnvelope>>,
    gas: u64,
    times: u32,
    /// (CPU ns, wall ns, wall ns inside EXECUTE) per build, one per run.
    samples: Vec<(u64, u64, u64)>,
}

/// Each measurement builds the block as many times as fill this long (the CPU clock advances
/// by scheduler ticks).
const WINDOW_NS: u64 = 150_000_000;

impl<'a> Series<'a> {
    /// Builds once (warming caches and allocators, sizing the window; not counted).
    fn new(l1: &'a L1, txs: Vec<Recovered<TxEnvelope>>) -> Self {
        let start = Instant::now();
        let gas = l1.build(&txs).block.header.gas_used;
        let once = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX).max(1);
        let times = u32::try_from(WINDOW_NS.div_ceil(once)).unwrap_or(u32::MAX).clamp(1, 10_000);
        Self { l1, txs, gas, times, samples: Vec::new() }
    }

    fn sample(&mut self) {
        self.samples.push(self.l1.time(&self.txs, self.times));
    }

    fn median(&self, pick: impl Fn(&(u64, u64, u64)) -> u64) -> u64 {
        median(self.samples.iter().map(pick).collect())
    }

    /// CPU ns per L1 gas (median).
    fn ns_per_gas(&self) -> f64 {
        self.median(|s| s.0) as f64 / self.gas.max(1) as f64
    }

    fn gas_per_tx(&self) -> u64 {
        self.gas / self.txs.len().max(1) as u64
    }
}

fn median(mut xs: Vec<u64>) -> u64 {
    xs.sort_unstable();
    xs.get(xs.len() / 2).copied().unwrap_or_default()
}

/// Runs every row at both fee settings, round-robin (so the machine's load over the run is
/// shared by every row), and prints a Markdown report.
/// What `nrd-bench execute-attacks` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// Repetitions (the median is reported).
    #[arg(long, default_value_t = 7)]
    pub(crate) runs: usize,
}

pub(crate) fn run(args: &Args) -> Result<(), BenchError> {
    let runs = args.runs;
    let started = Instant::now();
    let blobs = Arc::new(Blobs::default());
    let rows = rows(&blobs);
    eprintln!("inputs built in {:.1}s", started.elapsed().as_secs_f64());
    let plain = ChainSpec::post_merge(L2_CHAIN_ID, SpecId::PRAGUE, None);
    let anchored = L2Genesis::new(L2_CHAIN_ID, L2_GAS_LIMIT, &[]).spec();
    let chains = [
        [L1::new(&plain, Pricing::Parity, blobs.clone()), L1::new(&anchored, Pricing::Parity, blobs.clone())],
        [L1::new(&plain, Pricing::Default, blobs.clone()), L1::new(&anchored, Pricing::Default, blobs)],
    ];
    let mut verdicts = Vec::with_capacity(rows.len());
    let mut series: Vec<[Series<'_>; 2]> = Vec::with_capacity(rows.len());
    for row in &rows {
        let pick = |pricing: usize| &chains[pricing][usize::from(row.anchored)];
        verdicts.push(row.verdict(pick(0)));
        series.push([Series::new(pick(0), row.txs(pick(0))), Series::new(pick(1), row.txs(pick(1)))]);
    }
    for run in 0..runs.max(1) {
        for pair in &mut series {
            for s in pair.iter_mut() {
                s.sample();
            }
        }
        eprintln!("run {} of {} done at {:.1}s", run + 1, runs.max(1), started.elapsed().as_secs_f64());
    }
    // The reference: the worse of the KECCAK256 and ECRECOVER blocks, over the samples of both
    // settings (the fee setting does not touch them).
    let is_reference = |row: &Row| matches!(row.kind, RowKind::Ordinary { to, .. } if to != JUMP_LOOP);
    let ordinary_ns = |pair: &[Series<'_>; 2]| {
        let samples: Vec<u64> = pair.iter().flat_map(|s| s.samples.iter().map(|x| x.0)).collect();
        median(samples) as f64 / pair[0].gas.max(1) as f64
    };
    let reference = rows
        .iter()
        .zip(&series)
        .filter(|(row, _)| is_reference(row))
        .map(|(_, pair)| ordinary_ns(pair))
        .fold(0.0, f64::max);
    println!(
        "L1 gas price {} wei; EXECUTE base fee {} wei (parity) and {} wei (default); medians of {} runs; reference (the worse of the KECCAK256 and ECRECOVER blocks) {:.2} ns of CPU per L1 gas",
        chains[0][0].price,
        chains[0][0].execute_base_fee,
        chains[1][0].execute_base_fee,
        runs.max(1),
        reference
    );
    println!();
    println!(
        "| # | block | EXECUTE's verdict | L1 txs | L1 gas / tx: parity, default fee | CPU / tx (ms) | in EXECUTE (wall) | ns / L1 gas, parity (x ref) | ns / L1 gas, default fee (x ref) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for ((row, verdict), pair) in rows.iter().zip(&verdicts).zip(&series) {
        let [parity, default] = pair;
        let (parity_ns, default_ns) = match row.kind {
            RowKind::Ordinary { .. } => (ordinary_ns(pair), ordinary_ns(pair)),
            RowKind::Execute { .. } => (parity.ns_per_gas(), default.ns_per_gas()),
        };
        let wall = parity.median(|s| s.1);
        let share = if wall == 0 { 0.0 } else { 100.0 * parity.median(|s| s.2) as f64 / wall as f64 };
        let cpu_per_tx = parity_ns * parity.gas_per_tx() as f64 / 1e6;
        // CPU below wall time: the thread waited for a core; above: other threads did the work.
        eprintln!("{} {}: CPU / wall {:.2}", row.family, row.name, parity.median(|s| s.0) as f64 / wall.max(1) as f64);
        println!(
            "| {} | {} | {} | {} | {}, {} | {:.2} | {:.0}% | {:.2} ({:.2}x) | {:.2} ({:.2}x) |",
            row.family,
            row.name,
            verdict,
            parity.txs.len(),
            parity.gas_per_tx(),
            default.gas_per_tx(),
            cpu_per_tx,
            share,
            parity_ns,
            parity_ns / reference,
            default_ns,
            default_ns / reference
        );
    }
    eprintln!("done in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}
