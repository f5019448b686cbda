//! `docker/`: the compose devnet, the image, Prometheus' configuration and the Grafana dashboard.
//!
//! There is no Docker engine here, so the image is not built; what can be checked is:
//! - `docker/compose.yml` is a valid compose file for Compose's own validator: Debian's
//!   `docker-compose` 1.29.2, whose `config` needs no engine (installed, pinned, by
//!   `scripts/install-tools.sh`); also `docker compose config` where an engine answers;
//! - the normalized services agree with `docker/Dockerfile` (`ENTRYPOINT ["nrd"]`, `EXPOSE`) and
//!   with nrd's real defaults (`nrd l1 --help`, `config/*.toml`, `nrd_metrics::DEFAULT_ADDR`), and
//!   the nodes' `NRD_*` overrides are what `nrd config print` resolves;
//! - `promtool check config docker/prometheus.yml`, and its targets are the services' metrics;
//! - every PromQL expression of `docker/grafana/dashboards/nrd.json` names only metrics of
//!   `docs/metrics.md`, and runs on a real Prometheus scraping `nrd devnet`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::{
    collections::{BTreeMap, BTreeSet},
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};
use support::{Prometheus, free_addr, nrd, repo, rpc_call, tools};

/// The compose services: the nrd roles, then the monitoring.
const SERVICES: [&str; 6] = ["l1", "deploy", "sequencer", "follower", "prometheus", "grafana"];
/// The long-running nrd services (each serves `/metrics`, `/health`, `/ready`).
const NRD_SERVICES: [&str; 3] = ["l1", "sequencer", "follower"];

fn output_text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// Runs `program` in `dir` with `stdin`, without the environment that points Compose elsewhere.
fn run(program: &Path, args: &[&str], dir: &Path, stdin: &str) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        // Compose reads these; the test wants docker/compose.yml alone.
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_PROFILES")
        .env_remove("DOCKER_HOST")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", program.display()));
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

/// `docker-compose -f docker/compose.yml <args>` (Debian's Compose 1.29.2); panics on failure.
fn compose(args: &[&str]) -> String {
    let mut all = vec!["-f", "docker/compose.yml"];
    all.extend_from_slice(args);
    let out = run(&tools().join("docker-compose"), &all, &repo(), "");
    assert!(out.status.success(), "docker-compose {all:?} failed:\n{}", output_text(&out));
    String::from_utf8(out.stdout).unwrap()
}

/// A YAML document as JSON, through PyYAML of the pinned Compose packages (`python-compose`).
fn yaml_to_json(yaml: &str) -> Value {
    let out = run(
        &tools().join("python-compose"),
        &["-c", "import json, sys, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)"],
        &repo(),
        yaml,
    );
    assert!(out.status.success(), "yaml -> json failed:\n{}", output_text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn yaml_file(path: &str) -> Value {
    yaml_to_json(&std::fs::read_to_string(repo().join(path)).unwrap())
}

/// The compose file as Compose normalizes it (`docker-compose config`), as JSON.
fn normalized_compose() -> Value {
    yaml_to_json(&compose(&["config"]))
}

/// `host:port` → port.
fn port_of(addr: &str) -> u16 {
    addr.rsplit_once(':').and_then(|(_, p)| p.parse().ok()).unwrap_or_else(|| panic!("no port in `{addr}`"))
}

/// `[default: X]` of `flag` in `nrd <command> --help`.
fn help_default(command: &str, flag: &str) -> String {
    let out = nrd(&[command, "--help"], &[]);
    assert!(out.status.success(), "nrd {command} --help: {}", output_text(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let start =
        text.find(&format!("{flag} <")).unwrap_or_else(|| panic!("nrd {command} --help has no {flag}:\n{text}"));
    let rest = &text[start..];
    let rest = &rest[rest.find("[default: ").unwrap_or_else(|| panic!("{flag} has no default:\n{text}")) + 10..];
    rest[..rest.find(']').unwrap()].to_string()
}

/// A top-level string of a node config in `config/`.
fn config_value(file: &str, key: &str) -> String {
    let text = std::fs::read_to_string(repo().join("config").join(file)).unwrap();
    let table: toml::Table = text.parse().unwrap();
    table[key].as_str().unwrap_or_else(|| panic!("config/{file}: {key}")).to_string()
}

/// A service's published ports: (host ip, host port, container port), in both of Compose's
/// normal forms (`127.0.0.1:8545:8545/tcp`, or the long form of `docker compose`).
fn published(service: &Value) -> BTreeSet<(String, u16, u16)> {
    let mut ports = BTreeSet::new();
    for port in service["ports"].as_array().into_iter().flatten() {
        let entry = match port {
            Value::String(s) => {
                let s = s.trim_end_matches("/tcp");
                let parts: Vec<&str> = s.split(':').collect();
                assert_eq!(parts.len(), 3, "port `{s}` without a host address");
                (parts[0].to_string(), parts[1].parse().unwrap(), parts[2].parse().unwrap())
            }
            Value::Object(o) => {
                assert!(o.get("protocol").is_none_or(|p| p == "tcp"), "{port}");
                let number = |v: &Value| v.as_u64().or_else(|| v.as_str().and_then(|s| s.parse().ok())).unwrap();
                let host = o["host_ip"].as_str().unwrap_or_else(|| panic!("port without host_ip: {port}"));
                (host.to_string(), number(&o["published"]) as u16, number(&o["target"]) as u16)
            }
            other => panic!("port {other}"),
        };
        ports.insert(entry);
    }
    ports
}

/// A service's `command` as a list of strings.
/// A service's volumes (normalized `host:container[:mode]`): container path → host path.
fn mounts(service: &Value) -> BTreeMap<String, PathBuf> {
    service["volumes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let parts: Vec<&str> = v.as_str().unwrap().split(':').collect();
            (parts[1].to_string(), PathBuf::from(parts[0]))
        })
        .collect()
}

fn command_of(service: &Value) -> Vec<String> {
    match &service["command"] {
        Value::Array(a) => a.iter().map(|v| v.as_str().unwrap().to_string()).collect(),
        Value::String(s) => s.split_whitespace().map(String::from).collect(),
        other => panic!("command {other}"),
    }
}

/// The value of `--flag=value` (or `--flag value`) in a command.
fn flag(command: &[String], name: &str) -> Option<String> {
    command.iter().enumerate().find_map(|(i, arg)| {
        if let Some(v) = arg.strip_prefix(&format!("{name}=")) {
            return Some(v.to_string());
        }
        (arg == name).then(|| command.get(i + 1).cloned()).flatten()
    })
}

/// A service's environment (Compose normalizes it to a map).
fn environment(service: &Value) -> BTreeMap<String, String> {
    service["environment"]
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), String::from))).collect())
        .unwrap_or_default()
}

/// What a service listens on inside its container, on which port, and the host port it is
/// published on (0: not published).
type Port = (&'static str, u16, u16);

/// `docker/Dockerfile`: its instructions (continuations joined), comments dropped.
fn dockerfile() -> Vec<(String, String)> {
    let text = std::fs::read_to_string(repo().join("docker/Dockerfile")).unwrap();
    let mut instructions = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        match line.strip_suffix('\\') {
            Some(head) => current.push_str(head),
            None => {
                current.push_str(line);
                let (word, rest) = current.split_once(char::is_whitespace).unwrap_or((&current, ""));
                instructions.push((word.to_uppercase(), rest.trim().to_string()));
                current.clear();
            }
        }
    }
    instructions
}

/// What the service `name` listens on inside its container, from its command and environment:
/// (what, port) — `rpc`, `beacon`, `metrics`. Every address must be 0.0.0.0.
fn listens(name: &str, service: &Value) -> BTreeMap<&'static str, u16> {
    let command = command_of(service);
    let env = environment(service);
    let addrs: Vec<(&'static str, Option<String>)> = if name == "l1" {
        vec![
            ("rpc", flag(&command, "--rpc-addr")),
            ("beacon", flag(&command, "--beacon-addr")),
            ("metrics", flag(&command, "--metrics-addr")),
        ]
    } else {
        vec![("rpc", env.get("NRD_RPC_ADDR").cloned()), ("metrics", env.get("NRD_METRICS_ADDR").cloned())]
    };
    addrs
        .into_iter()
        .map(|(what, addr)| {
            let addr = addr.unwrap_or_else(|| panic!("{name}: no {what} address"));
            assert!(addr.starts_with("0.0.0.0:"), "{name}: {what} {addr} is not reachable from outside its container");
            (what, port_of(&addr))
        })
        .collect()
}

#[test]
fn compose_file_is_valid_for_compose() {
    // Compose's own schema validation; `--services` lists them in dependency order.
    compose(&["config", "--quiet"]);
    let services: Vec<String> = compose(&["config", "--services"]).lines().map(String::from).collect();
    assert_eq!(services.iter().map(String::as_str).collect::<BTreeSet<_>>(), BTreeSet::from(SERVICES), "{services:?}");
    let position = |s: &str| services.iter().position(|x| x == s).unwrap();
    assert!(position("l1") < position("deploy") && position("deploy") < position("sequencer"), "{services:?}");
    assert!(position("deploy") < position("follower") && position("prometheus") < position("grafana"), "{services:?}");
    let volumes: BTreeSet<String> = compose(&["config", "--volumes"]).lines().map(String::from).collect();
    for volume in ["sequencer-data", "follower-data", "prometheus-data", "grafana-data"] {
        assert!(volumes.contains(volume), "{volumes:?}");
    }

    // The validator is real: a key the compose schema does not know is refused.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo().join("docker/compose.yml")).unwrap();
    let broken = text.replacen("    healthcheck: *ready\n", "    healthcheck: *ready\n    helthcheck: {}\n", 1);
    assert_ne!(broken, text);
    std::fs::write(dir.path().join("compose.yml"), broken).unwrap();
    let out = run(&tools().join("docker-compose"), &["-f", "compose.yml", "config", "--quiet"], dir.path(), "");
    assert!(!out.status.success(), "docker-compose accepted an unknown key");
    assert!(output_text(&out).contains("helthcheck"), "{}", output_text(&out));

    // Docker's own `docker compose`, where a Docker engine and the compose plugin exist.
    let works = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if works(&["info"]) && works(&["compose", "version"]) {
        let out = Command::new("docker")
            .args(["compose", "-f", "docker/compose.yml", "config", "--services"])
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(out.status.success(), "docker compose config:\n{}", output_text(&out));
        let listed: BTreeSet<String> = String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect();
        assert_eq!(listed.iter().map(String::as_str).collect::<BTreeSet<_>>(), BTreeSet::from(SERVICES));
        let out = Command::new("docker")
            .args(["compose", "-f", "docker/compose.yml", "config"])
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(out.status.success(), "docker compose config:\n{}", output_text(&out));
        // Its normal form (long port syntax) gives the same ports.
        let normalized = yaml_to_json(&String::from_utf8_lossy(&out.stdout));
        let ours = normalized_compose();
        for name in SERVICES {
            assert_eq!(published(&normalized["services"][name]), published(&ours["services"][name]), "{name}");
        }
    } else {
        eprintln!("no Docker engine with the compose plugin: checked with docker-compose 1.29.2 only");
    }
}

#[test]
fn image_entrypoint_and_ports_match_the_compose_services_and_the_defaults() {
    let instructions = dockerfile();
    let all = |word: &str| -> Vec<String> {
        instructions.iter().filter(|(w, _)| w == word).map(|(_, rest)| rest.clone()).collect()
    };
    // Two stages: the Rust builder, and a slim runtime with the binary only.
    assert_eq!(all("FROM"), ["rust:1.95-slim-bookworm AS builder", "debian:bookworm-slim"]);
    let runs = all("RUN").join("\n");
    assert!(runs.contains("cargo build --release --locked -p nrd"), "{runs}");
    assert!(runs.contains("curl"), "the healthchecks need curl in the runtime image: {runs}");
    let copies = all("COPY");
    assert!(copies.contains(&"--from=builder /usr/local/bin/nrd /usr/local/bin/nrd".to_string()), "{copies:?}");
    assert!(copies.contains(&"config/ /etc/nrd/".to_string()), "{copies:?}");
    let user = all("USER");
    assert!(user.len() == 1 && user[0] != "root" && user[0] != "0", "{user:?}");
    let entrypoint: Vec<String> = serde_json::from_str(&all("ENTRYPOINT").concat()).unwrap();
    assert_eq!(entrypoint, ["nrd"]);
    // nrd stops cleanly on Ctrl-C only (its store closed, its tasks joined).
    assert_eq!(all("STOPSIGNAL"), ["SIGINT"]);
    let exposed: BTreeSet<u16> =
        all("EXPOSE").iter().flat_map(|e| e.split_whitespace().map(|p| p.parse::<u16>().unwrap())).collect();

    // The ports are nrd's real defaults: `nrd l1` / `nrd devnet` flags, config/*.toml, nrd-metrics.
    let l1_rpc = port_of(&help_default("l1", "--rpc-addr"));
    let beacon = port_of(&help_default("l1", "--beacon-addr"));
    let metrics = port_of(nrd_metrics::DEFAULT_ADDR);
    assert_eq!(port_of(&help_default("l1", "--metrics-addr")), metrics);
    let sequencer_rpc = port_of(&config_value("sequencer.toml", "rpc_addr"));
    let follower_rpc = port_of(&config_value("follower.toml", "rpc_addr"));
    assert_eq!(port_of(&help_default("devnet", "--rpc-addr")), sequencer_rpc);
    assert_eq!(port_of(&help_default("devnet", "--follower-rpc-addr")), follower_rpc);
    assert_eq!(port_of(&help_default("devnet", "--l1-rpc-addr")), l1_rpc);
    assert_eq!(port_of(&config_value("sequencer.toml", "metrics_addr")), metrics);
    // The follower's example config moves its metrics so both nodes run on one machine.
    let follower_host_metrics = port_of(&config_value("follower.toml", "metrics_addr"));
    assert_eq!(exposed, BTreeSet::from([sequencer_rpc, l1_rpc, follower_rpc, beacon, metrics]), "EXPOSE");
    assert_eq!(exposed, BTreeSet::from([8545, 8546, 8547, 5052, 9001]), "the ports the Dockerfile documents");

    let compose = normalized_compose();
    let services = &compose["services"];
    // Listening (inside each container) and published (on the host's loopback) as documented.
    let expected: [(&str, &[Port]); 3] = [
        ("l1", &[("rpc", l1_rpc, l1_rpc), ("beacon", beacon, beacon), ("metrics", metrics, 0)]),
        ("sequencer", &[("rpc", sequencer_rpc, sequencer_rpc), ("metrics", metrics, metrics)]),
        ("follower", &[("rpc", follower_rpc, follower_rpc), ("metrics", metrics, follower_host_metrics)]),
    ];
    for (name, ports) in expected {
        let service = &services[name];
        assert_eq!(service["image"], "nrd:devnet", "{name}");
        assert_eq!(service["build"]["dockerfile"], "docker/Dockerfile", "{name}");
        assert_eq!(Path::new(service["build"]["context"].as_str().unwrap()).canonicalize().unwrap(), repo(), "{name}");
        let listening = listens(name, service);
        let want: BTreeMap<&str, u16> = ports.iter().map(|(what, inside, _)| (*what, *inside)).collect();
        assert_eq!(listening, want, "{name} listens");
        assert!(listening.values().all(|p| exposed.contains(p)), "{name}: {listening:?} not all in EXPOSE {exposed:?}");
        let want: BTreeSet<(String, u16, u16)> = ports
            .iter()
            .filter(|(_, _, host)| *host != 0)
            .map(|(_, inside, host)| ("127.0.0.1".to_string(), *host, *inside))
            .collect();
        assert_eq!(published(service), want, "{name} publishes");
        // Healthy when /ready answers 200, probed inside the container on its metrics port.
        let test: Vec<&str> =
            service["healthcheck"]["test"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(test[..3], ["CMD", "curl", "-fsS"], "{name}: {test:?}");
        assert_eq!(test.last().unwrap(), &format!("http://127.0.0.1:{}/ready", listening["metrics"]), "{name}");
    }
    // Only loopback on the host, for every service.
    for name in SERVICES {
        for (host, _, _) in published(&services[name]) {
            assert_eq!(host, "127.0.0.1", "{name}");
        }
    }

    // deploy: once l1 is healthy; the nodes once it succeeded.
    let deploy = &services["deploy"];
    assert_eq!(deploy["image"], "nrd:devnet");
    assert!(published(deploy).is_empty());
    let command = command_of(deploy);
    assert_eq!(command[0], "deploy");
    assert_eq!(flag(&command, "--l1-rpc-url").unwrap(), format!("http://l1:{l1_rpc}"));
    assert_eq!(flag(&command, "--genesis").unwrap(), "/etc/nrd/l2-genesis.json");
    assert_eq!(deploy["depends_on"]["l1"]["condition"], "service_healthy");
    for (role, rpc) in [("sequencer", sequencer_rpc), ("follower", follower_rpc)] {
        let service = &services[role];
        assert_eq!(service["depends_on"]["deploy"]["condition"], "service_completed_successfully", "{role}");
        let command = command_of(service);
        assert_eq!(command, ["node", "--config", &format!("/etc/nrd/{role}.toml")]);
        // /etc/nrd is config/ (COPY config/ /etc/nrd/).
        assert!(repo().join(format!("config/{role}.toml")).is_file());
        let env = environment(service);
        assert_eq!(env["NRD_RPC_ADDR"], format!("0.0.0.0:{rpc}"));
        assert_eq!(env["NRD_L1__RPC_URL"], format!("http://l1:{l1_rpc}"), "{role}");
        assert_eq!(env["NRD_L1__WS_URL"], format!("ws://l1:{l1_rpc}"), "{role}");
        assert_eq!(env["NRD_L1__BEACON_URL"], format!("http://l1:{beacon}"), "{role}");
        assert_eq!(env["NRD_GENESIS"], "/etc/nrd/l2-genesis.json", "{role}");
        assert!(repo().join("config/l2-genesis.json").is_file());
        // The data directory is a volume of its own.
        let volumes: Vec<&str> = service["volumes"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        assert_eq!(volumes, [format!("{role}-data:{}:rw", env["NRD_DATA_DIR"])], "{role}");

        // What `nrd node` makes of the file and these variables: `nrd config print` resolves
        // the same configuration (the variables' names are real keys; each one wins).
        let nrd_env: Vec<(&str, &str)> =
            env.iter().filter(|(k, _)| k.starts_with("NRD_")).map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let config = repo().join(format!("config/{role}.toml"));
        let out = nrd(&["config", "print", "--config", config.to_str().unwrap()], &nrd_env);
        let printed = output_text(&out);
        assert!(out.status.success(), "{role}: nrd config print with {nrd_env:?}:\n{printed}");
        for (name, value) in &nrd_env {
            assert!(
                printed
                    .lines()
                    .any(|l| l.contains(&format!(" = \"{value}\"")) && l.ends_with(&format!("variable {name}"))),
                "{role}: {name}={value} is not what nrd config print shows:\n{printed}"
            );
        }
    }
}

#[test]
fn prometheus_scrapes_every_nrd_service_with_the_alert_rules() {
    let promtool = tools().join("promtool");
    let out = run(&promtool, &["check", "config", "docker/prometheus.yml"], &repo(), "");
    let text = output_text(&out);
    assert!(out.status.success(), "promtool check config:\n{text}");
    let rules = std::fs::read_to_string(repo().join("docker/alerts.yml")).unwrap().matches("- alert:").count();
    assert!(text.contains("SUCCESS: 1 rule files found") && text.contains(&format!("{rules} rules found")), "{text}");

    let config = yaml_file("docker/prometheus.yml");
    assert_eq!(config["rule_files"], json!(["alerts.yml"]));
    let compose = normalized_compose();
    let services = &compose["services"];
    let mut targets = BTreeMap::new();
    for job in config["scrape_configs"].as_array().unwrap() {
        for group in job["static_configs"].as_array().unwrap() {
            for target in group["targets"].as_array().unwrap() {
                targets.insert(target.as_str().unwrap().to_string(), job["job_name"].as_str().unwrap().to_string());
            }
        }
    }
    let want: BTreeMap<String, String> = NRD_SERVICES
        .iter()
        .map(|name| (format!("{name}:{}", listens(name, &services[*name])["metrics"]), name.to_string()))
        .collect();
    assert_eq!(targets, want, "scrape targets");

    // The container sees docker/prometheus.yml and docker/alerts.yml side by side, as promtool did.
    let prometheus = &services["prometheus"];
    let tag = prometheus["image"].as_str().unwrap().strip_prefix("prom/prometheus:v").unwrap().to_string();
    let version = output_text(&run(&promtool, &["--version"], &repo(), ""));
    assert!(
        version.contains(&format!("version {tag}+")) || version.contains(&format!("version {tag} ")),
        "{tag}: {version}"
    );
    let command = command_of(prometheus);
    let file = flag(&command, "--config.file").unwrap();
    let mounts = mounts(prometheus);
    let host = |inside: &str| mounts.get(inside).unwrap_or_else(|| panic!("{inside} not mounted: {mounts:?}"));
    assert_eq!(host(&file).canonicalize().unwrap(), repo().join("docker/prometheus.yml"));
    let rules = Path::new(&file).parent().unwrap().join("alerts.yml");
    assert_eq!(host(rules.to_str().unwrap()).canonicalize().unwrap(), repo().join("docker/alerts.yml"));
    assert_eq!(flag(&command, "--web.listen-address").unwrap(), "0.0.0.0:9090");
    assert_eq!(published(prometheus), BTreeSet::from([("127.0.0.1".to_string(), 9090, 9090)]));
}

/// docs/metrics.md's metric names.
fn documented_metrics() -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join("docs/metrics.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `nrd_"))
        .map(|rest| format!("nrd_{}", &rest[..rest.find('`').unwrap()]))
        .collect()
}

/// The dashboard's queries: (panel title, PromQL).
fn dashboard_queries() -> Vec<(String, String)> {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("docker/grafana/dashboards/nrd.json")).unwrap())
            .unwrap();
    let mut queries = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().into_iter().flatten() {
            queries.push((panel["title"].as_str().unwrap().to_string(), target["expr"].as_str().unwrap().to_string()));
        }
    }
    queries
}

/// `nrd_*` names an expression uses, histogram series (`_bucket`, `_sum`, `_count`) as the
/// histogram's name.
fn metric_names(expr: &str, documented: &BTreeSet<String>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find("nrd_") {
        let tail = &rest[start..];
        let end = tail.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':')).unwrap_or(tail.len());
        let name = &tail[..end];
        let base = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|b| documented.contains(*b)))
            .unwrap_or(name);
        names.insert(base.to_string());
        rest = &tail[end..];
    }
    names
}

/// The expression as Prometheus runs it: Grafana's `$__rate_interval` made a fixed window.
fn promql(expr: &str) -> String {
    let expr = expr.replace("$__rate_interval", "1m");
    assert!(!expr.contains('$'), "a Grafana variable Prometheus cannot run: {expr}");
    expr
}

#[test]
fn dashboard_is_provisioned_and_uses_documented_metrics() {
    let dashboard: Value =
        serde_json::from_str(&std::fs::read_to_string(repo().join("docker/grafana/dashboards/nrd.json")).unwrap())
            .unwrap();
    let datasources = yaml_file("docker/grafana/provisioning/datasources/prometheus.yml");
    let datasource = &datasources["datasources"][0];
    assert_eq!(datasource["type"], "prometheus");
    assert_eq!(datasource["url"], "http://prometheus:9090");
    let uid = datasource["uid"].as_str().unwrap();
    let providers = yaml_file("docker/grafana/provisioning/dashboards/nrd.yml");
    let dashboards_dir = providers["providers"][0]["options"]["path"].as_str().unwrap();

    // Grafana mounts the provisioning and the dashboards where these files say.
    let compose = normalized_compose();
    let grafana = &compose["services"]["grafana"];
    let mounts = mounts(grafana);
    assert_eq!(mounts["/etc/grafana/provisioning"].canonicalize().unwrap(), repo().join("docker/grafana/provisioning"));
    assert_eq!(mounts[dashboards_dir].canonicalize().unwrap(), repo().join("docker/grafana/dashboards"));
    let env = environment(grafana);
    assert_eq!(env["GF_AUTH_ANONYMOUS_ENABLED"], "true");
    assert_eq!(env["GF_AUTH_ANONYMOUS_ORG_ROLE"], "Viewer");
    assert_eq!(env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"], format!("{dashboards_dir}/nrd.json"));
    assert_eq!(published(grafana), BTreeSet::from([("127.0.0.1".to_string(), 3000, 3000)]));
    for name in ["prometheus", "grafana"] {
        let image = compose["services"][name]["image"].as_str().unwrap();
        let tag = image.rsplit_once(':').map(|(_, t)| t).unwrap_or("latest");
        assert!(
            tag != "latest" && tag.chars().next().unwrap().is_ascii_alphanumeric(),
            "{name}: {image} is not pinned"
        );
    }

    // Panels: unique ids, on the 24-column grid, each query on the provisioned datasource.
    let mut ids = BTreeSet::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        assert!(ids.insert(panel["id"].as_u64().unwrap()), "duplicate panel id: {panel}");
        let grid = &panel["gridPos"];
        assert!(grid["x"].as_u64().unwrap() + grid["w"].as_u64().unwrap() <= 24, "{}", panel["title"]);
        if panel["type"] == "row" {
            continue;
        }
        let targets = panel["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", panel["title"]);
        assert_eq!(panel["datasource"]["uid"], uid, "{}", panel["title"]);
        for target in targets {
            assert_eq!(target["datasource"]["uid"], uid, "{}", panel["title"]);
        }
    }

    // Only metrics docs/metrics.md documents, and the ones operators look at are all there.
    let documented = documented_metrics();
    assert!(documented.len() >= 30, "{documented:?}");
    let mut used = BTreeSet::new();
    for (title, expr) in dashboard_queries() {
        promql(&expr);
        let names = metric_names(&expr, &documented);
        assert!(!names.is_empty(), "{title}: `{expr}` uses no nrd metric");
        for name in &names {
            assert!(documented.contains(name), "{title}: `{name}` is not in docs/metrics.md ({expr})");
        }
        used.extend(names);
    }
    for name in [
        "nrd_l1_head",
        "nrd_l2_l1_anchor",
        "nrd_l2_head",
        "nrd_l2_safe_head",
        "nrd_l2_finalized_head",
        "nrd_block_transactions",
        "nrd_mempool_transactions",
        "nrd_pool_rejections_total",
        "nrd_batches_posted_total",
        "nrd_batch_l1_gas",
        "nrd_blobs_posted_total",
        "nrd_blob_bytes_total",
        "nrd_batch_execute_gas",
        "nrd_execute_gas_used",
        "nrd_execute_base_fee_wei",
        "nrd_block_witness_bytes",
        "nrd_derivation_lag_blocks",
        "nrd_l1_messages_pending",
        "nrd_l1_messages_overdue",
        "nrd_l1_reorgs_total",
        "nrd_rpc_requests_total",
        "nrd_rpc_errors_total",
        "nrd_rpc_request_duration_seconds",
        "nrd_follower_root_mismatches_total",
    ] {
        assert!(used.contains(name), "no panel shows {name}");
    }
}

/// docker/prometheus.yml with every target replaced by `target` (and a 1 s interval), next to
/// a copy of docker/alerts.yml, as in the container.
fn start_prometheus(target: &str) -> Prometheus {
    let mut config = yaml_file("docker/prometheus.yml");
    config["global"] = json!({"scrape_interval": "1s", "evaluation_interval": "1s"});
    for job in config["scrape_configs"].as_array_mut().unwrap() {
        job["static_configs"] = json!([{"targets": [target]}]);
    }
    let rules = std::fs::read_to_string(repo().join("docker/alerts.yml")).unwrap();
    // JSON is YAML.
    Prometheus::start(&config.to_string(), &[("alerts.yml", &rules)])
}

#[test]
fn dashboard_queries_run_on_a_real_prometheus() {
    let _ = tools();
    let metrics = free_addr().to_string();
    let devnet = support::RollupDevnet::start(&["--metrics-addr", &metrics]);
    // Something in every panel: a transfer (posted and verified on L1), and a transaction the
    // pool refuses (`decode`), which is also an RPC error.
    let transfer = support::cast_json(&[
        "send",
        "--rpc-url",
        &devnet.l2,
        "--private-key",
        support::KEY0,
        support::ADDR1,
        "--value",
        "1ether",
    ]);
    assert_eq!(transfer["status"], "0x1", "{transfer}");
    let block = u64::from_str_radix(transfer["blockNumber"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(rpc_call(&devnet.l2, "eth_sendRawTransaction", json!(["0x00"])).is_err());
    devnet.wait_safe(block);

    let prometheus = start_prometheus(&metrics);
    // The rules of docker/alerts.yml loaded next to the config, as in the container.
    let start = Instant::now();
    loop {
        if let Some(rules) = prometheus.api("rules", "")
            && rules["status"] == "success"
        {
            let count: usize =
                rules["data"]["groups"].as_array().unwrap().iter().map(|g| g["rules"].as_array().unwrap().len()).sum();
            let defined =
                std::fs::read_to_string(repo().join("docker/alerts.yml")).unwrap().matches("- alert:").count();
            assert_eq!(count, defined, "{rules}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "Prometheus did not start");
        std::thread::sleep(Duration::from_millis(250));
    }

    // Every query is valid PromQL; each returns data once a few scrapes are in, except those on
    // events a healthy devnet never has (a reorg, a batch L1 refused).
    let never = ["nrd_l1_reorg_depth", "nrd_batches_refused_total"];
    let queries = dashboard_queries();
    assert!(queries.len() >= 30, "{queries:?}");
    let start = Instant::now();
    for (title, expr) in &queries {
        let expr = promql(expr);
        loop {
            let answer = prometheus.api("query", &expr).unwrap_or_else(|| panic!("{title}: no answer to `{expr}`"));
            assert_eq!(answer["status"], "success", "{title}: `{expr}`: {answer}");
            let result = answer["data"]["result"].as_array().unwrap();
            if !result.is_empty() || never.iter().any(|n| expr.contains(n)) {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(90), "{title}: `{expr}` never returned data");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    // And a query that is not PromQL is refused, so "success" above means something.
    let answer = prometheus.api("query", "rate(nrd_l2_head[1m]").unwrap();
    assert_eq!(answer["status"], "error", "{answer}");
}
