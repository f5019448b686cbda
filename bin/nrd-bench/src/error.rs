//! What can stop a benchmark.

use std::{path::PathBuf, process::ExitStatus};

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BenchError {
    /// The `nrd` executable the benchmark spawns is not there.
    #[error(
        "no nrd executable at {}: build it with `cargo build --release -p nrd` (or `--bin nrd`), or pass `--nrd <path>`",
        path.display()
    )]
    NrdMissing {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// `nrd-bench`'s own path (next to which `nrd` is looked for) is unknown.
    #[error("cannot locate the nrd-bench executable (pass `--nrd <path>`): {0}")]
    CurrentExe(#[source] std::io::Error),
    /// A child process could not be started.
    #[error("cannot start {name}: {source}")]
    Spawn {
        /// What was started.
        name: String,
        /// Why not.
        #[source]
        source: std::io::Error,
    },
    /// A child process ended before its JSON-RPC answered.
    #[error("{name} exited ({status}) before answering on {addr}")]
    Exited {
        /// What was started.
        name: String,
        /// How it ended.
        status: ExitStatus,
        /// Where its JSON-RPC was expected.
        addr: String,
    },
    /// A child process's JSON-RPC did not answer within a minute.
    #[error("{name} did not answer on {addr}")]
    NoAnswer {
        /// What was started.
        name: String,
        /// Where its JSON-RPC was expected.
        addr: String,
    },
    /// A file (log, configuration, genesis, directory) could not be written.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON-RPC connection could not be opened.
    #[error("{what} ({addr}): {source}")]
    Connect {
        /// The node.
        what: String,
        /// Its `host:port`.
        addr: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A JSON-RPC call failed (transport, or an error response).
    #[error("{what}: {method}: {source}")]
    Rpc {
        /// The node.
        what: String,
        /// The method called.
        method: String,
        /// The transport error, or the error response.
        #[source]
        source: std::io::Error,
    },
    /// A command run to completion (`nrd bridge …`) failed.
    #[error("{command} failed ({status}):\n{output}")]
    CommandFailed {
        /// The command, shortened (`nrd bridge claim`).
        command: String,
        /// How it ended.
        status: ExitStatus,
        /// Its stdout and stderr.
        output: String,
    },
    /// A load or probe thread panicked.
    #[error("{0} thread panicked")]
    ThreadPanicked(&'static str),
    /// Anything else the benchmark checks (its message says what).
    /// The L2 chain under measurement failed.
    #[error("L2 chain: {0}")]
    Node(#[source] Box<nrd_node::NodeError>),
    #[error("{0}")]
    Failed(String),
}

impl From<String> for BenchError {
    fn from(message: String) -> Self {
        Self::Failed(message)
    }
}

impl From<&str> for BenchError {
    fn from(message: &str) -> Self {
        Self::Failed(message.to_string())
    }
}
