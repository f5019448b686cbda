//! `nrd-bench state`: the L2 node over states of 100,000 to 10,000,000 accounts — genesis load,
//! restart, sequencer seal (build + record witness + commit) and follower import of the same
//! ~30M-gas block of transfers to random existing accounts, resident memory and disk bytes per
//! account — next to the previous design (the whole state in memory, cloned per block) where it
//! fits. Each size runs in child processes of its own (`--phase load|run`), so memory figures are
//! the node's, not the benchmark's.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, transaction::Recovered};
use alloy_primitives::{Address, B256, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use nrd_chain::{GenesisAccount, MemoryState, StateProvider, StoredBlock, build_block};
use nrd_derivation::{L1BlockRef, L2Genesis, PostedBlock, SequencingConfig, SyntheticAccounts, block_inputs};
use nrd_execute_client::record_block;
use nrd_node::{BlockL1Info, L2Chain, NodeError, StateHistory};
use nrd_storage::{CheckpointReader, RedbStore, StoreOptions};
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::Arc,
    time::Instant,
};

use crate::{
    BenchError,
    harness::{Conn, Node, Nrd, free_port, start},
};

/// Transfers per block: 1,400 × 21,000 gas = 29.4M gas (the anchor call takes some of the 30M).
const TRANSFERS: usize = 1_400;
/// Senders (funded in the allocation).
const SENDERS: usize = 20;

#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// State sizes, in accounts.
    #[arg(long, value_delimiter = ',', default_value = "100000,1000000,10000000")]
    accounts: Vec<u64>,
    /// Blocks sealed and imported per size (the median is reported).
    #[arg(long, default_value_t = 5)]
    blocks: usize,
    /// Where the stores are written (removed afterwards).
    #[arg(long, default_value = "target/nrd-bench-state")]
    dir: PathBuf,
    /// Measure the previous design (the state in memory, cloned per block) up to this size.
    #[arg(long, default_value_t = 1_000_000)]
    peer_up_to: u64,
    /// MiB of trie nodes the store caches.
    #[arg(long, default_value_t = 256)]
    node_cache_mb: u64,
    /// Seal without warming the recipients' trie paths on another thread (as before it).
    #[arg(long)]
    no_prefetch: bool,
    /// Skip the checkpoint export and import (and `nrd node`'s start from the checkpoint).
    #[arg(long)]
    no_checkpoint: bool,
    /// Keep the stores (and reuse one that a previous invocation kept instead of loading it).
    #[arg(long)]
    keep: bool,
    /// MiB of database pages redb caches.
    #[arg(long, default_value_t = 1024)]
    db_cache_mb: u64,
    /// Internal: run one phase for one size and print its figures as JSON.
    #[arg(long, hide = true)]
    phase: Option<Phase>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Phase {
    /// Write the genesis of one size into a fresh store.
    Load,
    /// Reopen it, seal and import blocks.
    Run,
    /// The previous design on the same genesis.
    Peer,
    /// Export a checkpoint of the run's head and start a new store from it.
    Checkpoint,
}

fn senders() -> Vec<PrivateKeySigner> {
    (0..SENDERS)
        .map(|i| PrivateKeySigner::from_bytes(&keccak256(format!("nrd-bench state sender {i}"))).expect("valid key"))
        .collect()
}

fn genesis(accounts: u64) -> L2Genesis {
    let funded =
        senders().into_iter().map(|k| (k.address(), GenesisAccount { balance: U256::MAX >> 8, ..Default::default() }));
    nrd_node_builder::devnet_genesis().with_accounts(funded.collect::<Vec<_>>()).with_synthetic(Some(
        SyntheticAccounts { count: accounts, balance: U256::from(10u64.pow(18)), seed: B256::repeat_byte(0x5e) },
    ))
}

/// One block of transfers to random existing accounts, nonces from `first_nonce`.
fn transfers(genesis: &L2Genesis, accounts: u64, block: u64, first_nonce: u64) -> Vec<Recovered<TxEnvelope>> {
    let synthetic = genesis.synthetic().ok().flatten().expect("the bench genesis has generated accounts");
    let keys = senders();
    let mut rng = StdRng::seed_from_u64(block);
    (0..TRANSFERS)
        .map(|i| {
            let key = &keys[i % SENDERS];
            let nonce = first_nonce + (i / SENDERS) as u64;
            let tx = TxEip1559 {
                chain_id: genesis.chain_id(),
                nonce,
                gas_limit: 21_000,
                max_fee_per_gas: 100_000_000_000,
                max_priority_fee_per_gas: 1,
                to: TxKind::Call(synthetic.address(rng.random_range(0..accounts))),
                value: U256::from(1),
                input: Default::default(),
                access_list: Default::default(),
            };
            let signature = key.sign_hash_sync(&tx.signature_hash()).expect("signing");
            Recovered::new_unchecked(TxEnvelope::from(tx.into_signed(signature)), key.address())
        })
        .collect()
}

/// The store of one size, where `nrd node` finds it (`data_dir/chain.redb`).
fn store_path(dir: &Path, accounts: u64) -> PathBuf {
    dir.join(accounts.to_string()).join("chain.redb")
}

/// The store a checkpoint of one size is imported into.
fn checkpoint_store(dir: &Path, accounts: u64) -> PathBuf {
    dir.join(format!("{accounts}-checkpoint")).join("chain.redb")
}

/// The process's resident and peak resident memory, MiB.
fn memory() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs.get(xs.len() / 2).copied().unwrap_or(0.0)
}

fn node_error(e: NodeError) -> BenchError {
    BenchError::Node(Box::new(e))
}

fn open(args: &Args, path: &Path, genesis: &L2Genesis) -> Result<L2Chain, BenchError> {
    let options = StoreOptions {
        node_cache_bytes: args.node_cache_mb << 20,
        archive: false,
        db_cache_bytes: args.db_cache_mb << 20,
    };
    let store = RedbStore::open_with(path, options).map_err(|e| BenchError::Failed(format!("store: {e}")))?;
    L2Chain::open_with(genesis.clone(), Arc::new(store), StateHistory::default()).map_err(node_error)
}

fn phase_load(args: &Args, accounts: u64) -> Result<serde_json::Value, BenchError> {
    let path = store_path(&args.dir, accounts);
    let _ = std::fs::remove_file(&path);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::File { path: dir.to_path_buf(), source })?;
    }
    let genesis = genesis(accounts);
    let start = Instant::now();
    let chain = open(args, &path, &genesis)?;
    let load_s = start.elapsed().as_secs_f64();
    drop(chain);
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let (_, peak) = memory();
    Ok(serde_json::json!({ "load_s": load_s, "load_peak_mib": peak, "disk_bytes": bytes }))
}

fn l1_ref(number: u64, parent_timestamp: u64) -> L1BlockRef {
    L1BlockRef { number, hash: keccak256(number.to_be_bytes()), timestamp: parent_timestamp + 12 }
}

fn phase_run(args: &Args, accounts: u64) -> Result<serde_json::Value, BenchError> {
    let path = store_path(&args.dir, accounts);
    let genesis = genesis(accounts);
    let start = Instant::now();
    let chain = open(args, &path, &genesis)?;
    let mut state = chain.head_state().map_err(node_error)?;
    state.account(Address::ZERO).map_err(|e| BenchError::Failed(e.to_string()))?;
    let open_s = start.elapsed().as_secs_f64();
    let (open_rss, _) = memory();
    let config = SequencingConfig { gas_limit: genesis.gas_limit(), fee_recipient: Address::repeat_byte(0xfe) };
    let spec = chain.spec().clone();
    let (mut seal, mut import, mut gas) = (Vec::new(), Vec::new(), 0);
    // The seal's parts: build, record the witness, commit (trie update and the store's write).
    let (mut build, mut record, mut commit) = (Vec::new(), Vec::new(), Vec::new());
    // A kept store (`--keep`) goes on from where the last invocation left it.
    let base = chain.head().number();
    for block in base..base + args.blocks as u64 {
        let parent = chain.head_sealed();
        let l1 = l1_ref(parent.number + 1, parent.timestamp);
        let txs = transfers(&genesis, accounts, block, block * (TRANSFERS / SENDERS) as u64);
        let inputs = block_inputs(&parent, &[], txs, parent.timestamp + 1, l1, &config)
            .map_err(|e| BenchError::Failed(e.to_string()))?;
        let anchor = inputs.attributes.anchor.clone();
        let ancestors = chain.ancestors();
        let fail = |e: &dyn std::fmt::Display| BenchError::Failed(e.to_string());
        // Seal as the sequencer does: warm the recipients' trie paths on another thread, build,
        // record the witness on a second view, commit.
        let t = Instant::now();
        let prefetch = if args.no_prefetch { None } else { chain.prefetch_transactions(&inputs.transactions) };
        let mut scratch = chain.head_state().map_err(node_error)?;
        let built = build_block(&spec, &parent, inputs.attributes, inputs.transactions, &mut scratch, &ancestors)
            .map_err(|e| fail(&e))?;
        drop(prefetch);
        build.push(t.elapsed().as_secs_f64());
        if !built.rejected.is_empty() {
            return Err(BenchError::Failed(format!("{} transfers rejected", built.rejected.len())));
        }
        let recording = Instant::now();
        let mut state = chain.head_state().map_err(node_error)?;
        let (imported, witness) =
            record_block(&spec, &built.block, &anchor, &mut state, &ancestors).map_err(|e| fail(&e))?;
        record.push(recording.elapsed().as_secs_f64());
        let committing = Instant::now();
        let block_body = built.block.clone();
        let stored = StoredBlock::new(built.block, built.senders, imported.executed.receipts.clone());
        let info = BlockL1Info { l1_anchor: l1.number, messages: vec![], anchor };
        chain
            .append(stored, info, Some(witness.clone()), &imported.executed.changes, &mut state)
            .map_err(node_error)?;
        commit.push(committing.elapsed().as_secs_f64());
        seal.push(t.elapsed().as_secs_f64());
        gas = block_body.header.gas_used;
        // Import the same block as a follower does, on the same parent state.
        chain.rewind(parent.number).map_err(node_error)?;
        let posted = PostedBlock { block: block_body, witness, l1_anchor: l1.number, messages: vec![] };
        let t = Instant::now();
        chain.import(&posted, l1.hash).map_err(node_error)?;
        import.push(t.elapsed().as_secs_f64());
    }
    let (rss, peak) = memory();
    let bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    Ok(serde_json::json!({
        "open_s": open_s, "open_rss_mib": open_rss, "seal_s": median(seal), "import_s": median(import),
        "build_s": median(build), "record_s": median(record), "commit_s": median(commit),
        "gas": gas, "rss_mib": rss, "peak_mib": peak, "disk_bytes_after": bytes,
    }))
}

/// A checkpoint of the run's head: export (time, bytes), import into a fresh store (time, peak
/// memory), and a chain opened on it (time until its head state answers).
fn phase_checkpoint(args: &Args, accounts: u64) -> Result<serde_json::Value, BenchError> {
    let fail = |e: &dyn std::fmt::Display| BenchError::Failed(e.to_string());
    let genesis = genesis(accounts);
    let options = StoreOptions {
        node_cache_bytes: args.node_cache_mb << 20,
        archive: false,
        db_cache_bytes: args.db_cache_mb << 20,
    };
    let file = args.dir.join(format!("{accounts}.ckpt"));
    let store = RedbStore::open_with(store_path(&args.dir, accounts), options).map_err(|e| fail(&e))?;
    let t = Instant::now();
    let out = std::fs::File::create(&file).map_err(|source| BenchError::File { path: file.clone(), source })?;
    let exported = store.export_checkpoint(None, out).map_err(|e| fail(&e))?;
    let export_s = t.elapsed().as_secs_f64();
    drop(store);
    let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let target = checkpoint_store(&args.dir, accounts);
    let _ = std::fs::remove_file(&target);
    if let Some(dir) = target.parent() {
        std::fs::create_dir_all(dir).map_err(|source| BenchError::File { path: dir.to_path_buf(), source })?;
    }
    let t = Instant::now();
    let fresh = RedbStore::open_with(&target, options).map_err(|e| fail(&e))?;
    let input = std::fs::File::open(&file).map_err(|source| BenchError::File { path: file.clone(), source })?;
    let reader = CheckpointReader::open(std::io::BufReader::with_capacity(1 << 20, input)).map_err(|e| fail(&e))?;
    let imported = fresh.import_checkpoint(reader).map_err(|e| fail(&e))?;
    nrd_node::adopt_genesis(&fresh, &genesis).map_err(node_error)?;
    let import_s = t.elapsed().as_secs_f64();
    if imported != exported {
        return Err(BenchError::Failed(format!("imported {imported:?}, exported {exported:?}")));
    }
    drop(fresh);
    let _ = std::fs::remove_file(&file);
    let t = Instant::now();
    let chain = open(args, &target, &genesis)?;
    chain.head_state().map_err(node_error)?.account(Address::ZERO).map_err(|e| fail(&e))?;
    let open_s = t.elapsed().as_secs_f64();
    let (_, peak) = memory();
    Ok(serde_json::json!({
        "export_s": export_s, "file_bytes": bytes, "import_s": import_s, "open_s": open_s, "peak_mib": peak,
        "accounts_exported": exported.accounts,
    }))
}

/// `nrd node` (a follower of a rollup L1 does not have) on the store in `data_dir`: seconds
/// from spawning the process to its first `eth_blockNumber` answer.
fn node_start(nrd: &Nrd, l1: &Node, beacon: u16, genesis: &L2Genesis, data_dir: &Path) -> Result<f64, BenchError> {
    let genesis_file = data_dir.join("genesis.json");
    std::fs::write(&genesis_file, genesis.to_json())
        .map_err(|source| BenchError::File { path: genesis_file.clone(), source })?;
    let (port, metrics) = (free_port(), free_port());
    let config = data_dir.join("node.toml");
    let text = format!(
        "role = \"follower\"\ndata_dir = {:?}\ngenesis = {:?}\nrpc_addr = \"127.0.0.1:{port}\"\nmetrics_addr = \"127.0.0.1:{metrics}\"\n\n[l1]\nrpc_url = \"http://{}\"\nbeacon_url = \"http://127.0.0.1:{beacon}\"\nrollup = \"0x00000000000000000000000000000000000000aa\"\n",
        data_dir.display().to_string(),
        genesis_file.display().to_string(),
        l1.addr,
    );
    std::fs::write(&config, text).map_err(|source| BenchError::File { path: config.clone(), source })?;
    let addr = format!("127.0.0.1:{port}");
    let t = Instant::now();
    let child = nrd
        .command(["node", "--config", &config.display().to_string()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|source| BenchError::Spawn { name: "nrd node".into(), source })?;
    let mut node = Node::adopt("nrd node", child, addr.clone());
    loop {
        if Conn::open(&addr).and_then(|mut c| c.call("eth_blockNumber", &serde_json::json!([]))).is_ok() {
            break;
        }
        if let Some(status) = node.exited() {
            return Err(BenchError::Exited { name: "nrd node".into(), status, addr });
        }
        if t.elapsed().as_secs() > 600 {
            return Err(BenchError::NoAnswer { name: "nrd node".into(), addr });
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let started = t.elapsed().as_secs_f64();
    // A clean stop: a killed node would leave the store for redb to repair at the next open.
    node.interrupt(std::time::Duration::from_secs(60));
    Ok(started)
}

/// The previous design: the whole state in memory, a clone per block for history, build +
/// record + commit on it.
fn phase_peer(args: &Args, accounts: u64) -> Result<serde_json::Value, BenchError> {
    let genesis = genesis(accounts);
    let start = Instant::now();
    let mut head = genesis.state();
    let root = head.root();
    let load_s = start.elapsed().as_secs_f64();
    let spec = genesis.spec();
    let mut parent = genesis.header(root);
    let config = SequencingConfig { gas_limit: genesis.gas_limit(), fee_recipient: Address::repeat_byte(0xfe) };
    let mut hashes = alloy_primitives::map::HashMap::default();
    hashes.insert(0u64, parent.hash());
    let mut history: Vec<MemoryState> = Vec::new();
    let mut seal = Vec::new();
    for block in 0..args.blocks as u64 {
        let l1 = l1_ref(parent.number + 1, parent.timestamp);
        let txs = transfers(&genesis, accounts, block, block * (TRANSFERS / SENDERS) as u64);
        let inputs = block_inputs(&parent, &[], txs, parent.timestamp + 1, l1, &config)
            .map_err(|e| BenchError::Failed(e.to_string()))?;
        let anchor = inputs.attributes.anchor.clone();
        let ancestors = nrd_execute_client::Ancestors::parent_only(parent.clone());
        let t = Instant::now();
        let mut scratch = head.clone();
        let built = build_block(&spec, &parent, inputs.attributes, inputs.transactions, &mut scratch, &hashes)
            .map_err(|e| BenchError::Failed(e.to_string()))?;
        let mut state = head.clone();
        record_block(&spec, &built.block, &anchor, &mut state, &ancestors)
            .map_err(|e| BenchError::Failed(e.to_string()))?;
        history.push(std::mem::replace(&mut head, state));
        seal.push(t.elapsed().as_secs_f64());
        parent = alloy_consensus::Sealed::new(built.block.header);
        hashes.insert(parent.number, parent.hash());
    }
    let (rss, peak) = memory();
    Ok(
        serde_json::json!({ "peer_load_s": load_s, "peer_seal_s": median(seal), "peer_rss_mib": rss, "peer_peak_mib": peak }),
    )
}

fn child(args: &Args, accounts: u64, phase: &str) -> Result<serde_json::Value, BenchError> {
    let exe = std::env::current_exe().map_err(BenchError::CurrentExe)?;
    let output = Command::new(&exe)
        .args(["state", "--phase", phase, "--accounts", &accounts.to_string(), "--blocks", &args.blocks.to_string()])
        .args(["--dir", &args.dir.display().to_string(), "--node-cache-mb", &args.node_cache_mb.to_string()])
        .args(["--db-cache-mb", &args.db_cache_mb.to_string()])
        .args(args.no_prefetch.then_some("--no-prefetch"))
        .output()
        .map_err(|source| BenchError::Spawn { name: format!("nrd-bench state --phase {phase}"), source })?;
    if !output.status.success() {
        return Err(BenchError::CommandFailed {
            command: format!("nrd-bench state --phase {phase} --accounts {accounts}"),
            status: output.status,
            output: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    serde_json::from_slice(&output.stdout).map_err(|e| BenchError::Failed(format!("{phase} output: {e}")))
}

pub(crate) fn run(args: &Args) -> Result<(), BenchError> {
    std::fs::create_dir_all(&args.dir).map_err(|source| BenchError::File { path: args.dir.clone(), source })?;
    if let Some(phase) = args.phase {
        let accounts = args.accounts.first().copied().unwrap_or(100_000);
        let figures = match phase {
            Phase::Load => phase_load(args, accounts)?,
            Phase::Run => phase_run(args, accounts)?,
            Phase::Peer => phase_peer(args, accounts)?,
            Phase::Checkpoint => phase_checkpoint(args, accounts)?,
        };
        println!("{figures}");
        return Ok(());
    }
    println!(
        "| accounts | genesis load s | disk B/account | restart s | RSS after restart MiB | seal ms | import ms | RSS after blocks MiB | previous design: seal ms | its RSS MiB |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut first_seal = None;
    // `nrd node` starts against an L1 (`nrd l1`), when the `nrd` binary is beside this one.
    let nrd = Nrd::locate(None).ok();
    let (l1_port, beacon) = (free_port(), free_port());
    let l1 = match &nrd {
        Some(nrd) => {
            let mut command = nrd.command(["l1", "--rpc-addr", &format!("127.0.0.1:{l1_port}")]);
            command.args(["--beacon-addr", &format!("127.0.0.1:{beacon}")]);
            command.args(["--metrics-addr", &format!("127.0.0.1:{}", free_port())]);
            Some(start("nrd l1", command, l1_port, None)?)
        }
        None => None,
    };
    let mut second = Vec::new();
    let mut parts = Vec::new();
    for &accounts in &args.accounts {
        let kept = args.keep && store_path(&args.dir, accounts).exists();
        let load = if kept { serde_json::json!({}) } else { child(args, accounts, "load")? };
        let run = child(args, accounts, "run")?;
        let peer = if accounts <= args.peer_up_to { Some(child(args, accounts, "peer")?) } else { None };
        let checkpoint = if args.no_checkpoint { serde_json::json!({}) } else { child(args, accounts, "checkpoint")? };
        let genesis = genesis(accounts);
        let starts = match (&nrd, &l1) {
            (Some(nrd), Some(l1)) => {
                let dir = |p: PathBuf| p.parent().map(Path::to_path_buf).unwrap_or_default();
                let from_checkpoint = if args.no_checkpoint {
                    f64::NAN
                } else {
                    node_start(nrd, l1, beacon, &genesis, &dir(checkpoint_store(&args.dir, accounts)))?
                };
                Some((node_start(nrd, l1, beacon, &genesis, &dir(store_path(&args.dir, accounts)))?, from_checkpoint))
            }
            _ => None,
        };
        let stores = [store_path(&args.dir, accounts), checkpoint_store(&args.dir, accounts)];
        for path in stores.iter().skip(usize::from(args.keep)) {
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        second.push((accounts, checkpoint, starts));
        let f = |v: &serde_json::Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let seal = f(&run, "seal_s");
        let base = *first_seal.get_or_insert(seal);
        parts.push((accounts, f(&run, "build_s"), f(&run, "record_s"), f(&run, "commit_s")));
        println!(
            "| {accounts} | {:.1} | {:.0} | {:.2} | {:.0} | {:.1} ({:.2}x) | {:.1} | {:.0} | {} | {} |",
            f(&load, "load_s"),
            f(&load, "disk_bytes") / accounts as f64,
            f(&run, "open_s"),
            f(&run, "open_rss_mib"),
            seal * 1e3,
            seal / base,
            f(&run, "import_s") * 1e3,
            f(&run, "rss_mib"),
            peer.as_ref().map_or("—".into(), |p| format!("{:.1}", f(p, "peer_seal_s") * 1e3)),
            peer.as_ref().map_or("—".into(), |p| format!("{:.0}", f(p, "peer_rss_mib"))),
        );
    }
    println!();
    println!("| accounts | seal: build ms | record witness ms | commit ms |");
    println!("|---:|---:|---:|---:|");
    for (accounts, build, record, commit) in parts {
        println!("| {accounts} | {:.1} | {:.1} | {:.1} |", build * 1e3, record * 1e3, commit * 1e3);
    }
    println!();
    println!(
        "| accounts | `nrd node` start → eth_blockNumber (s) | checkpoint export (s) | checkpoint B/account | checkpoint import (s) | import peak RSS (MiB) | `nrd node` start from the checkpoint (s) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (accounts, c, starts) in second {
        let f = |k: &str| c[k].as_f64().unwrap_or(f64::NAN);
        let (start, from_checkpoint) =
            starts.map_or(("—".to_string(), "—".to_string()), |(a, b)| (format!("{a:.2}"), format!("{b:.2}")));
        println!(
            "| {accounts} | {start} | {:.1} | {:.0} | {:.1} | {:.0} | {from_checkpoint} |",
            f("export_s"),
            f("file_bytes") / accounts as f64,
            f("import_s"),
            f("peak_mib"),
        );
    }
    Ok(())
}
