//! Chain rules: chain id and which hardforks are active when.

use alloy_consensus::{EMPTY_ROOT_HASH, Header};
use alloy_eips::eip7685::EMPTY_REQUESTS_HASH;
use alloy_eips::{eip1559::BaseFeeParams, eip7840::BlobParams};
use alloy_evm::{eth::spec::EthExecutorSpec, precompiles::Precompile};
use alloy_hardforks::{EthereumChainHardforks, EthereumHardfork, EthereumHardforks, ForkCondition};
use alloy_primitives::{Address, B256, U256};
use revm::primitives::hardfork::SpecId;
use std::sync::Arc;

/// The caller of the anchor system call: the EIP-4788 system address.
pub const ANCHOR_CALLER: Address = alloy_eips::eip4788::SYSTEM_ADDRESS;

/// The rules a chain runs under.
#[derive(Debug, Clone)]
pub struct ChainSpec {
    /// EIP-155 chain id.
    pub chain_id: u64,
    hardforks: EthereumChainHardforks,
    precompiles: Vec<ExtraPrecompile>,
    anchor: Option<AnchorRule>,
    settlements: Vec<Arc<dyn TxSettlement>>,
}

/// A rollup chain's anchor system call: the contract it calls and the gas limit a given anchor
/// gets (a function of the anchor, so every node derives the same one; `None` when the anchor
/// is malformed, which makes the block invalid).
#[derive(Debug, Clone, Copy)]
pub struct AnchorRule {
    /// The contract the anchor system call calls.
    pub target: Address,
    /// Gas limit of the anchor system call for an anchor.
    pub gas_limit: fn(&[u8]) -> Option<u64>,
}

/// A storage write a [`TxSettlement`] applies after a transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementWrite {
    /// The account.
    pub address: Address,
    /// The slot.
    pub slot: U256,
    /// Its new value.
    pub value: U256,
}

/// Accounting a precompile keeps outside the EVM journal, so that a reverted frame does not undo
/// it (nrd's EXECUTE meter: EXECUTE gas counts against the L1 block's limit whether or not the
/// calling frame reverts). The chain engine calls [`TxSettlement::begin`] before every
/// transaction and writes what [`TxSettlement::settle`] returns into state after it, whatever
/// the transaction's outcome. Implementations keep their pending accounting per thread: one
/// block, call or simulation executes on one thread from start to end.
pub trait TxSettlement: Send + Sync + std::fmt::Debug {
    /// Drops whatever the previous transaction on this thread left pending.
    fn begin(&self);
    /// The storage writes the transaction that just ran owes; clears the pending accounting.
    fn settle(&self, block_number: u64) -> Vec<SettlementWrite>;
}

/// A precompile a chain adds to Ethereum's set (nrd's L1 adds EXECUTE).
#[derive(Clone)]
pub struct ExtraPrecompile {
    /// Where it lives.
    pub address: Address,
    /// The implementation; stateful precompiles read and write state through its input.
    pub precompile: Arc<dyn Precompile + Send + Sync>,
}

impl std::fmt::Debug for ExtraPrecompile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExtraPrecompile")
            .field("address", &self.address)
            .field("id", self.precompile.precompile_id())
            .finish()
    }
}

/// Forks from Frontier to Paris, all active at genesis (every nrd chain starts post-merge).
const PRE_SHANGHAI: [EthereumHardfork; 15] = [
    EthereumHardfork::Frontier,
    EthereumHardfork::Homestead,
    EthereumHardfork::Dao,
    EthereumHardfork::Tangerine,
    EthereumHardfork::SpuriousDragon,
    EthereumHardfork::Byzantium,
    EthereumHardfork::Constantinople,
    EthereumHardfork::Petersburg,
    EthereumHardfork::Istanbul,
    EthereumHardfork::MuirGlacier,
    EthereumHardfork::Berlin,
    EthereumHardfork::London,
    EthereumHardfork::ArrowGlacier,
    EthereumHardfork::GrayGlacier,
    EthereumHardfork::Paris,
];

/// Post-merge forks nrd supports, in order.
const POST_MERGE: [EthereumHardfork; 4] =
    [EthereumHardfork::Shanghai, EthereumHardfork::Cancun, EthereumHardfork::Prague, EthereumHardfork::Osaka];

impl ChainSpec {
    /// A post-merge chain whose forks up to and including `last` are active at genesis, and
    /// optionally `next` activates at `at_timestamp`.
    pub fn post_merge(chain_id: u64, last: SpecId, next_at: Option<u64>) -> Self {
        let mut forks: Vec<(EthereumHardfork, ForkCondition)> = PRE_SHANGHAI
            .iter()
            .filter(|f| **f != EthereumHardfork::Dao)
            .map(|f| {
                let cond = if *f == EthereumHardfork::Paris {
                    ForkCondition::TTD { activation_block_number: 0, fork_block: Some(0), total_difficulty: U256::ZERO }
                } else {
                    ForkCondition::Block(0)
                };
                (*f, cond)
            })
            .collect();
        let active = match last {
            SpecId::SHANGHAI => 1,
            SpecId::CANCUN => 2,
            SpecId::PRAGUE => 3,
            SpecId::OSAKA => 4,
            _ => 0,
        };
        for (i, fork) in POST_MERGE.iter().enumerate() {
            if i < active {
                forks.push((*fork, ForkCondition::Timestamp(0)));
            } else if i == active
                && let Some(ts) = next_at
            {
                forks.push((*fork, ForkCondition::Timestamp(ts)));
            }
        }
        Self {
            chain_id,
            hardforks: EthereumChainHardforks::new(forks),
            precompiles: Vec::new(),
            anchor: None,
            settlements: Vec::new(),
        }
    }

    /// Adds (or replaces) a precompile at `address`.
    pub fn with_precompile(mut self, address: Address, precompile: Arc<dyn Precompile + Send + Sync>) -> Self {
        self.precompiles.retain(|p| p.address != address);
        self.precompiles.push(ExtraPrecompile { address, precompile });
        self
    }

    /// Makes every block start (after the EIP-4788/2935 system calls, before its transactions)
    /// with a system call from [`ANCHOR_CALLER`] to `rule.target`, whose calldata is the block's
    /// anchor (a native rollup's L1 messages; see `docs/protocol.md`) and whose gas limit is
    /// `(rule.gas_limit)(anchor)`. A reverting anchor call, or an anchor without a gas limit,
    /// makes the block invalid.
    pub const fn with_anchor(mut self, rule: AnchorRule) -> Self {
        self.anchor = Some(rule);
        self
    }

    /// The anchor system call's target, if this chain has one.
    pub fn anchor_target(&self) -> Option<Address> {
        self.anchor.map(|a| a.target)
    }

    /// The gas limit of the anchor system call for `anchor`: `Some(0)` on a chain without an
    /// anchor contract (whose anchor must be empty), `None` when the anchor is malformed.
    pub fn anchor_gas(&self, anchor: &[u8]) -> Option<u64> {
        match self.anchor {
            Some(rule) => (rule.gas_limit)(anchor),
            None => anchor.is_empty().then_some(0),
        }
    }

    /// Adds accounting that survives reverted frames (see [`TxSettlement`]).
    pub fn with_settlement(mut self, settlement: Arc<dyn TxSettlement>) -> Self {
        self.settlements.push(settlement);
        self
    }

    /// The chain's [`TxSettlement`]s.
    pub fn settlements(&self) -> &[Arc<dyn TxSettlement>] {
        &self.settlements
    }

    /// The precompiles this chain adds to Ethereum's.
    pub fn extra_precompiles(&self) -> &[ExtraPrecompile] {
        &self.precompiles
    }

    /// The spec for an ethereum/tests `network` name, e.g. `Cancun` or `ShanghaiToCancunAtTime15k`.
    /// `None` for pre-merge networks, which nrd does not run.
    pub fn for_test_network(name: &str) -> Option<Self> {
        let parse = |n: &str| match n {
            "Paris" | "Merge" => Some(SpecId::MERGE),
            "Shanghai" => Some(SpecId::SHANGHAI),
            "Cancun" => Some(SpecId::CANCUN),
            "Prague" => Some(SpecId::PRAGUE),
            "Osaka" => Some(SpecId::OSAKA),
            _ => None,
        };
        if let Some((from, rest)) = name.split_once("To") {
            let (to, ts) = rest.split_once("AtTime")?;
            let ts = ts.strip_suffix('k')?.parse::<u64>().ok()? * 1000;
            let from = parse(from)?;
            // `to` must be the fork right after `from`.
            let next = parse(to)?;
            let idx = |s: SpecId| {
                [SpecId::MERGE, SpecId::SHANGHAI, SpecId::CANCUN, SpecId::PRAGUE, SpecId::OSAKA]
                    .iter()
                    .position(|x| *x == s)
            };
            if idx(next)? != idx(from)? + 1 {
                return None;
            }
            return Some(Self::post_merge(1, from, Some(ts)));
        }
        Some(Self::post_merge(1, parse(name)?, None))
    }

    /// The revm spec at a timestamp.
    pub fn spec_at(&self, number: u64, timestamp: u64) -> SpecId {
        alloy_evm::spec_by_timestamp_and_block_number(self, timestamp, number)
    }

    /// Blob parameters at a timestamp (`None` before Cancun).
    pub fn blob_params_at(&self, timestamp: u64) -> Option<BlobParams> {
        if self.is_osaka_active_at_timestamp(timestamp) {
            Some(BlobParams::osaka())
        } else if self.is_prague_active_at_timestamp(timestamp) {
            Some(BlobParams::prague())
        } else if self.is_cancun_active_at_timestamp(timestamp) {
            Some(BlobParams::cancun())
        } else {
            None
        }
    }

    /// A genesis header over `state_root` with every field the forks active at `timestamp`
    /// require (base fee: EIP-1559's initial 1 gwei; empty withdrawals; zero blob gas).
    pub fn genesis_header(&self, state_root: B256, gas_limit: u64, timestamp: u64) -> Header {
        let cancun = self.blob_params_at(timestamp).is_some();
        Header {
            number: 0,
            gas_limit,
            timestamp,
            state_root,
            base_fee_per_gas: Some(alloy_eips::eip1559::INITIAL_BASE_FEE),
            withdrawals_root: self.is_shanghai_active_at_timestamp(timestamp).then_some(EMPTY_ROOT_HASH),
            blob_gas_used: cancun.then_some(0),
            excess_blob_gas: cancun.then_some(0),
            parent_beacon_block_root: cancun.then_some(B256::ZERO),
            requests_hash: self.is_prague_active_at_timestamp(timestamp).then_some(EMPTY_REQUESTS_HASH),
            ..Default::default()
        }
    }

    /// EIP-4844 excess blob gas of a block at `timestamp` on top of `parent` (`None` before
    /// Cancun). A parent without blob fields (the first Cancun block's) counts as zero; a parent
    /// whose fields overflow (only a forged one can) is treated as saturated — `validate_header`
    /// rejects such parents before asking.
    pub fn next_excess_blob_gas(&self, parent: &Header, timestamp: u64) -> Option<u64> {
        let params = self.blob_params_at(timestamp)?;
        let excess = parent.excess_blob_gas.unwrap_or_default();
        let used = parent.blob_gas_used.unwrap_or_default();
        if excess.checked_add(used).is_none() {
            return Some(u64::MAX);
        }
        Some(params.next_block_excess_blob_gas_osaka(excess, used, parent.base_fee_per_gas.unwrap_or_default()))
    }

    /// The blob base fee of `header`'s block (`None` before Cancun).
    pub fn blob_base_fee(&self, header: &Header) -> Option<u128> {
        self.blob_params_at(header.timestamp).zip(header.excess_blob_gas).map(|(p, e)| p.calc_blob_fee(e))
    }

    /// EIP-1559 parameters.
    pub fn base_fee_params(&self) -> BaseFeeParams {
        BaseFeeParams::ethereum()
    }
}

impl EthereumHardforks for ChainSpec {
    fn ethereum_fork_activation(&self, fork: EthereumHardfork) -> ForkCondition {
        self.hardforks.ethereum_fork_activation(fork)
    }
}

impl EthExecutorSpec for ChainSpec {
    fn deposit_contract_address(&self) -> Option<Address> {
        None
    }
}

/// The system contracts post-Prague chains hold from genesis (EIP-4788 beacon roots, EIP-2935
/// block hashes, EIP-7002 withdrawal and EIP-7251 consolidation requests), as genesis accounts.
pub fn system_contracts() -> Vec<(Address, crate::GenesisAccount)> {
    use alloy_eips::{eip2935, eip4788, eip7002, eip7251};
    [
        (eip4788::BEACON_ROOTS_ADDRESS, eip4788::BEACON_ROOTS_CODE.clone()),
        (eip2935::HISTORY_STORAGE_ADDRESS, eip2935::HISTORY_STORAGE_CODE.clone()),
        (eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_ADDRESS, eip7002::WITHDRAWAL_REQUEST_PREDEPLOY_CODE.clone()),
        (eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_ADDRESS, eip7251::CONSOLIDATION_REQUEST_PREDEPLOY_CODE.clone()),
    ]
    .into_iter()
    .map(|(address, code)| (address, crate::GenesisAccount { nonce: 1, code, ..Default::default() }))
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_networks() {
        let cancun = ChainSpec::for_test_network("Cancun").unwrap();
        assert_eq!(cancun.spec_at(1, 1), SpecId::CANCUN);
        let t = ChainSpec::for_test_network("ShanghaiToCancunAtTime15k").unwrap();
        assert_eq!(t.spec_at(1, 14_999), SpecId::SHANGHAI);
        assert_eq!(t.spec_at(2, 15_000), SpecId::CANCUN);
        assert!(ChainSpec::for_test_network("Berlin").is_none());
        assert!(ChainSpec::for_test_network("ParisToCancunAtTime15k").is_none());
    }
}
