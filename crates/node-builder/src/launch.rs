//! Launching one L2 node from its configuration: the store, the chain, the follower, and — by
//! role — the block producer and batch submitter, or a self-proposer; its JSON-RPC.

use crate::{
    ConfigError, LaunchError, NodeConfig, Role,
    error::LaunchResult,
    ops::{serve_ops, watch_node},
};
use alloy_eips::BlockNumberOrTag;
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::{L2Genesis, SequencingConfig};
use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_node::{Follower, FollowerConfig, L1View, L2Chain, L2Node, NodeError, RollupApiServer as _, RollupRpc, TxSink};
use nrd_rpc::{RpcLimits, RunningServer};
use nrd_sequencer::{AdvanceLimits, BlockProducer, Mempool, SelfProposer, Submitter, SubmitterConfig};
use nrd_storage::{ChainStore, RedbStore, StoreOptions};
use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::{sync::watch, task::JoinHandle};

/// A running L2 node.
#[derive(Debug)]
pub struct RunningNode {
    /// The node: its chain, status and JSON-RPC backend.
    pub node: Arc<L2Node>,
    /// Its JSON-RPC server (none when launched [`NodeBuilder::without_rpc`]).
    pub rpc: Option<RunningServer>,
    /// The follower's task: it ends with the follower's error, or `Ok` once stopped.
    pub follower: JoinHandle<Result<(), NodeError>>,
    /// The other tasks (block producer, submitter, self-proposer).
    pub tasks: Vec<JoinHandle<()>>,
    /// What the node knows of L1 (for its metrics and readiness).
    pub view: Arc<Mutex<L1View>>,
}

impl RunningNode {
    /// Waits for the node to stop, after the `stop` channel it was launched with was set: the
    /// JSON-RPC server closes, the tasks finish.
    pub async fn stopped(self) {
        if let Some(rpc) = self.rpc {
            let _ = rpc.handle.stop();
            rpc.handle.stopped().await;
        }
        let _ = self.follower.await;
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

async fn wait(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Builds an L2 node from a [`NodeConfig`]: what `nrd node`, `nrd devnet` and
/// `nrd bridge advance` launch. The genesis, the store and the signing key default to what the
/// configuration names (`genesis`, `data_dir`, `sequencer.key`/`proposer.key`); each can be
/// given instead.
#[derive(Debug)]
pub struct NodeBuilder {
    config: NodeConfig,
    genesis: Option<L2Genesis>,
    store: Option<Arc<dyn ChainStore>>,
    key: Option<Option<PrivateKeySigner>>,
    rpc: bool,
    l1_timeout: Option<Duration>,
}

/// What every node is made of before its role's tasks start.
struct Parts {
    chain: Arc<L2Chain>,
    client: L1Client,
    l1_chain_id: u64,
    node: Arc<L2Node>,
    pool: Option<Arc<Mempool>>,
    follower: Follower,
    key: Option<PrivateKeySigner>,
}

impl NodeBuilder {
    /// A node as `config` describes it.
    pub const fn new(config: NodeConfig) -> Self {
        Self { config, genesis: None, store: None, key: None, rpc: true, l1_timeout: None }
    }

    /// The configuration.
    pub const fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// Starts from this genesis instead of reading the `genesis` file.
    pub fn with_genesis(mut self, genesis: L2Genesis) -> Self {
        self.genesis = Some(genesis);
        self
    }

    /// Keeps the chain in this store instead of `data_dir`.
    pub fn with_store(mut self, store: Arc<dyn ChainStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Signs L1 transactions with this key (or none) instead of the configured one.
    pub fn with_key(mut self, key: Option<PrivateKeySigner>) -> Self {
        self.key = Some(key);
        self
    }

    /// Serves no JSON-RPC (`rpc_addr` is ignored).
    pub const fn without_rpc(mut self) -> Self {
        self.rpc = false;
        self
    }

    /// Gives up on an L1 request after this long (default: the L1 client's).
    pub const fn with_l1_timeout(mut self, timeout: Duration) -> Self {
        self.l1_timeout = Some(timeout);
        self
    }

    /// Starts the node: follows L1 and — for a sequencer — seals and posts blocks; a follower
    /// with `proposer.self_propose` posts when the sequencer is silent. Everything stops when
    /// `stop` turns true.
    pub async fn launch(self, stop: watch::Receiver<bool>) -> LaunchResult<RunningNode> {
        let sequencing = self.config.role == Role::Sequencer;
        let self_propose = !sequencing && self.config.proposer.self_propose;
        let config = self.config.clone();
        let rpc = self.rpc;
        let parts = self.parts().await?;
        let view = parts.follower.view();
        let limits = l1_advance_limits(&parts.client, config.advance_limits()).await;
        let mut tasks = Vec::new();
        if self_propose {
            let proposer = parts.self_proposer(&config, limits)?;
            tasks.push(tokio::spawn(proposer.run(wait(stop.clone()))));
        }
        if let Some(pool) = parts.pool.clone() {
            let key = parts.key.clone().ok_or_else(|| missing_key("sequencer.key"))?;
            let producer = BlockProducer::new(
                parts.chain.clone(),
                pool,
                view.clone(),
                sequencing_config(&config, &parts.chain, &key),
            )
            .with_limits(limits, config.da_mode()?)
            .with_runs(config.sequencer.post_runs);
            let block_time = Duration::from_millis(config.sequencer.block_time_ms.max(1));
            tasks.push(tokio::spawn(producer.run(block_time, wait(stop.clone()))));
            let submitter = Submitter::new(
                parts.node.clone(),
                parts.client.clone(),
                submitter_config(&config, key, parts.l1_chain_id, limits)?,
            );
            tasks.push(tokio::spawn(submitter.run(wait(stop.clone()))));
        }
        let follower = spawn_follower(parts.follower, stop);
        let role = role_name(config.role);
        let rpc = if rpc { Some(serve_rpc(&config, &parts.node).await?) } else { None };
        tracing::info!(
            target: "nrd::node",
            role,
            rpc = %rpc.as_ref().map_or_else(|| "none".to_string(), |r| format!("http://{}", r.addr)),
            chain_id = parts.chain.spec().chain_id,
            head = parts.chain.head().number(),
            "L2 node running"
        );
        Ok(RunningNode { node: parts.node, rpc, follower, tasks, view })
    }

    /// Starts the node as a follower that rebuilds the L2 from L1, and returns with it the
    /// self-proposer its configuration describes, for the caller to step
    /// ([`SelfProposer::step`]): `nrd bridge advance`. Signs with the configured key (see
    /// [`NodeConfig::signer`]) or the one given.
    pub async fn launch_proposer(mut self, stop: watch::Receiver<bool>) -> LaunchResult<(RunningNode, SelfProposer)> {
        self.config.role = Role::Follower;
        let config = self.config.clone();
        let rpc = self.rpc;
        let parts = self.parts().await?;
        let view = parts.follower.view();
        let limits = l1_advance_limits(&parts.client, config.advance_limits()).await;
        let proposer = parts.self_proposer(&config, limits)?;
        let follower = spawn_follower(parts.follower, stop);
        let rpc = if rpc { Some(serve_rpc(&config, &parts.node).await?) } else { None };
        Ok((RunningNode { node: parts.node, rpc, follower, tasks: Vec::new(), view }, proposer))
    }

    async fn parts(self) -> LaunchResult<Parts> {
        let Self { config, genesis, store, key, l1_timeout, .. } = self;
        let genesis = match genesis {
            Some(genesis) => genesis,
            None => read_genesis(&config.genesis)?,
        };
        let key = match key {
            Some(key) => key,
            None => config.signer()?,
        };
        let (store, file) = match store {
            Some(store) => (store, None),
            None => {
                (open_store(&config.data_dir, config.state.store_options())?, Some(config.data_dir.join(STORE_FILE)))
            }
        };
        let history = config.state.history();
        let chain = match &file {
            // Opening reads the head blocks and state: the engine may meet damage there too.
            Some(file) => guard_engine(file, || L2Chain::open_with(genesis, store, history))
                .map_err(|source| LaunchError::Store { dir: config.data_dir.clone(), source })?,
            None => L2Chain::open_with(genesis, store, history),
        };
        let chain =
            Arc::new(chain.map_err(|source| LaunchError::Chain { file: file.clone(), source: Box::new(source) })?);
        let mut l1 = L1ClientConfig::new(&config.l1.rpc_url).with_beacon(&config.l1.beacon_url);
        if let Some(timeout) = l1_timeout {
            l1 = l1.with_timeout(timeout);
        }
        let url = || config.l1.rpc_url.clone();
        let client = L1Client::new(l1).map_err(|source| LaunchError::l1_config(url(), source))?;
        let l1_chain_id = client.chain_id().await.map_err(|source| LaunchError::l1(url(), source))?;
        let sequencing = config.role == Role::Sequencer;
        let pool = sequencing
            .then(|| Arc::new(Mempool::new(chain.clone(), config.sequencer.pool, config.sequencer.censor.clone())));
        let sink = pool.clone().map(|p| p as Arc<dyn TxSink>);
        let block_time = Duration::from_millis(config.sequencer.block_time_ms.max(1));
        let node = Arc::new(L2Node::new(chain.clone(), sink, block_time.as_secs().max(1)));
        node.update_status(|s| s.rollup = config.l1.rollup);
        // A chain started from a checkpoint needs nothing from L1 before the block that posted it.
        let checkpoint = nrd_node::checkpoint_l1_block(&**chain.store())
            .map_err(|source| LaunchError::Chain { file: file.clone(), source: Box::new(source) })?;
        let follower = Follower::new(
            node.clone(),
            client.clone(),
            config.l1.rollup,
            FollowerConfig {
                start_block: config.l1.start_block.max(checkpoint.unwrap_or(0)),
                confirmations: config.l1.confirmations,
                poll_interval: Duration::from_millis(config.l1.poll_interval_ms.max(10)),
                ws_url: config.l1.ws_url.clone(),
                import: !sequencing,
            },
        );
        Ok(Parts { chain, client, l1_chain_id, node, pool, follower, key })
    }
}

impl Parts {
    /// The self-proposer of a follower with `proposer.self_propose`, signing with its key.
    fn self_proposer(&self, config: &NodeConfig, limits: AdvanceLimits) -> LaunchResult<SelfProposer> {
        let key = self.key.clone().ok_or_else(|| missing_key("proposer.key"))?;
        Ok(SelfProposer::new(
            self.node.clone(),
            self.client.clone(),
            self.follower.view(),
            sequencing_config(config, &self.chain, &key),
            submitter_config(config, key, self.l1_chain_id, limits)?,
        ))
    }
}

fn missing_key(key: &str) -> LaunchError {
    let why = match key {
        "sequencer.key" => "a sequencer signs its L1 `advance` transactions with it: set NRD_SEQUENCER__KEY",
        _ => "a self-proposing follower signs `advance` transactions with it: set NRD_PROPOSER__KEY",
    };
    ConfigError::Missing { key: key.into(), why: why.into() }.into()
}

const fn role_name(role: Role) -> &'static str {
    match role {
        Role::Sequencer => "sequencer",
        Role::Follower => "follower",
    }
}

fn spawn_follower(follower: Follower, stop: watch::Receiver<bool>) -> JoinHandle<Result<(), NodeError>> {
    tokio::spawn(async move {
        let result = follower.run(wait(stop)).await;
        if let Err(e) = &result {
            tracing::error!(target: "nrd::node", "following L1 stopped: {e}");
        }
        result
    })
}

async fn serve_rpc(config: &NodeConfig, node: &Arc<L2Node>) -> LaunchResult<RunningServer> {
    nrd_rpc::serve_named(
        role_name(config.role),
        node.clone(),
        RollupRpc::new(node.clone()).into_rpc(),
        config.rpc_addr,
        RpcLimits::default(),
    )
    .await
    .map_err(|source| LaunchError::Listen { key: "rpc_addr", addr: config.rpc_addr, source })
}

fn sequencing_config(config: &NodeConfig, chain: &L2Chain, key: &PrivateKeySigner) -> SequencingConfig {
    SequencingConfig {
        gas_limit: chain.head().header().gas_limit,
        fee_recipient: config.sequencer.fee_recipient.unwrap_or(key.address()),
    }
}

/// How a node's submitter (or self-proposer) posts, from its configuration: `[sequencer]`'s
/// batch bounds and fee caps, `limits` as L1 reported them, and the key that signs.
pub fn submitter_config(
    config: &NodeConfig,
    key: PrivateKeySigner,
    l1_chain_id: u64,
    limits: AdvanceLimits,
) -> Result<SubmitterConfig, ConfigError> {
    let block_time = Duration::from_millis(config.sequencer.block_time_ms.max(1));
    Ok(SubmitterConfig {
        rollup: config.l1.rollup,
        key,
        l1_chain_id,
        mode: config.da_mode()?,
        runs: config.sequencer.post_runs,
        max_blocks: config.sequencer.max_blocks_per_batch.max(1),
        max_l2_gas: config.sequencer.max_batch_l2_gas,
        limits,
        max_fee_per_gas: u128::from(config.sequencer.max_fee_per_gas),
        max_fee_per_blob_gas: u128::from(config.sequencer.max_fee_per_blob_gas),
        poll: Duration::from_millis(config.l1.poll_interval_ms.max(10)),
        resubmit_after: block_time * 6,
        max_delay: Duration::from_millis(config.sequencer.max_batch_delay_ms),
        max_in_flight: config.sequencer.max_batches_in_flight.max(1),
    })
}

/// `configured` lowered to what L1 reports: its latest block's gas limit bounds the L1 gas of
/// one `advance`, and EXECUTE's per-block limit (`nrd_executeGas`, nrd's L1) the EXECUTE gas of
/// one. An L1 that does not answer leaves the configured value (logged).
pub async fn l1_advance_limits(client: &L1Client, configured: AdvanceLimits) -> AdvanceLimits {
    let mut limits = configured;
    match client.header(BlockNumberOrTag::Latest).await {
        Ok(Some(header)) => limits.max_l1_gas = limits.max_l1_gas.min(header.gas_limit),
        Ok(None) => {
            tracing::warn!(target: "nrd::node", "L1 has no latest block: using sequencer.max_advance_l1_gas as is")
        }
        Err(e) => {
            tracing::warn!(target: "nrd::node", "reading L1's block gas limit: {e}; using sequencer.max_advance_l1_gas as is")
        }
    }
    match client
        .raw_request::<nrd_execute_client::ExecuteGas>(
            "nrd_executeGas",
            jsonrpsee::rpc_params![BlockNumberOrTag::Latest],
        )
        .await
    {
        Ok(meter) => limits.max_execute_gas = limits.max_execute_gas.min(meter.limit),
        Err(e) => {
            tracing::warn!(target: "nrd::node", "L1 does not report its EXECUTE limit (nrd_executeGas: {e}); using sequencer.max_execute_gas")
        }
    }
    if limits != configured {
        tracing::info!(target: "nrd::node", ?configured, effective = ?limits, "advance limits lowered to what L1 reports");
    }
    limits
}

/// Reads the L2 genesis file.
pub fn read_genesis(path: &Path) -> LaunchResult<L2Genesis> {
    let json = std::fs::read_to_string(path)
        .map_err(|source| LaunchError::GenesisRead { path: path.to_path_buf(), source })?;
    L2Genesis::from_json(&json).map_err(|source| LaunchError::Genesis { path: path.to_path_buf(), source })
}

/// The store's file in a node's `data_dir`.
pub(crate) const STORE_FILE: &str = "chain.redb";

/// Opens (creating) the redb store in `dir`: a damaged file is an error that names it, never a
/// panic ([`guard_engine`]).
pub fn open_store(dir: &Path, options: StoreOptions) -> LaunchResult<Arc<dyn ChainStore>> {
    std::fs::create_dir_all(dir).map_err(|source| LaunchError::DataDir { dir: dir.to_path_buf(), source })?;
    let file = dir.join(STORE_FILE);
    let store = guard_engine(&file, || RedbStore::open_with(&file, options))
        .and_then(|opened| opened)
        .map_err(|source| LaunchError::Store { dir: dir.to_path_buf(), source })?;
    Ok(Arc::new(store))
}

thread_local! {
    /// Set while [`guard_engine`] runs on this thread: where the panic hook puts the message.
    static CAUGHT: std::cell::RefCell<Option<Option<String>>> = const { std::cell::RefCell::new(None) };
}

/// Runs `read` (opening the store at `file`, or the chain in it) and turns a panic into an
/// error naming `file`. redb panics on some damage instead of reporting it — a page of unknown
/// type reached through a cursor hits an `unreachable!()` (`btree_cursor.rs`, redb 4.6 and
/// 5.0), and builds with debug assertions assert on every damaged page they check — and a
/// damaged file must be an error that names it, not a crash. The panic's message goes into
/// the error, not to stderr; panics on other threads are reported as before.
fn guard_engine<T>(file: &Path, read: impl FnOnce() -> T) -> Result<T, nrd_storage::StoreError> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let location = info.location().map(|l| format!("{}:{}: ", l.file(), l.line())).unwrap_or_default();
            let message = info
                .payload()
                .downcast_ref::<&str>()
                .map(|m| (*m).to_string())
                .or_else(|| info.payload().downcast_ref::<String>().cloned())
                .unwrap_or_default();
            let caught = CAUGHT.with(|slot| match slot.borrow_mut().as_mut() {
                Some(caught) => {
                    *caught = Some(format!("{location}{message}"));
                    true
                }
                None => false,
            });
            if !caught {
                previous(info);
            }
        }));
    });
    CAUGHT.with(|slot| *slot.borrow_mut() = Some(None));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(read));
    let caught = CAUGHT.with(|slot| slot.borrow_mut().take()).flatten();
    result.map_err(|_| nrd_storage::StoreError::File {
        path: file.to_path_buf(),
        source: Box::new(nrd_storage::StoreError::Corrupt {
            what: "database file".into(),
            reason: Box::new(nrd_storage::Corruption::Engine(format!(
                "the database engine failed on it ({})",
                caught.unwrap_or_else(|| "no message".into())
            ))),
        }),
    })
}

/// An in-memory store (`nrd devnet` without `--data-dir`, `nrd bridge advance`).
pub fn memory_store() -> LaunchResult<Arc<dyn ChainStore>> {
    let store = RedbStore::in_memory().map_err(|source| LaunchError::Store { dir: PathBuf::new(), source })?;
    Ok(Arc::new(store))
}

/// `nrd node`: launches the node `config` describes with its operations endpoint (`/metrics`,
/// `/health`, `/ready` on `metrics_addr`), runs until `shutdown` completes, then stops it.
/// Both listening addresses are checked before anything starts, so a port in use is reported
/// as the key that names it.
pub async fn run_node(config: NodeConfig, shutdown: impl Future<Output = std::io::Result<()>>) -> LaunchResult<()> {
    for (key, addr) in [("rpc_addr", config.rpc_addr), ("metrics_addr", config.metrics_addr)] {
        std::net::TcpListener::bind(addr).map_err(|source| LaunchError::Listen { key, addr, source })?;
    }
    let key = config.signer()?;
    let submitter = match config.role {
        Role::Sequencer => key.as_ref().map(|k| k.address()),
        Role::Follower => None,
    };
    let (stop_tx, stop_rx) = watch::channel(false);
    nrd_metrics::install();
    let running = NodeBuilder::new(config.clone()).with_key(key).launch(stop_rx.clone()).await?;
    let mut ops = nrd_metrics::Ops::default();
    let ops_task = watch_node(&mut ops, role_name(config.role), &config, &running, submitter, stop_rx.clone())?;
    serve_ops(config.metrics_addr, "metrics_addr", ops, stop_rx).await?;
    let signal = shutdown.await;
    tracing::info!(target: "nrd::node", "shutting down");
    let _ = stop_tx.send(true);
    running.stopped().await;
    let _ = ops_task.await;
    signal.map_err(LaunchError::Signal)
}
