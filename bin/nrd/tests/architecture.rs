//! `docs/architecture.md` stays true: its crate table lists every workspace package, with
//! exactly the nrd crates each depends on (normal dependencies), and the layering rules it states
//! hold in the manifests.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every workspace package: name → (path, its nrd normal dependencies).
fn packages() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let root: toml::Table = std::fs::read_to_string(repo().join("Cargo.toml")).unwrap().parse().unwrap();
    let members = root["workspace"]["members"].as_array().unwrap();
    members
        .iter()
        .map(|m| {
            let path = m.as_str().unwrap().to_string();
            let manifest: toml::Table =
                std::fs::read_to_string(repo().join(&path).join("Cargo.toml")).unwrap().parse().unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_string();
            let deps = manifest
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| d.keys().filter(|k| k.starts_with("nrd")).cloned().collect())
                .unwrap_or_default();
            (name, (path, deps))
        })
        .collect()
}

/// The table rows of docs/architecture.md: crate → (path, dependencies).
fn documented() -> BTreeMap<String, (String, BTreeSet<String>)> {
    let doc = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let ticked = |cell: &str| -> Vec<String> {
        cell.split('`').enumerate().filter(|(i, _)| i % 2 == 1).map(|(_, s)| s.to_string()).collect()
    };
    doc.lines()
        .filter(|l| l.starts_with("| `nrd"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
            assert!(cells.len() >= 4, "a crate row has 4 cells (crate | path | for | depends on): {line}");
            let name = ticked(cells[0]).remove(0);
            let path = ticked(cells[1]).remove(0);
            let deps = ticked(cells[3]).into_iter().collect();
            (name, (path, deps))
        })
        .collect()
}

#[test]
fn the_crate_map_lists_every_crate_and_every_edge() {
    let (actual, doc) = (packages(), documented());
    let names = |m: &BTreeMap<String, _>| m.keys().cloned().collect::<BTreeSet<_>>();
    assert_eq!(names(&doc), names(&actual), "docs/architecture.md's table and the workspace members differ");
    for (name, (path, deps)) in &actual {
        let (doc_path, doc_deps) = &doc[name];
        assert_eq!(doc_path, path, "{name}'s path");
        assert_eq!(
            doc_deps, deps,
            "{name}: docs/architecture.md says it depends on {doc_deps:?}, its Cargo.toml on {deps:?}"
        );
    }
}

#[test]
fn the_layering_rules_hold() {
    let actual = packages();
    let deps = |name: &str| &actual[name].1;
    // Everything reaches the devnet only from the top: no node crate links it.
    for name in ["nrd-node", "nrd-sequencer", "nrd-rpc", "nrd-storage", "nrd-derivation", "nrd-execute-client"] {
        assert!(!deps(name).contains("nrd-l1-devnet"), "{name} must not link the L1 devnet");
    }
    // Test support stays out of production crates (binaries for benchmarks excepted).
    for (name, (path, deps)) in &actual {
        if path.starts_with("crates/") {
            assert!(!deps.contains("nrd-testkit"), "{name} links nrd-testkit outside its dev-dependencies");
            assert!(!deps.contains("nrd-test-utils") || name == "nrd-testkit", "{name} links nrd-test-utils");
        }
    }
    // The daemon is a shell: it launches through the node builder and carries no benchmarks.
    assert!(deps("nrd").contains("nrd-node-builder"));
    for gone in ["nrd-testkit", "nrd-conformance"] {
        assert!(!deps("nrd").contains(gone), "the daemon links {gone}");
    }
    // No cycles (cargo refuses them for normal dependencies; this keeps the map's order true).
    let mut done = BTreeSet::new();
    fn visit<'a>(
        name: &'a str,
        actual: &'a BTreeMap<String, (String, BTreeSet<String>)>,
        path: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) {
        assert!(!path.contains(&name), "cycle: {path:?} → {name}");
        if done.contains(name) {
            return;
        }
        path.push(name);
        for dep in &actual[name].1 {
            visit(dep, actual, path, done);
        }
        path.pop();
        done.insert(name);
    }
    for name in actual.keys() {
        visit(name, &actual, &mut Vec::new(), &mut done);
    }
}
