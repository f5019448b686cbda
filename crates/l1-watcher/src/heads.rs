//! What wakes a caught-up [`crate::L1Watcher`]: a timer (polling) or L1's own `newHeads`
//! notifications over a WebSocket subscription, with polling as the fallback while the
//! subscription is down.

use crate::WatcherError;
use futures_util::FutureExt as _;
use jsonrpsee::{
    core::client::{Subscription, SubscriptionClientT, SubscriptionCloseReason},
    rpc_params,
    ws_client::{PingConfig, WsClient, WsClientBuilder},
};
use std::{fmt, time::Duration};
use tokio::{task::JoinHandle, time::Instant};

/// How long a watcher waits before reopening a head subscription that failed or dropped, by
/// default ([`HeadSource::ws`]).
pub const DEFAULT_WS_RETRY: Duration = Duration::from_secs(5);

/// What wakes an [`crate::L1Watcher`] that is caught up, to look for new blocks. Either way
/// blocks, logs and receipts are read through the [`nrd_l1_client::L1Provider`], with the same
/// confirmations and reorg detection: the head source only replaces the sleep between looks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum HeadSource {
    /// Sleep `poll_interval` between looks.
    #[default]
    Poll,
    /// `eth_subscribe("newHeads")` over WebSocket: each new head wakes the watcher (and at the
    /// latest `poll_interval` after its last look, as when polling). While the subscription
    /// cannot be opened or after it dropped, the watcher polls and reopens it every `retry`.
    Subscribe {
        /// The node's WebSocket JSON-RPC endpoint, e.g. `ws://127.0.0.1:8546`.
        url: String,
        /// Delay before reopening a subscription that failed or dropped.
        retry: Duration,
    },
}

impl HeadSource {
    /// Subscription at `url`, reopened after [`DEFAULT_WS_RETRY`] when it fails.
    pub fn ws(url: impl Into<String>) -> Self {
        Self::Subscribe { url: url.into(), retry: DEFAULT_WS_RETRY }
    }

    /// The WebSocket URL, when subscribing.
    pub fn ws_url(&self) -> Option<&str> {
        match self {
            Self::Poll => None,
            Self::Subscribe { url, .. } => Some(url),
        }
    }
}

/// An open `newHeads` subscription and the connection it lives on (dropping the client ends
/// the subscription).
struct Subscribed {
    _client: WsClient,
    heads: Subscription<serde_json::Value>,
}

/// Where the subscription stands.
enum State {
    /// Not open: (re)open it at the next wait from `retry_at` on (`None`: at once).
    Down { retry_at: Option<Instant> },
    /// Being opened in a task, so that a slow endpoint does not hold up polling.
    Opening(JoinHandle<Result<Subscribed, WatcherError>>),
    /// Open.
    Up(Subscribed),
}

/// The head source's state: the subscription, and why it last failed.
pub(crate) struct Heads {
    source: HeadSource,
    /// Timeout of opening the connection and of the `eth_subscribe` call.
    timeout: Duration,
    state: State,
    last_error: Option<WatcherError>,
}

impl fmt::Debug for Heads {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Down { retry_at } => format!("down (retry at {retry_at:?})"),
            State::Opening(_) => "opening".into(),
            State::Up(_) => "subscribed".into(),
        };
        f.debug_struct("Heads")
            .field("source", &self.source)
            .field("state", &state)
            .field("last_error", &self.last_error)
            .finish()
    }
}

impl Drop for Heads {
    fn drop(&mut self) {
        if let State::Opening(task) = &self.state {
            task.abort();
        }
    }
}

impl Heads {
    pub(crate) const fn new(source: HeadSource, timeout: Duration) -> Self {
        Self { source, timeout, state: State::Down { retry_at: None }, last_error: None }
    }

    pub(crate) const fn source(&self) -> &HeadSource {
        &self.source
    }

    pub(crate) const fn subscribed(&self) -> bool {
        matches!(self.state, State::Up(_))
    }

    pub(crate) const fn last_error(&self) -> Option<&WatcherError> {
        self.last_error.as_ref()
    }

    /// Returns when a new head may be there: after `poll_interval` at the latest, at a head
    /// notification or right after the subscription opened or dropped (heads may have come
    /// meanwhile). Never fails: subscription trouble is logged, kept in [`Self::last_error`]
    /// and answered by polling. Cancel safe (at worst a notification is consumed, and the
    /// caller looks again anyway).
    pub(crate) async fn wait(&mut self, poll_interval: Duration) {
        let HeadSource::Subscribe { url, retry } = &self.source else {
            tokio::time::sleep(poll_interval).await;
            return;
        };
        let (url, retry) = (url.clone(), *retry);
        let deadline = after(poll_interval);
        if let State::Down { retry_at } = self.state {
            if let Some(at) = retry_at.filter(|at| *at > Instant::now()) {
                // Polling until the subscription is due again.
                tokio::time::sleep_until(deadline.min(at)).await;
                return;
            }
            self.state = State::Opening(tokio::spawn(subscribe(url.clone(), self.timeout)));
        }
        match &mut self.state {
            State::Down { .. } => {}
            State::Opening(task) => {
                let opened = tokio::select! {
                    opened = task => opened,
                    // Still opening: look meanwhile.
                    () = tokio::time::sleep_until(deadline) => return,
                };
                match opened.unwrap_or_else(|e| {
                    Err(WatcherError::Subscription {
                        endpoint: url.clone(),
                        reason: format!("subscribing task: {e}"),
                        source: None,
                    })
                }) {
                    Ok(subscribed) => {
                        tracing::info!(target: "nrd::l1_watcher", %url, "following L1 heads over a WebSocket subscription");
                        self.state = State::Up(subscribed);
                        self.last_error = None;
                        // A head may have come between the caller's last look and the
                        // subscription: the caller looks once more before waiting on it.
                    }
                    Err(e) => {
                        let retry_at = self.down(e, poll_interval, retry);
                        tokio::time::sleep_until(deadline.min(retry_at)).await;
                    }
                }
            }
            State::Up(subscribed) => {
                if let Some(reason) = next_head(subscribed, deadline).await {
                    let e = WatcherError::subscription_closed(&url, reason);
                    self.down(e, poll_interval, retry);
                    // Heads may have been missed while the connection went down: the caller
                    // looks.
                }
            }
        }
    }

    /// The subscription failed with `e`: polling until it is retried (when it returns). A
    /// warning, unless it failed the same way last time.
    fn down(&mut self, e: WatcherError, poll_interval: Duration, retry: Duration) -> Instant {
        if self.last_error.as_ref().is_some_and(|last| last.to_string() == e.to_string()) {
            tracing::debug!(target: "nrd::l1_watcher", "{e}; still polling, retrying the subscription in {retry:?}");
        } else {
            tracing::warn!(
                target: "nrd::l1_watcher",
                "{e}; polling L1 every {poll_interval:?}, retrying the subscription in {retry:?}"
            );
        }
        let retry_at = after(retry);
        self.state = State::Down { retry_at: Some(retry_at) };
        self.last_error = Some(e);
        retry_at
    }
}

/// Waits for a head notification (or takes those already queued: a head came since, or just
/// before, the caller's last look; all of them, so that stale ones do not cause a look each),
/// until `deadline`. Why the subscription closed, if it did.
async fn next_head(subscribed: &mut Subscribed, deadline: Instant) -> Option<&'static str> {
    let mut woken = false;
    let mut closed = loop {
        match subscribed.heads.next().now_or_never() {
            Some(Some(notification)) => {
                note(&notification);
                woken = true;
            }
            Some(None) => break true,
            None => break false,
        }
    };
    if !woken && !closed {
        closed = tokio::select! {
            notification = subscribed.heads.next() => notification.inspect(note).is_none(),
            () = tokio::time::sleep_until(deadline) => false,
        };
    }
    closed.then(|| match subscribed.heads.close_reason() {
        Some(SubscriptionCloseReason::Lagged) => "notifications were not read in time (lagged)",
        _ => "connection closed",
    })
}

/// Opens `eth_subscribe("newHeads")` at `url`.
async fn subscribe(url: String, timeout: Duration) -> Result<Subscribed, WatcherError> {
    let failed = |e: jsonrpsee::core::ClientError| WatcherError::subscription(&url, e);
    let client = WsClientBuilder::default()
        .connection_timeout(timeout)
        .request_timeout(timeout)
        // A connection that dies silently is noticed (and polling takes over).
        .enable_ws_ping(PingConfig::new())
        .build(&url)
        .await
        .map_err(failed)?;
    let heads = client.subscribe("eth_subscribe", rpc_params!["newHeads"], "eth_unsubscribe").await.map_err(failed)?;
    Ok(Subscribed { _client: client, heads })
}

/// Logs a notification (its content does not matter: it is only a wake-up).
fn note(notification: &Result<serde_json::Value, serde_json::Error>) {
    match notification {
        Ok(head) => tracing::trace!(target: "nrd::l1_watcher", number = ?head.get("number"), "new L1 head"),
        Err(e) => tracing::debug!(target: "nrd::l1_watcher", "undecodable newHeads notification: {e}"),
    }
}

/// `delay` from now (or a time that never comes, for a delay that large).
fn after(delay: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(delay).unwrap_or_else(|| now + Duration::from_secs(30 * 365 * 86_400))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn the_ws_source_retries_by_default_and_names_its_url() {
        let source = HeadSource::ws("ws://127.0.0.1:8546");
        assert_eq!(source, HeadSource::Subscribe { url: "ws://127.0.0.1:8546".into(), retry: DEFAULT_WS_RETRY });
        assert_eq!(source.ws_url(), Some("ws://127.0.0.1:8546"));
        assert_eq!(HeadSource::default(), HeadSource::Poll);
        assert_eq!(HeadSource::Poll.ws_url(), None);
    }

    #[tokio::test]
    async fn a_subscription_that_cannot_open_is_retried_even_with_an_endless_poll_interval() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let url = format!("ws://127.0.0.1:{port}");
        let source = HeadSource::Subscribe { url: url.clone(), retry: Duration::from_millis(10) };
        let mut heads = Heads::new(source, Duration::from_secs(5));
        for _ in 0..3 {
            // Returns once the retry is due, without overflowing the endless interval.
            tokio::time::timeout(Duration::from_secs(20), heads.wait(Duration::MAX)).await.expect("back to polling");
            assert!(!heads.subscribed());
            let error = heads.last_error().expect("why");
            assert!(matches!(error, WatcherError::Subscription { endpoint, .. } if *endpoint == url), "{error}");
        }
        // Not a WebSocket URL at all: the same, and no panic.
        let mut bad =
            Heads::new(HeadSource::Subscribe { url: "nonsense".into(), retry: Duration::ZERO }, DEFAULT_WS_RETRY);
        tokio::time::timeout(Duration::from_secs(20), bad.wait(Duration::MAX)).await.expect("back to polling");
        assert!(matches!(bad.last_error(), Some(WatcherError::Subscription { .. })));
    }
}
