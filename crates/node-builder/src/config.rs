//! A node's configuration (`nrd node`, `nrd config print`): the TOML file
//! (`config/sequencer.toml`, `config/follower.toml`), overridden by `NRD_*` environment variables,
//! overridden by flags — layered with the `config` crate, then checked once, before anything
//! starts, with errors that name the key, where its value came from and what is wrong with it.
//!
//! Environment variables are `NRD_` and the key path in capitals, `__` between levels:
//! `NRD_RPC_ADDR`, `NRD_L1__RPC_URL`, `NRD_SEQUENCER__POOL__MAX_TOTAL`. Lists (`sequencer.censor`)
//! are comma separated. Every key, its default and its meaning: `docs/config.md`.

use alloy_primitives::Address;
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::DaMode;
use nrd_txpool::PoolLimits;
use serde::{Deserialize, Serialize};
use std::{
    collections::{BTreeMap, BTreeSet},
    fmt,
    net::SocketAddr,
    path::PathBuf,
};

/// The prefix of configuration environment variables.
const ENV_PREFIX: &str = "NRD_";
/// Between the levels of a key path in an environment variable name.
const ENV_SEPARATOR: &str = "__";
/// Keys whose values are secrets: `nrd config print` masks them, errors never show them.
pub const SECRET_KEYS: &[&str] = &["sequencer.key", "proposer.key"];
/// Keys whose values are lists (comma separated in the environment).
const LIST_KEYS: &[&str] = &["sequencer.censor"];

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("config file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not TOML.
    #[error("config file {}: not valid TOML: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A key nrd does not have (a typo, or a key of another version).
    #[error("unknown key `{key}` (from {origin}){}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        /// The key path.
        key: String,
        /// Where it was set.
        origin: Origin,
        /// The known key nearest to it.
        suggestion: Option<String>,
    },
    /// A key's value is of the wrong type or out of range.
    #[error("`{key}` (from {origin}): {problem}")]
    Invalid {
        /// The key path.
        key: String,
        /// Where its value came from.
        origin: Origin,
        /// What is wrong with it.
        problem: String,
    },
    /// A required key has no value.
    #[error("`{key}` is required: {why}")]
    Missing {
        /// The key path.
        key: String,
        /// Why it is needed, or how to give it.
        why: String,
    },
    /// A `--set` flag that is not `KEY=VALUE`.
    #[error("--set `{0}`: expected KEY=VALUE, e.g. --set sequencer.block_time_ms=500")]
    BadOverride(String),
}

/// Result of configuration loading.
pub type ConfigResult<T, E = ConfigError> = std::result::Result<T, E>;
use ConfigResult as Result;

/// Where a key's value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// nrd's built-in default.
    Default,
    /// The configuration file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
    /// A command-line flag.
    Flag(String),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("the default"),
            Self::File(path) => write!(f, "{}", path.display()),
            Self::Env(name) => write!(f, "environment variable {name}"),
            Self::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// Which role a node plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Orders transactions, seals blocks, posts them to L1.
    Sequencer,
    /// Rebuilds the chain from L1 alone.
    Follower,
}

/// `[l1]`: where L1 is and which rollup to follow.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct L1Section {
    /// HTTP JSON-RPC of L1.
    pub rpc_url: String,
    /// WebSocket JSON-RPC of L1: when set, new heads arrive by `eth_subscribe("newHeads")`
    /// instead of waiting out `poll_interval_ms` (polling stays the fallback).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws_url: Option<String>,
    /// Beacon API of L1 (blob sidecars of blob-mode batches).
    pub beacon_url: String,
    /// The `NativeRollup` contract to follow (and post to).
    pub rollup: Address,
    /// First L1 block to read (the rollup's deployment block).
    #[serde(default)]
    pub start_block: u64,
    /// L1 blocks to wait before reading a block.
    #[serde(default)]
    pub confirmations: u64,
    /// How often L1 is polled, milliseconds.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
}

fn default_metrics_addr() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 9001))
}

fn default_poll_ms() -> u64 {
    500
}

/// `[sequencer]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SequencerSection {
    /// Milliseconds between L2 blocks.
    #[serde(default = "default_block_time_ms")]
    pub block_time_ms: u64,
    /// Hex private key of the sequencer (signs `advance`).
    #[serde(default)]
    pub key: Option<String>,
    /// Where L2 fees go (default: the sequencer's address).
    #[serde(default)]
    pub fee_recipient: Option<Address>,
    /// Where batches carry their transactions: `blob` or `calldata`.
    #[serde(default = "default_da")]
    pub da_mode: String,
    /// Post each batch as one run (`advanceRun`: one EXECUTE, one merged witness) instead of
    /// one EXECUTE per block (`advance`).
    #[serde(default = "default_true")]
    pub post_runs: bool,
    /// Most L2 blocks one `advance` posts.
    #[serde(default = "default_max_blocks")]
    pub max_blocks_per_batch: usize,
    /// Most L2 gas one `advance` may carry (a single larger block is posted alone); keep it at
    /// or below L1's EXECUTE gas target.
    #[serde(default = "default_max_batch_gas")]
    pub max_batch_l2_gas: u64,
    /// Milliseconds a sealed block may wait for more blocks to share its batch (0: post at
    /// once); a full batch goes at once.
    #[serde(default)]
    pub max_batch_delay_ms: u64,
    /// Most batches sent to L1 and not yet mined (at least 1).
    #[serde(default = "default_max_in_flight")]
    pub max_batches_in_flight: usize,
    /// L1 gas one `advance` may use (its gas limit); every sealed block fits one on its own.
    /// The node uses the smaller of this and L1's latest block gas limit.
    #[serde(default = "default_max_advance_l1_gas")]
    pub max_advance_l1_gas: u64,
    /// Calldata bytes one `advance` may carry.
    #[serde(default = "default_max_advance_calldata")]
    pub max_advance_calldata_bytes: usize,
    /// Blobs one `advance` may carry (blob mode).
    #[serde(default = "default_max_blobs")]
    pub max_blobs_per_advance: usize,
    /// EXECUTE gas L1 accepts per L1 block; the node uses the smaller of this and the limit L1
    /// reports (`nrd_executeGas`).
    #[serde(default = "default_max_execute_gas")]
    pub max_execute_gas: u64,
    /// Highest `maxFeePerGas` (wei) the submitter offers; fee bumps stop there.
    #[serde(default = "default_max_fee")]
    pub max_fee_per_gas: u64,
    /// Highest `maxFeePerBlobGas` (wei) the submitter offers.
    #[serde(default = "default_max_fee")]
    pub max_fee_per_blob_gas: u64,
    /// `[sequencer.pool]`: the transaction pool's limits.
    #[serde(default)]
    pub pool: PoolLimits,
    /// Test switch: refuse these senders' transactions (to exercise forced inclusion).
    #[serde(default)]
    pub censor: Vec<Address>,
}

fn default_block_time_ms() -> u64 {
    2000
}
fn default_da() -> String {
    "blob".into()
}
const fn default_true() -> bool {
    true
}
fn default_max_blocks() -> usize {
    8
}
const fn default_max_in_flight() -> usize {
    1
}
fn default_max_batch_gas() -> u64 {
    15_000_000
}
fn default_max_advance_l1_gas() -> u64 {
    nrd_sequencer::AdvanceLimits::default().max_l1_gas
}
fn default_max_advance_calldata() -> usize {
    nrd_sequencer::AdvanceLimits::default().max_calldata_bytes
}
fn default_max_blobs() -> usize {
    nrd_sequencer::AdvanceLimits::default().max_blobs
}
fn default_max_execute_gas() -> u64 {
    nrd_sequencer::AdvanceLimits::default().max_execute_gas
}
fn default_max_fee() -> u64 {
    u64::try_from(nrd_sequencer::DEFAULT_MAX_FEE).unwrap_or(u64::MAX)
}

impl Default for SequencerSection {
    fn default() -> Self {
        Self {
            block_time_ms: default_block_time_ms(),
            key: None,
            fee_recipient: None,
            da_mode: default_da(),
            post_runs: true,
            max_blocks_per_batch: default_max_blocks(),
            max_batch_l2_gas: default_max_batch_gas(),
            max_batch_delay_ms: 0,
            max_batches_in_flight: default_max_in_flight(),
            max_advance_l1_gas: default_max_advance_l1_gas(),
            max_advance_calldata_bytes: default_max_advance_calldata(),
            max_blobs_per_advance: default_max_blobs(),
            max_execute_gas: default_max_execute_gas(),
            max_fee_per_gas: default_max_fee(),
            max_fee_per_blob_gas: default_max_fee(),
            pool: PoolLimits::default(),
            censor: Vec::new(),
        }
    }
}

/// `[proposer]`: a follower that advances the rollup itself when the sequencer is silent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposerSection {
    /// Once `advance` is open to anyone (the sequencer posted nothing for the forced-inclusion
    /// window), build the next blocks (L1 messages only) and post them.
    #[serde(default)]
    pub self_propose: bool,
    /// Hex private key that signs those `advance` transactions; `sequencer.key` is the fallback.
    #[serde(default)]
    pub key: Option<String>,
}

/// `[state]`: how the node keeps its state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateSection {
    /// States of the last this many blocks stay readable, and the chain can rewind that far
    /// (never fewer than the blocks since the finalized one).
    #[serde(default = "default_history_blocks")]
    pub history_blocks: u64,
    /// Bodies, receipts and transaction lookups of the last this many blocks stay readable;
    /// older blocks keep their headers only (never fewer than `history_blocks` and the blocks
    /// since the finalized one). `None`: every block stays.
    #[serde(default)]
    pub block_history: Option<u64>,
    /// Keep every state and block readable: nothing is ever pruned.
    #[serde(default)]
    pub archive: bool,
    /// MiB of state trie nodes cached in memory in front of the database.
    #[serde(default = "default_node_cache_mb")]
    pub node_cache_mb: u64,
    /// MiB of database pages the store (redb) caches in memory.
    #[serde(default = "default_db_cache_mb")]
    pub db_cache_mb: u64,
}

fn default_db_cache_mb() -> u64 {
    1024
}

fn default_history_blocks() -> u64 {
    128
}

fn default_node_cache_mb() -> u64 {
    256
}

impl Default for StateSection {
    fn default() -> Self {
        Self {
            history_blocks: default_history_blocks(),
            block_history: None,
            archive: false,
            node_cache_mb: default_node_cache_mb(),
            db_cache_mb: default_db_cache_mb(),
        }
    }
}

impl StateSection {
    /// The store's options.
    pub fn store_options(&self) -> nrd_storage::StoreOptions {
        nrd_storage::StoreOptions {
            node_cache_bytes: self.node_cache_mb.saturating_mul(1 << 20),
            archive: self.archive,
            db_cache_bytes: self.db_cache_mb.saturating_mul(1 << 20),
        }
    }

    /// The chain's history.
    pub fn history(&self) -> nrd_node::StateHistory {
        nrd_node::StateHistory {
            window: (!self.archive).then_some(self.history_blocks),
            bodies: self.block_history.filter(|_| !self.archive),
        }
    }
}

/// A node's configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// Sequencer or follower.
    pub role: Role,
    /// Where the node keeps its database.
    pub data_dir: PathBuf,
    /// The L2 genesis file.
    pub genesis: PathBuf,
    /// JSON-RPC listen address.
    pub rpc_addr: SocketAddr,
    /// Metrics (`/metrics`), `/health` and `/ready` listen address.
    #[serde(default = "default_metrics_addr")]
    pub metrics_addr: SocketAddr,
    /// `[l1]`.
    pub l1: L1Section,
    /// `[sequencer]`.
    #[serde(default)]
    pub sequencer: SequencerSection,
    /// `[proposer]`.
    #[serde(default)]
    pub proposer: ProposerSection,
    /// `[state]`.
    #[serde(default)]
    pub state: StateSection,
}

/// Where a node's configuration comes from, lowest precedence first: the file, the environment
/// (`NRD_*`), flags.
#[derive(Debug, Clone, Default)]
pub struct Layers {
    /// The TOML file.
    pub file: Option<PathBuf>,
    /// `NRD_*` variables (name, value); everything else in the environment is ignored.
    pub env: Vec<(String, String)>,
    /// Flag overrides: (key path, value, the flag as typed).
    pub flags: Vec<(String, String, String)>,
}

impl Layers {
    /// The file, this process's environment, and `flags`.
    pub fn new(file: Option<PathBuf>, flags: Vec<(String, String, String)>) -> Self {
        let env = std::env::vars().filter(|(name, _)| name.starts_with(ENV_PREFIX)).collect();
        Self { file, env, flags }
    }

    /// Parses `--set KEY=VALUE` flags into flag overrides.
    pub fn parse_set(sets: &[String]) -> Result<Vec<(String, String, String)>> {
        sets.iter()
            .map(|set| match set.split_once('=') {
                Some((key, value)) if !key.trim().is_empty() => {
                    Ok((key.trim().to_string(), value.to_string(), format!("--set {}", key.trim())))
                }
                _ => Err(ConfigError::BadOverride(set.clone())),
            })
            .collect()
    }
}

/// The key path of an environment variable: `NRD_L1__RPC_URL` → `l1.rpc_url`.
fn env_key(name: &str) -> Option<String> {
    name.strip_prefix(ENV_PREFIX).map(|rest| rest.to_lowercase().replace(ENV_SEPARATOR, "."))
}

/// The environment variable of a key path: `l1.rpc_url` → `NRD_L1__RPC_URL`.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_uppercase().replace('.', ENV_SEPARATOR))
}

/// Every key path a node configuration has (leaves: values and lists), in file order.
pub fn known_keys() -> Vec<String> {
    let mut keys = Vec::new();
    if let Ok(value) = toml::Value::try_from(NodeConfig::documented()) {
        flatten("", &value, &mut |key, _| keys.push(key.to_string()));
    }
    keys
}

/// Tables of a node configuration (`l1`, `sequencer`, `sequencer.pool`, `proposer`).
fn known_tables(keys: &[String]) -> BTreeSet<String> {
    keys.iter().filter_map(|k| k.rsplit_once('.').map(|(table, _)| table.to_string())).collect()
}

/// Calls `leaf(path, value)` for every non-table value under `value`.
fn flatten(prefix: &str, value: &toml::Value, leaf: &mut dyn FnMut(&str, &toml::Value)) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(&path, v, leaf);
            }
        }
        other => leaf(prefix, other),
    }
}

/// The known key nearest to `key` (a likely typo), if any is near.
fn suggest(key: &str, known: &[String]) -> Option<String> {
    known
        .iter()
        .map(|k| (edit_distance(key, k), k))
        .filter(|(d, k)| *d <= 3.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k.clone())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A configuration with where each of its values came from.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The configuration, checked.
    pub config: NodeConfig,
    /// Origin of each key that was set (keys absent here have their defaults).
    pub origins: BTreeMap<String, Origin>,
}

impl Resolved {
    /// Where `key`'s value came from.
    pub fn origin(&self, key: &str) -> Origin {
        self.origins.get(key).cloned().unwrap_or(Origin::Default)
    }
}

impl NodeConfig {
    /// Reads `layers` into a configuration and checks it (see [`Self::validate`]).
    pub fn resolve(layers: &Layers) -> Result<Resolved> {
        let known = known_keys();
        let tables = known_tables(&known);
        let mut origins = BTreeMap::new();
        let mut builder = config::Config::builder();

        if let Some(path) = &layers.file {
            let text =
                std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.clone(), source })?;
            let value: toml::Table = toml::from_str(&text)
                .map_err(|e| ConfigError::Syntax { path: path.clone(), message: e.to_string() })?;
            let mut unknown = None;
            flatten("", &toml::Value::Table(value), &mut |key, _| {
                if !known.iter().any(|k| k == key) {
                    unknown.get_or_insert_with(|| key.to_string());
                }
                origins.insert(key.to_string(), Origin::File(path.clone()));
            });
            if let Some(key) = unknown {
                let suggestion = suggest(&key, &known);
                return Err(ConfigError::UnknownKey { key, origin: Origin::File(path.clone()), suggestion });
            }
            builder = builder.add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
        }

        // `NRD_*` variables of configuration keys. Other `NRD_*` variables belong to other
        // commands (`NRD_PRIVATE_KEY` of `nrd bridge`, …) and are ignored — except one naming a
        // section (`NRD_SEQUENCER__…`), which can only be a mistyped key.
        let mut env = config::Map::new();
        let mut secrets = Vec::new();
        for (name, value) in &layers.env {
            let Some(key) = env_key(name) else { continue };
            if SECRET_KEYS.contains(&key.as_str()) {
                // Set as plain strings: the environment source's number parsing must not touch a key.
                if !layers.flags.iter().any(|(k, ..)| *k == key) {
                    secrets.push((key.clone(), value.clone()));
                    origins.insert(key, Origin::Env(name.clone()));
                }
            } else if known.contains(&key) {
                origins.insert(key, Origin::Env(name.clone()));
                env.insert(name.clone(), value.clone());
            } else if key.contains('.') && key.rsplit_once('.').is_some_and(|(table, _)| tables.contains(table)) {
                let suggestion = suggest(&key, &known).map(|k| env_name(&k));
                return Err(ConfigError::UnknownKey { key, origin: Origin::Env(name.clone()), suggestion });
            } else if let Some(nested) = key.split_once('_').map(|(table, rest)| format!("{table}.{rest}"))
                && known.contains(&nested)
            {
                tracing::warn!(target: "nrd::config", "{name} is not read as a node setting: `{nested}` is {}", env_name(&nested));
            }
        }
        let mut environment = config::Environment::with_prefix("NRD")
            .prefix_separator("_")
            .separator(ENV_SEPARATOR)
            .try_parsing(true)
            .list_separator(",")
            .source(Some(env));
        for key in LIST_KEYS {
            environment = environment.with_list_parse_key(key);
        }
        builder = builder.add_source(environment);
        for (key, value) in secrets {
            builder = builder.set_override(key.as_str(), value).map_err(|e| ConfigError::Invalid {
                origin: origins.get(&key).cloned().unwrap_or(Origin::Default),
                problem: e.to_string(),
                key,
            })?;
        }

        for (key, value, flag) in &layers.flags {
            if !known.contains(key) {
                let suggestion = suggest(key, &known);
                return Err(ConfigError::UnknownKey {
                    key: key.clone(),
                    origin: Origin::Flag(flag.clone()),
                    suggestion,
                });
            }
            let value = if LIST_KEYS.contains(&key.as_str()) {
                config::ValueKind::Array(value.split(',').map(|item| config::Value::from(item.trim())).collect())
            } else {
                config::ValueKind::String(value.clone())
            };
            builder = builder.set_override(key.as_str(), value).map_err(|e| ConfigError::Invalid {
                key: key.clone(),
                origin: Origin::Flag(flag.clone()),
                problem: e.to_string(),
            })?;
            origins.insert(key.clone(), Origin::Flag(flag.clone()));
        }

        let origin_of = |key: &str| origins.get(key).cloned().unwrap_or(Origin::Default);
        let merged = builder.build().map_err(|e| ConfigError::Invalid {
            key: "(config)".into(),
            origin: Origin::Default,
            problem: e.to_string(),
        })?;
        let config: Self = serde_path_to_error::deserialize(merged).map_err(|e| {
            let key = e.path().to_string();
            let problem = clean_problem(&e.inner().to_string());
            let missing =
                problem.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()).or_else(|| {
                    problem.strip_prefix("missing configuration field \"").and_then(|rest| rest.split('"').next())
                });
            if let Some(field) = missing {
                let field = field.rsplit('.').next().unwrap_or(field);
                let key = if key == "." { field.to_string() } else { format!("{key}.{field}") };
                return ConfigError::Missing {
                    why: format!("set it in the config file, as {} or with --set {key}=…", env_name(&key)),
                    key,
                };
            }
            let problem = if SECRET_KEYS.contains(&key.as_str()) { "not a string".to_string() } else { problem };
            ConfigError::Invalid { origin: origin_of(&key), key, problem }
        })?;
        let resolved = Resolved { config, origins };
        resolved.config.validate(&resolved)?;
        Ok(resolved)
    }

    /// Checks what types alone cannot: ranges, URLs, keys a role needs, distinct listen addresses.
    fn validate(&self, resolved: &Resolved) -> Result<()> {
        let invalid = |key: &str, problem: String| ConfigError::Invalid {
            key: key.into(),
            origin: resolved.origin(key),
            problem,
        };
        self.sequencer.da_mode.parse::<DaMode>().map_err(|e| invalid("sequencer.da_mode", e.to_string()))?;
        for (key, url) in [("l1.rpc_url", &self.l1.rpc_url), ("l1.beacon_url", &self.l1.beacon_url)] {
            check_url(url, &["http", "https"]).map_err(|problem| invalid(key, problem))?;
        }
        if let Some(url) = &self.l1.ws_url {
            check_url(url, &["ws", "wss"]).map_err(|problem| invalid("l1.ws_url", problem))?;
        }
        let at_least = |key: &str, value: u64, min: u64| {
            if value < min { Err(invalid(key, format!("{value} is below the minimum {min}"))) } else { Ok(()) }
        };
        at_least("sequencer.block_time_ms", self.sequencer.block_time_ms, 1)?;
        at_least("state.history_blocks", self.state.history_blocks, 1)?;
        at_least("state.node_cache_mb", self.state.node_cache_mb, 1)?;
        at_least("state.db_cache_mb", self.state.db_cache_mb, 1)?;
        if let Some(blocks) = self.state.block_history {
            at_least("state.block_history", blocks, 1)?;
        }
        at_least("l1.poll_interval_ms", self.l1.poll_interval_ms, 10)?;
        at_least("sequencer.max_blocks_per_batch", self.sequencer.max_blocks_per_batch as u64, 1)?;
        at_least("sequencer.max_batch_l2_gas", self.sequencer.max_batch_l2_gas, 21_000)?;
        at_least("sequencer.max_advance_l1_gas", self.sequencer.max_advance_l1_gas, 100_000)?;
        at_least("sequencer.max_advance_calldata_bytes", self.sequencer.max_advance_calldata_bytes as u64, 1024)?;
        at_least("sequencer.max_blobs_per_advance", self.sequencer.max_blobs_per_advance as u64, 1)?;
        at_least("sequencer.max_execute_gas", self.sequencer.max_execute_gas, 21_000)?;
        at_least("sequencer.max_fee_per_gas", self.sequencer.max_fee_per_gas, 1)?;
        at_least("sequencer.max_fee_per_blob_gas", self.sequencer.max_fee_per_blob_gas, 1)?;
        at_least("sequencer.pool.max_total", self.sequencer.pool.max_total as u64, 1)?;
        at_least("sequencer.pool.max_per_sender", self.sequencer.pool.max_per_sender as u64, 1)?;
        if self.sequencer.pool.max_per_sender > self.sequencer.pool.max_total {
            return Err(invalid(
                "sequencer.pool.max_per_sender",
                format!(
                    "{} is above sequencer.pool.max_total ({})",
                    self.sequencer.pool.max_per_sender, self.sequencer.pool.max_total
                ),
            ));
        }
        if self.rpc_addr == self.metrics_addr {
            return Err(invalid("metrics_addr", format!("{} is also rpc_addr", self.metrics_addr)));
        }
        for key in SECRET_KEYS {
            let value = if *key == "sequencer.key" { &self.sequencer.key } else { &self.proposer.key };
            if let Some(hex) = value {
                parse_key(hex).map_err(|problem| invalid(key, problem))?;
            }
        }
        self.signing_key().map(drop)
    }

    /// What one `advance` may carry, as configured (the node lowers it to what L1 reports at
    /// start).
    pub fn advance_limits(&self) -> nrd_sequencer::AdvanceLimits {
        nrd_sequencer::AdvanceLimits {
            max_l1_gas: self.sequencer.max_advance_l1_gas,
            max_calldata_bytes: self.sequencer.max_advance_calldata_bytes,
            max_blobs: self.sequencer.max_blobs_per_advance,
            max_execute_gas: self.sequencer.max_execute_gas,
        }
    }

    /// How batches carry their transactions.
    pub fn da_mode(&self) -> Result<DaMode> {
        self.sequencer.da_mode.parse().map_err(|e: nrd_derivation::UnknownDaMode| ConfigError::Invalid {
            key: "sequencer.da_mode".into(),
            origin: Origin::Default,
            problem: e.to_string(),
        })
    }

    /// Which key signs this node's L1 transactions, and its hex: the sequencer's, or a
    /// self-proposing follower's (`proposer.key`, else `sequencer.key`); `None` for a plain
    /// follower. A role that signs without a key is [`ConfigError::Missing`].
    fn signing_key(&self) -> Result<Option<(&'static str, &str)>> {
        match self.role {
            Role::Sequencer => match &self.sequencer.key {
                Some(hex) => Ok(Some(("sequencer.key", hex))),
                None => Err(ConfigError::Missing {
                    key: "sequencer.key".into(),
                    why: "a sequencer signs its L1 `advance` transactions with it: set NRD_SEQUENCER__KEY (or sequencer.key in the file)".into(),
                }),
            },
            Role::Follower if self.proposer.self_propose => {
                match (&self.proposer.key, &self.sequencer.key) {
                    (Some(hex), _) => Ok(Some(("proposer.key", hex))),
                    (None, Some(hex)) => Ok(Some(("sequencer.key", hex))),
                    (None, None) => Err(ConfigError::Missing {
                        key: "proposer.key".into(),
                        why: "proposer.self_propose signs `advance` transactions with it: set NRD_PROPOSER__KEY (or proposer.key in the file)".into(),
                    }),
                }
            }
            Role::Follower => Ok(None),
        }
    }

    /// The key that signs this node's L1 transactions (see `signing_key`).
    pub fn signer(&self) -> Result<Option<PrivateKeySigner>> {
        let Some((key, hex)) = self.signing_key()? else { return Ok(None) };
        // `validate` parsed it already, naming its origin; this cannot fail after `resolve`.
        parse_key(hex).map(Some).map_err(|problem| ConfigError::Invalid {
            key: key.into(),
            origin: Origin::Default,
            problem,
        })
    }

    /// A configuration with every key set (`Option`s too): what `known_keys` and
    /// `docs/config.md` are checked against.
    fn documented() -> Self {
        Self {
            role: Role::Sequencer,
            data_dir: "data/sequencer".into(),
            genesis: "config/l2-genesis.json".into(),
            rpc_addr: SocketAddr::from(([127, 0, 0, 1], 8545)),
            metrics_addr: default_metrics_addr(),
            l1: L1Section {
                rpc_url: "http://127.0.0.1:8546".into(),
                ws_url: Some("ws://127.0.0.1:8546".into()),
                beacon_url: "http://127.0.0.1:5052".into(),
                rollup: Address::ZERO,
                start_block: 0,
                confirmations: 0,
                poll_interval_ms: default_poll_ms(),
            },
            sequencer: SequencerSection {
                key: Some(String::new()),
                fee_recipient: Some(Address::ZERO),
                censor: vec![Address::ZERO],
                ..Default::default()
            },
            proposer: ProposerSection { self_propose: false, key: Some(String::new()) },
            state: StateSection { block_history: Some(0), ..StateSection::default() },
        }
    }

    /// The effective configuration as TOML, each value with where it came from, secrets masked.
    pub fn render(resolved: &Resolved) -> String {
        let Ok(toml::Value::Table(root)) = toml::Value::try_from(&resolved.config) else {
            return String::new();
        };
        let mut out = String::new();
        render_table(&mut out, "", &root, resolved);
        out
    }
}

fn render_table(out: &mut String, prefix: &str, table: &toml::Table, resolved: &Resolved) {
    use std::fmt::Write as _;
    let path = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    if !prefix.is_empty() {
        let _ = writeln!(out, "\n[{prefix}]");
    }
    for (k, v) in table.iter().filter(|(_, v)| !v.is_table()) {
        let key = path(k);
        let shown = if SECRET_KEYS.contains(&key.as_str()) {
            toml::Value::String("<secret>".into())
        } else if let toml::Value::String(s) = v {
            toml::Value::String(mask_url_password(s))
        } else {
            v.clone()
        };
        let _ = writeln!(out, "{k} = {shown}  # {}", resolved.origin(&key));
    }
    for (k, v) in table {
        if let toml::Value::Table(inner) = v {
            render_table(out, &path(k), inner, resolved);
        }
    }
}

/// `http://user:secret@host` → `http://user:***@host`; other strings unchanged (not
/// normalised either: a printed configuration reads back as it was).
fn mask_url_password(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once("://") else { return value.to_string() };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@').and_then(|(userinfo, host)| userinfo.split_once(':').map(|(user, _)| (user, host)))
    {
        Some((user, host)) => format!("{scheme}://{user}:***@{host}{tail}"),
        None => value.to_string(),
    }
}

/// `url` parses, has a host, and one of `schemes`.
fn check_url(url: &str, schemes: &[&str]) -> Result<(), String> {
    let shown = mask_url_password(url);
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("`{shown}` is not a URL: {e}"))?;
    if !schemes.contains(&parsed.scheme()) {
        let allowed: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
        return Err(format!("`{}://` is not {}", parsed.scheme(), allowed.join(" or ")));
    }
    if parsed.host().is_none() {
        return Err(format!("`{shown}` has no host"));
    }
    Ok(())
}

fn parse_key(hex: &str) -> Result<PrivateKeySigner, String> {
    // The parse error says nothing of the key's content; neither does this.
    hex.trim().parse().map_err(|_| "not a 32-byte hex private key".to_string())
}

/// Drops serde's `for key "…"` tail (the key is shown already) and config's origins.
fn clean_problem(message: &str) -> String {
    let message = message.split(" for key `").next().unwrap_or(message);
    let message = message.split(" in the environment").next().unwrap_or(message).trim();
    // config's wording for an unknown enum value.
    match message.split_once("does not have variant constructor ") {
        Some((_, value)) => format!("`{value}` is not one of the allowed values"),
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const KEY0: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    fn repo() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    const MINIMAL: &str = r#"
role = "follower"
data_dir = "data/f"
genesis = "config/l2-genesis.json"
rpc_addr = "127.0.0.1:8547"
[l1]
rpc_url = "http://127.0.0.1:8546"
beacon_url = "http://127.0.0.1:5052"
rollup = "0x8464135c8F25Da09e49BC8782676a84730C318bC"
"#;

    fn resolve(text: &str, env: &[(&str, &str)], sets: &[&str]) -> Result<Resolved> {
        let (_dir, path) = file(text);
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        let layers = Layers {
            file: Some(path),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            flags: Layers::parse_set(&sets)?,
        };
        NodeConfig::resolve(&layers)
    }

    #[test]
    fn the_shipped_configs_load() {
        for name in ["sequencer.toml", "follower.toml"] {
            let layers = Layers { file: Some(repo().join("config").join(name)), ..Default::default() };
            NodeConfig::resolve(&layers).unwrap_or_else(|e| panic!("config/{name}: {e}"));
        }
    }

    #[test]
    fn env_overrides_file_and_flags_override_env() {
        let r =
            resolve(MINIMAL, &[("NRD_L1__POLL_INTERVAL_MS", "250"), ("NRD_RPC_ADDR", "127.0.0.1:9999")], &[]).unwrap();
        assert_eq!(r.config.l1.poll_interval_ms, 250);
        assert_eq!(r.config.rpc_addr.port(), 9999);
        assert_eq!(r.origin("l1.poll_interval_ms"), Origin::Env("NRD_L1__POLL_INTERVAL_MS".into()));
        assert!(matches!(r.origin("role"), Origin::File(_)));
        assert_eq!(r.origin("sequencer.block_time_ms"), Origin::Default);

        let r = resolve(MINIMAL, &[("NRD_L1__POLL_INTERVAL_MS", "250")], &["l1.poll_interval_ms=75"]).unwrap();
        assert_eq!(r.config.l1.poll_interval_ms, 75);
        assert_eq!(r.origin("l1.poll_interval_ms"), Origin::Flag("--set l1.poll_interval_ms".into()));

        let r = resolve(
            MINIMAL,
            &[
                ("NRD_SEQUENCER__POOL__MAX_TOTAL", "5000"),
                ("NRD_SEQUENCER__CENSOR", &format!("{0},{0}", Address::ZERO)),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(r.config.sequencer.pool.max_total, 5000);
        assert_eq!(r.config.sequencer.censor, vec![Address::ZERO; 2]);
    }

    #[test]
    fn other_commands_variables_are_ignored() {
        let r = resolve(
            MINIMAL,
            &[("NRD_PRIVATE_KEY", KEY0), ("NRD_TOOLS_DIR", "/x"), ("NRD_L1_RPC_URL", "http://x")],
            &[],
        );
        assert_eq!(r.unwrap().config.l1.rpc_url, "http://127.0.0.1:8546");
    }

    #[test]
    fn unknown_keys_are_named_with_their_origin() {
        let e = resolve(&format!("{MINIMAL}\n[sequencer]\nblock_time = 5\n"), &[], &[]).unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, ConfigError::UnknownKey { .. }), "{text}");
        assert!(text.contains("`sequencer.block_time`") && text.contains("node.toml"), "{text}");
        assert!(text.contains("did you mean `sequencer.block_time_ms`"), "{text}");

        let e = resolve(MINIMAL, &[("NRD_SEQUENCER__BLOK_TIME_MS", "5")], &[]).unwrap_err().to_string();
        assert!(e.contains("NRD_SEQUENCER__BLOK_TIME_MS") && e.contains("NRD_SEQUENCER__BLOCK_TIME_MS"), "{e}");

        let e = resolve(MINIMAL, &[], &["l1.rpc=http://x"]).unwrap_err().to_string();
        assert!(e.contains("`l1.rpc`") && e.contains("--set"), "{e}");

        let e = resolve(&format!("colour = 1\n{MINIMAL}"), &[], &[]).unwrap_err().to_string();
        assert!(e.contains("unknown key `colour`"), "{e}");
    }

    #[test]
    fn wrong_types_name_the_key_and_origin() {
        let text = MINIMAL.replace("rpc_addr = \"127.0.0.1:8547\"", "rpc_addr = 8547");
        let e = resolve(&text, &[], &[]).unwrap_err().to_string();
        assert!(e.starts_with("`rpc_addr` (from ") && e.contains("node.toml"), "{e}");

        let e = resolve(MINIMAL, &[("NRD_SEQUENCER__BLOCK_TIME_MS", "fast")], &[]).unwrap_err().to_string();
        assert!(e.contains("`sequencer.block_time_ms`") && e.contains("NRD_SEQUENCER__BLOCK_TIME_MS"), "{e}");

        let e = resolve(MINIMAL, &[], &["l1.rollup=0x12"]).unwrap_err().to_string();
        assert!(e.contains("`l1.rollup`") && e.contains("--set l1.rollup"), "{e}");

        let e =
            resolve(&MINIMAL.replace("role = \"follower\"", "role = \"validator\""), &[], &[]).unwrap_err().to_string();
        assert!(e.contains("`role`") && e.contains("validator"), "{e}");
    }

    /// Environment, `--set` flags, and what the error must contain.
    type Case = (&'static [(&'static str, &'static str)], &'static [&'static str], &'static str);

    #[test]
    fn bad_values_are_refused() {
        let cases: &[Case] = &[
            (&[], &["sequencer.da_mode=ipfs"], "`sequencer.da_mode`"),
            (&[("NRD_L1__RPC_URL", "localhost:8546")], &[], "`l1.rpc_url`"),
            (&[], &["l1.beacon_url=ftp://x"], "`l1.beacon_url`"),
            (&[], &["l1.ws_url=http://127.0.0.1:8546"], "`l1.ws_url`"),
            (&[], &["sequencer.block_time_ms=0"], "`sequencer.block_time_ms`"),
            (&[], &["sequencer.pool.max_per_sender=30000"], "`sequencer.pool.max_per_sender`"),
            (&[], &["metrics_addr=127.0.0.1:8547"], "`metrics_addr`"),
            (&[], &["role=sequencer"], "`sequencer.key` is required"),
            (&[], &["proposer.self_propose=true"], "`proposer.key` is required"),
        ];
        for (env, sets, expect) in cases {
            let e = resolve(MINIMAL, env, sets).unwrap_err().to_string();
            assert!(e.contains(expect), "{env:?} {sets:?}: {e}");
        }
        let e = resolve(MINIMAL, &[], &["l1.confirmations"]).unwrap_err();
        assert!(matches!(e, ConfigError::BadOverride(_)), "{e}");
        let e = resolve("role = \"follower\"\ndata_dir = [", &[], &[]).unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        let e = resolve(MINIMAL.replace("rpc_addr = \"127.0.0.1:8547\"\n", "").as_str(), &[], &[]).unwrap_err();
        assert!(e.to_string().contains("`rpc_addr` is required") && e.to_string().contains("NRD_RPC_ADDR"), "{e}");
    }

    #[test]
    fn secrets_never_show() {
        let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
        let r = resolve(
            MINIMAL,
            &[("NRD_SEQUENCER__KEY", secret), ("NRD_L1__RPC_URL", "https://user:hunter2@l1.example:8546")],
            &["role=sequencer"],
        )
        .unwrap();
        let printed = NodeConfig::render(&r);
        assert!(!printed.contains(&secret[2..]) && !printed.contains("hunter2"), "{printed}");
        assert!(printed.contains("key = \"<secret>\"  # environment variable NRD_SEQUENCER__KEY"), "{printed}");
        assert!(printed.contains("role = \"sequencer\"  # flag --set role"), "{printed}");
        assert!(printed.contains("[sequencer.pool]"), "{printed}");
        // A malformed secret is refused without being echoed.
        let e = resolve(MINIMAL, &[("NRD_SEQUENCER__KEY", "0xnotakey-hunter2")], &[]).unwrap_err().to_string();
        assert!(e.contains("`sequencer.key`") && !e.contains("hunter2"), "{e}");
        // The printed configuration loads back to the same configuration (masking aside).
        let reprinted = printed.replace("\"<secret>\"", &format!("\"{secret}\"")).replace("***", "hunter2");
        let again = resolve(&reprinted, &[], &[]).unwrap();
        assert_eq!(toml::to_string(&again.config).unwrap(), toml::to_string(&r.config).unwrap());
    }

    #[test]
    fn every_key_is_documented() {
        let doc = std::fs::read_to_string(repo().join("docs/config.md")).unwrap();
        for key in known_keys() {
            assert!(doc.contains(&format!("`{key}`")), "docs/config.md does not document `{key}`");
            assert!(doc.contains(&format!("`{}`", env_name(&key))), "docs/config.md does not name {}", env_name(&key));
        }
    }

    #[test]
    fn names_round_trip() {
        for key in known_keys() {
            assert_eq!(env_key(&env_name(&key)).as_deref(), Some(key.as_str()));
        }
        assert_eq!(env_name("sequencer.pool.max_total"), "NRD_SEQUENCER__POOL__MAX_TOTAL");
        assert_eq!(suggest("l1.rpc_ur", &known_keys()).as_deref(), Some("l1.rpc_url"));
        assert_eq!(suggest("zzzzzzzz", &known_keys()), None);
    }
}
