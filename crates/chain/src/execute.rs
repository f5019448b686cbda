//! Block execution on revm through alloy-evm's Ethereum block executor, over any
//! [`StateProvider`]; and block import (validate, execute, commit, check the state root).

use crate::{
    ChainSpec,
    error::{BlockError, BlockResult},
    state::{StateChanges, StateCommitter, StateError, StateProvider},
    validation::{validate_body, validate_header, validate_outcome},
};
use alloy_consensus::{
    Block, Header, ReceiptEnvelope, Sealed, TxEnvelope,
    transaction::{Recovered, SignerRecoverable},
};
use alloy_eips::eip7685::Requests;
use alloy_evm::{
    Evm, EvmEnv, EvmFactory,
    block::{BlockExecutionError, BlockExecutor, BlockValidationError},
    eth::{EthBlockExecutionCtx, EthBlockExecutor, receipt_builder::AlloyReceiptBuilder},
};
use alloy_primitives::{Address, B256, KECCAK256_EMPTY, U256};
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

/// Recovers the sender of every transaction.
pub fn recover_senders(block: &Block<TxEnvelope>) -> BlockResult<Vec<Address>> {
    block
        .body
        .transactions
        .iter()
        .enumerate()
        .map(|(index, tx)| {
            tx.recover_signer().map_err(|e| BlockError::InvalidSignature { index, reason: e.to_string() })
        })
        .collect()
}

fn execution_error(err: BlockExecutionError, db_error: Option<StateError>) -> BlockError {
    if let Some(state) = db_error {
        return BlockError::State(state);
    }
    match err {
        BlockExecutionError::Validation(BlockValidationError::InvalidTx { hash, error }) => {
            BlockError::InvalidTransaction { hash, reason: error.to_string() }
        }
        BlockExecutionError::Validation(BlockValidationError::TransactionGasLimitMoreThanAvailableBlockGas {
            transaction_gas_limit,
            block_available_gas,
        }) => BlockError::InvalidTransaction {
            hash: B256::ZERO,
            reason: format!(
                "gas limit {transaction_gas_limit} is more than the block's remaining {block_available_gas}"
            ),
        },
        other => BlockError::Execution(other.to_string()),
    }
}

/// Executes `block` (whose senders are `senders`) on `state`, without validating or committing.
pub fn execute_block<S: StateProvider, H: BlockHashes>(
    spec: &ChainSpec,
    block: &Block<TxEnvelope>,
    senders: &[Address],
    state: &mut S,
    hashes: &H,
) -> BlockResult<ExecutedBlock> {
    let header = &block.header;
    let env = EvmEnv::for_eth_block(header, spec, spec.chain_id, spec.blob_params_at(header.timestamp));
    let db = Db { state, hashes, error: None };
    let db = State::builder().with_database(db).with_bundle_update().build();
    let evm = alloy_evm::eth::EthEvmFactory::default().create_evm(db, env);
    let ctx = EthBlockExecutionCtx {
        parent_hash: header.parent_hash,
        parent_beacon_block_root: header.parent_beacon_block_root,
        ommers: &[],
        withdrawals: block.body.withdrawals.as_ref().map(|w| Cow::Borrowed(w.as_slice())),
        extra_data: header.extra_data.clone(),
        tx_count_hint: Some(block.body.transactions.len()),
        slot_number: None,
    };
    let mut executor = EthBlockExecutor::new(evm, ctx, spec, AlloyReceiptBuilder::default());

    let mut run = || -> Result<(), BlockExecutionError> {
        executor.apply_pre_execution_changes()?;
        for (tx, sender) in block.body.transactions.iter().zip(senders) {
            executor.execute_transaction(Recovered::new_unchecked(tx, *sender))?;
        }
        Ok(())
    };
    if let Err(err) = run() {
        let db_error = executor.evm_mut().db_mut().database.error.take();
        return Err(execution_error(err, db_error));
    }
    let (evm, result) = match executor.finish() {
        Ok(done) => done,
        Err(err) => return Err(execution_error(err, None)),
    };
    let mut db: State<Db<'_, S, H>> = evm.into_db();
    if let Some(err) = db.database.error.take() {
        return Err(BlockError::State(err));
    }
    db.merge_transitions(BundleRetention::PlainState);
    let bundle: BundleState = db.take_bundle();
    Ok(ExecutedBlock {
        receipts: result.receipts,
        gas_used: result.gas_used,
        blob_gas_used: result.blob_gas_used,
        requests: result.requests,
        changes: StateChanges::from_bundle(&bundle),
    })
}

/// A block that passed every check and whose changes are committed.
#[derive(Debug, Clone)]
pub struct ImportedBlock {
    /// The block's hash.
    pub hash: B256,
    /// Execution results.
    pub executed: ExecutedBlock,
}

/// Validates and executes `block` on top of `parent`, commits its changes to `state` and checks
/// the state root. On any error `state` is left as it was.
pub fn import_block<S: StateProvider + StateCommitter, H: BlockHashes>(
    spec: &ChainSpec,
    parent: &Sealed<Header>,
    block: &Block<TxEnvelope>,
    state: &mut S,
    hashes: &H,
) -> BlockResult<ImportedBlock> {
    validate_header(spec, &block.header, parent)?;
    validate_body(spec, block)?;
    let senders = recover_senders(block)?;
    let executed = execute_block(spec, block, &senders, state, hashes)?;
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
