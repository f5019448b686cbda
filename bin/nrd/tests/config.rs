//! `nrd node`'s configuration as an operator meets it: the shipped files, `NRD_*` variables and
//! flags over them (`nrd config print`, secrets masked), and each way a configuration can be
//! wrong — unknown key, wrong type, unreachable L1, port in use — refused with one clear line
//! that names the key, never a panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::{net::TcpListener, path::Path, process::Output};
use support::{L1, free_addr, nrd, repo};

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Runs `nrd args…` and expects exit code 1 with one `error:` line (no panic); returns stderr.
fn refused(args: &[&str], envs: &[(&str, &str)]) -> String {
    let out = nrd(args, envs);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "nrd {args:?}: {stdout}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let error = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or_else(|| panic!("no error line: {stderr}"));
    error.to_string()
}

fn follower_config(dir: &Path, l1: &str, rpc: &str, extra: &str) -> std::path::PathBuf {
    let path = dir.join("follower.toml");
    let text = format!(
        "role = \"follower\"\ndata_dir = {:?}\ngenesis = {:?}\nrpc_addr = \"{rpc}\"\nmetrics_addr = \"{}\"\n{extra}\n\
         [l1]\nrpc_url = \"{l1}\"\nbeacon_url = \"http://127.0.0.1:1\"\nrollup = \"0x8464135c8F25Da09e49BC8782676a84730C318bC\"\n",
        dir.join("db").display().to_string(),
        repo().join("config/l2-genesis.json").display().to_string(),
        free_addr(),
    );
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_print_layers_file_env_and_flags_with_secrets_masked() {
    let config = repo().join("config/sequencer.toml");
    let secret = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
    let out = nrd(
        &[
            "config",
            "print",
            "--config",
            config.to_str().unwrap(),
            "--rpc-addr",
            "0.0.0.0:18545",
            "--set",
            "sequencer.pool.max_total=7777",
        ],
        &[("NRD_SEQUENCER__KEY", secret), ("NRD_L1__RPC_URL", "http://operator:hunter2@10.0.0.5:8546")],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("rpc_addr = \"0.0.0.0:18545\"  # flag --rpc-addr"), "{stdout}");
    assert!(stdout.contains("max_total = 7777  # flag --set sequencer.pool.max_total"), "{stdout}");
    assert!(stdout.contains("key = \"<secret>\"  # environment variable NRD_SEQUENCER__KEY"), "{stdout}");
    assert!(
        stdout.contains("rpc_url = \"http://operator:***@10.0.0.5:8546\"  # environment variable NRD_L1__RPC_URL"),
        "{stdout}"
    );
    assert!(stdout.contains("da_mode = \"blob\"  # ") && stdout.contains("sequencer.toml"), "{stdout}");
    assert!(
        !stdout.contains(&secret[2..]) && !stdout.contains("hunter2") && !stderr.contains("hunter2"),
        "{stdout}{stderr}"
    );
    // The file's own key is masked too.
    let out = nrd(&["config", "print", "--config", config.to_str().unwrap()], &[]);
    let (stdout, _) = text(&out);
    assert!(out.status.success() && stdout.contains("key = \"<secret>\"  # "), "{stdout}");
    assert!(!stdout.contains("ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"), "{stdout}");
}

#[test]
fn bad_configurations_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let rpc = free_addr().to_string();
    let unreachable = format!("http://{}", free_addr());

    // Unknown key, in the file.
    let config = follower_config(dir.path(), &unreachable, &rpc, "rpc_adr = \"127.0.0.1:1\"");
    let e = refused(&["node", "--config", config.to_str().unwrap()], &[]);
    assert!(
        e.contains("unknown key `rpc_adr`") && e.contains("follower.toml") && e.contains("did you mean `rpc_addr`"),
        "{e}"
    );

    // Unknown key, in the environment.
    let config = follower_config(dir.path(), &unreachable, &rpc, "");
    let path = config.to_str().unwrap();
    let e = refused(&["node", "--config", path], &[("NRD_L1__CONFIRMATION", "3")]);
    assert!(e.contains("NRD_L1__CONFIRMATION") && e.contains("NRD_L1__CONFIRMATIONS"), "{e}");

    // Wrong type: file, environment, flag.
    let bad_type = follower_config(dir.path(), &unreachable, &rpc, "").to_str().unwrap().to_string();
    std::fs::write(
        &bad_type,
        std::fs::read_to_string(&bad_type).unwrap().replace("[l1]\n", "[l1]\nstart_block = \"soon\"\n"),
    )
    .unwrap();
    let e = refused(&["node", "--config", &bad_type], &[]);
    assert!(e.contains("`l1.start_block`") && e.contains("follower.toml"), "{e}");
    let config = follower_config(dir.path(), &unreachable, &rpc, "");
    let path = config.to_str().unwrap();
    let e = refused(&["node", "--config", path], &[("NRD_L1__POLL_INTERVAL_MS", "often")]);
    assert!(e.contains("`l1.poll_interval_ms`") && e.contains("NRD_L1__POLL_INTERVAL_MS"), "{e}");
    let e = refused(&["node", "--config", path, "--set", "proposer.self_propose=maybe"], &[]);
    assert!(e.contains("`proposer.self_propose`") && e.contains("--set proposer.self_propose"), "{e}");

    // A value of the right type that cannot work.
    let e = refused(&["node", "--config", path, "--l1-rpc-url", "127.0.0.1:8546"], &[]);
    assert!(e.contains("`l1.rpc_url`") && e.contains("--l1-rpc-url"), "{e}");
    let e = refused(&["node", "--config", path, "--set", "role=sequencer"], &[]);
    assert!(e.contains("`sequencer.key` is required"), "{e}");

    // Unreachable L1.
    let e = refused(&["node", "--config", path], &[]);
    assert!(e.contains("`l1.rpc_url`") && e.contains(&unreachable) && e.contains("does not answer"), "{e}");

    // Port in use: the RPC port, then the metrics port.
    let l1 = L1::start(&[]);
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let taken_addr = taken.local_addr().unwrap().to_string();
    let config = follower_config(dir.path(), &l1.rpc, &taken_addr, "");
    let e = refused(&["node", "--config", config.to_str().unwrap()], &[]);
    assert!(e.contains("`rpc_addr`") && e.contains(&taken_addr), "{e}");
    let config = follower_config(dir.path(), &l1.rpc, &rpc, "");
    let e = refused(&["node", "--config", config.to_str().unwrap(), "--metrics-addr", &taken_addr], &[]);
    assert!(e.contains("`metrics_addr`") && e.contains(&taken_addr), "{e}");
    drop(taken);

    // A missing file and a file that is not TOML.
    let e = refused(&["node", "--config", dir.path().join("absent.toml").to_str().unwrap()], &[]);
    assert!(e.contains("absent.toml"), "{e}");
    std::fs::write(dir.path().join("broken.toml"), "role = \"follower\"\n[l1\n").unwrap();
    let e = refused(&["node", "--config", dir.path().join("broken.toml").to_str().unwrap()], &[]);
    assert!(e.contains("broken.toml") && e.contains("not valid TOML"), "{e}");
}

#[test]
fn devnet_refuses_l2_blocks_execute_could_not_verify() {
    // A full 100M-gas L2 block needs an EXECUTE limit (twice the target) of at least 100M.
    let e = refused(&["devnet", "--l2-gas-limit", "100000000", "--execute-target", "40000000"], &[]);
    assert!(e.contains("--l2-gas-limit 100000000") && e.contains("--execute-target"), "{e}");
    let e = refused(&["devnet", "--l2-gas-limit", "100", "--execute-target", "18446744073709551615"], &[]);
    assert!(e.contains("--l2-gas-limit 100"), "{e}");
}
