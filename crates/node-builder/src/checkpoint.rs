//! Checkpoint start: `nrd checkpoint export` writes the state at one block of a stopped node's
//! store; `nrd checkpoint import` starts a new node's store from such a file, after checking
//! its block against what L1 recorded — so a follower joins without replaying the chain.
//!
//! What is trusted: nothing in the file. [`nrd_storage::CheckpointReader`] checks the block
//! against itself (hash, transaction and receipt roots, senders, ancestors' hashes) and the
//! import recomputes the state root from the accounts; here the block's hash, state root, L1
//! anchor and L1 message progress must equal the `BlockAdvanced` event `NativeRollup` emitted
//! for that block, in an L1 block that is already finalized (no reorg can take it away, and the
//! new node can never need to rewind below it).

use crate::{NodeConfig, launch::STORE_FILE};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256};
use alloy_rpc_types_eth::Filter;
use alloy_sol_types::SolEvent;
use nrd_bridge::NativeRollup;
use nrd_chain::{Classify, Severity};
use nrd_l1_client::{L1Client, L1ClientConfig, L1Error};
use nrd_storage::{
    ChainStore, CheckpointError, CheckpointHead, CheckpointReader, CheckpointSummary, RedbStore, StoreError,
};
use std::path::{Path, PathBuf};

/// Blocks one `eth_getLogs` request spans (nrd's own L1 serves at most 10,000).
const LOG_SPAN: u64 = 5_000;

/// Why a checkpoint could not be exported or imported.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointCommandError {
    /// The checkpoint file or the store refused.
    #[error("{}: {source}", path.display())]
    Checkpoint {
        /// The file (checkpoint or store) concerned.
        path: PathBuf,
        /// Why.
        #[source]
        source: Box<CheckpointError>,
    },
    /// The node's store cannot be opened (is the node still running?).
    #[error("{}: {source} (is the node still running?)", path.display())]
    Store {
        /// The store's file.
        path: PathBuf,
        /// Why.
        #[source]
        source: StoreError,
    },
    /// The data directory holds no store to export from.
    #[error("`data_dir` {}: no node store here ({STORE_FILE} is missing)", .0.display())]
    NoStore(PathBuf),
    /// A checkpoint is imported into a new data directory only.
    #[error("`data_dir` {}: a store is already there; import a checkpoint into a new data directory", .0.display())]
    StoreExists(PathBuf),
    /// A file or directory operation failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// L1 could not be asked.
    #[error("`l1.rpc_url` {url}: {source}")]
    L1 {
        /// The endpoint.
        url: String,
        /// Why.
        #[source]
        source: L1Error,
    },
    /// L1 has no finalized record of the checkpoint's block.
    #[error(
        "L2 block {number} is not posted to rollup {rollup} in a finalized L1 block (finalized: L1 block {finalized}); export a block that is"
    )]
    NotFinalized {
        /// The checkpoint's block.
        number: u64,
        /// The rollup contract.
        rollup: Address,
        /// L1's finalized block.
        finalized: u64,
    },
    /// What L1 recorded for the block differs from the checkpoint: a forged or foreign file.
    #[error("L2 block {number}: the checkpoint's {field} is {file}, L1 recorded {l1}")]
    Mismatch {
        /// The checkpoint's block.
        number: u64,
        /// Which field.
        field: &'static str,
        /// The checkpoint's value.
        file: String,
        /// L1's.
        l1: String,
    },
    /// The genesis or chain could not be read or recorded.
    #[error(transparent)]
    Launch(#[from] Box<crate::LaunchError>),
    /// The node could not record the chain.
    #[error("store: {0}")]
    Node(#[from] nrd_node::NodeError),
}

impl Classify for CheckpointCommandError {
    fn severity(&self) -> Severity {
        match self {
            Self::Checkpoint { source, .. } => source.severity(),
            Self::Store { source, .. } => source.severity(),
            Self::L1 { source, .. } => source.severity(),
            // L1 may finalize the block later.
            Self::NotFinalized { .. } | Self::Io { .. } => Severity::Temporary,
            Self::Launch(e) => e.severity(),
            Self::Node(e) => e.severity(),
            Self::NoStore(_) | Self::StoreExists(_) | Self::Mismatch { .. } => Severity::Critical,
        }
    }
}

/// Result alias of checkpoint commands.
pub type CheckpointCommandResult<T> = Result<T, CheckpointCommandError>;

/// `nrd checkpoint export`: writes the state after block `number` (the head when `None`) of the
/// stopped node whose data directory is `data_dir` to the file `out`.
pub fn export_checkpoint(
    data_dir: &Path,
    number: Option<u64>,
    out: &Path,
) -> CheckpointCommandResult<CheckpointSummary> {
    let path = data_dir.join(STORE_FILE);
    if !path.exists() {
        return Err(CheckpointCommandError::NoStore(data_dir.to_path_buf()));
    }
    let store =
        RedbStore::open(&path).map_err(|source| CheckpointCommandError::Store { path: path.clone(), source })?;
    let io = |source| CheckpointCommandError::Io { path: out.to_path_buf(), source };
    // Written beside the target and renamed: a reader never sees half a checkpoint.
    let partial = out.with_extension("partial");
    let file = std::fs::File::create(&partial).map_err(io)?;
    let summary = store
        .export_checkpoint(number, file)
        .map_err(|source| CheckpointCommandError::Checkpoint { path: path.clone(), source: Box::new(source) })?;
    std::fs::rename(&partial, out).map_err(io)?;
    Ok(summary)
}

/// What [`import_checkpoint`] loaded.
#[derive(Debug, Clone, Copy)]
pub struct ImportedCheckpoint {
    /// What the file held.
    pub summary: CheckpointSummary,
    /// The L1 block that posted the checkpoint's block (the follower starts there).
    pub l1_block: u64,
}

/// `nrd checkpoint import`: checks the checkpoint `file` against the rollup `config` names on
/// L1 and loads it into `config.data_dir`, which must not hold a store yet. The node then
/// starts (`nrd node`) at the checkpoint's block and follows L1 from the L1 block that posted it.
pub async fn import_checkpoint(config: &NodeConfig, file: &Path) -> CheckpointCommandResult<ImportedCheckpoint> {
    let genesis = crate::read_genesis(&config.genesis).map_err(Box::new)?;
    let target = config.data_dir.join(STORE_FILE);
    if target.exists() {
        return Err(CheckpointCommandError::StoreExists(config.data_dir.clone()));
    }
    let on_file = |source| CheckpointCommandError::Checkpoint { path: file.to_path_buf(), source: Box::new(source) };
    let input =
        std::fs::File::open(file).map_err(|source| CheckpointCommandError::Io { path: file.to_path_buf(), source })?;
    let reader = CheckpointReader::open(std::io::BufReader::with_capacity(1 << 20, input)).map_err(on_file)?;
    let url = config.l1.rpc_url.clone();
    let client = L1Client::new(L1ClientConfig::new(&url))
        .map_err(|source| CheckpointCommandError::L1 { url: url.clone(), source })?;
    let l1_block = verify_on_l1(&client, &url, config.l1.rollup, config.l1.start_block, reader.head()).await?;

    std::fs::create_dir_all(&config.data_dir)
        .map_err(|source| CheckpointCommandError::Io { path: config.data_dir.clone(), source })?;
    // Loaded beside the target and renamed once complete: an interrupted import leaves no store.
    let partial = config.data_dir.join(format!("{STORE_FILE}.importing"));
    let _ = std::fs::remove_file(&partial);
    let load = || -> CheckpointCommandResult<CheckpointSummary> {
        let store_err = |source| CheckpointCommandError::Store { path: partial.clone(), source };
        let store = RedbStore::open_with(&partial, config.state.store_options()).map_err(store_err)?;
        let summary = store.import_checkpoint(reader).map_err(on_file)?;
        nrd_node::adopt_genesis(&store, &genesis)?;
        store.put_meta(nrd_node::CHECKPOINT_L1_BLOCK, &l1_block.to_be_bytes()).map_err(store_err)?;
        Ok(summary)
    };
    let summary = load().inspect_err(|_| {
        let _ = std::fs::remove_file(&partial);
    })?;
    std::fs::rename(&partial, &target).map_err(|source| CheckpointCommandError::Io { path: target.clone(), source })?;
    Ok(ImportedCheckpoint { summary, l1_block })
}

/// Finds the `BlockAdvanced` event of the checkpoint's block in a finalized L1 block and checks
/// the checkpoint against it; returns the L1 block.
async fn verify_on_l1(
    client: &L1Client,
    url: &str,
    rollup: Address,
    start_block: u64,
    head: &CheckpointHead,
) -> CheckpointCommandResult<u64> {
    let l1 = |source| CheckpointCommandError::L1 { url: url.to_string(), source };
    let number = head.number();
    let finalized = client.header(BlockNumberOrTag::Finalized).await.map_err(l1)?.map_or(0, |h| h.number);
    let not_final = CheckpointCommandError::NotFinalized { number, rollup, finalized };
    if finalized < start_block {
        return Err(not_final);
    }
    let topic = B256::from(alloy_primitives::U256::from(number));
    // Newest first: the block was most likely posted recently.
    let mut to = finalized;
    let log = loop {
        let from = to.saturating_sub(LOG_SPAN - 1).max(start_block);
        let filter = Filter::new()
            .address(rollup)
            .event_signature(NativeRollup::BlockAdvanced::SIGNATURE_HASH)
            .topic1(topic)
            .from_block(from)
            .to_block(to);
        let logs = client.logs(&filter).await.map_err(l1)?;
        // A canonical chain posts each L2 block once.
        if let Some(log) = logs.into_iter().last() {
            break log;
        }
        if from == start_block {
            return Err(not_final);
        }
        to = from - 1;
    };
    let l1_block = log.block_number.ok_or_else(|| l1(L1Error::malformed("a log without a block number")))?;
    let event = NativeRollup::BlockAdvanced::decode_log_data(log.data())
        .map_err(|e| l1(L1Error::malformed_by("a BlockAdvanced event", e)))?;
    let block = &head.block;
    let messages = block.messages.len() as u64;
    let checks: [(&'static str, String, String); 5] = [
        ("block hash", block.hash().to_string(), event.blockHash.to_string()),
        ("state root", block.stored.header().state_root.to_string(), event.stateRoot.to_string()),
        ("L1 anchor", block.l1_anchor.to_string(), event.l1Anchor.to_string()),
        ("L1 messages applied", messages.to_string(), event.messageCount.to_string()),
        (
            "next L1 message",
            head.next_message.to_string(),
            event.firstMessage.saturating_add(event.messageCount).to_string(),
        ),
    ];
    for (field, file, l1) in checks {
        if file != l1 {
            return Err(CheckpointCommandError::Mismatch { number, field, file, l1 });
        }
    }
    Ok(l1_block)
}
