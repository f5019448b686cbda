//! Block execution on revm through alloy-evm's Ethereum block executor, over any
//! [`StateProvider`]; and block import (validate, execute, commit, check the state root).

use crate::budget::WorkBudget;
use crate::{
    ChainSpec, SharedError,
    error::{AnchorError, BlockError, BlockResult},
    state::{StateChanges, StateCommitter, StateError, StateProvider},
    validation::{validate_body, validate_header, validate_outcome},
};
use alloy_consensus::{
    Block, Header, ReceiptEnvelope, Sealed, Transaction, TxEnvelope,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::eip7685::Requests;
use alloy_evm::{
    Evm, EvmEnv, EvmFactory,
    block::{BlockExecutionError, BlockExecutor, BlockValidationError},
    eth::{EthBlockExecutionCtx, EthBlockExecutor, receipt_builder::AlloyReceiptBuilder},
};
use alloy_hardforks::EthereumHardforks;
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
use revm::Database;
use revm::{DatabaseCommit, context::result::ExecutionResult};
use revm::{
    bytecode::Bytecode,
    database::{BundleState, State, states::bundle_state::BundleRetention},
    state::AccountInfo,
};
use std::borrow::Cow;

/// Hashes of ancestor blocks, for `BLOCKHASH`.
pub trait BlockHashes {
    /// The hash of block `number`, if known.
    fn block_hash(&self, number: u64) -> Option<B256>;
}

impl BlockHashes for alloy_primitives::map::HashMap<u64, B256> {
    fn block_hash(&self, number: u64) -> Option<B256> {
        self.get(&number).copied()
    }
}

/// What executing a block produced.
#[derive(Debug, Clone)]
pub struct ExecutedBlock {
    /// One receipt per transaction.
    pub receipts: Vec<ReceiptEnvelope>,
    /// Total gas used.
    pub gas_used: u64,
    /// Total blob gas used.
    pub blob_gas_used: u64,
    /// EIP-7685 requests (Prague).
    pub requests: Requests,
    /// State changes, in canonical order.
    pub changes: StateChanges,
}

/// Adapts a [`StateProvider`] and [`BlockHashes`] to revm's `Database`.
///
/// revm turns database errors into opaque execution errors; the adapter keeps the first one so
/// the caller can report a missing witness node as such rather than as an invalid block.
struct Db<'a, S, H> {
    state: &'a mut S,
    hashes: &'a H,
    error: Option<StateError>,
}

impl<S, H> std::fmt::Debug for Db<'_, S, H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("error", &self.error).finish_non_exhaustive()
    }
}

impl<S, H> Db<'_, S, H> {
    fn keep<T>(&mut self, r: Result<T, StateError>) -> Result<T, StateError> {
        if let Err(e) = &r
            && self.error.is_none()
        {
            self.error = Some(e.clone());
        }
        r
    }
}

impl<S: StateProvider, H: BlockHashes> revm::Database for Db<'_, S, H> {
    type Error = StateError;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, StateError> {
        let account = self.state.account(address);
        Ok(self.keep(account)?.map(|a| {
            let info = AccountInfo::new(a.balance, a.nonce, KECCAK256_EMPTY, Bytecode::default());
            // Code is loaded lazily through `code_by_hash`, only when execution needs it.
            if a.code_hash == KECCAK256_EMPTY { info } else { info.with_code_hash(a.code_hash) }
        }))
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, StateError> {
        let code = self.state.code(code_hash);
        let code = self.keep(code)?;
        Ok(Bytecode::new_raw_checked(code.clone()).unwrap_or_else(|_| Bytecode::new_legacy(code)))
    }

    fn storage(&mut self, address: Address, index: U256) -> Result<U256, StateError> {
        let value = self.state.storage(address, index);
        self.keep(value)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, StateError> {
        let hash = self.hashes.block_hash(number).ok_or(StateError::MissingBlockHash(number));
        self.keep(hash)
    }
}

/// Adds the chain's own precompiles to Ethereum's.
pub(crate) fn install_precompiles(spec: &ChainSpec, map: &mut alloy_evm::precompiles::PrecompilesMap) {
    for extra in spec.extra_precompiles() {
        let precompile = extra.precompile.clone();
        let id = precompile.precompile_id().clone();
        map.apply_precompile(&extra.address, move |_| {
            Some(alloy_evm::precompiles::DynPrecompile::new_stateful(id, move |input| precompile.call(input)))
        });
    }
}

/// Recovers the sender of every transaction, spreading large blocks over the available cores
/// (ECDSA recovery dominates the cost of importing a block of plain transfers).
pub fn recover_senders(block: &Block<TxEnvelope>) -> BlockResult<Vec<Address>> {
    let txs = &block.body.transactions;
    let recover = |offset: usize, chunk: &[TxEnvelope]| -> BlockResult<Vec<Address>> {
        chunk
            .iter()
            .enumerate()
            .map(|(i, tx)| tx.recover_signer().map_err(|_| BlockError::InvalidSignature { index: offset + i }))
            .collect()
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if txs.len() < 64 || threads == 1 {
        return recover(0, txs);
    }
    let chunk = txs.len().div_ceil(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> =
            txs.chunks(chunk).enumerate().map(|(i, c)| s.spawn(move || recover(i * chunk, c))).collect();
        let mut senders = Vec::with_capacity(txs.len());
        for handle in handles {
            match handle.join() {
                Ok(part) => senders.extend(part?),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        Ok(senders)
    })
}

fn execution_error(err: BlockExecutionError, db_error: Option<StateError>) -> BlockError {
    if let Some(state) = db_error {
        return BlockError::State(state);
    }
    match err {
        BlockExecutionError::Validation(BlockValidationError::InvalidTx { hash, error }) => {
            match error.as_invalid_tx_err() {
                Some(reason) => BlockError::InvalidTransaction { hash, reason: reason.clone() },
                None => BlockError::Execution(SharedError::new(BlockExecutionError::Validation(
                    BlockValidationError::InvalidTx { hash, error },
                ))),
            }
        }
        BlockExecutionError::Validation(BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas {
            transaction_gas_limit,
            block_available_gas,
        }) => BlockError::BlockGasExhausted {
            hash: B256::ZERO,
            gas_limit: transaction_gas_limit,
            available: block_available_gas,
        },
        other => BlockError::Execution(SharedError::new(other)),
    }
}

/// A transaction the block builder left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedTx {
    /// Position among the candidates.
    pub index: usize,
    /// Why it cannot be included.
    pub error: BlockError,
}

/// Executes `txs` in a block with `header`'s environment. With `skip_invalid`, transactions
/// that cannot be included are left out (block building); otherwise they fail the block. With
/// `budget`, execution stops and the block fails once it has spent more gas than the budget
/// (the stateless verifier behind EXECUTE). Returns the execution result and the indices of the
/// included transactions.
#[allow(clippy::too_many_arguments)] // private: the block's parts, spelled out
fn run_block<'t, S: StateProvider, H: BlockHashes>(
    spec: &ChainSpec,
    header: &Header,
    withdrawals: Option<&[alloy_eips::eip4895::Withdrawal]>,
    anchor: &[u8],
    txs: impl IntoIterator<Item = Recovered<&'t TxEnvelope>>,
    skip_invalid: bool,
    state: &mut S,
    hashes: &H,
    budget: Option<&WorkBudget>,
) -> BlockResult<(ExecutedBlock, Vec<usize>, Vec<RejectedTx>)> {
    let blob_params = spec.blob_params_at(header.timestamp);
    let env = EvmEnv::for_eth_block(header, spec, spec.chain_id, blob_params);
    let db = Db { state, hashes, error: None };
    let db = State::builder().with_database(db).with_bundle_update().build();
    // Without a budget the inspector is off (no per-instruction hook).
    let unbounded = WorkBudget::new(u64::MAX);
    let inspector = budget.unwrap_or(&unbounded);
    let mut evm = alloy_evm::eth::EthEvmFactory::default().create_evm_with_inspector(db, env, inspector);
    evm.set_inspector_enabled(budget.is_some());
    install_precompiles(spec, evm.precompiles_mut());
    let ctx = EthBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: withdrawals.map(Cow::Borrowed),
        extra_data: header.extra_data.clone(),
        tx_count_hint: None,
        slot_number: None,
    };
    let mut executor = EthBlockExecutor::new(evm, ctx, spec, AlloyReceiptBuilder::default());
    // A failed call may hide a state error (a missing witness node); report that first.
    macro_rules! fail {
        ($err:expr) => {{
            let db_error = executor.evm_mut().db_mut().database.error.take();
            execution_error($err, db_error)
        }};
    }
    let over_budget = || match budget {
        Some(b) if b.exceeded() => Some(BlockError::WorkBudgetExceeded { budget: b.limit() }),
        _ => None,
    };
    if let Err(err) = executor.apply_pre_execution_changes() {
        return Err(fail!(err));
    }
    match spec.anchor_target() {
        Some(target) => {
            let gas_limit = spec.anchor_gas(anchor).ok_or(BlockError::MalformedAnchor)?;
            let block_env = executor.evm().block().clone();
            let cfg_env = executor.evm().cfg_env().clone();
            let db = executor.evm_mut().db_mut();
            let call =
                anchor_call(spec, block_env, cfg_env, db, inspector, budget.is_some(), target, anchor, gas_limit);
            if let Some(state) = db.database.error.take() {
                return Err(BlockError::State(state));
            }
            if let Some(err) = over_budget() {
                return Err(err);
            }
            let (result, changes) = call?;
            match &result {
                ExecutionResult::Success { .. } => {}
                ExecutionResult::Revert { output, .. } => {
                    return Err(AnchorError::Reverted(output.clone()).into());
                }
                ExecutionResult::Halt { reason, .. } => {
                    return Err(AnchorError::Halted(reason.clone()).into());
                }
            }
            db.commit(changes);
        }
        None if !anchor.is_empty() => return Err(BlockError::UnexpectedAnchor(anchor.len())),
        None => {}
    }
    let max_blobs = blob_params.map_or(0, |p| p.max_blob_count);
    let mut blobs = 0u64;
    let (mut included, mut rejected) = (Vec::new(), Vec::new());
    for (index, tx) in txs.into_iter().enumerate() {
        let tx_blobs = tx.blob_versioned_hashes().map_or(0, |h| h.len() as u64);
        if skip_invalid && blobs + tx_blobs > max_blobs {
            let error = BlockError::TooManyBlobs { count: blobs + tx_blobs, max: max_blobs };
            rejected.push(RejectedTx { index, error });
            continue;
        }
        let hash = *tx.tx_hash();
        for settlement in spec.settlements() {
            settlement.begin();
        }
        let outcome = executor.execute_transaction(tx);
        if let Some(err) = over_budget() {
            return Err(err);
        }
        match outcome {
            Ok(_) => {
                blobs += tx_blobs;
                included.push(index);
                settle(spec, header.number, executor.evm_mut().db_mut())?;
            }
            Err(err) => match fail!(err) {
                BlockError::BlockGasExhausted { gas_limit, available, .. } if skip_invalid => {
                    let error = BlockError::BlockGasExhausted { hash, gas_limit, available };
                    rejected.push(RejectedTx { index, error });
                }
                BlockError::BlockGasExhausted { gas_limit, available, .. } => {
                    return Err(BlockError::BlockGasExhausted { hash, gas_limit, available });
                }
                error @ BlockError::InvalidTransaction { .. } if skip_invalid => {
                    rejected.push(RejectedTx { index, error });
                }
                error => return Err(error),
            },
        }
    }
    let (evm, result) = match executor.finish() {
        Ok(done) => done,
        Err(err) => return Err(execution_error(err, None)),
    };
    let mut db = evm.into_db();
    if let Some(err) = db.database.error.take() {
        return Err(BlockError::State(err));
    }
    db.merge_transitions(BundleRetention::PlainState);
    let bundle: BundleState = db.take_bundle();
    let executed = ExecutedBlock {
        receipts: result.receipts,
        gas_used: result.gas_used,
        blob_gas_used: result.blob_gas_used,
        requests: result.requests,
        changes: StateChanges::from_bundle(&bundle),
    };
    Ok((executed, included, rejected))
}

type AnchorOutcome = (ExecutionResult, revm::state::EvmState);

/// The anchor system call with its own gas limit: a system call (no fee, no nonce, no
/// intrinsic gas) from [`crate::ANCHOR_CALLER`], run on the block's state between the
/// pre-execution system calls and the first transaction.
#[allow(clippy::too_many_arguments)] // private: the call's parts, spelled out
fn anchor_call<DB>(
    spec: &ChainSpec,
    block_env: revm::context::BlockEnv,
    cfg_env: revm::context::CfgEnv,
    db: &mut State<DB>,
    inspector: &WorkBudget,
    inspect: bool,
    target: Address,
    anchor: &[u8],
    gas_limit: u64,
) -> Result<AnchorOutcome, AnchorError>
where
    DB: revm::Database<Error = StateError> + std::fmt::Debug,
{
    use revm::{
        ExecuteEvm, MainBuilder, MainContext,
        context::{ContextSetters, TxEnv},
        handler::{Handler, MainnetHandler},
        inspector::InspectorHandler,
    };
    let mut precompiles = alloy_evm::precompiles::PrecompilesMap::from_static(revm::precompile::Precompiles::new(
        revm::precompile::PrecompileSpecId::from_spec_id(cfg_env.spec),
    ));
    install_precompiles(spec, &mut precompiles);
    let mut evm = revm::Context::mainnet()
        .with_block(block_env)
        .with_cfg(cfg_env)
        .with_db(db)
        .build_mainnet_with_inspector(inspector)
        .with_precompiles(precompiles);
    let tx = TxEnv::builder()
        .caller(crate::ANCHOR_CALLER)
        .kind(alloy_primitives::TxKind::Call(target))
        .data(alloy_primitives::Bytes::copy_from_slice(anchor))
        .gas_limit(gas_limit)
        .build()
        .map_err(AnchorError::Build)?;
    evm.set_tx(tx);
    let result: Result<ExecutionResult, revm::context::result::EVMError<<&mut State<DB> as Database>::Error>> =
        if inspect {
            MainnetHandler::default().inspect_run_system_call(&mut evm)
        } else {
            MainnetHandler::default().run_system_call(&mut evm)
        };
    let result = result?;
    Ok((result, evm.finalize()))
}

/// Writes what the chain's [`crate::TxSettlement`]s owe for the transaction that just ran.
fn settle<DB: revm::Database<Error = StateError>>(
    spec: &ChainSpec,
    block_number: u64,
    db: &mut State<DB>,
) -> BlockResult<()> {
    for settlement in spec.settlements() {
        let writes = settlement.settle(block_number);
        if writes.is_empty() {
            continue;
        }
        let mut changes: revm::state::EvmState = Default::default();
        for write in writes {
            let info = db
                .basic(write.address)
                .map_err(|source| BlockError::Settlement { what: "account", source })?
                .unwrap_or_default();
            let original = db
                .storage(write.address, write.slot)
                .map_err(|source| BlockError::Settlement { what: "storage", source })?;
            let account = changes.entry(write.address).or_insert_with(|| {
                let mut account = revm::state::Account::from(info);
                account.mark_touch();
                account
            });
            account.storage.insert(
                write.slot,
                revm::state::EvmStorageSlot::new_changed(original, write.value, Default::default()),
            );
        }
        db.commit(changes);
    }
    Ok(())
}

/// Executes `block` (whose senders are `senders`) on `state`, without validating or committing.
/// `anchor` is the calldata of the chain's anchor system call (empty for a chain without one).
pub fn execute_block<S: StateProvider, H: BlockHashes>(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    senders: &[Address],
    state: &mut S,
    hashes: &H,
) -> BlockResult<ExecutedBlock> {
    execute_block_with(spec, block, anchor, senders, state, hashes, None)
}

fn execute_block_with<S: StateProvider, H: BlockHashes>(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    senders: &[Address],
    state: &mut S,
    hashes: &H,
    budget: Option<&WorkBudget>,
) -> BlockResult<ExecutedBlock> {
    let txs = block.body.transactions.iter().zip(senders).map(|(tx, sender)| Recovered::new_unchecked(tx, *sender));
    let withdrawals = block.body.withdrawals.as_ref().map(|w| w.as_slice());
    run_block(spec, &block.header, withdrawals, anchor, txs, false, state, hashes, budget)
        .map(|(executed, _, _)| executed)
}

/// Runs one transaction on `state` in the environment of `header` without committing anything
/// (`eth_call`, `eth_estimateGas`, `eth_createAccessList`: the returned state lists every
/// account and slot the call touched): nonce and base-fee checks are off, so a call needs no
/// signature and may pay a zero gas price; the balance must still cover value and fees.
pub fn simulate<S: StateProvider, H: BlockHashes>(
    spec: &ChainSpec,
    header: &Header,
    tx: revm::context::TxEnv,
    state: &mut S,
    hashes: &H,
) -> BlockResult<revm::context::result::ResultAndState> {
    let mut env = EvmEnv::for_eth_block(header, spec, spec.chain_id, spec.blob_params_at(header.timestamp));
    env.cfg_env.disable_nonce_check = true;
    env.cfg_env.disable_base_fee = true;
    let db = Db { state, hashes, error: None };
    let mut evm = alloy_evm::eth::EthEvmFactory::default().create_evm(State::builder().with_database(db).build(), env);
    install_precompiles(spec, evm.precompiles_mut());
    // A simulation owes no settlement; start it from a clean slate and drop what it left.
    for settlement in spec.settlements() {
        settlement.begin();
    }
    let outcome = evm.transact(tx);
    for settlement in spec.settlements() {
        settlement.begin();
    }
    match outcome {
        Ok(done) => Ok(done),
        Err(err) => {
            if let Some(state) = evm.db_mut().database.error.take() {
                return Err(BlockError::State(state));
            }
            Err(match err {
                revm::context::result::EVMError::Transaction(reason) => {
                    BlockError::InvalidTransaction { hash: B256::ZERO, reason }
                }
                other => BlockError::Evm(other),
            })
        }
    }
}

/// What the block producer decides; everything else in the header follows from the parent.
#[derive(Debug, Clone, Default)]
pub struct BlockAttributes {
    /// Block timestamp (must exceed the parent's).
    pub timestamp: u64,
    /// Fee recipient.
    pub beneficiary: Address,
    /// Gas limit (within 1/1024 of the parent's).
    pub gas_limit: u64,
    /// `prevrandao` (the header's mix hash).
    pub prev_randao: B256,
    /// EIP-4788 beacon root (Cancun and later; zero when `None`).
    pub parent_beacon_block_root: Option<B256>,
    /// EIP-4895 withdrawals (Shanghai and later; empty when `None`).
    pub withdrawals: Option<Vec<alloy_eips::eip4895::Withdrawal>>,
    /// Extra data (at most 32 bytes).
    pub extra_data: alloy_primitives::Bytes,
    /// Calldata of the anchor system call (rollup chains; empty otherwise).
    pub anchor: alloy_primitives::Bytes,
}

/// A block built from candidate transactions, with its changes committed.
#[derive(Debug, Clone)]
pub struct BuiltBlock {
    /// The sealed-ready block (every header commitment filled in).
    pub block: Block<TxEnvelope>,
    /// Execution results.
    pub executed: ExecutedBlock,
    /// The sender of each included transaction.
    pub senders: Vec<Address>,
    /// Candidates left out, and why.
    pub rejected: Vec<RejectedTx>,
}

/// Builds the next block on `parent` from `candidates`, in order, leaving out those that cannot
/// be included, and commits it to `state`.
pub fn build_block<S: StateProvider + StateCommitter, H: BlockHashes>(
    spec: &ChainSpec,
    parent: &Sealed<Header>,
    attrs: BlockAttributes,
    candidates: Vec<Recovered<TxEnvelope>>,
    state: &mut S,
    hashes: &H,
) -> BlockResult<BuiltBlock> {
    let ts = attrs.timestamp;
    let blob_params = spec.blob_params_at(ts);
    let withdrawals = spec.is_shanghai_active_at_timestamp(ts).then(|| attrs.withdrawals.unwrap_or_default());
    let mut header = Header {
        parent_hash: parent.hash(),
        ommers_hash: alloy_consensus::EMPTY_OMMER_ROOT_HASH,
        beneficiary: attrs.beneficiary,
        number: parent.number + 1,
        gas_limit: attrs.gas_limit,
        timestamp: ts,
        extra_data: attrs.extra_data,
        mix_hash: attrs.prev_randao,
        base_fee_per_gas: parent.next_block_base_fee(spec.base_fee_params()),
        withdrawals_root: withdrawals.as_deref().map(alloy_consensus::proofs::calculate_withdrawals_root),
        excess_blob_gas: spec.next_excess_blob_gas(parent, ts),
        parent_beacon_block_root: blob_params.map(|_| attrs.parent_beacon_block_root.unwrap_or_default()),
        // Filled in after execution; present now so the header rules see the fork's fields.
        blob_gas_used: blob_params.map(|_| 0),
        requests_hash: spec.is_prague_active_at_timestamp(ts).then_some(B256::ZERO),
        ..Default::default()
    };
    crate::validation::validate_header(spec, &header, parent)?;
    let txs = candidates.iter().map(|tx| Recovered::new_unchecked(tx.inner(), tx.signer()));
    let (executed, included, rejected) =
        run_block(spec, &header, withdrawals.as_deref(), &attrs.anchor, txs, true, state, hashes, None)?;
    let mut keep = included.into_iter().peekable();
    let (transactions, senders): (Vec<TxEnvelope>, Vec<Address>) =
        candidates.into_iter().enumerate().filter_map(|(i, tx)| keep.next_if_eq(&i).map(|_| tx.into_parts())).unzip();
    header.gas_used = executed.gas_used;
    header.blob_gas_used = blob_params.map(|_| executed.blob_gas_used);
    header.transactions_root = alloy_consensus::proofs::calculate_transaction_root(&transactions);
    header.receipts_root = alloy_consensus::proofs::calculate_receipt_root(&executed.receipts);
    header.logs_bloom = crate::validation::logs_bloom(&executed.receipts);
    header.requests_hash = spec.is_prague_active_at_timestamp(ts).then(|| executed.requests.requests_hash());
    let (root, _undo) = state.commit(&executed.changes)?;
    header.state_root = root;
    let block = Block::new(
        header,
        alloy_consensus::BlockBody { transactions, ommers: vec![], withdrawals: withdrawals.map(Into::into) },
    );
    Ok(BuiltBlock { block, executed, senders, rejected })
}

/// A block as a node keeps it: with its hash, senders, receipts and transaction hashes.
#[derive(Debug, Clone)]
pub struct StoredBlock {
    /// The block.
    pub block: Block<TxEnvelope>,
    /// Its hash.
    pub hash: B256,
    /// The sender of each transaction.
    pub senders: Vec<Address>,
    /// The receipt of each transaction.
    pub receipts: Vec<ReceiptEnvelope>,
    /// The hash of each transaction.
    pub tx_hashes: Vec<B256>,
}

impl StoredBlock {
    /// Seals `block` with its execution results.
    pub fn new(block: Block<TxEnvelope>, senders: Vec<Address>, receipts: Vec<ReceiptEnvelope>) -> Self {
        let hash = block.header.hash_slow();
        let tx_hashes = block.body.transactions.iter().map(|tx| *tx.tx_hash()).collect();
        Self { block, hash, senders, receipts, tx_hashes }
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.block.header
    }

    /// The block number.
    pub fn number(&self) -> u64 {
        self.block.header.number
    }
}

/// A block that passed every check and whose changes are committed.
#[derive(Debug, Clone)]
pub struct ImportedBlock {
    /// The block's hash.
    pub hash: B256,
    /// Execution results.
    pub executed: ExecutedBlock,
}

/// Validates and executes `block` (with its `anchor`, see [`execute_block`]) on top of `parent`,
/// commits its changes to `state` and checks the state root. On any error `state` is left as
/// it was.
pub fn import_block<S: StateProvider + StateCommitter, H: BlockHashes>(
    spec: &ChainSpec,
    parent: &Sealed<Header>,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    state: &mut S,
    hashes: &H,
) -> BlockResult<ImportedBlock> {
    import_block_with(spec, parent, block, anchor, state, hashes, None)
}

/// [`import_block`] that stops, with [`BlockError::WorkBudgetExceeded`], as soon as execution
/// (system calls, the anchor and the transactions, every frame, before refunds) has spent more
/// gas than `budget` allows: EXECUTE's bound on the work a caller makes L1 do.
pub fn import_block_bounded<S: StateProvider + StateCommitter, H: BlockHashes>(
    spec: &ChainSpec,
    parent: &Sealed<Header>,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    state: &mut S,
    hashes: &H,
    budget: &WorkBudget,
) -> BlockResult<ImportedBlock> {
    import_block_with(spec, parent, block, anchor, state, hashes, Some(budget))
}

fn import_block_with<S: StateProvider + StateCommitter, H: BlockHashes>(
    spec: &ChainSpec,
    parent: &Sealed<Header>,
    block: &Block<TxEnvelope>,
    anchor: &[u8],
    state: &mut S,
    hashes: &H,
    budget: Option<&WorkBudget>,
) -> BlockResult<ImportedBlock> {
    validate_header(spec, &block.header, parent)?;
    validate_body(spec, block)?;
    let senders = recover_senders(block)?;
    let executed = execute_block_with(spec, block, anchor, &senders, state, hashes, budget)?;
    validate_outcome(&block.header, &executed)?;
    let (root, undo) = state.commit(&executed.changes)?;
    if root != block.header.state_root {
        state.revert(undo);
        return Err(BlockError::Mismatch {
            field: "state root",
            header: block.header.state_root.to_string(),
            computed: root.to_string(),
        });
    }
    Ok(ImportedBlock { hash: block.header.hash_slow(), executed })
}
