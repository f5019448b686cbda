//! The devnet node: genesis, block production, transaction admission, history, reorg helpers.

use crate::{DevnetConfig, blobs::BlobStore};
use alloy_consensus::{Header, Sealed, Transaction};
use alloy_primitives::{Address, B256, U256, keccak256, map::HashMap};
use alloy_signer_local::{LocalSignerError, MnemonicBuilder, PrivateKeySigner, coins_bip39::English};
use nrd_chain::{
    BlockAttributes, BlockError, BlockHashes, ChainSpec, Classify, GenesisAccount, LockExt, MemoryState, Severity,
    SharedError, StateError, StateProvider, StateRef, StoredBlock, build_block,
};
use nrd_execute_client::{EXECUTE_ADDRESS, ExecuteGas, ExecutePrecompile, Reexecution, StoredMeter};
use nrd_txpool::{AdmissionContext, Pool, PoolError, PooledTx, decode_pooled};
use revm::primitives::hardfork::SpecId;
use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};
use tokio::sync::broadcast;

/// States kept for historical queries (besides snapshots). Each is a clone of its parent with
/// the block applied; clones share unchanged trie nodes, so a kept state costs what its block
/// changed.
const STATE_HISTORY: u64 = 256;

/// Devnet failures.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DevnetError {
    /// The pool refused a transaction.
    #[error(transparent)]
    Pool(#[from] PoolError),
    /// A block could not be built.
    #[error("block production failed: {0}")]
    Block(#[from] BlockError),
    /// A configuration value is unusable.
    #[error("invalid devnet configuration: {key}: {reason}")]
    Config {
        /// The key.
        key: &'static str,
        /// What is wrong with its value.
        reason: &'static str,
    },
    /// The mnemonic does not derive the dev accounts.
    #[error("invalid devnet configuration: mnemonic: {0}")]
    Mnemonic(#[source] SharedError<LocalSignerError>),
    /// The head state could not be read.
    #[error(transparent)]
    State(#[from] StateError),
    /// `evm_revert` to a snapshot that does not exist (or was dropped).
    #[error("no snapshot {0}")]
    NoSnapshot(u64),
    /// A rewind to a block whose state is no longer kept.
    #[error("state of block {0} is no longer kept")]
    StatePruned(u64),
    /// `evm_setNextBlockTimestamp` with a timestamp not after the head's.
    #[error("invalid parameters: timestamp {timestamp} is not after the head's {head}")]
    Timestamp {
        /// The timestamp asked for.
        timestamp: u64,
        /// The head's timestamp.
        head: u64,
    },
}

impl Classify for DevnetError {
    fn severity(&self) -> Severity {
        match self {
            Self::Pool(e) => e.severity(),
            Self::Block(e) => e.severity(),
            Self::State(e) => e.severity(),
            // Bad configuration or a bad test-control request: the caller must change it.
            Self::Config { .. }
            | Self::Mnemonic(_)
            | Self::NoSnapshot(_)
            | Self::StatePruned(_)
            | Self::Timestamp { .. } => Severity::Critical,
        }
    }
}

/// Where a mined transaction is.
#[derive(Debug, Clone)]
pub struct TxLocation {
    /// Its block.
    pub block: Arc<StoredBlock>,
    /// Its index in the block.
    pub index: usize,
}

struct Inner {
    blocks: Vec<Arc<StoredBlock>>,
    states: BTreeMap<u64, Arc<MemoryState>>,
    tx_index: HashMap<B256, (u64, usize)>,
    pool: Pool,
    snapshots: BTreeMap<u64, u64>,
    next_snapshot: u64,
}

impl Inner {
    fn head(&self) -> &Arc<StoredBlock> {
        self.blocks.last().expect("genesis is always there")
    }

    fn head_state(&self) -> &Arc<MemoryState> {
        self.states.get(&self.head().number()).expect("the head state is always kept")
    }
}

struct ChainHashes<'a>(&'a [Arc<StoredBlock>]);

impl BlockHashes for ChainHashes<'_> {
    fn block_hash(&self, number: u64) -> Option<B256> {
        self.0.get(usize::try_from(number).ok()?).map(|b| b.hash)
    }
}

/// The embedded L1 devnet.
pub struct Devnet {
    config: DevnetConfig,
    spec: ChainSpec,
    accounts: Vec<PrivateKeySigner>,
    blobs: Arc<BlobStore>,
    inner: Mutex<Inner>,
    heads: broadcast::Sender<Arc<StoredBlock>>,
    /// Seconds added to the wall clock (`evm_increaseTime`).
    time_offset: AtomicU64,
    /// Timestamp of the next block, if set (`evm_setNextBlockTimestamp`); 0 when unset.
    next_timestamp: AtomicU64,
}

impl std::fmt::Debug for Devnet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Devnet").field("config", &self.config).finish_non_exhaustive()
    }
}

/// Keys `0..count` of `mnemonic` on the standard path `m/44'/60'/0'/0/i`.
pub fn dev_accounts(mnemonic: &str, count: u32) -> Result<Vec<PrivateKeySigner>, DevnetError> {
    (0..count)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(mnemonic)
                .index(i)
                .and_then(|b| b.build())
                .map_err(|e| DevnetError::Mnemonic(e.into()))
        })
        .collect()
}

/// The account nonce of `address` in `state` (0 for an unknown account).
fn state_nonce(state: &MemoryState, address: Address) -> u64 {
    StateRef(state).account(address).ok().flatten().map_or(0, |a| a.nonce)
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

impl Devnet {
    /// Builds genesis from `config`.
    pub fn new(config: DevnetConfig) -> Result<Arc<Self>, DevnetError> {
        config.validate()?;
        let accounts = dev_accounts(&config.mnemonic, config.accounts)?;
        let blobs = Arc::new(BlobStore::default());
        let mut l2 = ChainSpec::post_merge(config.l2_chain_id, SpecId::PRAGUE, None);
        if let Some(anchor) = config.l2_anchor {
            l2 = l2.with_anchor(nrd_chain::AnchorRule { target: anchor, gas_limit: nrd_bridge::anchor_gas_limit });
        }
        let spec = ExecutePrecompile::new(Reexecution::new(l2), config.execute, blobs.clone())
            .install(ChainSpec::post_merge(config.chain_id, SpecId::PRAGUE, None));

        let balance = U256::from(config.balance_eth) * U256::from(10u128.pow(18));
        let mut alloc: Vec<(Address, GenesisAccount)> =
            accounts.iter().map(|a| (a.address(), GenesisAccount { balance, ..Default::default() })).collect();
        // EXECUTE keeps its meter in its own storage; nonce 1 keeps EIP-161 from clearing it.
        alloc.push((EXECUTE_ADDRESS, GenesisAccount { nonce: 1, ..Default::default() }));
        alloc.extend(nrd_chain::system_contracts());
        let mut state = MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)));
        let header = spec.genesis_header(state.root(), config.gas_limit, now());
        let genesis = Arc::new(StoredBlock::new(
            alloy_consensus::Block::new(
                header,
                alloy_consensus::BlockBody { withdrawals: Some(Default::default()), ..Default::default() },
            ),
            vec![],
            vec![],
        ));
        let inner = Inner {
            blocks: vec![genesis],
            states: BTreeMap::from([(0, Arc::new(state))]),
            tx_index: HashMap::default(),
            pool: Pool::new(config.pool),
            snapshots: BTreeMap::new(),
            next_snapshot: 1,
        };
        let (heads, _) = broadcast::channel(1024);
        Ok(Arc::new(Self {
            config,
            spec,
            accounts,
            blobs,
            inner: Mutex::new(inner),
            heads,
            time_offset: AtomicU64::new(0),
            next_timestamp: AtomicU64::new(0),
        }))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock_or_recover()
    }

    /// The configuration.
    pub fn config(&self) -> &DevnetConfig {
        &self.config
    }

    /// Chain rules (with EXECUTE installed).
    pub fn spec(&self) -> &ChainSpec {
        &self.spec
    }

    /// The prefunded dev accounts.
    pub fn accounts(&self) -> &[PrivateKeySigner] {
        &self.accounts
    }

    /// The blob store (sidecars by versioned hash and by block).
    pub fn blobs(&self) -> &Arc<BlobStore> {
        &self.blobs
    }

    /// New heads, as they are sealed.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredBlock>> {
        self.heads.subscribe()
    }

    /// The head block.
    pub fn head(&self) -> Arc<StoredBlock> {
        self.lock().head().clone()
    }

    /// A canonical block by number.
    pub fn block(&self, number: u64) -> Option<Arc<StoredBlock>> {
        self.lock().blocks.get(usize::try_from(number).ok()?).cloned()
    }

    /// A canonical block by hash.
    pub fn block_by_hash(&self, hash: B256) -> Option<Arc<StoredBlock>> {
        let inner = self.lock();
        inner.blocks.iter().rev().find(|b| b.hash == hash).cloned()
    }

    /// The state after block `number`, if still kept.
    pub fn state_at(&self, number: u64) -> Option<Arc<MemoryState>> {
        self.lock().states.get(&number).cloned()
    }

    /// Where a mined transaction is.
    pub fn transaction(&self, hash: B256) -> Option<TxLocation> {
        let inner = self.lock();
        let (number, index) = *inner.tx_index.get(&hash)?;
        Some(TxLocation { block: inner.blocks.get(usize::try_from(number).ok()?)?.clone(), index })
    }

    /// A transaction still in the pool.
    pub fn pooled(&self, hash: B256) -> Option<PooledTx> {
        self.lock().pool.get(&hash).cloned()
    }

    /// Number of pooled transactions.
    pub fn pool_len(&self) -> usize {
        self.lock().pool.len()
    }

    /// The nonce the sender's next transaction should use, counting pooled ones.
    pub fn pending_nonce(&self, address: Address) -> Result<u64, DevnetError> {
        let inner = self.lock();
        let nonce = StateRef(inner.head_state()).account(address)?.map_or(0, |a| a.nonce);
        Ok(inner.pool.pending_nonce(address, nonce))
    }

    /// The header the next block will have, as far as it is known now (for calls and fees).
    pub fn pending_header(&self) -> Header {
        let inner = self.lock();
        self.next_header(inner.head().header())
    }

    /// The devnet's clock: wall time plus the offset `evm_increaseTime` added.
    pub fn now(&self) -> u64 {
        now().saturating_add(self.time_offset.load(Ordering::Relaxed))
    }

    /// Moves the clock forward by `seconds` (anvil's `evm_increaseTime`); returns the total
    /// offset from wall time.
    pub fn increase_time(&self, seconds: u64) -> u64 {
        self.time_offset.fetch_add(seconds, Ordering::Relaxed).saturating_add(seconds)
    }

    /// Makes the next sealed block carry `timestamp` (anvil's `evm_setNextBlockTimestamp`);
    /// it must be after the head's.
    pub fn set_next_timestamp(&self, timestamp: u64) -> Result<(), DevnetError> {
        let head = self.head().header().timestamp;
        if timestamp <= head {
            return Err(DevnetError::Timestamp { timestamp, head });
        }
        self.next_timestamp.store(timestamp, Ordering::Relaxed);
        Ok(())
    }

    fn next_header(&self, parent: &Header) -> Header {
        let timestamp = match self.next_timestamp.load(Ordering::Relaxed) {
            0 => self.now(),
            set => set,
        }
        .max(parent.timestamp + 1);
        Header {
            parent_hash: parent.hash_slow(),
            number: parent.number + 1,
            timestamp,
            gas_limit: parent.gas_limit,
            beneficiary: self.config.coinbase,
            base_fee_per_gas: parent.next_block_base_fee(self.spec.base_fee_params()),
            excess_blob_gas: self.spec.next_excess_blob_gas(parent, timestamp),
            mix_hash: keccak256(parent.number.to_be_bytes()),
            ..Default::default()
        }
    }

    /// What the pool checks a transaction against: the block after `head`.
    fn admission_context(&self, head: &Header) -> AdmissionContext {
        let next = self.next_header(head);
        AdmissionContext {
            chain_id: self.spec.chain_id,
            spec: self.spec.spec_at(next.number, next.timestamp),
            base_fee: next.base_fee_per_gas.unwrap_or_default(),
            blob_base_fee: self.spec.blob_base_fee(&next),
            gas_limit: head.gas_limit,
        }
    }

    /// Decodes, checks and pools a raw transaction (network encoding: blob transactions carry
    /// their sidecar). With `block_time = 0` the transaction is sealed into a block at once.
    pub fn submit_raw(&self, raw: &[u8]) -> Result<B256, DevnetError> {
        let pooled = decode_pooled(raw)?;
        let hash = pooled.hash;
        {
            let mut inner = self.lock();
            let ctx = self.admission_context(inner.head().header());
            let state = inner.head_state().clone();
            if let Some(sidecar) = &pooled.sidecar {
                self.blobs.insert_pending(pooled.tx.blob_versioned_hashes().unwrap_or_default(), sidecar);
            }
            let replaced = inner.pool.add(pooled, &mut StateRef(&state), &ctx)?;
            if let Some(old) = replaced {
                tracing::debug!(target: "nrd::l1", %old, new = %hash, "replaced pooled transaction");
            }
        }
        tracing::debug!(target: "nrd::l1", %hash, "transaction pooled");
        if self.config.block_time_ms == 0 {
            self.seal()?;
        }
        Ok(hash)
    }

    /// Seals the next block from the pool.
    pub fn seal(&self) -> Result<Arc<StoredBlock>, DevnetError> {
        let stored = {
            let mut inner = self.lock();
            let parent = inner.head().clone();
            let mut state = MemoryState::clone(inner.head_state());
            let next = self.next_header(parent.header());
            let base_fee = next.base_fee_per_gas.unwrap_or_default();
            let candidates: Vec<PooledTx> =
                inner.pool.candidates(base_fee, &mut |a| state_nonce(&state, a)).into_iter().cloned().collect();
            let attrs = BlockAttributes {
                timestamp: next.timestamp,
                beneficiary: self.config.coinbase,
                gas_limit: parent.header().gas_limit,
                prev_randao: next.mix_hash,
                parent_beacon_block_root: Some(keccak256(parent.hash)),
                withdrawals: Some(vec![]),
                extra_data: Default::default(),
                anchor: Default::default(),
            };
            let sealed_parent = Sealed::new_unchecked(parent.header().clone(), parent.hash);
            let hashes_for: Vec<B256> = candidates.iter().map(|c| c.hash).collect();
            let built = build_block(
                &self.spec,
                &sealed_parent,
                attrs,
                candidates.into_iter().map(|c| c.tx).collect(),
                &mut state,
                &ChainHashes(&inner.blocks),
            )?;
            for rejected in &built.rejected {
                let hash = hashes_for[rejected.index];
                // A nonce gap or a full block (gas or blobs) resolves in a later block; a
                // transaction failing for any other reason will not, so it leaves the pool.
                let transient = rejected.error.may_fit_later();
                if !transient {
                    tracing::info!(target: "nrd::l1", %hash, error = %rejected.error, "dropping transaction");
                    inner.pool.remove(&hash);
                }
            }
            self.next_timestamp.store(0, Ordering::Relaxed);
            let stored = Arc::new(StoredBlock::new(built.block, built.senders, built.executed.receipts));
            let number = stored.number();
            for (i, hash) in stored.tx_hashes.iter().enumerate() {
                inner.tx_index.insert(*hash, (number, i));
                inner.pool.remove(hash);
            }
            self.blobs.seal_block(number, &stored);
            inner.pool.prune(&mut |a| state_nonce(&state, a));
            inner.states.insert(number, Arc::new(state));
            let keep_from = number.saturating_sub(STATE_HISTORY);
            let snapshot_blocks: Vec<u64> = inner.snapshots.values().copied().collect();
            inner.states.retain(|n, _| *n >= keep_from || snapshot_blocks.contains(n));
            inner.blocks.push(stored.clone());
            stored
        };
        let header = stored.header();
        let gas = self.execute_gas(stored.number()).map(|g| g.used).unwrap_or(0);
        tracing::info!(
            target: "nrd::l1",
            number = header.number,
            hash = %stored.hash,
            txs = stored.tx_hashes.len(),
            gas_used = header.gas_used,
            base_fee = header.base_fee_per_gas.unwrap_or_default(),
            blob_gas = header.blob_gas_used.unwrap_or_default(),
            execute_gas = gas,
            "sealed L1 block"
        );
        let _ = self.heads.send(stored.clone());
        Ok(stored)
    }

    /// EXECUTE gas accounting of block `number`.
    pub fn execute_gas(&self, number: u64) -> Option<ExecuteGas> {
        let state = self.state_at(number)?;
        let mut view = StateRef(&state);
        let stored = StoredMeter::read(&mut view).ok()?;
        Some(self.config.execute.at_block(number, stored))
    }

    /// Records the current head; `revert` returns to it.
    pub fn snapshot(&self) -> u64 {
        let mut inner = self.lock();
        let id = inner.next_snapshot;
        inner.next_snapshot += 1;
        let head = inner.head().number();
        inner.snapshots.insert(id, head);
        id
    }

    /// Returns the chain to snapshot `id` (dropping it and later snapshots).
    pub fn revert(&self, id: u64) -> Result<(), DevnetError> {
        let number = self.lock().snapshots.get(&id).copied().ok_or(DevnetError::NoSnapshot(id))?;
        self.set_head(number)?;
        self.lock().snapshots.retain(|k, _| *k < id);
        Ok(())
    }

    /// Rewinds the chain to block `number` (a reorg: later blocks are dropped, their
    /// transactions go back to the pool where still valid).
    pub fn set_head(&self, number: u64) -> Result<(), DevnetError> {
        let mut inner = self.lock();
        if number >= inner.head().number() {
            return Ok(());
        }
        if !inner.states.contains_key(&number) {
            return Err(DevnetError::StatePruned(number));
        }
        let dropped: Vec<Arc<StoredBlock>> =
            inner.blocks.drain(usize::try_from(number + 1).unwrap_or(usize::MAX)..).collect();
        inner.states.retain(|n, _| *n <= number);
        let state = inner.head_state().clone();
        let ctx = self.admission_context(inner.head().header());
        for block in &dropped {
            self.blobs.drop_block(block.number());
            for (i, tx) in block.block.body.transactions.iter().enumerate() {
                inner.tx_index.remove(&block.tx_hashes[i]);
                // Blob transactions lost their sidecar on inclusion; only the rest return.
                if tx.is_eip4844() {
                    continue;
                }
                let pooled = PooledTx {
                    tx: alloy_consensus::transaction::Recovered::new_unchecked(tx.clone(), block.senders[i]),
                    hash: block.tx_hashes[i],
                    sidecar: None,
                };
                let _ = inner.pool.add(pooled, &mut StateRef(&state), &ctx);
            }
        }
        tracing::info!(target: "nrd::l1", head = number, dropped = dropped.len(), "rewound the chain");
        Ok(())
    }

    /// Seals blocks on the configured interval until `shutdown` resolves (no-op when
    /// `block_time = 0`: submissions seal their own blocks).
    pub async fn run(self: Arc<Self>, shutdown: impl std::future::Future<Output = ()>) {
        if self.config.block_time_ms == 0 {
            shutdown.await;
            return;
        }
        let mut ticker = tokio::time::interval(Duration::from_millis(self.config.block_time_ms));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        ticker.tick().await;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = ticker.tick() => {
                    let devnet = self.clone();
                    match tokio::task::spawn_blocking(move || devnet.seal()).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(e)) => tracing::error!(target: "nrd::l1", "sealing failed: {e}"),
                        Err(e) => tracing::error!(target: "nrd::l1", "sealing task failed: {e}"),
                    }
                }
            }
        }
    }
}
