//! `nrd submitter status|clear-refusal` on a node's data directory: a refusal the submitter
//! recorded (posting halted on it) is shown, cleared — after which a submitter over the same
//! chain starts without it — and a store still open by a running node is not touched.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nrd_derivation::L2Genesis;
use nrd_node::L2Chain;
use nrd_sequencer::RecordedRefusal;
use nrd_storage::{ChainStore, RedbStore};
use std::{process::Command, sync::Arc};

fn nrd(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_nrd")).args(args).env("RUST_LOG", "warn").output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn a_recorded_refusal_is_shown_and_cleared_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap();
    let genesis = L2Genesis::new(901, 30_000_000, &[]);
    let recorded = {
        let store: Arc<dyn ChainStore> = Arc::new(RedbStore::open(dir.path().join("chain.redb")).unwrap());
        let chain = L2Chain::open(genesis.clone(), store.clone()).unwrap();
        let refusal = RecordedRefusal {
            number: 0,
            hash: chain.head().hash,
            reason: "invalid_block: L1 refuses L2 blocks 0..=0: EXECUTE refuses L2 block 0: test".into(),
        };
        refusal.save(store.as_ref()).unwrap();
        assert_eq!(RecordedRefusal::for_chain(&chain), Some(refusal.clone()), "posting would stay halted");

        // While the node runs (its store open), the command refuses to touch it.
        let (ok, out) = nrd(&["submitter", "clear-refusal", "--data-dir", data_dir]);
        assert!(!ok, "{out}");
        assert!(out.contains("is the node still running?"), "{out}");
        refusal
    };

    let (ok, out) = nrd(&["submitter", "status", "--data-dir", data_dir]);
    assert!(ok, "{out}");
    assert!(out.contains("refusal recorded for L2 block 0") && out.contains("invalid_block:"), "{out}");
    let (ok, out) = nrd(&["submitter", "clear-refusal", "--data-dir", data_dir]);
    assert!(ok, "{out}");
    assert!(
        out.contains("cleared the refusal recorded for L2 block 0") && out.contains(&recorded.hash.to_string()),
        "{out}"
    );

    let (ok, out) = nrd(&["submitter", "status", "--data-dir", data_dir]);
    assert!(ok && out.contains("no refusal recorded"), "{out}");
    let (ok, out) = nrd(&["submitter", "clear-refusal", "--data-dir", data_dir]);
    assert!(ok && out.contains("nothing to clear"), "{out}");
    let store: Arc<dyn ChainStore> = Arc::new(RedbStore::open(dir.path().join("chain.redb")).unwrap());
    let chain = L2Chain::open(genesis, store).unwrap();
    assert_eq!(RecordedRefusal::for_chain(&chain), None, "a submitter over this chain starts posting");

    let (ok, out) = nrd(&["submitter", "status", "--data-dir", dir.path().join("absent").to_str().unwrap()]);
    assert!(!ok && out.contains("no node store here"), "{out}");
}
