//! The L2 genesis: chain id, fork rules, gas limit and the allocation with the predeploys, in
//! geth's genesis JSON format (`config/l2-genesis.json`), so standard tooling reads it too.

use alloy_consensus::{Header, Sealed};
use alloy_genesis::{ChainConfig, Genesis, GenesisAccount as JsonAccount};
use alloy_primitives::{Address, B256, Bytes, U256};
use nrd_bridge::{L1_MESSAGE_INBOX, L1MessageInbox, L2_BRIDGE, L2_GOVERNANCE, L2_TO_L1_MESSAGE_PASSER, L2Bridge};
use nrd_chain::{ChainSpec, GenesisAccount, MemoryState, system_contracts};
use revm::primitives::hardfork::SpecId;

/// Wei the genesis gives `L2Bridge` to pay deposits out of (2^128: never runs out).
pub const BRIDGE_PREFUND: U256 = U256::from_limbs([0, 0, 1, 0]);

/// Why a genesis file is not an nrd L2 genesis.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GenesisError {
    /// Not JSON of a genesis.
    #[error("genesis does not parse: {0}")]
    Json(#[source] nrd_chain::SharedError<serde_json::Error>),
    /// A fork nrd requires is not active at genesis.
    #[error("genesis must activate {0} at time 0")]
    Fork(&'static str),
    /// A predeploy is missing or has other code than the contracts' artifacts.
    #[error("predeploy {name} at {address} is missing or its code differs from the compiled contract")]
    Predeploy {
        /// Contract name.
        name: &'static str,
        /// Where it must live.
        address: Address,
    },
    /// The gas limit is outside the protocol bounds.
    #[error("gas limit {0} is outside {min}..={max}", min = nrd_chain::MIN_GAS_LIMIT, max = nrd_chain::MAX_GAS_LIMIT)]
    GasLimit(u64),
}

impl nrd_chain::Classify for GenesisError {
    fn severity(&self) -> nrd_chain::Severity {
        // The genesis file is wrong: an operator must replace it.
        nrd_chain::Severity::Critical
    }
}

/// The predeploys: name, address, runtime code.
pub fn predeploys() -> [(&'static str, Address, Bytes); 4] {
    [
        ("L1MessageInbox", L1_MESSAGE_INBOX, L1MessageInbox::DEPLOYED_BYTECODE.clone()),
        ("L2Bridge", L2_BRIDGE, L2Bridge::DEPLOYED_BYTECODE.clone()),
        ("L2ToL1MessagePasser", L2_TO_L1_MESSAGE_PASSER, nrd_bridge::L2ToL1MessagePasser::DEPLOYED_BYTECODE.clone()),
        ("L2Governance", L2_GOVERNANCE, nrd_bridge::L2Governance::DEPLOYED_BYTECODE.clone()),
    ]
}

/// The anchor rule of every nrd L2: the anchor system call goes to `L1MessageInbox` with the gas
/// limit `NativeRollup` pays EXECUTE for (`nrd_bridge::anchor_gas_limit`).
pub fn anchor_rule() -> nrd_chain::AnchorRule {
    nrd_chain::AnchorRule { target: L1_MESSAGE_INBOX, gas_limit: nrd_bridge::anchor_gas_limit }
}

/// An nrd L2 genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct L2Genesis {
    genesis: Genesis,
}

impl L2Genesis {
    /// A genesis for chain `chain_id` with block gas limit `gas_limit`: Prague rules from time
    /// 0, the Prague system contracts, the predeploys (`L2Bridge` funded with
    /// [`BRIDGE_PREFUND`]) and `prefunded` accounts (a devnet's test accounts).
    pub fn new(chain_id: u64, gas_limit: u64, prefunded: &[(Address, U256)]) -> Self {
        let config = ChainConfig {
            chain_id,
            homestead_block: Some(0),
            eip150_block: Some(0),
            eip155_block: Some(0),
            eip158_block: Some(0),
            byzantium_block: Some(0),
            constantinople_block: Some(0),
            petersburg_block: Some(0),
            istanbul_block: Some(0),
            berlin_block: Some(0),
            london_block: Some(0),
            merge_netsplit_block: Some(0),
            terminal_total_difficulty: Some(U256::ZERO),
            terminal_total_difficulty_passed: true,
            shanghai_time: Some(0),
            cancun_time: Some(0),
            prague_time: Some(0),
            blob_schedule: [
                ("cancun".to_string(), alloy_eips::eip7840::BlobParams::cancun()),
                ("prague".to_string(), alloy_eips::eip7840::BlobParams::prague()),
            ]
            .into(),
            ..Default::default()
        };
        let mut alloc = std::collections::BTreeMap::new();
        for (address, account) in system_contracts() {
            alloc.insert(address, to_json(&account));
        }
        for (_, address, code) in predeploys() {
            let balance = if address == L2_BRIDGE { BRIDGE_PREFUND } else { U256::ZERO };
            alloc.insert(address, JsonAccount { balance, code: Some(code), nonce: Some(1), ..Default::default() });
        }
        for (address, balance) in prefunded {
            alloc.insert(*address, JsonAccount { balance: *balance, ..Default::default() });
        }
        let genesis = Genesis {
            config,
            gas_limit,
            alloc,
            base_fee_per_gas: Some(u128::from(alloy_eips::eip1559::INITIAL_BASE_FEE)),
            excess_blob_gas: Some(0),
            blob_gas_used: Some(0),
            ..Default::default()
        };
        Self { genesis }
    }

    /// Parses and checks a genesis file.
    pub fn from_json(json: &str) -> Result<Self, GenesisError> {
        let genesis: Genesis = serde_json::from_str(json).map_err(|e| GenesisError::Json(e.into()))?;
        let c = &genesis.config;
        for (name, time) in [("shanghai", c.shanghai_time), ("cancun", c.cancun_time), ("prague", c.prague_time)] {
            if time != Some(0) {
                return Err(GenesisError::Fork(name));
            }
        }
        if !(nrd_chain::MIN_GAS_LIMIT..=nrd_chain::MAX_GAS_LIMIT).contains(&genesis.gas_limit) {
            return Err(GenesisError::GasLimit(genesis.gas_limit));
        }
        for (name, address, code) in predeploys() {
            if genesis.alloc.get(&address).and_then(|a| a.code.as_ref()) != Some(&code) {
                return Err(GenesisError::Predeploy { name, address });
            }
        }
        Ok(Self { genesis })
    }

    /// The genesis as pretty JSON (the format of `config/l2-genesis.json`).
    pub fn to_json(&self) -> String {
        let mut out = serde_json::to_string_pretty(&self.genesis).unwrap_or_default();
        out.push('\n');
        out
    }

    /// The chain id.
    pub const fn chain_id(&self) -> u64 {
        self.genesis.config.chain_id
    }

    /// The block gas limit at genesis.
    pub const fn gas_limit(&self) -> u64 {
        self.genesis.gas_limit
    }

    /// The chain rules: Prague from genesis, with the anchor system call to `L1MessageInbox`.
    pub fn spec(&self) -> ChainSpec {
        ChainSpec::post_merge(self.chain_id(), SpecId::PRAGUE, None).with_anchor(anchor_rule())
    }

    /// The allocation, account by account.
    pub fn alloc(&self) -> Vec<(Address, GenesisAccount)> {
        self.genesis.alloc.iter().map(|(a, acc)| (*a, from_json(acc))).collect()
    }

    /// The genesis state.
    pub fn state(&self) -> MemoryState {
        let alloc = self.alloc();
        MemoryState::from_alloc(alloc.iter().map(|(a, g)| (a, g)))
    }

    /// The genesis block header over `state_root` (of [`Self::state`]).
    pub fn header(&self, state_root: B256) -> Sealed<Header> {
        Sealed::new(self.spec().genesis_header(state_root, self.genesis.gas_limit, self.genesis.timestamp))
    }

    /// The underlying genesis document.
    pub const fn genesis(&self) -> &Genesis {
        &self.genesis
    }
}

fn to_json(account: &GenesisAccount) -> JsonAccount {
    JsonAccount {
        nonce: Some(account.nonce),
        balance: account.balance,
        code: (!account.code.is_empty()).then(|| account.code.clone()),
        storage: (!account.storage.is_empty())
            .then(|| account.storage.iter().map(|(k, v)| (B256::from(*k), B256::from(*v))).collect()),
        ..Default::default()
    }
}

fn from_json(account: &JsonAccount) -> GenesisAccount {
    GenesisAccount {
        nonce: account.nonce.unwrap_or_default(),
        balance: account.balance,
        code: account.code.clone().unwrap_or_default(),
        storage: account
            .storage
            .iter()
            .flatten()
            .map(|(k, v)| (U256::from_be_bytes(k.0), U256::from_be_bytes(v.0)))
            .collect(),
    }
}
