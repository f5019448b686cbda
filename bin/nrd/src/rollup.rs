//! Running L2 nodes: `nrd node --config …` (a sequencer or a follower against an L1 RPC URL)
//! and the pieces `nrd devnet` assembles in one process.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy_eips::{BlockNumberOrTag, Encodable2718};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use nrd_derivation::{L2Genesis, SequencingConfig};
use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_node::{Follower, FollowerConfig, L2Chain, L2Node, RollupApiServer as _, RollupRpc, TxSink};
use nrd_rpc::RpcLimits;
use nrd_sequencer::{AdvanceLimits, BlockProducer, Mempool, SelfProposer, Submitter, SubmitterConfig};
use nrd_storage::{ChainStore, RedbStore};
use std::{sync::Arc, time::Duration};
use tokio::{sync::watch, task::JoinHandle};

pub(crate) use crate::config::{L1Section, NodeConfig, ProposerSection, Role, SequencerSection};

/// A running L2 node.
#[derive(Debug)]
pub(crate) struct RunningNode {
    pub(crate) node: Arc<L2Node>,
    pub(crate) rpc: nrd_rpc::RunningServer,
    pub(crate) tasks: Vec<JoinHandle<()>>,
    /// What the node knows of L1 (for its metrics).
    pub(crate) view: Arc<std::sync::Mutex<nrd_node::L1View>>,
}

async fn wait(mut rx: watch::Receiver<bool>) {
    let _ = rx.wait_for(|stop| *stop).await;
}

/// Starts a node: opens its store, follows L1, and — for a sequencer — seals and posts blocks
/// (signed with `key`); a follower with `proposer.self_propose` posts with `key` when the
/// sequencer is silent.
pub(crate) async fn start_node(
    config: &NodeConfig,
    genesis: L2Genesis,
    store: Arc<dyn ChainStore>,
    key: Option<PrivateKeySigner>,
    stop: watch::Receiver<bool>,
) -> Result<RunningNode, String> {
    let chain = Arc::new(L2Chain::open(genesis, store).map_err(|e| format!("opening the L2 chain: {e}"))?);
    let client = L1Client::new(L1ClientConfig::new(&config.l1.rpc_url).with_beacon(&config.l1.beacon_url))
        .map_err(|e| e.to_string())?;
    let l1_chain_id =
        client.chain_id().await.map_err(|e| format!("`l1.rpc_url` {}: L1 does not answer: {e}", config.l1.rpc_url))?;
    let sequencing = config.role == Role::Sequencer;
    let block_time = Duration::from_millis(config.sequencer.block_time_ms.max(1));
    let pool = sequencing
        .then(|| Arc::new(Mempool::new(chain.clone(), config.sequencer.pool, config.sequencer.censor.clone())));
    let sink = pool.clone().map(|p| p as Arc<dyn TxSink>);
    let node = Arc::new(L2Node::new(chain.clone(), sink, block_time.as_secs().max(1)));
    node.update_status(|s| s.rollup = config.l1.rollup);
    let follower = Follower::new(
        node.clone(),
        client.clone(),
        config.l1.rollup,
        FollowerConfig {
            start_block: config.l1.start_block,
            confirmations: config.l1.confirmations,
            poll_interval: Duration::from_millis(config.l1.poll_interval_ms.max(10)),
            ws_url: config.l1.ws_url.clone(),
            import: !sequencing,
        },
    );
    let view = follower.view();
    let ops_view = view.clone();
    let mut tasks = Vec::new();
    let role = if sequencing { "sequencer" } else { "follower" };
    let follow_stop = stop.clone();
    tasks.push(tokio::spawn(async move {
        if let Err(e) = follower.run(wait(follow_stop)).await {
            tracing::error!(target: "nrd::node", "following L1 stopped: {e}");
        }
    }));
    let limits = l1_advance_limits(&client, config.advance_limits()).await;
    let submitter_config = |key: PrivateKeySigner| -> Result<SubmitterConfig, String> {
        Ok(SubmitterConfig {
            rollup: config.l1.rollup,
            key,
            l1_chain_id,
            mode: config.da_mode()?,
            max_blocks: config.sequencer.max_blocks_per_batch.max(1),
            max_l2_gas: config.sequencer.max_batch_l2_gas,
            limits,
            max_fee_per_gas: u128::from(config.sequencer.max_fee_per_gas),
            max_fee_per_blob_gas: u128::from(config.sequencer.max_fee_per_blob_gas),
            poll: Duration::from_millis(config.l1.poll_interval_ms.max(10)),
            resubmit_after: block_time * 6,
        })
    };
    if !sequencing && config.proposer.self_propose {
        let key = key.clone().ok_or("a self-proposing follower needs a key (proposer.key or NRD_PROPOSER__KEY)")?;
        let proposer = SelfProposer::new(
            node.clone(),
            client.clone(),
            view.clone(),
            SequencingConfig {
                gas_limit: chain.head().header().gas_limit,
                fee_recipient: config.sequencer.fee_recipient.unwrap_or(key.address()),
            },
            submitter_config(key)?,
        );
        tasks.push(tokio::spawn(proposer.run(wait(stop.clone()))));
    }
    if let Some(pool) = pool {
        let key = key.ok_or("a sequencer needs its key (sequencer.key or NRD_SEQUENCER__KEY)")?;
        let producer = BlockProducer::new(
            chain.clone(),
            pool,
            view,
            SequencingConfig {
                gas_limit: chain.head().header().gas_limit,
                fee_recipient: config.sequencer.fee_recipient.unwrap_or(key.address()),
            },
        )
        .with_limits(limits, config.da_mode()?);
        tasks.push(tokio::spawn(producer.run(block_time, wait(stop.clone()))));
        let submitter = Submitter::new(node.clone(), client, submitter_config(key)?);
        tasks.push(tokio::spawn(submitter.run(wait(stop.clone()))));
    }
    let rpc = nrd_rpc::serve_named(
        role,
        node.clone(),
        RollupRpc::new(node.clone()).into_rpc(),
        config.rpc_addr,
        RpcLimits::default(),
    )
    .await
    .map_err(|e| format!("`rpc_addr` {}: cannot serve L2 JSON-RPC there: {e}", config.rpc_addr))?;
    tracing::info!(target: "nrd::node", role, rpc = %format!("http://{}", rpc.addr), chain_id = chain.spec().chain_id, head = chain.head().number(), "L2 node running");
    Ok(RunningNode { node, rpc, tasks, view: ops_view })
}

/// `configured` lowered to what L1 reports: its latest block's gas limit bounds the L1 gas of
/// one `advance`, and EXECUTE's per-block limit (`nrd_executeGas`, nrd's L1) the EXECUTE gas of
/// one. An L1 that does not answer leaves the configured value (logged).
pub(crate) async fn l1_advance_limits(client: &L1Client, configured: AdvanceLimits) -> AdvanceLimits {
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

/// Opens (creating) the redb store in `dir`.
pub(crate) fn open_store(dir: &std::path::Path) -> Result<Arc<dyn ChainStore>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let store = RedbStore::open(dir.join("chain.redb")).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(Arc::new(store))
}

/// Parameters `NativeRollup` is deployed with (flags of `nrd deploy` and `nrd devnet`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub(crate) struct RollupParams {
    /// Forced-inclusion window of the rollup contract, seconds.
    #[arg(long, default_value_t = 3600)]
    pub(crate) forced_inclusion_window: u64,
    /// Withdrawal delay of the rollup contract, seconds.
    #[arg(long, default_value_t = 60)]
    pub(crate) withdrawal_delay: u64,
    /// Timelock delay of governance actions, seconds: at least the withdrawal delay plus the
    /// forced-inclusion window (the default), so users see a change coming in time to leave.
    #[arg(long)]
    pub(crate) timelock_delay: Option<u64>,
}

impl RollupParams {
    /// The contract's governance bounds (docs/protocol.md §8.7), checked before deploying so
    /// the error names the flags rather than reverting on L1.
    /// The timelock: as given, or the least the bounds allow.
    pub(crate) fn timelock(&self) -> u64 {
        self.timelock_delay.unwrap_or(self.forced_inclusion_window.saturating_add(self.withdrawal_delay))
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        let max = nrd_bridge::MAX_DELAY;
        for (flag, value) in
            [("--forced-inclusion-window", self.forced_inclusion_window), ("--withdrawal-delay", self.withdrawal_delay)]
        {
            if value > max {
                return Err(format!("{flag} {value} is above the maximum of {max} s"));
            }
        }
        let timelock = self.timelock();
        if timelock > nrd_bridge::MAX_TIMELOCK {
            return Err(format!("--timelock-delay {timelock} is above the maximum of {} s", nrd_bridge::MAX_TIMELOCK));
        }
        let required = self.forced_inclusion_window + self.withdrawal_delay;
        if timelock < required {
            return Err(format!(
                "--timelock-delay {timelock} must be at least --withdrawal-delay + --forced-inclusion-window = {required} s"
            ));
        }
        Ok(())
    }
}

/// Deploys `NativeRollup` for `genesis` from `owner`, with `sequencer`; returns its address
/// and the L1 block it was deployed in.
pub(crate) async fn deploy_rollup(
    client: &L1Client,
    owner: &PrivateKeySigner,
    sequencer: Address,
    genesis: &L2Genesis,
    params: RollupParams,
) -> Result<(Address, u64), String> {
    params.check()?;
    let root = genesis.state().root();
    let header = genesis.header(root);
    let args = (
        owner.address(),
        sequencer,
        root,
        header.hash(),
        params.forced_inclusion_window,
        params.withdrawal_delay,
        params.timelock(),
        genesis.gas_limit(),
    )
        .abi_encode_params();
    let mut code = nrd_bridge::NativeRollup::BYTECODE.to_vec();
    code.extend_from_slice(&args);
    let chain_id = client.chain_id().await.map_err(|e| e.to_string())?;
    let nonce = client.nonce(owner.address(), BlockNumberOrTag::Pending).await.map_err(|e| e.to_string())?;
    let fees = client.fee_estimate().await.map_err(|e| e.to_string())?;
    let tx = TxEip1559 {
        chain_id,
        nonce,
        gas_limit: 6_000_000,
        max_fee_per_gas: fees.max_fee_per_gas(),
        max_priority_fee_per_gas: fees.priority_fee.min(fees.max_fee_per_gas()),
        to: TxKind::Create,
        value: U256::ZERO,
        input: Bytes::from(code),
        access_list: Default::default(),
    };
    let sig = owner.sign_hash_sync(&tx.signature_hash()).map_err(|e| e.to_string())?;
    let raw = TxEnvelope::from(tx.into_signed(sig)).encoded_2718();
    let hash = client.send_raw_transaction(&raw).await.map_err(|e| format!("deploying NativeRollup: {e}"))?;
    for _ in 0..600 {
        if let Some(receipt) = client.transaction_receipt(hash).await.map_err(|e| e.to_string())? {
            if !receipt.status() {
                return Err(format!("deploying NativeRollup reverted (tx {hash})"));
            }
            let address = receipt.contract_address.ok_or("deployment receipt without a contract address")?;
            return Ok((address, receipt.block_number.unwrap_or_default()));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("NativeRollup deployment {hash} not mined in 60s"))
}
