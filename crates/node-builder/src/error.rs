//! Why a node, a deployment or the devnet cannot start.

use crate::ConfigError;
use alloy_primitives::B256;
use nrd_chain::{Classify, Severity};
use std::{net::SocketAddr, path::PathBuf};

/// A node (or `nrd devnet`) could not be launched. Each variant names the configuration key or
/// flag an operator fixes.
#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    /// The configuration cannot be used.
    #[error("configuration: {0}")]
    Config(#[source] Box<ConfigError>),
    /// The L2 genesis file cannot be read.
    #[error("`genesis` {}: cannot read it: {source}", path.display())]
    GenesisRead {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The L2 genesis file is not an L2 genesis.
    #[error("`genesis` {}: not an L2 genesis: {source}", path.display())]
    Genesis {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: nrd_derivation::GenesisError,
    },
    /// A listening address is taken or not allowed.
    #[error("`{key}` {addr}: cannot listen there: {source}")]
    Listen {
        /// The key (or flag) that set it.
        key: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store's directory cannot be created or its database opened.
    #[error("`data_dir` {}: {source}", dir.display())]
    DataDir {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store's database cannot be opened.
    #[error("`data_dir` {}: {source}", dir.display())]
    Store {
        /// The directory (empty for an in-memory store).
        dir: PathBuf,
        /// Why.
        #[source]
        source: nrd_storage::StoreError,
    },
    /// The L2 chain cannot be opened from its store and genesis.
    #[error("opening the L2 chain{}: {source}", file.as_ref().map(|f| format!(" in {}", f.display())).unwrap_or_default())]
    Chain {
        /// The store's file, when the node opened it from its `data_dir`.
        file: Option<PathBuf>,
        /// Why.
        #[source]
        source: Box<nrd_node::NodeError>,
    },
    /// The L1 endpoint cannot be used (a malformed URL).
    #[error("`l1.rpc_url` {url}: {source}")]
    L1Config {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: Box<nrd_l1_client::L1Error>,
    },
    /// L1 does not answer, or answers wrongly.
    #[error("`l1.rpc_url` {url}: L1 does not answer: {source}")]
    L1 {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: Box<nrd_l1_client::L1Error>,
    },
    /// The rollup contract cannot be deployed.
    #[error(transparent)]
    Deploy(Box<DeployError>),
    /// The embedded L1 devnet cannot start.
    #[error("the L1 devnet: {0}")]
    Devnet(#[from] nrd_l1_devnet::DevnetError),
    /// A `nrd devnet` option is out of range.
    #[error("{flag} {problem}")]
    Option {
        /// The flag.
        flag: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// Waiting for the shutdown signal failed.
    #[error("cannot wait for the shutdown signal: {0}")]
    Signal(#[source] std::io::Error),
}

impl From<ConfigError> for LaunchError {
    fn from(e: ConfigError) -> Self {
        Self::Config(Box::new(e))
    }
}

impl From<DeployError> for LaunchError {
    fn from(e: DeployError) -> Self {
        Self::Deploy(Box::new(e))
    }
}

impl LaunchError {
    /// L1 at `url` did not answer.
    pub fn l1(url: impl Into<String>, source: nrd_l1_client::L1Error) -> Self {
        Self::L1 { url: url.into(), source: Box::new(source) }
    }

    /// The L1 endpoint `url` cannot be used.
    pub fn l1_config(url: impl Into<String>, source: nrd_l1_client::L1Error) -> Self {
        Self::L1Config { url: url.into(), source: Box::new(source) }
    }
}

impl Classify for LaunchError {
    fn severity(&self) -> Severity {
        match self {
            Self::L1 { source, .. } => source.severity(),
            Self::Deploy(e) => e.severity(),
            Self::Listen { .. } | Self::Signal(_) => Severity::Temporary,
            Self::Config(_)
            | Self::GenesisRead { .. }
            | Self::Genesis { .. }
            | Self::DataDir { .. }
            | Self::Store { .. }
            | Self::Chain { .. }
            | Self::L1Config { .. }
            | Self::Devnet(_)
            | Self::Option { .. } => Severity::Critical,
        }
    }
}

/// `NativeRollup` could not be deployed.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// A governance parameter is outside the contract's bounds (docs/protocol.md §8.7).
    #[error("{flag} {value} {problem}")]
    Param {
        /// The flag that set it.
        flag: &'static str,
        /// Its value, seconds.
        value: u64,
        /// The bound it breaks.
        problem: String,
    },
    /// L1 refused or did not answer.
    #[error("deploying NativeRollup: {0}")]
    L1(#[from] nrd_l1_client::L1Error),
    /// The deployment could not be signed or sent.
    #[error("deploying NativeRollup: {0}")]
    Send(#[source] nrd_l1_client::TxError),
    /// The deployment transaction reverted.
    #[error("deploying NativeRollup reverted (tx {0})")]
    Reverted(B256),
    /// The receipt names no contract.
    #[error("deployment receipt of tx {0} has no contract address")]
    NoAddress(B256),
    /// The deployment was not mined in time.
    #[error("NativeRollup deployment {tx} not mined in {seconds} s")]
    NotMined {
        /// The transaction.
        tx: B256,
        /// How long it waited.
        seconds: u64,
    },
}

impl Classify for DeployError {
    fn severity(&self) -> Severity {
        match self {
            Self::L1(e) => e.severity(),
            Self::NotMined { .. } => Severity::Temporary,
            Self::Send(e) => e.severity(),
            Self::Param { .. } | Self::Reverted(_) | Self::NoAddress(_) => Severity::Critical,
        }
    }
}

/// Result of launching.
pub type LaunchResult<T, E = LaunchError> = Result<T, E>;
