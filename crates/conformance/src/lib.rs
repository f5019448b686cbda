//! # nrd-conformance
//!
//! nrd's execution against the [ethereum/tests] `BlockchainTests`, run twice over: statefully,
//! as a node imports blocks, and statelessly, as the EXECUTE precompile verifies them.
//!
//! ## What it runs
//!
//! - **Stateful**: every block of a test is imported on its parent's state
//!   ([`nrd_execute_client::record_block`]); blocks with `expectException` must be rejected,
//!   all others accepted, and the chain must end at `lastblockhash` with `postState` (or
//!   `postStateHash`).
//! - **Stateless**: for every accepted block, the witness recorded during the stateful import is
//!   handed, with the block, to the EXECUTE verifier alone ([`nrd_execute_client::Reexecution`]),
//!   which must accept it. The same witness with a node or a bytecode dropped or an unused node
//!   added, and the same block with a forged post-state root (claimed, or in its header), must be
//!   rejected, each for that reason.
//!
//! Tests of pre-merge networks are skipped and counted.
//!
//! ## Fixtures
//!
//! The repository vendors a subset of ethereum/tests in `tests/fixtures/ethereum-tests`
//! (copied unchanged; its `SOURCE.md` gives the upstream commit and what was kept: 442
//! `ValidBlocks` and 131 `InvalidBlocks` Cancun tests). Any other BlockchainTests checkout
//! works too: pass its `BlockchainTests` directory, or a single JSON file.
//!
//! ## Running it
//!
//! ```text
//! cargo test -p nrd-conformance                     # the vendored fixtures, every test must pass
//! cargo run --release -p nrd-conformance-cli -- tests/fixtures/ethereum-tests/BlockchainTests
//! target/release/nrd-conformance <path> [--threads N]
//! ```
//!
//! The `nrd-conformance` binary (`bin/nrd-conformance`) prints a `FAIL <file>: <test>: <why>`
//! line per failure and `<n> passed, <m> failed`, and exits with 0 only if every test passed and
//! at least one ran. From Rust:
//!
//! ```no_run
//! let report = nrd_conformance::run(std::path::Path::new("tests/fixtures/ethereum-tests"), 2)?;
//! print!("{report}");
//! assert!(report.is_success());
//! # Ok::<(), nrd_conformance::ConformanceError>(())
//! ```
//!
//! [ethereum/tests]: https://github.com/ethereum/tests

mod error;
mod runner;

pub use error::{ConformanceError, DecodeError, ImportError, StatelessError, TestError};
pub use runner::{Failure, Report, Skipped, Summary, run};
