//! JSON-RPC metrics: a jsonrpsee RPC middleware (`RpcServiceBuilder` layer) counting calls,
//! errors and latency per method (`nrd_rpc_*`, see `docs/metrics.md`). Methods the server does
//! not serve are counted as `other`, so clients cannot grow the label set.

use jsonrpsee::{
    core::middleware::{Batch, BatchEntry, Notification, RpcServiceT},
    server::MethodResponse,
    types::Request,
};
use std::{collections::HashSet, future::Future, sync::Arc, time::Instant};

/// The middleware around one connection's RPC service.
#[derive(Debug, Clone)]
pub(crate) struct RpcMetrics<S> {
    pub(crate) service: S,
    pub(crate) server: &'static str,
    pub(crate) methods: Arc<HashSet<String>>,
}

fn label<'m>(methods: &HashSet<String>, method: &'m str) -> &'m str {
    if methods.contains(method) { method } else { "other" }
}

impl<S> RpcServiceT for RpcMetrics<S>
where
    S: RpcServiceT<MethodResponse = MethodResponse> + Send + Sync + Clone + 'static,
{
    type MethodResponse = S::MethodResponse;
    type NotificationResponse = S::NotificationResponse;
    type BatchResponse = S::BatchResponse;

    fn call<'a>(&self, request: Request<'a>) -> impl Future<Output = Self::MethodResponse> + Send + 'a {
        let method = label(&self.methods, request.method_name()).to_owned();
        let (service, server) = (self.service.clone(), self.server);
        async move {
            let started = Instant::now();
            let response = service.call(request).await;
            nrd_metrics::rpc_call(server, &method, response.is_error(), started.elapsed().as_secs_f64());
            response
        }
    }

    fn batch<'a>(&self, batch: Batch<'a>) -> impl Future<Output = Self::BatchResponse> + Send + 'a {
        // Calls inside a batch do not pass through `call`: count them here (errors and latency
        // are the batch's, recorded under `batch`).
        for entry in batch.iter().flatten() {
            if let BatchEntry::Call(request) = entry {
                let method = label(&self.methods, request.method_name());
                nrd_metrics::metrics::counter!(
                    nrd_metrics::names::RPC_REQUESTS, "server" => self.server, "method" => method.to_owned()
                )
                .increment(1);
            }
        }
        let (service, server) = (self.service.clone(), self.server);
        async move {
            let started = Instant::now();
            let response = service.batch(batch).await;
            nrd_metrics::metrics::histogram!(
                nrd_metrics::names::RPC_LATENCY, "server" => server, "method" => "batch"
            )
            .record(started.elapsed().as_secs_f64());
            response
        }
    }

    fn notification<'a>(&self, n: Notification<'a>) -> impl Future<Output = Self::NotificationResponse> + Send + 'a {
        self.service.notification(n)
    }
}
