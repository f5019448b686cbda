//! The committed artifacts are exactly what the pinned compiler makes of the sources: this
//! recompiles every contract (offline, solc-js from `scripts/install-tools.sh`) and compares.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{collections::BTreeMap, path::Path, process::Command};

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

#[test]
fn committed_artifacts_match_the_sources() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let install = Command::new(repo.join("scripts/install-tools.sh")).arg("--quiet").output().unwrap();
    assert!(install.status.success(), "install-tools: {}", String::from_utf8_lossy(&install.stderr));
    let out = std::env::temp_dir().join(format!("nrd-artifacts-{}", std::process::id()));
    let compile = Command::new("node").arg(repo.join("scripts/compile-contracts.mjs")).arg(&out).output().unwrap();
    assert!(compile.status.success(), "compile-contracts: {}", String::from_utf8_lossy(&compile.stderr));
    let fresh = read_dir(&out);
    let committed = read_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("artifacts"));
    std::fs::remove_dir_all(&out).ok();
    assert!(!fresh.is_empty());
    assert_eq!(
        fresh.keys().collect::<Vec<_>>(),
        committed.keys().collect::<Vec<_>>(),
        "artifact set differs: run `node scripts/compile-contracts.mjs`"
    );
    for (name, json) in &fresh {
        assert!(committed[name] == *json, "{name} is stale: run `node scripts/compile-contracts.mjs` and commit");
    }
}
