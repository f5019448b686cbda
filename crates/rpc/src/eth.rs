//! The `eth_`, `net_`, `web3_` and `debug_executionWitness` methods over any [`Backend`].

use crate::{
    backend::{Backend, BackendHashes},
    convert::{block_logs, pending_transaction, rpc_block, rpc_receipt, rpc_transaction},
    error::{RpcError, RpcResult, revert_reason},
};
use alloy_consensus::{Header, Sealed, Transaction as _};
use alloy_eips::{BlockId, BlockNumberOrTag, eip2930::AccessListItem};
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256, map::HashMap};
use alloy_rpc_types_eth::{
    AccessList, AccessListResult, Block, EIP1186AccountProofResponse, EIP1186StorageProof, FeeHistory, Filter,
    FilterBlockOption, FilterChanges, Log, Transaction, TransactionReceipt, TransactionRequest,
    pubsub::{Params, SubscriptionKind},
};
use jsonrpsee::{
    PendingSubscriptionSink, SubscriptionMessage,
    core::{RpcResult as JsonRpcResult, SubscriptionResult, async_trait},
    proc_macros::rpc,
};
use nrd_chain::{LockExt, StateProvider, StoredBlock, TrieState, simulate};
use nrd_execute_client::{Ancestors, ExecutionWitness, record_block};
use revm::context::{TxEnv, result::ExecutionResult};
use std::sync::{Arc, Mutex};

/// Most blocks one `eth_getLogs` may scan.
const MAX_LOG_RANGE: u64 = 10_000;
/// Most blocks `eth_feeHistory` returns.
const MAX_FEE_HISTORY: u64 = 1024;
/// Installed filters per server.
const MAX_FILTERS: usize = 1024;

/// Ethereum JSON-RPC.
#[rpc(server)]
pub trait EthApi {
    /// `eth_chainId`.
    #[method(name = "eth_chainId")]
    fn chain_id(&self) -> JsonRpcResult<U64>;
    /// `net_version`.
    #[method(name = "net_version")]
    fn net_version(&self) -> JsonRpcResult<String>;
    /// `web3_clientVersion`.
    #[method(name = "web3_clientVersion")]
    fn client_version(&self) -> JsonRpcResult<String>;
    /// `eth_syncing`.
    #[method(name = "eth_syncing")]
    fn syncing(&self) -> JsonRpcResult<bool>;
    /// `eth_accounts` (nrd holds no keys: always empty).
    #[method(name = "eth_accounts")]
    fn accounts(&self) -> JsonRpcResult<Vec<Address>>;
    /// `eth_blockNumber`.
    #[method(name = "eth_blockNumber")]
    fn block_number(&self) -> JsonRpcResult<U64>;
    /// `eth_getBalance`.
    #[method(name = "eth_getBalance")]
    fn balance(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<U256>;
    /// `eth_getCode`.
    #[method(name = "eth_getCode")]
    fn code(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<Bytes>;
    /// `eth_getStorageAt`.
    #[method(name = "eth_getStorageAt")]
    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> JsonRpcResult<B256>;
    /// `eth_getTransactionCount`.
    #[method(name = "eth_getTransactionCount")]
    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<U64>;
    /// `eth_call`.
    #[method(name = "eth_call", blocking)]
    fn call(&self, request: TransactionRequest, block: Option<BlockId>) -> JsonRpcResult<Bytes>;
    /// `eth_estimateGas`.
    #[method(name = "eth_estimateGas", blocking)]
    fn estimate_gas(&self, request: TransactionRequest, block: Option<BlockId>) -> JsonRpcResult<U64>;
    /// `eth_createAccessList`.
    #[method(name = "eth_createAccessList", blocking)]
    fn create_access_list(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
    ) -> JsonRpcResult<AccessListResult>;
    /// `eth_sendRawTransaction`.
    #[method(name = "eth_sendRawTransaction", blocking)]
    fn send_raw_transaction(&self, raw: Bytes) -> JsonRpcResult<B256>;
    /// `eth_getTransactionByHash`.
    #[method(name = "eth_getTransactionByHash")]
    fn transaction_by_hash(&self, hash: B256) -> JsonRpcResult<Option<Transaction>>;
    /// `eth_getTransactionByBlockNumberAndIndex`.
    #[method(name = "eth_getTransactionByBlockNumberAndIndex")]
    fn transaction_by_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: U64,
    ) -> JsonRpcResult<Option<Transaction>>;
    /// `eth_getTransactionByBlockHashAndIndex`.
    #[method(name = "eth_getTransactionByBlockHashAndIndex")]
    fn transaction_by_hash_and_index(&self, block: B256, index: U64) -> JsonRpcResult<Option<Transaction>>;
    /// `eth_getTransactionReceipt`.
    #[method(name = "eth_getTransactionReceipt")]
    fn transaction_receipt(&self, hash: B256) -> JsonRpcResult<Option<TransactionReceipt>>;
    /// `eth_getBlockReceipts`.
    #[method(name = "eth_getBlockReceipts")]
    fn block_receipts(&self, block: BlockId) -> JsonRpcResult<Option<Vec<TransactionReceipt>>>;
    /// `eth_getBlockByNumber`.
    #[method(name = "eth_getBlockByNumber")]
    fn block_by_number(&self, block: BlockNumberOrTag, full: bool) -> JsonRpcResult<Option<Block<Transaction>>>;
    /// `eth_getBlockByHash`.
    #[method(name = "eth_getBlockByHash")]
    fn block_by_hash(&self, hash: B256, full: bool) -> JsonRpcResult<Option<Block<Transaction>>>;
    /// `eth_getBlockTransactionCountByNumber`.
    #[method(name = "eth_getBlockTransactionCountByNumber")]
    fn block_tx_count_by_number(&self, block: BlockNumberOrTag) -> JsonRpcResult<Option<U64>>;
    /// `eth_getBlockTransactionCountByHash`.
    #[method(name = "eth_getBlockTransactionCountByHash")]
    fn block_tx_count_by_hash(&self, hash: B256) -> JsonRpcResult<Option<U64>>;
    /// `eth_getLogs`.
    #[method(name = "eth_getLogs")]
    fn logs(&self, filter: Filter) -> JsonRpcResult<Vec<Log>>;
    /// `eth_newFilter`.
    #[method(name = "eth_newFilter")]
    fn new_filter(&self, filter: Filter) -> JsonRpcResult<U256>;
    /// `eth_newBlockFilter`.
    #[method(name = "eth_newBlockFilter")]
    fn new_block_filter(&self) -> JsonRpcResult<U256>;
    /// `eth_getFilterChanges`.
    #[method(name = "eth_getFilterChanges")]
    fn filter_changes(&self, id: U256) -> JsonRpcResult<FilterChanges>;
    /// `eth_getFilterLogs`.
    #[method(name = "eth_getFilterLogs")]
    fn filter_logs(&self, id: U256) -> JsonRpcResult<Vec<Log>>;
    /// `eth_uninstallFilter`.
    #[method(name = "eth_uninstallFilter")]
    fn uninstall_filter(&self, id: U256) -> JsonRpcResult<bool>;
    /// `eth_gasPrice`: next base fee plus the suggested tip.
    #[method(name = "eth_gasPrice")]
    fn gas_price(&self) -> JsonRpcResult<U256>;
    /// `eth_maxPriorityFeePerGas`.
    #[method(name = "eth_maxPriorityFeePerGas")]
    fn max_priority_fee(&self) -> JsonRpcResult<U256>;
    /// `eth_blobBaseFee`.
    #[method(name = "eth_blobBaseFee")]
    fn blob_base_fee(&self) -> JsonRpcResult<U256>;
    /// `eth_feeHistory`.
    #[method(name = "eth_feeHistory")]
    fn fee_history(
        &self,
        count: U64,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> JsonRpcResult<FeeHistory>;
    /// `eth_getProof`.
    #[method(name = "eth_getProof", blocking)]
    fn proof(
        &self,
        address: Address,
        keys: Vec<B256>,
        block: Option<BlockId>,
    ) -> JsonRpcResult<EIP1186AccountProofResponse>;
    /// `debug_executionWitness`: the witness that re-executes block `block` statelessly.
    #[method(name = "debug_executionWitness", blocking)]
    fn execution_witness(&self, block: BlockNumberOrTag) -> JsonRpcResult<ExecutionWitness>;
    /// `eth_subscribe` (`newHeads`, `logs`).
    #[subscription(name = "eth_subscribe" => "eth_subscription", unsubscribe = "eth_unsubscribe", item = serde_json::Value)]
    async fn subscribe(&self, kind: SubscriptionKind, params: Option<Params>) -> SubscriptionResult;
}

#[derive(Debug, Clone)]
enum InstalledFilter {
    Blocks { last: u64 },
    Logs { filter: Box<Filter>, last: u64 },
}

/// The `eth_` API over a backend.
#[derive(Debug)]
pub struct EthRpc<B> {
    backend: Arc<B>,
    filters: Mutex<(u64, HashMap<U256, InstalledFilter>)>,
}

impl<B: Backend> EthRpc<B> {
    /// Serves `backend`.
    pub fn new(backend: Arc<B>) -> Self {
        Self { backend, filters: Mutex::new((1, HashMap::default())) }
    }

    /// Why block `number` cannot be served: its body was pruned, or it does not exist.
    fn missing(&self, number: u64) -> RpcError {
        let bodies_from = self.backend.bodies_from();
        if number < bodies_from && number <= self.backend.head().number() {
            RpcError::Pruned { number, bodies_from }
        } else {
            RpcError::NotFound(format!("block {number} not found"))
        }
    }

    /// A canonical block by number.
    fn block_at(&self, number: u64) -> RpcResult<Arc<StoredBlock>> {
        self.backend.block(number).ok_or_else(|| self.missing(number))
    }

    fn resolve_number(&self, tag: BlockNumberOrTag) -> RpcResult<Arc<StoredBlock>> {
        let b = &self.backend;
        match tag {
            BlockNumberOrTag::Latest | BlockNumberOrTag::Pending => Ok(b.head()),
            BlockNumberOrTag::Safe => Ok(b.safe()),
            BlockNumberOrTag::Finalized => Ok(b.finalized()),
            BlockNumberOrTag::Earliest => self.block_at(0),
            BlockNumberOrTag::Number(n) => self.block_at(n),
        }
    }

    fn resolve(&self, id: Option<BlockId>) -> RpcResult<Arc<StoredBlock>> {
        match id.unwrap_or_default() {
            BlockId::Number(tag) => self.resolve_number(tag),
            BlockId::Hash(h) => self.by_hash(h.block_hash),
        }
    }

    /// A canonical block by hash.
    fn by_hash(&self, hash: B256) -> RpcResult<Arc<StoredBlock>> {
        if let Some(block) = self.backend.block_by_hash(hash) {
            return Ok(block);
        }
        match self.backend.block_number(hash) {
            Some(number) => Err(self.missing(number)),
            None => Err(RpcError::NotFound(format!("block {hash} not found"))),
        }
    }

    fn state(&self, id: Option<BlockId>) -> RpcResult<(Arc<StoredBlock>, B::State)> {
        let block = self.resolve(id)?;
        let state = self
            .backend
            .state_at(block.number())
            .ok_or_else(|| RpcError::NotFound(format!("state of block {} is not kept (pruned)", block.number())))?;
        Ok((block, state))
    }

    fn tx_env(&self, request: &TransactionRequest, state: &mut B::State, gas_cap: u64) -> RpcResult<TxEnv> {
        let from = request.from.unwrap_or_default();
        let nonce = match request.nonce {
            Some(n) => n,
            None => state.account(from).map_err(|e| RpcError::Internal(e.to_string()))?.map_or(0, |a| a.nonce),
        };
        let mut env = TxEnv {
            caller: from,
            gas_limit: request.gas.unwrap_or(gas_cap).min(gas_cap),
            kind: request.to.unwrap_or(TxKind::Create),
            value: request.value.unwrap_or_default(),
            data: request.input.input().cloned().unwrap_or_default(),
            nonce,
            chain_id: Some(self.backend.spec().chain_id),
            access_list: request.access_list.clone().unwrap_or_default(),
            blob_hashes: request.blob_versioned_hashes.clone().unwrap_or_default(),
            max_fee_per_blob_gas: request.max_fee_per_blob_gas.unwrap_or_default(),
            ..Default::default()
        };
        if let Some(auths) = &request.authorization_list {
            env.authorization_list = auths.iter().cloned().map(revm::context::either::Either::Left).collect();
        }
        env.tx_type = if !env.authorization_list.is_empty() {
            4
        } else if !env.blob_hashes.is_empty() {
            3
        } else if request.max_fee_per_gas.is_some() || request.max_priority_fee_per_gas.is_some() {
            2
        } else if request.access_list.is_some() {
            1
        } else {
            0
        };
        if env.tx_type >= 2 {
            env.gas_price = request.max_fee_per_gas.unwrap_or_default();
            env.gas_priority_fee = Some(request.max_priority_fee_per_gas.unwrap_or_default().min(env.gas_price));
        } else {
            env.gas_price = request.gas_price.unwrap_or_default();
        }
        Ok(env)
    }

    fn run(
        &self,
        request: &TransactionRequest,
        block: Option<BlockId>,
        gas: Option<u64>,
    ) -> RpcResult<revm::context::result::ResultAndState> {
        self.run_in(request, block, gas).map(|(outcome, _)| outcome)
    }

    /// Runs a call and also returns the header it ran under.
    fn run_in(
        &self,
        request: &TransactionRequest,
        block: Option<BlockId>,
        gas: Option<u64>,
    ) -> RpcResult<(revm::context::result::ResultAndState, Header)> {
        let pending = matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending)));
        let (block, mut state) = self.state(block)?;
        // A call runs in the block's own environment, on the state after it (as geth does);
        // `pending` runs in the next block's environment on the head state.
        let header = if pending { self.backend.pending_header() } else { block.header().clone() };
        let mut env = self.tx_env(request, &mut state, header.gas_limit)?;
        if let Some(gas) = gas {
            env.gas_limit = gas;
        }
        simulate(self.backend.spec(), &header, env, &mut state, &BackendHashes(&*self.backend))
            .map(|outcome| (outcome, header))
            .map_err(|e| RpcError::Rejected(e.to_string()))
    }

    fn output(result: ExecutionResult) -> RpcResult<Bytes> {
        match result {
            ExecutionResult::Success { output, .. } => Ok(output.into_data()),
            ExecutionResult::Revert { output, .. } => {
                Err(RpcError::Reverted { reason: revert_reason(&output), data: output })
            }
            ExecutionResult::Halt { reason, .. } => Err(RpcError::Halted(format!("execution halted: {reason:?}"))),
        }
    }

    fn range(&self, filter: &Filter) -> RpcResult<Vec<Arc<StoredBlock>>> {
        match &filter.block_option {
            FilterBlockOption::AtBlockHash(hash) => Ok(vec![self.by_hash(*hash)?]),
            FilterBlockOption::Range { from_block, to_block } => {
                let head = self.backend.head().number();
                let num = |t: Option<BlockNumberOrTag>| -> RpcResult<u64> {
                    Ok(match t.unwrap_or_default() {
                        BlockNumberOrTag::Number(n) => n.min(head),
                        other => self.resolve_number(other)?.number(),
                    })
                };
                let (from, to) = (num(*from_block)?, num(*to_block)?);
                if from > to {
                    return Err(RpcError::InvalidParams(format!("fromBlock {from} is after toBlock {to}")));
                }
                if to - from >= MAX_LOG_RANGE {
                    return Err(RpcError::InvalidParams(format!("query exceeds max block range {MAX_LOG_RANGE}")));
                }
                if from < self.backend.bodies_from() {
                    return Err(self.missing(from));
                }
                Ok((from..=to).filter_map(|n| self.backend.block(n)).collect())
            }
        }
    }

    fn matching_logs(filter: &Filter, blocks: &[Arc<StoredBlock>]) -> Vec<Log> {
        blocks
            .iter()
            .filter(|b| filter.matches_bloom(b.header().logs_bloom))
            .flat_map(|b| block_logs(b))
            .filter(|log| filter.matches(&log.inner))
            .collect()
    }

    fn install(&self, filter: InstalledFilter) -> RpcResult<U256> {
        let mut guard = self.filters.lock_or_recover();
        if guard.1.len() >= MAX_FILTERS {
            return Err(RpcError::Rejected(format!("too many filters installed (max {MAX_FILTERS})")));
        }
        let id = U256::from(guard.0);
        guard.0 += 1;
        guard.1.insert(id, filter);
        Ok(id)
    }

    fn suggested_tip(&self) -> u128 {
        // The median tip of the last blocks, at least 1 gwei... on a devnet 1 wei is enough.
        1_000_000
    }
}

fn j<T>(r: RpcResult<T>) -> JsonRpcResult<T> {
    r.map_err(Into::into)
}

/// `null` for a block that does not exist; an error for one whose body was pruned (as geth).
fn found<T>(r: RpcResult<T>) -> JsonRpcResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(RpcError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[async_trait]
impl<B: Backend> EthApiServer for EthRpc<B> {
    fn chain_id(&self) -> JsonRpcResult<U64> {
        Ok(U64::from(self.backend.spec().chain_id))
    }

    fn net_version(&self) -> JsonRpcResult<String> {
        Ok(self.backend.spec().chain_id.to_string())
    }

    fn client_version(&self) -> JsonRpcResult<String> {
        Ok(format!("nrd/v{}", env!("CARGO_PKG_VERSION")))
    }

    fn syncing(&self) -> JsonRpcResult<bool> {
        Ok(false)
    }

    fn accounts(&self) -> JsonRpcResult<Vec<Address>> {
        Ok(vec![])
    }

    fn block_number(&self) -> JsonRpcResult<U64> {
        Ok(U64::from(self.backend.head().number()))
    }

    fn balance(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<U256> {
        j(self.state(block).and_then(|(_, mut s)| {
            s.account(address)
                .map(|a| a.map(|a| a.balance).unwrap_or_default())
                .map_err(|e| RpcError::Internal(e.to_string()))
        }))
    }

    fn code(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<Bytes> {
        j(self.state(block).and_then(|(_, mut s)| {
            let hash = s.account(address).map_err(|e| RpcError::Internal(e.to_string()))?.unwrap_or_default().code_hash;
            s.code(hash).map_err(|e| RpcError::Internal(e.to_string()))
        }))
    }

    fn storage_at(&self, address: Address, slot: U256, block: Option<BlockId>) -> JsonRpcResult<B256> {
        j(self.state(block).and_then(|(_, mut s)| {
            s.storage(address, slot).map(B256::from).map_err(|e| RpcError::Internal(e.to_string()))
        }))
    }

    fn transaction_count(&self, address: Address, block: Option<BlockId>) -> JsonRpcResult<U64> {
        if matches!(block, Some(BlockId::Number(BlockNumberOrTag::Pending))) {
            return j(self
                .backend
                .pending_nonce(address)
                .map(U64::from)
                .map_err(|e| RpcError::Internal(e.to_string())));
        }
        j(self.state(block).and_then(|(_, mut s)| {
            s.account(address)
                .map(|a| U64::from(a.map_or(0, |a| a.nonce)))
                .map_err(|e| RpcError::Internal(e.to_string()))
        }))
    }

    fn call(&self, request: TransactionRequest, block: Option<BlockId>) -> JsonRpcResult<Bytes> {
        j(self.run(&request, block, None).and_then(|r| Self::output(r.result)))
    }

    fn estimate_gas(&self, request: TransactionRequest, block: Option<BlockId>) -> JsonRpcResult<U64> {
        j((|| {
            let (b, _) = self.state(block)?;
            let cap = request.gas.unwrap_or(b.header().gas_limit).min(b.header().gas_limit);
            let first = self.run(&request, block, Some(cap))?;
            let used = match first.result {
                ExecutionResult::Success { gas, .. } => gas.tx_gas_used(),
                other => return Self::output(other).map(|_| U64::ZERO),
            };
            // Binary search the lowest limit that still succeeds (calls may need more than they use).
            let (mut lo, mut hi) = (used.saturating_sub(1), cap);
            if matches!(self.run(&request, block, Some(used))?.result, ExecutionResult::Success { .. }) {
                return Ok(U64::from(used));
            }
            lo = lo.max(used);
            while lo + 1 < hi {
                let mid = lo + (hi - lo) / 2;
                if matches!(self.run(&request, block, Some(mid))?.result, ExecutionResult::Success { .. }) {
                    hi = mid;
                } else {
                    lo = mid;
                }
            }
            Ok(U64::from(hi))
        })())
    }

    fn create_access_list(
        &self,
        request: TransactionRequest,
        block: Option<BlockId>,
    ) -> JsonRpcResult<AccessListResult> {
        j((|| {
            let (outcome, header) = self.run_in(&request, block, None)?;
            let from = request.from.unwrap_or_default();
            let to = request.to.and_then(|k| k.to().copied());
            let precompiles = revm::precompile::Precompiles::new(revm::precompile::PrecompileSpecId::PRAGUE);
            let mut items: Vec<AccessListItem> = outcome
                .state
                .iter()
                .filter(|(a, _)| !precompiles.contains(a))
                .filter(|(a, _)| !self.backend.spec().extra_precompiles().iter().any(|p| p.address == **a))
                .map(|(address, account)| {
                    let mut keys: Vec<B256> = account.storage.keys().map(|k| B256::from(*k)).collect();
                    keys.sort();
                    AccessListItem { address: *address, storage_keys: keys }
                })
                // Sender, recipient and fee recipient are warm anyway (EIP-2929/3651): listed
                // only for their storage, as geth does.
                .filter(|i| {
                    let warm = i.address == from || Some(i.address) == to || i.address == header.beneficiary;
                    !warm || !i.storage_keys.is_empty()
                })
                .collect();
            items.sort_by_key(|i| i.address);
            let gas_used = outcome.result.tx_gas_used();
            let error = match &outcome.result {
                ExecutionResult::Success { .. } => None,
                ExecutionResult::Revert { output, .. } => Some(format!(
                    "execution reverted{}",
                    revert_reason(output).map(|r| format!(": {r}")).unwrap_or_default()
                )),
                ExecutionResult::Halt { reason, .. } => Some(format!("{reason:?}")),
            };
            Ok(AccessListResult { access_list: AccessList(items), gas_used: U256::from(gas_used), error })
        })())
    }

    fn send_raw_transaction(&self, raw: Bytes) -> JsonRpcResult<B256> {
        j(self.backend.submit_raw(&raw).map_err(|e| RpcError::Rejected(e.to_string())))
    }

    fn transaction_by_hash(&self, hash: B256) -> JsonRpcResult<Option<Transaction>> {
        if let Some((block, index)) = self.backend.transaction(hash) {
            return Ok(rpc_transaction(&block, index));
        }
        Ok(self.backend.pooled(hash).map(pending_transaction))
    }

    fn transaction_by_number_and_index(
        &self,
        block: BlockNumberOrTag,
        index: U64,
    ) -> JsonRpcResult<Option<Transaction>> {
        Ok(self.resolve_number(block).ok().and_then(|b| rpc_transaction(&b, index.to::<usize>())))
    }

    fn transaction_by_hash_and_index(&self, block: B256, index: U64) -> JsonRpcResult<Option<Transaction>> {
        Ok(self.backend.block_by_hash(block).and_then(|b| rpc_transaction(&b, index.to::<usize>())))
    }

    fn transaction_receipt(&self, hash: B256) -> JsonRpcResult<Option<TransactionReceipt>> {
        Ok(self.backend.transaction(hash).and_then(|(block, index)| rpc_receipt(self.backend.spec(), &block, index)))
    }

    fn block_receipts(&self, block: BlockId) -> JsonRpcResult<Option<Vec<TransactionReceipt>>> {
        found(
            self.resolve(Some(block))
                .map(|b| (0..b.tx_hashes.len()).filter_map(|i| rpc_receipt(self.backend.spec(), &b, i)).collect()),
        )
    }

    fn block_by_number(&self, block: BlockNumberOrTag, full: bool) -> JsonRpcResult<Option<Block<Transaction>>> {
        found(self.resolve_number(block).map(|b| rpc_block(&b, full)))
    }

    fn block_by_hash(&self, hash: B256, full: bool) -> JsonRpcResult<Option<Block<Transaction>>> {
        found(self.by_hash(hash).map(|b| rpc_block(&b, full)))
    }

    fn block_tx_count_by_number(&self, block: BlockNumberOrTag) -> JsonRpcResult<Option<U64>> {
        found(self.resolve_number(block).map(|b| U64::from(b.tx_hashes.len())))
    }

    fn block_tx_count_by_hash(&self, hash: B256) -> JsonRpcResult<Option<U64>> {
        found(self.by_hash(hash).map(|b| U64::from(b.tx_hashes.len())))
    }

    fn logs(&self, filter: Filter) -> JsonRpcResult<Vec<Log>> {
        j(self.range(&filter).map(|blocks| Self::matching_logs(&filter, &blocks)))
    }

    fn new_filter(&self, filter: Filter) -> JsonRpcResult<U256> {
        let last = self.backend.head().number();
        j(self.install(InstalledFilter::Logs { filter: Box::new(filter), last }))
    }

    fn new_block_filter(&self) -> JsonRpcResult<U256> {
        j(self.install(InstalledFilter::Blocks { last: self.backend.head().number() }))
    }

    fn filter_changes(&self, id: U256) -> JsonRpcResult<FilterChanges> {
        let head = self.backend.head().number();
        let installed = {
            let mut guard = self.filters.lock_or_recover();
            let Some(f) = guard.1.get_mut(&id) else {
                return j(Err(RpcError::NotFound("filter not found".into())));
            };
            let before = f.clone();
            match f {
                InstalledFilter::Blocks { last } | InstalledFilter::Logs { last, .. } => *last = head.max(*last),
            }
            before
        };
        match installed {
            InstalledFilter::Blocks { last } => Ok(FilterChanges::Hashes(
                ((last + 1)..=head).filter_map(|n| self.backend.block(n)).map(|b| b.hash).collect(),
            )),
            InstalledFilter::Logs { filter, last } => {
                let blocks: Vec<_> = ((last + 1)..=head).filter_map(|n| self.backend.block(n)).collect();
                Ok(FilterChanges::Logs(Self::matching_logs(&filter, &blocks)))
            }
        }
    }

    fn filter_logs(&self, id: U256) -> JsonRpcResult<Vec<Log>> {
        let installed = self.filters.lock_or_recover().1.get(&id).cloned();
        match installed {
            Some(InstalledFilter::Logs { filter, .. }) => self.logs(*filter),
            Some(InstalledFilter::Blocks { .. }) => j(Err(RpcError::InvalidParams("not a log filter".into()))),
            None => j(Err(RpcError::NotFound("filter not found".into()))),
        }
    }

    fn uninstall_filter(&self, id: U256) -> JsonRpcResult<bool> {
        Ok(self.filters.lock_or_recover().1.remove(&id).is_some())
    }

    fn gas_price(&self) -> JsonRpcResult<U256> {
        let base = self.backend.pending_header().base_fee_per_gas.unwrap_or_default();
        Ok(U256::from(u128::from(base) + self.suggested_tip()))
    }

    fn max_priority_fee(&self) -> JsonRpcResult<U256> {
        Ok(U256::from(self.suggested_tip()))
    }

    fn blob_base_fee(&self) -> JsonRpcResult<U256> {
        let next = self.backend.pending_header();
        Ok(U256::from(self.backend.spec().blob_base_fee(&next).unwrap_or_default()))
    }

    fn fee_history(
        &self,
        count: U64,
        newest: BlockNumberOrTag,
        percentiles: Option<Vec<f64>>,
    ) -> JsonRpcResult<FeeHistory> {
        j((|| {
            let newest = self.resolve_number(newest)?;
            let count = count.to::<u64>().min(MAX_FEE_HISTORY).min(newest.number() + 1);
            if let Some(p) = &percentiles
                && (p.iter().any(|x| !(0.0..=100.0).contains(x)) || p.windows(2).any(|w| w[0] > w[1]))
            {
                return Err(RpcError::InvalidParams("reward percentiles must be ascending values in [0, 100]".into()));
            }
            let oldest = newest.number() + 1 - count;
            let spec = self.backend.spec();
            let mut history = FeeHistory { oldest_block: oldest, ..Default::default() };
            let mut rewards = Vec::new();
            for n in oldest..=newest.number() {
                let b = self.block_at(n)?;
                let h = b.header();
                history.base_fee_per_gas.push(u128::from(h.base_fee_per_gas.unwrap_or_default()));
                history.gas_used_ratio.push(h.gas_used as f64 / h.gas_limit.max(1) as f64);
                let blob = spec.blob_params_at(h.timestamp);
                history.base_fee_per_blob_gas.push(spec.blob_base_fee(h).unwrap_or_default());
                history.blob_gas_used_ratio.push(blob.map_or(0.0, |p| {
                    h.blob_gas_used.unwrap_or_default() as f64 / p.max_blob_gas_per_block().max(1) as f64
                }));
                if let Some(p) = &percentiles {
                    rewards.push(block_rewards(&b, p));
                }
            }
            let next = newest.header();
            history
                .base_fee_per_gas
                .push(u128::from(next.next_block_base_fee(spec.base_fee_params()).unwrap_or_default()));
            let next_blob = spec
                .blob_params_at(next.timestamp + 1)
                .zip(spec.next_excess_blob_gas(next, next.timestamp + 1))
                .map_or(0, |(p, e)| p.calc_blob_fee(e));
            history.base_fee_per_blob_gas.push(next_blob);
            history.reward = percentiles.map(|_| rewards);
            Ok(history)
        })())
    }

    fn proof(
        &self,
        address: Address,
        keys: Vec<B256>,
        block: Option<BlockId>,
    ) -> JsonRpcResult<EIP1186AccountProofResponse> {
        j((|| {
            let (_, mut state) = self.state(block)?;
            let internal = |e: nrd_chain::StateError| RpcError::Internal(e.to_string());
            let slots: Vec<U256> = keys.iter().map(|k| U256::from_be_bytes(k.0)).collect();
            let proof = state.proof(address, &slots).map_err(internal)?;
            let storage_proof = keys
                .iter()
                .zip(proof.storage)
                .map(|(key, (value, proof))| EIP1186StorageProof { key: (*key).into(), value, proof })
                .collect();
            let account_proof = proof.account_proof;
            let account = proof.account.unwrap_or_default();
            Ok(EIP1186AccountProofResponse {
                address,
                balance: account.balance,
                code_hash: if account.code_hash.is_zero() {
                    alloy_primitives::KECCAK256_EMPTY
                } else {
                    account.code_hash
                },
                nonce: account.nonce,
                storage_hash: if account.storage_root.is_zero() {
                    alloy_consensus::EMPTY_ROOT_HASH
                } else {
                    account.storage_root
                },
                account_proof,
                storage_proof,
            })
        })())
    }

    fn execution_witness(&self, block: BlockNumberOrTag) -> JsonRpcResult<ExecutionWitness> {
        j((|| {
            let block = self.resolve_number(block)?;
            let number = block.number();
            if number == 0 {
                return Err(RpcError::InvalidParams("genesis has no witness".into()));
            }
            let parent_state = self
                .backend
                .state_at(number - 1)
                .ok_or_else(|| RpcError::NotFound(format!("state of block {} is not kept (pruned)", number - 1)))?;
            let headers: Vec<Sealed<Header>> =
                (number.saturating_sub(257)..number).rev().filter_map(|n| self.backend.header(n)).collect();
            let ancestors =
                Ancestors::new(headers).map_err(|h| RpcError::Internal(format!("ancestor chain broken at {h}")))?;
            let mut state = parent_state;
            let (_, witness) = record_block(self.backend.spec(), &block.block, &[], &mut state, &ancestors)
                .map_err(|e| RpcError::Internal(format!("re-executing block {number}: {e}")))?;
            Ok(witness)
        })())
    }

    async fn subscribe(
        &self,
        pending: PendingSubscriptionSink,
        kind: SubscriptionKind,
        params: Option<Params>,
    ) -> SubscriptionResult {
        let filter = match (kind, params) {
            (SubscriptionKind::NewHeads, _) => None,
            (SubscriptionKind::Logs, Some(Params::Logs(filter))) => Some(*filter),
            (SubscriptionKind::Logs, _) => Some(Filter::default()),
            (other, _) => {
                pending.reject(RpcError::InvalidParams(format!("unsupported subscription {other:?}"))).await;
                return Ok(());
            }
        };
        let mut heads = self.backend.subscribe();
        let sink = pending.accept().await?;
        loop {
            tokio::select! {
                _ = sink.closed() => break,
                next = heads.recv() => {
                    let block = match next {
                        Ok(b) => b,
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => break,
                    };
                    let items: Vec<serde_json::Value> = match &filter {
                        None => vec![serde_json::to_value(rpc_block(&block, false).header)?],
                        Some(f) => Self::matching_logs(f, std::slice::from_ref(&block)).into_iter().map(serde_json::to_value).collect::<Result<_, _>>()?,
                    };
                    for item in items {
                        let msg = SubscriptionMessage::new(sink.method_name(), sink.subscription_id(), &item)?;
                        if sink.send(msg).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

/// Effective tips at the given percentiles of gas used in `block`.
fn block_rewards(block: &StoredBlock, percentiles: &[f64]) -> Vec<u128> {
    let base_fee = block.header().base_fee_per_gas.unwrap_or_default();
    let mut prior = 0;
    let mut txs: Vec<(u128, u64)> = block
        .block
        .body
        .transactions
        .iter()
        .zip(&block.receipts)
        .map(|(tx, r)| {
            let gas = r.cumulative_gas_used() - prior;
            prior = r.cumulative_gas_used();
            (tx.effective_tip_per_gas(base_fee).unwrap_or(0), gas)
        })
        .collect();
    if txs.is_empty() {
        return vec![0; percentiles.len()];
    }
    txs.sort_unstable();
    let total: u64 = txs.iter().map(|t| t.1).sum();
    percentiles
        .iter()
        .map(|p| {
            let threshold = (total as f64 * p / 100.0) as u64;
            let mut acc = 0;
            txs.iter()
                .find(|(_, gas)| {
                    acc += gas;
                    acc >= threshold
                })
                .map_or(txs[txs.len() - 1].0, |t| t.0)
        })
        .collect()
}
