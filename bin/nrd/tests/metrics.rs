//! The operator surface: `nrd devnet`'s `/metrics` (checked by Prometheus' own `promtool`, and
//! scraped by a real Prometheus on loopback), `/health` and `/ready`; and the alert rules in
//! `docker/alerts.yml` with `promtool check rules` / `promtool test rules`. Prometheus and
//! promtool are Debian's package, installed pinned by `scripts/install-tools.sh`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use std::{
    io::{Read, Write},
    net::TcpStream,
    path::Path,
    process::{Command, Stdio},
    time::{Duration, Instant},
};
use support::{ADDR1, KEY0, Prometheus, RollupDevnet, cast_json, free_addr, repo, rpc_call, tools};

/// GET over HTTP/1.0 (no chunked bodies): status and body.
fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    let body = response.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

/// The value of the first sample of `name` whose labels include every `labels` pair.
fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|line| {
        let (series, value) = line.rsplit_once(' ')?;
        let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
        if metric != name || !labels.iter().all(|(k, v)| rest.contains(&format!("{k}=\"{v}\""))) {
            return None;
        }
        value.parse().ok()
    })
}

fn promtool(args: &[&str], stdin: Option<&str>, dir: &Path) -> (bool, String) {
    let mut child = Command::new(tools().join("promtool"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run promtool");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default().as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[test]
fn devnet_metrics_health_ready_and_prometheus_scrape() {
    let _ = tools();
    let metrics = free_addr().to_string();
    let devnet = RollupDevnet::start(&["--metrics-addr", &metrics]);

    // Up at once.
    assert_eq!(http_get(&metrics, "/health").unwrap().0, 200);

    // A transfer, posted and verified on L1.
    let transfer = cast_json(&["send", "--rpc-url", &devnet.l2, "--private-key", KEY0, ADDR1, "--value", "1ether"]);
    assert_eq!(transfer["status"], "0x1", "{transfer}");
    let block = u64::from_str_radix(transfer["blockNumber"].as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    devnet.wait_safe(block);

    // /ready: 200 once synced (503 with reasons meanwhile).
    let start = Instant::now();
    loop {
        let (status, body) = http_get(&metrics, "/ready").unwrap();
        let parsed: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        if status == 200 {
            assert_eq!(parsed["ready"], true, "{body}");
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(!parsed["reasons"].as_array().unwrap().is_empty(), "{body}");
        assert!(start.elapsed() < Duration::from_secs(60), "/ready never 200: {body}");
        std::thread::sleep(Duration::from_millis(250));
    }

    // /metrics: valid for promtool, with the values the devnet has reached. The safe head comes
    // from the L1 watcher and the batch counters from the submitter's receipt polling, so the
    // counters may trail the safe head by a poll: scrape until the submitter saw its receipt.
    let start = Instant::now();
    let text = loop {
        let (status, text) = http_get(&metrics, "/metrics").unwrap();
        assert_eq!(status, 200);
        if sample(&text, "nrd_batches_verified_total", &[]).is_some_and(|n| n > 0.0) {
            break text;
        }
        assert!(start.elapsed() < Duration::from_secs(60), "no verified batch counted:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let (ok, lint) = promtool(&["check", "metrics"], Some(&text), &repo());
    assert!(ok, "promtool check metrics failed:\n{lint}\n--- metrics ---\n{text}");
    let l2_head = sample(&text, "nrd_l2_head", &[("node", "sequencer")]).expect("nrd_l2_head");
    assert!(l2_head >= block as f64 && l2_head > 0.0, "{text}");
    assert!(sample(&text, "nrd_l2_safe_head", &[("node", "sequencer")]).unwrap() >= block as f64, "{text}");
    assert!(sample(&text, "nrd_l1_head", &[("node", "follower")]).unwrap() > 0.0, "{text}");
    assert!(sample(&text, "nrd_batches_posted_total", &[]).unwrap() > 0.0, "{text}");
    assert!(sample(&text, "nrd_batches_verified_total", &[]).unwrap() > 0.0, "{text}");
    assert!(sample(&text, "nrd_blocks_sealed_total", &[]).unwrap() >= l2_head.min(block as f64), "{text}");
    let sends =
        sample(&text, "nrd_rpc_requests_total", &[("server", "sequencer"), ("method", "eth_sendRawTransaction")]);
    assert!(sends.unwrap_or(0.0) >= 1.0, "{text}");
    assert_eq!(sample(&text, "nrd_follower_root_mismatches_total", &[("node", "follower")]), Some(0.0), "{text}");
    // The embedded L1's EXECUTE meter: a base fee, a target below the limit.
    assert!(sample(&text, "nrd_execute_base_fee_wei", &[("node", "l1")]).unwrap() > 0.0, "{text}");
    let target = sample(&text, "nrd_execute_gas_target", &[("node", "l1")]).unwrap();
    assert!(target > 0.0 && sample(&text, "nrd_execute_gas_limit", &[("node", "l1")]).unwrap() >= target, "{text}");
    assert!(sample(&text, "nrd_execute_gas_used", &[("node", "l1")]).is_some(), "{text}");
    assert!(sample(&text, "nrd_submitter_balance_wei", &[]).unwrap() > 1e17, "{text}");
    assert!(text.contains("nrd_rpc_request_duration_seconds_bucket"), "{text}");

    // A real Prometheus scrapes it; its query API returns the L2 head.
    let rules = std::fs::read_to_string(repo().join("docker/alerts.yml")).unwrap();
    let config = format!(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - alerts.yml\nscrape_configs:\n  - job_name: nrd\n    static_configs:\n      - targets: [\"{metrics}\"]\n"
    );
    let prometheus = Prometheus::start(&config, &[("alerts.yml", &rules)]);
    let start = Instant::now();
    let value = loop {
        if let Some(result) = prometheus.query("nrd_l2_head{node=\"sequencer\"}")
            && let Some(first) = result.first()
        {
            break first["value"][1].as_str().unwrap().parse::<f64>().unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(60), "Prometheus never returned nrd_l2_head");
        std::thread::sleep(Duration::from_millis(500));
    };
    let head_now = rpc_call(&devnet.l2, "eth_blockNumber", json!([])).unwrap();
    let head_now = u64::from_str_radix(head_now.as_str().unwrap().trim_start_matches("0x"), 16).unwrap();
    assert!(value >= l2_head && value <= head_now as f64, "Prometheus: {value}, scraped {l2_head}, head {head_now}");
    // The scrape target is healthy and no alert of docker/alerts.yml fires on a healthy devnet.
    let up = prometheus.query("up{job=\"nrd\"}").unwrap();
    assert_eq!(up[0]["value"][1], "1", "{up:?}");
}

#[test]
fn alert_rules_check_and_unit_tests() {
    let docker = repo().join("docker");
    let (ok, out) = promtool(&["check", "rules", "alerts.yml"], None, &docker);
    assert!(ok, "promtool check rules:\n{out}");
    let rules = std::fs::read_to_string(docker.join("alerts.yml")).unwrap().matches("- alert:").count();
    assert!(rules >= 8 && out.contains(&format!("{rules} rules found")), "{out}");
    let (ok, out) = promtool(&["test", "rules", "alerts_test.yml"], None, &docker);
    assert!(ok, "promtool test rules:\n{out}");
}
