//! # nrd-metrics
//!
//! nrd's operator surface: Prometheus metrics (the [`metrics`] facade, rendered by
//! `metrics-exporter-prometheus`'s recorder handle) and the health endpoints, on one small axum
//! server:
//!
//! - `GET /metrics` — every `nrd_*` metric in the Prometheus text format (`docs/metrics.md`);
//! - `GET /health` — 200 while the process is up;
//! - `GET /ready` — 200 when every registered readiness check passes, else 503 with a JSON body
//!   `{"ready": false, "reasons": [...]}` naming what is not ready.
//!
//! A separate crate (not a module of `nrd-rpc`) because the sequencer, the node and the RPC
//! server all record metrics and none should depend on another for it; this crate depends on
//! nothing of nrd. Metric names live in [`names`]; the helpers below keep the instrumented sites
//! to one line. Without [`install`] (unit tests, benches) recording is a no-op.

use axum::{Router, extract::State, http::StatusCode, response::IntoResponse, routing::get};
pub use metrics;
use metrics::{Unit, counter, describe_counter, describe_gauge, describe_histogram, gauge, histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::{
    net::SocketAddr,
    sync::{Arc, OnceLock},
};

/// Default listen address of the metrics/health server.
pub const DEFAULT_ADDR: &str = "127.0.0.1:9001";

/// Metric names (all `nrd_`-prefixed; see `docs/metrics.md`).
pub mod names {
    /// Gauge, `node`: newest L1 block the node has seen.
    pub const L1_HEAD: &str = "nrd_l1_head";
    /// Gauge, `node`: L1 block the L2 head's anchor references.
    pub const L2_L1_ANCHOR: &str = "nrd_l2_l1_anchor";
    /// Gauge, `node`: L2 unsafe head.
    pub const L2_HEAD: &str = "nrd_l2_head";
    /// Gauge, `node`: L2 safe head (posted and verified on L1).
    pub const L2_SAFE_HEAD: &str = "nrd_l2_safe_head";
    /// Gauge, `node`: L2 finalized head.
    pub const L2_FINALIZED_HEAD: &str = "nrd_l2_finalized_head";
    /// Counter: L2 blocks sealed by the sequencer.
    pub const BLOCKS_SEALED: &str = "nrd_blocks_sealed_total";
    /// Histogram: transactions per sealed block.
    pub const BLOCK_TRANSACTIONS: &str = "nrd_block_transactions";
    /// Histogram: witness bytes per sealed block.
    pub const BLOCK_WITNESS_BYTES: &str = "nrd_block_witness_bytes";
    /// Counter: state trie node references a block added (new nodes written).
    pub const STATE_NODES_CREATED: &str = "nrd_state_trie_nodes_created_total";
    /// Counter: state trie node references a block dropped.
    pub const STATE_NODES_DROPPED: &str = "nrd_state_trie_nodes_dropped_total";
    /// Counter: state trie nodes deleted by pruning (no state in the history window needs them).
    pub const STATE_NODES_PRUNED: &str = "nrd_state_trie_nodes_pruned_total";
    /// Gauge: the oldest L2 block whose state is still readable.
    pub const STATE_HISTORY_FROM: &str = "nrd_state_history_from";
    /// Counter: L2 blocks whose bodies, receipts and transaction index entries were pruned.
    pub const BLOCK_BODIES_PRUNED: &str = "nrd_block_bodies_pruned_total";
    /// Gauge: the oldest L2 block whose body and receipts are still readable.
    pub const BLOCK_BODIES_FROM: &str = "nrd_block_bodies_from";
    /// Gauge: transactions in the sequencer's pool.
    pub const MEMPOOL_SIZE: &str = "nrd_mempool_transactions";
    /// Counter, `reason`: transactions the pool refused.
    pub const POOL_REJECTIONS: &str = "nrd_pool_rejections_total";
    /// Counter, `mode`: `advance` transactions sent to L1 (resubmissions included).
    pub const BATCHES_POSTED: &str = "nrd_batches_posted_total";
    /// Counter: batches included and verified by EXECUTE on L1.
    pub const BATCHES_VERIFIED: &str = "nrd_batches_verified_total";
    /// Counter: batches L1 refused (the submitter halts).
    pub const BATCHES_REFUSED: &str = "nrd_batches_refused_total";
    /// Histogram: L1 gas used by a verified batch.
    pub const BATCH_L1_GAS: &str = "nrd_batch_l1_gas";
    /// Histogram: EXECUTE (L2) gas of a verified batch.
    pub const BATCH_EXECUTE_GAS: &str = "nrd_batch_execute_gas";
    /// Histogram: L2 blocks per posted batch.
    pub const BATCH_BLOCKS: &str = "nrd_batch_blocks";
    /// Histogram, `cause`: how long a batch waited for more blocks before it was sent.
    pub const BATCH_DELAY: &str = "nrd_batch_delay_seconds";
    /// Counter: blobs posted.
    pub const BLOBS_POSTED: &str = "nrd_blobs_posted_total";
    /// Counter: bytes of the posted blob transactions (network encoding, sidecar included) or
    /// calldata transactions.
    pub const BATCH_BYTES: &str = "nrd_batch_bytes_total";
    /// Counter: blob bytes posted (131072 per blob).
    pub const BLOB_BYTES: &str = "nrd_blob_bytes_total";
    /// Gauge, `node`: L1 head − L1 block of the L2 head's anchor.
    pub const DERIVATION_LAG_BLOCKS: &str = "nrd_derivation_lag_blocks";
    /// Gauge, `node`: wall clock − timestamp of the L2 head.
    pub const DERIVATION_LAG_SECONDS: &str = "nrd_derivation_lag_seconds";
    /// Gauge, `node`: L1 messages enqueued, not yet applied on L2.
    pub const PENDING_MESSAGES: &str = "nrd_l1_messages_pending";
    /// Gauge, `node`: pending L1 messages older than the forced-inclusion window.
    pub const OVERDUE_MESSAGES: &str = "nrd_l1_messages_overdue";
    /// Counter, `node`: L1 reorgs seen.
    pub const REORGS: &str = "nrd_l1_reorgs_total";
    /// Histogram, `node`: depth of L1 reorgs (blocks dropped).
    pub const REORG_DEPTH: &str = "nrd_l1_reorg_depth";
    /// Counter, `node`: blocks posted on L1 that differ from ours or fail to import (must stay 0).
    pub const ROOT_MISMATCHES: &str = "nrd_follower_root_mismatches_total";
    /// Counter, `node`: blocks of ours, not yet posted, dropped for blocks another party posted.
    pub const BLOCKS_REPLACED: &str = "nrd_l2_blocks_replaced_total";
    /// Counter, `server`, `method`: JSON-RPC calls.
    pub const RPC_REQUESTS: &str = "nrd_rpc_requests_total";
    /// Counter, `server`, `method`: JSON-RPC calls answered with an error.
    pub const RPC_ERRORS: &str = "nrd_rpc_errors_total";
    /// Histogram, `server`, `method`: JSON-RPC call latency.
    pub const RPC_LATENCY: &str = "nrd_rpc_request_duration_seconds";
    /// Gauge, `node`: Unix time of the last successful L1 poll.
    pub const L1_LAST_POLL: &str = "nrd_l1_last_poll_timestamp_seconds";
    /// Gauge: L1 balance of the submitter's account, in wei.
    pub const SUBMITTER_BALANCE: &str = "nrd_submitter_balance_wei";
    /// Counter, `limit`: L2 blocks the sequencer refused to seal because no `advance` could post
    /// them even without transactions.
    pub const BLOCKS_UNPOSTABLE: &str = "nrd_blocks_unpostable_total";
    /// Counter: L2 blocks the sequencer built again with fewer transactions to fit one `advance`.
    pub const BLOCKS_SHRUNK: &str = "nrd_blocks_shrunk_total";
    /// Counter, `reason`: temporary refusals of a batch the submitter retries.
    pub const SUBMITTER_RETRIES: &str = "nrd_submitter_retries_total";
    /// Counter: fee bumps (or base fees) that reached the submitter's fee cap.
    pub const SUBMITTER_FEE_CAPPED: &str = "nrd_submitter_fee_capped_total";
    /// Gauge: 1 when the submitter has halted (L1 refused a batch).
    pub const SUBMITTER_HALTED: &str = "nrd_submitter_halted";
    /// Gauge, `node`: 1 when `/ready` would answer 200.
    pub const READY: &str = "nrd_ready";
    /// Gauge (the L1 devnet): EXECUTE base fee of the L1 head, wei per L2 gas.
    pub const EXECUTE_BASE_FEE: &str = "nrd_execute_base_fee_wei";
    /// Gauge (the L1 devnet): EXECUTE gas used in the L1 head block.
    pub const EXECUTE_GAS_USED: &str = "nrd_execute_gas_used";
    /// Gauge (the L1 devnet): EXECUTE gas target per L1 block.
    pub const EXECUTE_GAS_TARGET: &str = "nrd_execute_gas_target";
    /// Gauge (the L1 devnet): EXECUTE gas limit per L1 block.
    pub const EXECUTE_GAS_LIMIT: &str = "nrd_execute_gas_limit";
}

use names::*;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const GAS_BUCKETS: &[f64] = &[21_000.0, 100_000.0, 250_000.0, 500_000.0, 1e6, 2e6, 4e6, 8e6, 15e6, 30e6, 60e6];
const BYTES_BUCKETS: &[f64] = &[1024.0, 4096.0, 16384.0, 65536.0, 262_144.0, 1_048_576.0, 4_194_304.0, 16_777_216.0];
const COUNT_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
const DELAY_BUCKETS: &[f64] = &[0.0, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0];
const SECONDS_BUCKETS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0];

/// Installs the process-wide Prometheus recorder (once; later calls return the same handle)
/// and describes every metric.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let buckets: [(&str, &[f64]); 8] = [
                (BATCH_DELAY, DELAY_BUCKETS),
                (BLOCK_TRANSACTIONS, COUNT_BUCKETS),
                (BLOCK_WITNESS_BYTES, BYTES_BUCKETS),
                (BATCH_L1_GAS, GAS_BUCKETS),
                (BATCH_EXECUTE_GAS, GAS_BUCKETS),
                (BATCH_BLOCKS, COUNT_BUCKETS),
                (REORG_DEPTH, COUNT_BUCKETS),
                (RPC_LATENCY, SECONDS_BUCKETS),
            ];
            let mut builder = PrometheusBuilder::new();
            for (name, values) in buckets {
                builder = match builder.set_buckets_for_metric(Matcher::Full(name.into()), values) {
                    Ok(b) => b,
                    Err(_) => unreachable!("bucket lists are not empty"),
                };
            }
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if let Err(e) = metrics::set_global_recorder(recorder) {
                tracing::warn!(target: "nrd::metrics", "another metrics recorder is installed: {e}");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    describe_gauge!(L1_HEAD, "Newest L1 block the node has seen");
    describe_counter!(STATE_NODES_CREATED, "State trie node references added by L2 blocks (nodes written)");
    describe_counter!(STATE_NODES_DROPPED, "State trie node references dropped by L2 blocks");
    describe_counter!(STATE_NODES_PRUNED, "State trie nodes deleted once no state in the history window needs them");
    describe_gauge!(STATE_HISTORY_FROM, "Oldest L2 block whose state is still readable");
    describe_counter!(
        BLOCK_BODIES_PRUNED,
        "L2 blocks whose bodies, receipts and transaction index entries were pruned"
    );
    describe_gauge!(BLOCK_BODIES_FROM, "Oldest L2 block whose body and receipts are still readable");
    describe_gauge!(EXECUTE_BASE_FEE, "EXECUTE base fee of the L1 head block, wei per L2 gas");
    describe_gauge!(EXECUTE_GAS_USED, "EXECUTE gas used in the L1 head block");
    describe_gauge!(EXECUTE_GAS_TARGET, "EXECUTE gas target per L1 block");
    describe_gauge!(EXECUTE_GAS_LIMIT, "EXECUTE gas limit per L1 block");
    describe_gauge!(L2_L1_ANCHOR, "L1 block referenced by the L2 head's anchor");
    describe_gauge!(L2_HEAD, "L2 unsafe head (newest L2 block)");
    describe_gauge!(L2_SAFE_HEAD, "L2 safe head (newest L2 block posted and verified on L1)");
    describe_gauge!(L2_FINALIZED_HEAD, "L2 finalized head (posted in a finalized L1 block)");
    describe_counter!(BLOCKS_SEALED, "L2 blocks sealed by the sequencer");
    describe_histogram!(BLOCK_TRANSACTIONS, "Transactions per sealed L2 block");
    describe_histogram!(BLOCK_WITNESS_BYTES, Unit::Bytes, "Witness bytes per sealed L2 block");
    describe_gauge!(MEMPOOL_SIZE, "Transactions in the sequencer's pool");
    describe_counter!(POOL_REJECTIONS, "Transactions the sequencer's pool refused, by reason");
    describe_counter!(BATCHES_POSTED, "advance transactions sent to L1 (resubmissions included)");
    describe_counter!(BATCHES_VERIFIED, "Batches included on L1 and verified by EXECUTE");
    describe_counter!(BATCHES_REFUSED, "Batches L1 refused (the submitter halts)");
    describe_histogram!(BATCH_L1_GAS, "L1 gas used by a verified batch");
    describe_histogram!(BATCH_EXECUTE_GAS, "EXECUTE (L2) gas of a verified batch");
    describe_histogram!(BATCH_BLOCKS, "L2 blocks per posted batch");
    describe_histogram!(
        BATCH_DELAY,
        "seconds a batch waited for more blocks before it was sent (cause: full or delay)"
    );
    describe_counter!(BLOBS_POSTED, "Blobs posted to L1");
    describe_counter!(BLOB_BYTES, Unit::Bytes, "Blob bytes posted to L1 (131072 per blob)");
    describe_counter!(BATCH_BYTES, Unit::Bytes, "Bytes of the advance transactions sent to L1");
    describe_gauge!(DERIVATION_LAG_BLOCKS, "L1 head minus the L1 block of the L2 head's anchor");
    describe_gauge!(DERIVATION_LAG_SECONDS, Unit::Seconds, "Wall clock minus the L2 head's timestamp");
    describe_gauge!(PENDING_MESSAGES, "L1 messages enqueued and not yet applied on L2");
    describe_gauge!(OVERDUE_MESSAGES, "Pending L1 messages older than the forced-inclusion window");
    describe_counter!(REORGS, "L1 reorgs seen");
    describe_histogram!(REORG_DEPTH, "Depth of L1 reorgs in blocks");
    describe_counter!(ROOT_MISMATCHES, "L2 blocks posted on L1 that differ from ours or fail to import (must be 0)");
    describe_counter!(BLOCKS_REPLACED, "Unposted L2 blocks of ours dropped for blocks another party posted on L1");
    describe_counter!(RPC_REQUESTS, "JSON-RPC calls, by server and method");
    describe_counter!(RPC_ERRORS, "JSON-RPC calls answered with an error, by server and method");
    describe_histogram!(RPC_LATENCY, Unit::Seconds, "JSON-RPC call latency, by server and method");
    describe_gauge!(L1_LAST_POLL, Unit::Seconds, "Unix time of the last successful L1 poll");
    describe_gauge!(SUBMITTER_BALANCE, "L1 balance of the batch submitter's account in wei");
    describe_counter!(BLOCKS_UNPOSTABLE, "L2 blocks not sealed because no advance could post them, by the limit");
    describe_counter!(BLOCKS_SHRUNK, "L2 blocks built again with fewer transactions to fit one advance");
    describe_counter!(SUBMITTER_RETRIES, "Temporary refusals of a batch that the submitter retries, by reason");
    describe_counter!(SUBMITTER_FEE_CAPPED, "Times the submitter's fee reached sequencer.max_fee_per_gas");
    describe_gauge!(SUBMITTER_HALTED, "1 when the submitter halted because L1 refused a batch");
    describe_gauge!(READY, "1 when the node is ready (GET /ready answers 200)");
}

// ---- one-line helpers for the instrumented sites -------------------------------------------

/// A block was sealed with `txs` transactions and a witness of `witness_bytes`.
pub fn block_sealed(txs: usize, witness_bytes: usize) {
    counter!(BLOCKS_SEALED).increment(1);
    histogram!(BLOCK_TRANSACTIONS).record(txs as f64);
    histogram!(BLOCK_WITNESS_BYTES).record(witness_bytes as f64);
}

/// A block added `created` and dropped `dropped` state trie node references.
pub fn state_nodes_written(created: usize, dropped: usize) {
    counter!(STATE_NODES_CREATED).increment(created as u64);
    counter!(STATE_NODES_DROPPED).increment(dropped as u64);
}

/// Pruning deleted `deleted` state trie nodes (the history start is a gauge of
/// [`NodeGauges`], read at scrape time).
pub fn state_pruned(deleted: u64) {
    counter!(STATE_NODES_PRUNED).increment(deleted);
}

/// Pruning dropped the bodies of `blocks` blocks.
pub fn bodies_pruned(blocks: u64) {
    counter!(BLOCK_BODIES_PRUNED).increment(blocks);
}

/// The pool refused a transaction for `reason` (a short label).
pub fn pool_rejected(reason: &'static str) {
    counter!(POOL_REJECTIONS, "reason" => reason).increment(1);
}

/// An `advance` transaction of `blocks` L2 blocks, `bytes` long with `blobs` blobs, was sent.
pub fn batch_posted(mode: &'static str, blocks: u64, blobs: usize, bytes: usize) {
    counter!(BATCHES_POSTED, "mode" => mode).increment(1);
    histogram!(BATCH_BLOCKS).record(blocks as f64);
    counter!(BLOBS_POSTED).increment(blobs as u64);
    counter!(BLOB_BYTES).increment(blobs as u64 * 131_072);
    counter!(BATCH_BYTES).increment(bytes as u64);
}

/// A batch was included and verified on L1.
pub fn batch_verified(l1_gas: u64, execute_gas: u64) {
    counter!(BATCHES_VERIFIED).increment(1);
    histogram!(BATCH_L1_GAS).record(l1_gas as f64);
    histogram!(BATCH_EXECUTE_GAS).record(execute_gas as f64);
}

/// A batch is sent after waiting `age_seconds` for more blocks, because it was `full` (one more
/// block would not fit) or its delay ran out.
pub fn batch_delay(age_seconds: f64, full: bool) {
    histogram!(BATCH_DELAY, "cause" => if full { "full" } else { "delay" }).record(age_seconds);
}

/// L1 refused a batch for a critical `reason` (the submitter halts).
pub fn batch_refused(reason: &'static str) {
    counter!(BATCHES_REFUSED, "reason" => reason).increment(1);
    gauge!(SUBMITTER_HALTED).set(1.0);
}

/// The producer refused to seal a block no `advance` could post (`limit`: the one it overran).
pub fn block_unpostable(limit: &'static str) {
    counter!(BLOCKS_UNPOSTABLE, "limit" => limit).increment(1);
}

/// The producer built a block again with fewer transactions so one `advance` can post it.
pub fn block_shrunk() {
    counter!(BLOCKS_SHRUNK).increment(1);
}

/// The submitter retries a batch L1 refused for a temporary `reason`.
pub fn submitter_retry(reason: &'static str) {
    counter!(SUBMITTER_RETRIES, "reason" => reason).increment(1);
}

/// The submitter's fee reached its cap.
pub fn submitter_fee_capped() {
    counter!(SUBMITTER_FEE_CAPPED).increment(1);
}

/// `node` saw an L1 reorg dropping `depth` blocks.
pub fn reorg(node: &'static str, depth: u64) {
    counter!(REORGS, "node" => node).increment(1);
    histogram!(REORG_DEPTH, "node" => node).record(depth as f64);
}

/// A block posted on L1 differs from `node`'s or fails to import there.
pub fn root_mismatch(node: &'static str) {
    counter!(ROOT_MISMATCHES, "node" => node).increment(1);
}

/// `count` unposted blocks of ours were dropped for blocks another party posted on L1.
pub fn blocks_replaced(node: &'static str, count: usize) {
    counter!(BLOCKS_REPLACED, "node" => node).increment(count as u64);
}

/// Registers the zero of counters that must be visible before anything happens (alerts on
/// `increase()` need the series).
pub fn register_node(node: &'static str) {
    counter!(ROOT_MISMATCHES, "node" => node).absolute(0);
    counter!(REORGS, "node" => node).absolute(0);
}

/// A JSON-RPC call to `server` finished.
pub fn rpc_call(server: &'static str, method: &str, error: bool, seconds: f64) {
    let method = method.to_owned();
    counter!(RPC_REQUESTS, "server" => server, "method" => method.clone()).increment(1);
    if error {
        counter!(RPC_ERRORS, "server" => server, "method" => method.clone()).increment(1);
    }
    histogram!(RPC_LATENCY, "server" => server, "method" => method).record(seconds);
}

/// What a node reports at each scrape (gauges computed from its status).
#[derive(Debug, Clone, Copy, Default)]
pub struct NodeGauges {
    /// Newest L1 block seen.
    pub l1_head: u64,
    /// L1 block of the L2 head's anchor.
    pub l1_anchor: u64,
    /// L2 heads.
    pub unsafe_head: u64,
    /// Safe head.
    pub safe_head: u64,
    /// Finalized head.
    pub finalized_head: u64,
    /// Seconds since the L2 head's timestamp.
    pub lag_seconds: f64,
    /// Pending L1 messages.
    pub pending_messages: u64,
    /// Overdue L1 messages.
    pub overdue_messages: u64,
    /// Pool size (sequencer).
    pub pool_size: Option<usize>,
    /// Oldest L2 block whose state is kept.
    pub history_from: u64,
    /// Oldest L2 block whose body is kept.
    pub bodies_from: u64,
}

impl NodeGauges {
    /// L1 head − anchor of the L2 head.
    pub fn lag_blocks(&self) -> u64 {
        self.l1_head.saturating_sub(self.l1_anchor)
    }

    /// Sets the gauges of `node`.
    pub fn record(&self, node: &'static str) {
        gauge!(L1_HEAD, "node" => node).set(self.l1_head as f64);
        gauge!(L2_L1_ANCHOR, "node" => node).set(self.l1_anchor as f64);
        gauge!(L2_HEAD, "node" => node).set(self.unsafe_head as f64);
        gauge!(L2_SAFE_HEAD, "node" => node).set(self.safe_head as f64);
        gauge!(L2_FINALIZED_HEAD, "node" => node).set(self.finalized_head as f64);
        gauge!(DERIVATION_LAG_BLOCKS, "node" => node).set(self.lag_blocks() as f64);
        gauge!(DERIVATION_LAG_SECONDS, "node" => node).set(self.lag_seconds);
        gauge!(PENDING_MESSAGES, "node" => node).set(self.pending_messages as f64);
        gauge!(OVERDUE_MESSAGES, "node" => node).set(self.overdue_messages as f64);
        gauge!(STATE_HISTORY_FROM, "node" => node).set(self.history_from as f64);
        gauge!(BLOCK_BODIES_FROM, "node" => node).set(self.bodies_from as f64);
        if let Some(size) = self.pool_size {
            gauge!(MEMPOOL_SIZE).set(size as f64);
        }
    }
}

// ---- the server ----------------------------------------------------------------------------

/// Updates gauges right before a scrape.
pub type Refresh = Arc<dyn Fn() + Send + Sync>;
/// A readiness check: the reasons it is not ready (empty when ready).
pub type ReadyCheck = Arc<dyn Fn() -> Vec<String> + Send + Sync>;

/// What the server asks the process at each request.
#[derive(Clone, Default)]
pub struct Ops {
    refresh: Vec<Refresh>,
    ready: Vec<ReadyCheck>,
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ops").field("refresh", &self.refresh.len()).field("ready", &self.ready.len()).finish()
    }
}

impl Ops {
    /// Runs `f` before every scrape of `/metrics`.
    pub fn on_scrape(&mut self, f: impl Fn() + Send + Sync + 'static) {
        self.refresh.push(Arc::new(f));
    }

    /// Adds a readiness check (`/ready` is 200 only when every check returns no reason).
    pub fn ready_when(&mut self, f: impl Fn() -> Vec<String> + Send + Sync + 'static) {
        self.ready.push(Arc::new(f));
    }

    /// Every reason the process is not ready.
    pub fn not_ready(&self) -> Vec<String> {
        self.ready.iter().flat_map(|check| check()).collect()
    }
}

#[derive(Clone)]
struct AppState {
    handle: PrometheusHandle,
    ops: Ops,
}

async fn metrics_route(State(state): State<AppState>) -> impl IntoResponse {
    for refresh in &state.ops.refresh {
        refresh();
    }
    state.handle.run_upkeep();
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.handle.render())
}

async fn health_route() -> impl IntoResponse {
    (StatusCode::OK, axum::Json(serde_json::json!({ "status": "up" })))
}

async fn ready_route(State(state): State<AppState>) -> impl IntoResponse {
    let reasons = state.ops.not_ready();
    let code = if reasons.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, axum::Json(serde_json::json!({ "ready": reasons.is_empty(), "reasons": reasons })))
}

/// The router: `/metrics`, `/health`, `/ready`.
pub fn router(ops: Ops) -> Router {
    let state = AppState { handle: install(), ops };
    Router::new()
        .route("/metrics", get(metrics_route))
        .route("/health", get(health_route))
        .route("/ready", get(ready_route))
        .with_state(state)
}

/// Installs the recorder and serves [`router`] on `addr` until `shutdown`; returns the bound
/// address.
pub async fn serve(
    addr: SocketAddr,
    ops: Ops,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    let app = router(ops);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown).await {
            tracing::error!(target: "nrd::metrics", "metrics server stopped: {e}");
        }
    });
    tracing::info!(target: "nrd::metrics", addr = %format!("http://{bound}/metrics"), "metrics, /health and /ready");
    Ok(bound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_described_metrics() {
        let handle = install();
        block_sealed(3, 1000);
        pool_rejected("nonce_too_low");
        rpc_call("l2", "eth_chainId", false, 0.001);
        NodeGauges { l1_head: 10, l1_anchor: 8, unsafe_head: 5, ..Default::default() }.record("sequencer");
        let text = handle.render();
        assert!(text.contains("# HELP nrd_blocks_sealed_total"), "{text}");
        assert!(text.contains("nrd_blocks_sealed_total 1"), "{text}");
        assert!(text.contains("nrd_pool_rejections_total{reason=\"nonce_too_low\"} 1"), "{text}");
        assert!(text.contains("nrd_derivation_lag_blocks{node=\"sequencer\"} 2"), "{text}");
        assert!(text.contains("nrd_block_transactions_bucket"), "{text}");
    }

    #[test]
    fn ready_collects_reasons() {
        let mut ops = Ops::default();
        ops.ready_when(Vec::new);
        assert!(ops.not_ready().is_empty());
        ops.ready_when(|| vec!["L1 not reachable".into()]);
        assert_eq!(ops.not_ready(), vec!["L1 not reachable".to_string()]);
    }
}
