//! The operator surface of a running node: its gauges at each `/metrics` scrape, an L1 poller
//! (reachability, the submitter's balance, the forced-inclusion window) and its `/ready`
//! checks. The server itself and the metric names are `nrd-metrics`'.

use crate::{LaunchError, NodeConfig, RunningNode, error::LaunchResult};
use alloy_primitives::{Address, U256};
use nrd_chain::LockExt as _;
use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_metrics::{NodeGauges, Ops, metrics::gauge, names};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};
use tokio::{sync::watch, task::JoinHandle};

/// Readiness: the L2 head's anchor may trail the L1 head by at most this many L1 blocks.
pub const MAX_LAG_BLOCKS: u64 = 32;
/// Readiness: a sequencer's submitter needs at least this much ETH on L1 (0.1 ETH).
pub const MIN_SUBMITTER_BALANCE_WEI: u128 = 100_000_000_000_000_000;

/// What the L1 poller learned.
#[derive(Debug, Default)]
struct Polled {
    last_ok: Option<Instant>,
    last_error: Option<String>,
    balance: Option<U256>,
    window: Option<u64>,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Serves `/metrics`, `/health` and `/ready` on `addr` until `stop`; a port already taken is an
/// error naming `key`, the key or flag that set `addr` (an operator who asked for metrics gets
/// them or is told why not).
pub async fn serve_ops(
    addr: SocketAddr,
    key: &'static str,
    ops: Ops,
    mut stop: watch::Receiver<bool>,
) -> LaunchResult<SocketAddr> {
    let shutdown = async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    nrd_metrics::serve(addr, ops, shutdown).await.map_err(|source| LaunchError::Listen { key, addr, source })
}

/// Registers the embedded L1's gauges (`node="l1"`): its head and its EXECUTE meter.
pub fn watch_l1(ops: &mut Ops, l1: Arc<nrd_l1_devnet::Devnet>) {
    nrd_metrics::install();
    ops.on_scrape(move || {
        let head = l1.head().number();
        gauge!(names::L1_HEAD, "node" => "l1").set(head as f64);
        if let Some(meter) = l1.execute_gas(head) {
            gauge!(names::EXECUTE_BASE_FEE, "node" => "l1").set(meter.base_fee as f64);
            gauge!(names::EXECUTE_GAS_USED, "node" => "l1").set(meter.used as f64);
            gauge!(names::EXECUTE_GAS_TARGET, "node" => "l1").set(meter.target as f64);
            gauge!(names::EXECUTE_GAS_LIMIT, "node" => "l1").set(meter.limit as f64);
        }
    });
}

/// Registers `running`'s gauges and readiness checks under the label `role`, and starts its L1
/// poller (`submitter`: the sequencer's L1 account, whose balance `/ready` checks).
pub fn watch_node(
    ops: &mut Ops,
    role: &'static str,
    config: &NodeConfig,
    running: &RunningNode,
    submitter: Option<Address>,
    stop: watch::Receiver<bool>,
) -> LaunchResult<JoinHandle<()>> {
    nrd_metrics::install();
    nrd_metrics::register_node(role);
    let client = L1Client::new(L1ClientConfig::new(&config.l1.rpc_url))
        .map_err(|source| LaunchError::l1_config(config.l1.rpc_url.clone(), source))?;
    let poll = Duration::from_millis(config.l1.poll_interval_ms.max(100));
    let polled = Arc::new(Mutex::new(Polled::default()));

    // Gauges at each scrape.
    let (node, view, scrape_polled) = (running.node.clone(), running.view.clone(), polled.clone());
    ops.on_scrape(move || {
        let status = node.status();
        let window = scrape_polled.lock_or_recover().window;
        let overdue = {
            let view = view.lock_or_recover();
            window.map_or(0, |w| {
                view.messages.values().filter(|m| m.enqueuedAt.saturating_add(w) <= view.head.timestamp).count() as u64
            })
        };
        let head_time = node.chain().head().header().timestamp as f64;
        NodeGauges {
            l1_head: status.l1_head,
            l1_anchor: status.l1_anchor,
            unsafe_head: status.unsafe_head,
            safe_head: status.safe_head,
            finalized_head: status.finalized_head,
            lag_seconds: (unix_now() - head_time).max(0.0),
            pending_messages: status.pending_messages,
            overdue_messages: overdue,
            pool_size: status.sequencer.then_some(status.pool_size),
            history_from: node.chain().history_from(),
            bodies_from: node.chain().bodies_from(),
        }
        .record(role);
        if status.sequencer {
            gauge!(names::SUBMITTER_HALTED).set(if status.halted.is_some() { 1.0 } else { 0.0 });
        }
    });

    // Readiness.
    let (node, ready_polled) = (running.node.clone(), polled.clone());
    let stale_after = (poll * 10).max(Duration::from_secs(15));
    let check = move || {
        let mut reasons = Vec::new();
        let status = node.status();
        let polled = ready_polled.lock_or_recover();
        match polled.last_ok {
            None => reasons.push(format!("{role}: L1 not polled successfully yet")),
            Some(at) if at.elapsed() > stale_after => reasons.push(format!(
                "{role}: L1 unreachable: last successful poll {}s ago ({})",
                at.elapsed().as_secs(),
                polled.last_error.as_deref().unwrap_or("no error recorded")
            )),
            Some(_) => {}
        }
        if status.l1_head == 0 {
            reasons.push(format!("{role}: no L1 block seen yet"));
        } else {
            let lag = status.l1_head.saturating_sub(status.l1_anchor);
            if lag > MAX_LAG_BLOCKS {
                reasons.push(format!(
                    "{role}: derivation lag {lag} L1 blocks (L1 head {}, L2 head {} anchored at {}) exceeds {MAX_LAG_BLOCKS}",
                    status.l1_head, status.unsafe_head, status.l1_anchor
                ));
            }
        }
        if let Some(account) = submitter {
            match polled.balance {
                None => reasons.push(format!("{role}: balance of submitter {account} unknown")),
                Some(b) if b < U256::from(MIN_SUBMITTER_BALANCE_WEI) => reasons
                    .push(format!("{role}: submitter {account} has {b} wei on L1, below {MIN_SUBMITTER_BALANCE_WEI}")),
                Some(_) => {}
            }
        }
        if let Some(halted) = &status.halted {
            reasons.push(format!("{role}: posting halted: {halted}"));
        }
        reasons
    };
    let ready_check = Arc::new(check);
    let gauge_check = ready_check.clone();
    ops.ready_when(move || ready_check());
    ops.on_scrape(move || {
        gauge!(names::READY, "node" => role).set(if gauge_check().is_empty() { 1.0 } else { 0.0 });
    });

    // The L1 poller.
    let rollup = config.l1.rollup;
    let mut stop = stop;
    Ok(tokio::spawn(async move {
        loop {
            let result = client.block_number().await;
            {
                let mut p = polled.lock_or_recover();
                match result {
                    Ok(_) => {
                        p.last_ok = Some(Instant::now());
                        gauge!(names::L1_LAST_POLL, "node" => role).set(unix_now());
                    }
                    Err(e) => p.last_error = Some(e.to_string()),
                }
            }
            if let Some(account) = submitter
                && let Ok(balance) = client.balance(account, alloy_eips::BlockNumberOrTag::Latest).await
            {
                gauge!(names::SUBMITTER_BALANCE).set(f64::from(balance));
                polled.lock_or_recover().balance = Some(balance);
            }
            if polled.lock_or_recover().window.is_none() {
                let call = nrd_bridge::NativeRollup::forcedInclusionWindowCall {};
                if let Ok(window) = client.view_call(rollup, &call, alloy_eips::BlockNumberOrTag::Latest).await {
                    polled.lock_or_recover().window = Some(window);
                }
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                () = tokio::time::sleep(poll) => {}
            }
        }
    }))
}
