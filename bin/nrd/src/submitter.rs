//! `nrd submitter …`: the operator's handle on a sequencer's batch submitter, on its data
//! directory (the node stopped).
//!
//! When L1 proves one of the node's own blocks wrong (EXECUTE verification fails on it, or a
//! contract rule refuses it) or a stored block cannot be posted at all, the submitter halts and
//! records the refusal in the store, so a restart never posts the same content blindly. Once the
//! cause is fixed (or judged not the node's fault — e.g. a refusal recorded by an older nrd for
//! a temporary cause), `clear-refusal` removes the record and the next start posts again.

use clap::Subcommand;
use nrd_sequencer::{RecordedRefusal, clear_refusal};
use std::{path::PathBuf, process::ExitCode};

/// Which stopped node's store.
#[derive(Debug, clap::Args)]
pub(crate) struct DataDirArgs {
    /// The node's data directory (`data_dir`, holding `chain.redb`).
    #[arg(long, value_name = "DIR")]
    data_dir: PathBuf,
}

/// `nrd submitter …`.
#[derive(Debug, Subcommand)]
pub(crate) enum SubmitterCommand {
    /// Shows the refusal recorded in a node's store, if any.
    Status(DataDirArgs),
    /// Clears the refusal recorded in a node's store (stop the node first): its submitter
    /// posts that block again at the next start.
    ClearRefusal(DataDirArgs),
}

/// Why a stopped node's store cannot be read or changed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreAccessError {
    /// No store in that directory.
    #[error("{}: no node store here (chain.redb is missing)", .0.display())]
    Missing(PathBuf),
    /// The store cannot be opened, read or written.
    #[error("{}: {source} (is the node still running?)", path.display())]
    Store {
        /// The database file.
        path: PathBuf,
        /// Why.
        #[source]
        source: nrd_storage::StoreError,
    },
}

fn open(dir: &std::path::Path) -> Result<nrd_storage::RedbStore, StoreAccessError> {
    let path = dir.join("chain.redb");
    if !path.exists() {
        return Err(StoreAccessError::Missing(dir.to_path_buf()));
    }
    nrd_storage::RedbStore::open(&path).map_err(|source| StoreAccessError::Store { path, source })
}

fn describe(refusal: &RecordedRefusal) -> String {
    format!("L2 block {} ({}): {}", refusal.number, refusal.hash, refusal.reason)
}

pub(crate) fn run(command: &SubmitterCommand) -> ExitCode {
    crate::report(match command {
        SubmitterCommand::Status(DataDirArgs { data_dir }) => open(data_dir).and_then(|store| {
            match RecordedRefusal::load(&store)
                .map_err(|source| StoreAccessError::Store { path: data_dir.join("chain.redb"), source })?
            {
                Some(refusal) => println!("refusal recorded for {}", describe(&refusal)),
                None => println!("no refusal recorded"),
            }
            Ok(())
        }),
        SubmitterCommand::ClearRefusal(DataDirArgs { data_dir }) => open(data_dir).and_then(|store| {
            match clear_refusal(&store)
                .map_err(|source| StoreAccessError::Store { path: data_dir.join("chain.redb"), source })?
            {
                Some(refusal) => println!("cleared the refusal recorded for {}", describe(&refusal)),
                None => println!("no refusal recorded; nothing to clear"),
            }
            Ok(())
        }),
    })
}
