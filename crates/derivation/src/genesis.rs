//! The L2 genesis: chain id, fork rules, gas limit and the allocation with the predeploys, in
//! geth's genesis JSON format (`config/l2-genesis.json`), so standard tooling reads it too.

use alloy_consensus::{Header, Sealed};
use alloy_genesis::{ChainConfig, Genesis, GenesisAccount as JsonAccount};
use alloy_primitives::{Address, B256, Bytes, U256, keccak256};
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
    /// `config.nrdSyntheticAccounts` is malformed.
    #[error("config.{SYNTHETIC_KEY}: {0}")]
    Synthetic(#[source] nrd_chain::SharedError<serde_json::Error>),
    /// `config.nrdSyntheticAccounts` asks for more than [`MAX_SYNTHETIC_ACCOUNTS`].
    #[error("config.{SYNTHETIC_KEY}: count {0} is above {MAX_SYNTHETIC_ACCOUNTS}")]
    TooManySynthetic(u64),
}

/// The genesis config key of [`SyntheticAccounts`].
pub const SYNTHETIC_KEY: &str = "nrdSyntheticAccounts";

/// The most synthetic accounts a genesis may ask for.
pub const MAX_SYNTHETIC_ACCOUNTS: u64 = 1 << 32;

/// Generated accounts in a genesis: `count` plain accounts holding `balance` wei, account `i`
/// at `keccak256(seed ‖ i as 8 big-endian bytes)[12..]`. A state of millions of accounts for
/// benchmarks and tests is three numbers in `config.nrdSyntheticAccounts` of the genesis JSON,
/// not a giant `alloc`; every node derives the same accounts. An `alloc` entry at the same
/// address wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyntheticAccounts {
    /// How many accounts.
    pub count: u64,
    /// Wei each holds.
    pub balance: U256,
    /// Varies the addresses.
    pub seed: B256,
}

impl SyntheticAccounts {
    /// The address of account `index`.
    pub fn address(&self, index: u64) -> Address {
        let mut preimage = [0u8; 40];
        preimage[..32].copy_from_slice(self.seed.as_slice());
        preimage[32..].copy_from_slice(&index.to_be_bytes());
        Address::from_slice(&keccak256(preimage)[12..])
    }

    /// The account every synthetic address holds.
    pub fn account(&self) -> GenesisAccount {
        GenesisAccount { balance: self.balance, ..Default::default() }
    }
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
        let genesis = Self { genesis };
        if let Some(synthetic) = genesis.synthetic()?
            && synthetic.count > MAX_SYNTHETIC_ACCOUNTS
        {
            return Err(GenesisError::TooManySynthetic(synthetic.count));
        }
        Ok(genesis)
    }

    /// The same genesis with `synthetic` generated accounts (none with `None`).
    pub fn with_synthetic(mut self, synthetic: Option<SyntheticAccounts>) -> Self {
        let extra = &mut self.genesis.config.extra_fields;
        match synthetic.map(serde_json::to_value) {
            Some(Ok(value)) => {
                extra.insert(SYNTHETIC_KEY.to_string(), value);
            }
            _ => {
                extra.remove(SYNTHETIC_KEY);
            }
        }
        self
    }

    /// The same genesis with `accounts` added to (or replacing entries of) the allocation.
    pub fn with_accounts(mut self, accounts: impl IntoIterator<Item = (Address, GenesisAccount)>) -> Self {
        for (address, account) in accounts {
            self.genesis.alloc.insert(address, to_json(&account));
        }
        self
    }

    /// The generated accounts this genesis asks for, if any.
    pub fn synthetic(&self) -> Result<Option<SyntheticAccounts>, GenesisError> {
        self.genesis
            .config
            .extra_fields
            .get(SYNTHETIC_KEY)
            .map(|value| serde_json::from_value(value.clone()).map_err(|e| GenesisError::Synthetic(e.into())))
            .transpose()
    }

    fn synthetic_or_none(&self) -> Option<SyntheticAccounts> {
        // `from_json` checked it; a genesis built in code has none or a well-formed one.
        self.synthetic().ok().flatten()
    }

    /// A digest of the whole genesis document: a store written from this genesis recognises
    /// it on the next start without recomputing the state root.
    pub fn fingerprint(&self) -> B256 {
        keccak256(self.to_json())
    }

    /// Every genesis account, the allocation's and the generated ones, in the state trie's
    /// order (by `keccak256(address)`), each address once. Holds 40 bytes per account while
    /// it runs, not the accounts themselves.
    pub fn accounts(&self) -> impl Iterator<Item = (Address, GenesisAccount)> + '_ {
        let synthetic = self.synthetic_or_none();
        let alloc: Vec<(Address, GenesisAccount)> = self.alloc();
        let base = alloc.len() as u64;
        // (hashed address, index): below `base` into the allocation, else a synthetic one.
        let mut order: Vec<(B256, u64)> =
            alloc.iter().enumerate().map(|(i, (a, _))| (keccak256(a), i as u64)).collect();
        if let Some(s) = synthetic {
            order.reserve(usize::try_from(s.count).unwrap_or(0));
            order.extend((0..s.count).map(|i| (keccak256(s.address(i)), base + i)));
        }
        // Equal hashes are equal addresses: the allocation's entry (the lower index) sorts first.
        order.sort_unstable();
        order.dedup_by(|later, earlier| later.0 == earlier.0);
        order.into_iter().filter_map(move |(_, index)| match alloc.get(index as usize) {
            Some(entry) => Some(entry.clone()),
            None => synthetic.map(|s| (s.address(index - base), s.account())),
        })
    }

    /// The genesis state root, computed by streaming [`Self::accounts`] through a trie hash
    /// builder: memory grows with the number of accounts only by their sort keys.
    pub fn state_root(&self) -> B256 {
        let mut builder = alloy_trie::HashBuilder::default();
        let mut rlp = Vec::new();
        for (address, account) in self.accounts() {
            let storage_root = alloy_trie::root::storage_root_unhashed(
                account.storage.iter().filter(|(_, v)| !v.is_zero()).map(|(k, v)| (B256::from(*k), *v)),
            );
            let code_hash =
                if account.code.is_empty() { alloy_primitives::KECCAK256_EMPTY } else { keccak256(&account.code) };
            let trie_account = alloy_consensus::TrieAccount {
                nonce: account.nonce,
                balance: account.balance,
                storage_root,
                code_hash,
            };
            rlp.clear();
            alloy_rlp::Encodable::encode(&trie_account, &mut rlp);
            builder.add_leaf(alloy_trie::Nibbles::unpack(keccak256(address)), &rlp);
        }
        builder.root()
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

    /// The genesis state in memory (generated accounts included): for tests and small chains;
    /// a node writes [`Self::accounts`] to its store instead.
    pub fn state(&self) -> MemoryState {
        let accounts: Vec<(Address, GenesisAccount)> = self.accounts().collect();
        MemoryState::from_alloc(accounts.iter().map(|(a, g)| (a, g)))
    }

    /// The genesis block header over `state_root` (of [`Self::state_root`]).
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

#[cfg(test)]
mod tests {
    use super::*;

    fn synthetic(count: u64) -> SyntheticAccounts {
        SyntheticAccounts { count, balance: U256::from(7), seed: B256::repeat_byte(3) }
    }

    #[test]
    fn streamed_root_is_the_state_root() {
        let plain = L2Genesis::new(901, 30_000_000, &[(Address::repeat_byte(1), U256::from(5))]);
        assert_eq!(plain.state_root(), plain.state().root());
        // Generated accounts, one of them also in the allocation with another balance: the
        // allocation's entry wins, in the streamed root and in the state alike.
        let s = synthetic(500);
        let clash = s.address(17);
        let genesis = L2Genesis::new(901, 30_000_000, &[(clash, U256::from(99))]).with_synthetic(Some(s));
        let mut state = genesis.state();
        assert_eq!(genesis.state_root(), state.root());
        assert_ne!(genesis.state_root(), plain.state_root());
        use nrd_chain::StateProvider;
        assert_eq!(state.account(clash).unwrap().unwrap().balance, U256::from(99));
        assert_eq!(state.account(s.address(18)).unwrap().unwrap().balance, U256::from(7));
        let accounts: Vec<_> = genesis.accounts().collect();
        assert_eq!(accounts.len(), genesis.alloc().len() + 499);
        assert!(accounts.windows(2).all(|w| keccak256(w[0].0) < keccak256(w[1].0)), "trie order, each once");
    }

    #[test]
    fn synthetic_accounts_round_trip_through_json_and_are_checked() {
        let genesis = L2Genesis::new(901, 30_000_000, &[]).with_synthetic(Some(synthetic(3)));
        let parsed = L2Genesis::from_json(&genesis.to_json()).unwrap();
        assert_eq!(parsed.synthetic().unwrap(), Some(synthetic(3)));
        assert_eq!(parsed.fingerprint(), genesis.fingerprint());
        assert_ne!(parsed.fingerprint(), L2Genesis::new(901, 30_000_000, &[]).fingerprint());
        // Malformed or oversized: a typed error, not a silent default.
        for bad in [
            serde_json::json!({"count": 1, "balance": "0x1"}),
            serde_json::json!({"count": "many", "balance": "0x1", "seed": B256::ZERO}),
            serde_json::json!({"count": 1, "balance": "0x1", "seed": B256::ZERO, "extra": 1}),
        ] {
            let mut json: serde_json::Value = serde_json::from_str(&genesis.to_json()).unwrap();
            json["config"][SYNTHETIC_KEY] = bad;
            let err = L2Genesis::from_json(&json.to_string()).unwrap_err();
            assert!(matches!(err, GenesisError::Synthetic(_)), "{err}");
        }
        let mut json: serde_json::Value = serde_json::from_str(&genesis.to_json()).unwrap();
        json["config"][SYNTHETIC_KEY]["count"] = serde_json::json!(MAX_SYNTHETIC_ACCOUNTS + 1);
        let err = L2Genesis::from_json(&json.to_string()).unwrap_err();
        assert_eq!(err, GenesisError::TooManySynthetic(MAX_SYNTHETIC_ACCOUNTS + 1));
    }
}
