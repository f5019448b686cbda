//! `nrd-bench execute`: stateful execution, witness size and stateless verification on a
//! ~30M-gas block over a large state, next to revm over its plain in-memory `CacheDB` (no trie,
//! no state root) as the peer.

use alloy_consensus::{Block, Header, Sealed, SignableTransaction, TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_eips::Encodable2718;
use alloy_evm::{
    Evm, EvmEnv, EvmFactory,
    block::BlockExecutor,
    eth::{EthBlockExecutionCtx, EthBlockExecutor, EthEvmFactory, receipt_builder::AlloyReceiptBuilder},
};
use alloy_primitives::{Address, B256, Bytes, TxKind, U256, address, keccak256, map::HashMap};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{
    BlockAttributes, ChainSpec, GenesisAccount, MemoryState, StateChanges, build_block, import_block, recover_senders,
};
use nrd_execute_client::{Ancestors, ExecutionWitness, record_block, verify_block};
use rand::{Rng, SeedableRng, rngs::StdRng};
use revm::{
    database::{CacheDB, EmptyDB, State},
    primitives::hardfork::SpecId,
    state::{AccountInfo, Bytecode},
};
use std::{borrow::Cow, time::Instant};

const CHAIN_ID: u64 = 1337;
const GAS_LIMIT: u64 = 36_000_000;
const TARGET_GAS: u64 = 30_000_000;
const TOKEN: Address = address!("0x00000000000000000000000000000000000e2c20");
const STORE: Address = address!("0x0000000000000000000000000000000000005707");

/// ERC-20-style transfer(to, amount): balances at slot = holder address, emits `Transfer`.
fn token_code() -> Bytes {
    let sig = keccak256("Transfer(address,address,uint256)");
    let mut code = vec![
        0x33, 0x54, 0x60, 0x24, 0x35, 0x80, 0x82, 0x10, 0x60, 0x50, 0x57, 0x80, 0x91, 0x03, 0x33, 0x55, 0x60, 0x04,
        0x35, 0x80, 0x54, 0x82, 0x01, 0x90, 0x55, 0x60, 0x00, 0x52, 0x60, 0x04, 0x35, 0x33, 0x7f,
    ];
    code.extend_from_slice(sig.as_slice());
    code.extend_from_slice(&[
        0x60, 0x20, 0x60, 0x00, 0xa3, 0x60, 0x01, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3, 0x5b, 0x60, 0x00,
        0x80, 0xfd,
    ]);
    debug_assert_eq!(code[0x50], 0x5b, "revert label");
    code.into()
}

/// Storage-heavy: calldata (n, base) writes slots base..base+n with non-zero values.
fn store_code() -> Bytes {
    Bytes::from_static(&[
        0x60, 0x00, 0x35, 0x60, 0x20, 0x35, 0x5b, 0x81, 0x15, 0x60, 0x1b, 0x57, 0x80, 0x80, 0x55, 0x60, 0x01, 0x01,
        0x90, 0x60, 0x01, 0x90, 0x03, 0x90, 0x60, 0x06, 0x56, 0x5b, 0x00,
    ])
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Mix {
    /// ETH transfers, ERC-20 transfers and storage-heavy calls, a third of the gas each.
    Mixed,
    /// ETH transfers only.
    Transfers,
}

struct Setup {
    spec: ChainSpec,
    alloc: Vec<(Address, GenesisAccount)>,
    genesis: Sealed<Header>,
    state: MemoryState,
    candidates: Vec<Recovered<TxEnvelope>>,
}

fn setup(accounts: usize, mix: Mix, seed: u64) -> Setup {
    let mut rng = StdRng::seed_from_u64(seed);
    let senders: Vec<PrivateKeySigner> =
        (0u64..2000).filter_map(|i| PrivateKeySigner::from_bytes(&keccak256(i.to_be_bytes())).ok()).collect();
    let mut alloc: Vec<(Address, GenesisAccount)> = Vec::with_capacity(accounts + senders.len() + 2);
    let rich = U256::from(10u128.pow(24));
    for s in &senders {
        alloc.push((s.address(), GenesisAccount { balance: rich, ..Default::default() }));
    }
    let mut recipients = Vec::with_capacity(accounts);
    for _ in 0..accounts {
        let addr = Address::from(rng.random::<[u8; 20]>());
        recipients.push(addr);
        alloc.push((
            addr,
            GenesisAccount { balance: U256::from(rng.random_range(1u64..1 << 40)), ..Default::default() },
        ));
    }
    let mut token_storage: HashMap<U256, U256> = HashMap::default();
    for s in &senders {
        token_storage.insert(U256::from_be_slice(s.address().as_slice()), rich);
    }
    for r in recipients.iter().step_by(10) {
        token_storage.insert(U256::from_be_slice(r.as_slice()), U256::from(1_000_000u64));
    }
    alloc.push((TOKEN, GenesisAccount { code: token_code(), storage: token_storage, ..Default::default() }));
    alloc.push((STORE, GenesisAccount { code: store_code(), ..Default::default() }));

    let spec = ChainSpec::post_merge(CHAIN_ID, SpecId::CANCUN, None);
    let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
    let genesis = Sealed::new(spec.genesis_header(state.root(), GAS_LIMIT, 1));

    // Candidate transactions, round-robin over senders, a little over the target gas.
    let mut nonces = vec![0u64; senders.len()];
    let mut candidates = Vec::new();
    let mut gas = 0u64;
    let mut store_base = 1u64;
    let mut i = 0usize;
    let mut gas_by_kind = [0u64; 3];
    while gas < TARGET_GAS {
        let k = i % senders.len();
        // Mixed: the category with the least gas so far, so each gets about a third.
        let kind = match mix {
            Mix::Transfers => 0,
            Mix::Mixed => (0..3).min_by_key(|k| gas_by_kind[*k]).unwrap_or(0),
        };
        let to = recipients[rng.random_range(0..recipients.len())];
        let (target, value, input, gas_limit, gas_estimate) = match kind {
            0 => (to, U256::from(1000u64 + i as u64), Bytes::new(), 21_000, 21_000),
            1 => {
                let mut data = vec![0xa9, 0x05, 0x9c, 0xbb];
                data.extend_from_slice(B256::left_padding_from(to.as_slice()).as_slice());
                data.extend_from_slice(&U256::from(7u64).to_be_bytes::<32>());
                (TOKEN, U256::ZERO, data.into(), 80_000, 55_000)
            }
            _ => {
                let n = 40u64;
                let mut data = U256::from(n).to_be_bytes::<32>().to_vec();
                data.extend_from_slice(&U256::from(store_base).to_be_bytes::<32>());
                store_base += n;
                (STORE, U256::ZERO, data.into(), 1_000_000, 22_100 * n + 25_000)
            }
        };
        let tx = TxEip1559 {
            chain_id: CHAIN_ID,
            nonce: nonces[k],
            gas_limit,
            max_fee_per_gas: 10_000_000_000,
            max_priority_fee_per_gas: 1_000_000_000,
            to: TxKind::Call(target),
            value,
            input,
            access_list: Default::default(),
        };
        let sig = senders[k].sign_hash_sync(&tx.signature_hash()).expect("signing with a local key");
        candidates.push(Recovered::new_unchecked(TxEnvelope::from(tx.into_signed(sig)), senders[k].address()));
        nonces[k] += 1;
        gas += gas_estimate;
        gas_by_kind[kind] += gas_estimate;
        i += 1;
    }
    Setup { spec, alloc, genesis, state, candidates }
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(|a, b| a.total_cmp(b));
    xs[xs.len() / 2]
}

/// revm over `CacheDB`: the same block, no trie and no state root.
fn revm_peer(setup: &Setup, block: &Block<TxEnvelope>, senders: &[Address]) -> f64 {
    let mut cache = CacheDB::new(EmptyDB::default());
    for (address, acc) in &setup.alloc {
        let code = (!acc.code.is_empty()).then(|| Bytecode::new_raw(acc.code.clone()));
        let mut info = AccountInfo::from_balance(acc.balance);
        info.nonce = acc.nonce;
        if let Some(code) = code {
            info = info.with_code(code);
        }
        cache.insert_account_info(*address, info);
        for (k, v) in &acc.storage {
            cache.insert_account_storage(*address, *k, *v).expect("in-memory insert");
        }
    }
    let header = &block.header;
    let env = EvmEnv::for_eth_block(header, &setup.spec, CHAIN_ID, setup.spec.blob_params_at(header.timestamp));
    let start = Instant::now();
    let db = State::builder().with_database(&mut cache).with_bundle_update().build();
    let evm = EthEvmFactory::default().create_evm(db, env);
    let ctx = EthBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: Some(Cow::Owned(vec![])),
        extra_data: Bytes::new(),
        tx_count_hint: None,
        slot_number: None,
    };
    let mut executor = EthBlockExecutor::new(evm, ctx, &setup.spec, AlloyReceiptBuilder::default());
    executor.apply_pre_execution_changes().expect("peer pre-execution");
    for (tx, sender) in block.body.transactions.iter().zip(senders) {
        executor.execute_transaction(Recovered::new_unchecked(tx, *sender)).expect("peer executes the block");
    }
    let (evm, result) = executor.finish().expect("peer finishes");
    let mut db = evm.into_db();
    db.merge_transitions(revm::database::states::bundle_state::BundleRetention::PlainState);
    let changes = StateChanges::from_bundle(&db.take_bundle());
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(result.gas_used, header.gas_used, "peer computes the same gas");
    assert!(!changes.accounts.is_empty());
    elapsed
}

/// What `nrd-bench execute` is asked to do.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Args {
    /// Accounts in the state besides senders and contracts.
    #[arg(long, default_value_t = 100_000)]
    pub(crate) accounts: usize,
    /// Transaction mix.
    #[arg(long, value_enum, default_value = "mixed")]
    pub(crate) mix: Mix,
    /// Repetitions (the median is reported).
    #[arg(long, default_value_t = 5)]
    pub(crate) runs: usize,
}

/// Runs the benchmark and prints a Markdown report.
pub(crate) fn run(args: &Args) {
    let (accounts, mix, runs) = (args.accounts, args.mix, args.runs);
    let t = Instant::now();
    let mut setup = setup(accounts, mix, 7);
    let parent = setup.genesis.clone();
    eprintln!(
        "setup: {} accounts, {} candidates in {:.1}s",
        setup.alloc.len(),
        setup.candidates.len(),
        t.elapsed().as_secs_f64()
    );

    // Build the block on a copy of the state.
    let mut building = setup.state.clone();
    let attrs = BlockAttributes {
        timestamp: 13,
        gas_limit: GAS_LIMIT,
        prev_randao: B256::repeat_byte(7),
        parent_beacon_block_root: Some(B256::repeat_byte(1)),
        ..Default::default()
    };
    let ancestors = Ancestors::parent_only(parent.clone());
    let candidates = std::mem::take(&mut setup.candidates);
    let built = build_block(&setup.spec, &parent, attrs, candidates, &mut building, &ancestors).expect("block builds");
    drop(building);
    let block = built.block;
    let senders = recover_senders(&block).expect("senders");
    let tx_bytes: usize = block.body.transactions.iter().map(|tx| tx.encode_2718_len()).sum();
    let gas = block.header.gas_used as f64;
    eprintln!(
        "block: {} txs, {} gas, {} rejected",
        block.body.transactions.len(),
        block.header.gas_used,
        built.rejected.len()
    );

    let (mut stateful, mut recording, mut stateless, mut peer, mut recovery) = (vec![], vec![], vec![], vec![], vec![]);
    let mut witness = ExecutionWitness::default();
    for _ in 0..runs.max(1) {
        let mut s = setup.state.clone();
        let t = Instant::now();
        import_block(&setup.spec, &parent, &block, &[], &mut s, &ancestors).expect("block imports");
        stateful.push(t.elapsed().as_secs_f64());

        let mut s = setup.state.clone();
        let t = Instant::now();
        let (_, w) = record_block(&setup.spec, &block, &[], &mut s, &ancestors).expect("block records");
        recording.push(t.elapsed().as_secs_f64());
        witness = w;

        let t = Instant::now();
        let verified = verify_block(&setup.spec, parent.state_root, &block, &[], &witness).expect("block verifies");
        stateless.push(t.elapsed().as_secs_f64());
        assert_eq!(verified.state_root, block.header.state_root);

        peer.push(revm_peer(&setup, &block, &senders));
        let t = Instant::now();
        let recovered = recover_senders(&block).expect("senders");
        recovery.push(t.elapsed().as_secs_f64());
        assert_eq!(recovered, senders);
    }
    let mgas = |secs: f64| gas / secs / 1e6;
    let (stateful, recording, stateless, peer, recovery) =
        (median(stateful), median(recording), median(stateless), median(peer), median(recovery));
    let wsize = witness.size();
    println!(
        "| block | {mix:?}, {} txs, {:.1} Mgas, state of {} accounts |",
        block.body.transactions.len(),
        gas / 1e6,
        setup.alloc.len()
    );
    println!("|---|---|");
    println!("| revm over CacheDB (peer: no trie, no root) | {:.1} Mgas/s |", mgas(peer));
    println!("| revm over CacheDB + sender recovery (peer) | {:.1} Mgas/s |", mgas(peer + recovery));
    println!(
        "| nrd stateful import (recover + execute + validate + state root) | {:.1} Mgas/s ({:.2}x peer with recovery) |",
        mgas(stateful),
        (peer + recovery) / stateful
    );
    println!("| nrd stateful import with witness recording | {:.1} Mgas/s |", mgas(recording));
    println!("| nrd stateless verification | {:.1} Mgas/s ({:.2}x stateful) |", mgas(stateless), stateful / stateless);
    println!(
        "| witness | {} bytes ({} nodes, {} codes, {} headers) |",
        wsize,
        witness.state.len(),
        witness.codes.len(),
        witness.headers.len()
    );
    println!("| witness bytes per gas | {:.4} |", wsize as f64 / gas);
    println!("| transaction bytes | {tx_bytes} |");
    println!("| witness bytes / transaction bytes | {:.2} |", wsize as f64 / tx_bytes as f64);
}
