//! The client and the watcher against the real L1 devnet, served in process over JSON-RPC
//! (HTTP) and the beacon API on 127.0.0.1, with `NativeRollup` deployed and driven by the
//! in-process rollup harness (real EXECUTE, real KZG blobs). Watchers follow it by polling and
//! over a WebSocket `newHeads` subscription (served by the same JSON-RPC server).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_consensus::{Transaction as _, TxEip1559};
use alloy_eips::BlockNumberOrTag;
use alloy_primitives::{Address, B256, Bytes, TxKind, U64, U256};
use alloy_rpc_types_eth::TransactionRequest;
use alloy_sol_types::{SolCall, SolInterface};
use nrd_bridge::{L1Message, NativeRollup};
use nrd_chain::{Classify, Severity};
use nrd_derivation::{DaMode, PostedBlock};
use nrd_l1_client::{L1Client, L1ClientConfig, L1Error};
use nrd_l1_devnet::{serve_beacon, serve_l1};
use nrd_l1_watcher::{HeadSource, L1Block, L1Event, L1Watcher, WatcherConfig, WatcherError};
use nrd_rpc::{RpcLimits, RunningServer};
use nrd_test_utils::{raw, sign};
use nrd_testkit::{ETH, Rollup, l2_key};
use std::{collections::BTreeMap, net::SocketAddr, time::Duration};
use tokio::{
    sync::{mpsc, oneshot},
    time::timeout,
};

const POLL: Duration = Duration::from_millis(10);
const WAIT: Duration = Duration::from_secs(20);
/// A poll interval no test outlives: a watcher with it wakes only on head notifications (or to
/// retry its subscription).
const HOUR: Duration = Duration::from_secs(3600);

/// The harness's L1 served over JSON-RPC and the beacon API.
struct Served {
    rollup: Rollup,
    rpc: RunningServer,
    beacon: SocketAddr,
    _stop_beacon: oneshot::Sender<()>,
}

impl Served {
    async fn start(prefunded: &[(Address, U256)]) -> Self {
        let rollup = Rollup::new(prefunded);
        let devnet = rollup.l1.devnet.clone();
        let rpc = serve_l1(devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let beacon = serve_beacon(devnet, "127.0.0.1:0".parse().unwrap(), async move {
            let _ = stopped.await;
        })
        .await
        .unwrap();
        Self { rollup, rpc, beacon, _stop_beacon: stop }
    }

    fn client(&self) -> L1Client {
        L1Client::new(
            L1ClientConfig::new(format!("http://{}", self.rpc.addr)).with_beacon(format!("http://{}", self.beacon)),
        )
        .unwrap()
    }

    fn watcher(&self, start_block: u64, confirmations: u64) -> L1Watcher {
        self.watcher_polling(start_block, confirmations, POLL)
    }

    fn watcher_polling(&self, start_block: u64, confirmations: u64, poll_interval: Duration) -> L1Watcher {
        L1Watcher::new(self.client(), self.rollup.address, WatcherConfig { start_block, confirmations, poll_interval })
    }

    /// The WebSocket JSON-RPC endpoint (the HTTP server's address).
    fn ws_url(&self) -> String {
        format!("ws://{}", self.rpc.addr)
    }

    fn seal(&self) {
        self.rollup.l1.devnet.seal().unwrap();
    }

    fn head(&self) -> u64 {
        self.rollup.l1.devnet.head().number()
    }

    fn hash(&self, number: u64) -> B256 {
        self.rollup.l1.devnet.block(number).unwrap().hash
    }

    /// A deposit from account `from`; the block it landed in and the messages it enqueued.
    fn deposit(&mut self, from: usize, amount: u128) -> (u64, Vec<L1Message>) {
        let key = self.rollup.l1.key(from);
        let before = self.rollup.queue.len();
        let call = NativeRollup::depositCall { to: key.address(), gasLimit: 100_000, data: Bytes::new() };
        let out = self.rollup.send(&key, U256::from(amount), call);
        assert!(out.success, "deposit");
        (out.block, self.rollup.queue[before..].to_vec())
    }

    /// A deposit that bypasses the harness's queue (after a reorg the harness's queue is stale).
    fn deposit_on_new_chain(&self, from: usize, amount: u128) -> u64 {
        let key = self.rollup.l1.key(from);
        let call = NativeRollup::depositCall { to: key.address(), gasLimit: 100_000, data: Bytes::new() };
        let out =
            self.rollup.l1.send(&key, TxKind::Call(self.rollup.address), U256::from(amount), call.abi_encode().into());
        assert!(out.success, "deposit");
        out.block
    }
}

async fn next(watcher: &mut L1Watcher) -> L1Event {
    timeout(WAIT, watcher.next()).await.expect("an event in time").unwrap()
}

async fn next_block(watcher: &mut L1Watcher) -> L1Block {
    match next(watcher).await {
        L1Event::Block(b) => b,
        other => panic!("expected a block, got {other:?}"),
    }
}

/// Asserts nothing is yielded for a while.
async fn quiet(watcher: &mut L1Watcher) {
    assert!(timeout(Duration::from_millis(300), watcher.next()).await.is_err(), "nothing to yield yet");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_block_in_order_with_messages_and_the_blocks_advances_posted() {
    let alice = l2_key("alice");
    let mut net = Served::start(&[(alice.address(), U256::from(100 * ETH))]).await;
    let seq = net.rollup.sequencer();
    let mut messages: BTreeMap<u64, Vec<L1Message>> = BTreeMap::new();
    let mut advances: BTreeMap<u64, (B256, Vec<PostedBlock>)> = BTreeMap::new();

    for (from, amount) in [(2, ETH), (3, 2 * ETH)] {
        let (block, enqueued) = net.deposit(from, amount);
        messages.entry(block).or_default().extend(enqueued);
    }
    // Calldata mode: one block with the two deposits and a transfer.
    let b1 =
        net.rollup.build(true, vec![net.rollup.l2.tx(&alice, 0, Address::repeat_byte(1), U256::from(1), Bytes::new())]);
    assert_eq!(b1.messages.len(), 2);
    let out = net.rollup.advance(&seq, std::slice::from_ref(&b1), DaMode::Calldata);
    assert!(out.success, "calldata advance");
    advances.insert(out.block, (out.hash, vec![b1.clone()]));

    // Blob mode: three blocks in one blob transaction, a deposit applied by the second.
    let mut batch = Vec::new();
    for i in 0..3u8 {
        if i == 1 {
            let (block, enqueued) = net.deposit(4, 3 * ETH);
            messages.entry(block).or_default().extend(enqueued);
        }
        let txs = (0..4)
            .map(|j| {
                let nonce = 1 + u64::from(i) * 4 + j;
                net.rollup.l2.tx(&alice, nonce, Address::repeat_byte(10 + i), U256::from(1000), Bytes::new())
            })
            .collect();
        batch.push(net.rollup.build(true, txs));
    }
    let out = net.rollup.advance(&seq, &batch, DaMode::Blob);
    assert!(out.success, "blob advance");
    advances.insert(out.block, (out.hash, batch.clone()));

    // A failing advance (the block is already posted: WrongParent) is not an advance.
    let failed = net.rollup.advance(&seq, std::slice::from_ref(&b1), DaMode::Calldata);
    assert!(!failed.success);
    // A message sent by a contract-less sendMessage in the same run of blocks.
    let key = net.rollup.l1.key(5);
    let before = net.rollup.queue.len();
    let call = NativeRollup::sendMessageCall {
        to: Address::repeat_byte(0x77),
        value: U256::ZERO,
        gasLimit: 50_000,
        data: Bytes::from_static(b"hi"),
    };
    let out = net.rollup.send(&key, U256::ZERO, call);
    assert!(out.success);
    messages.entry(out.block).or_default().extend(net.rollup.queue[before..].to_vec());

    let head = net.head();
    let mut watcher = net.watcher(0, 0);
    let mut parent = None;
    let mut seen = 0;
    for n in 0..=head {
        let block = next_block(&mut watcher).await;
        assert_eq!(block.number, n);
        assert_eq!(block.hash, net.hash(n));
        if let Some(parent) = parent {
            assert_eq!(block.parent_hash, parent);
        }
        parent = Some(block.hash);
        assert_eq!(block.timestamp, net.rollup.l1.devnet.block(n).unwrap().header().timestamp);
        assert_eq!(block.messages, messages.get(&n).cloned().unwrap_or_default(), "messages of L1 block {n}");
        seen += block.messages.len();
        match advances.get(&n) {
            None => assert!(block.advances.is_empty(), "block {n} has no successful advance"),
            Some((tx_hash, posted)) => {
                assert_eq!(block.advances.len(), 1, "one advance in block {n}");
                let advance = &block.advances[0];
                assert_eq!((advance.tx_hash, advance.from), (*tx_hash, seq.address()));
                assert_eq!(&advance.posted, posted, "posted L2 blocks of L1 block {n}");
            }
        }
        assert_eq!(watcher.cursor(), n + 1);
    }
    assert_eq!(watcher.last(), Some((head, net.hash(head))));
    // Every message was seen once.
    assert_eq!(seen, net.rollup.queue.len());
    quiet(&mut watcher).await;
    assert_eq!(watcher.cursor(), head + 1);

    // The blob advance's blobs, straight from the beacon API, are the transaction's.
    let (blob_block, _) = advances.iter().nth(1).unwrap();
    let sidecars = net.client().blob_sidecars(*blob_block).await.unwrap();
    let tx = net.client().block(*blob_block).await.unwrap().unwrap();
    let hashes: Vec<B256> =
        tx.transactions.txns().flat_map(|t| t.blob_versioned_hashes().unwrap_or_default().to_vec()).collect();
    assert_eq!(sidecars.iter().map(|(h, _)| *h).collect::<Vec<_>>(), hashes);
    assert!(net.client().blob_sidecars(1).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn confirmations_hold_back_the_newest_blocks() {
    let mut net = Served::start(&[]).await;
    net.deposit(2, ETH);
    net.rollup.l1.devnet.seal().unwrap();
    net.rollup.l1.devnet.seal().unwrap();
    let head = net.head();
    assert_eq!(head, 4);

    let mut watcher = net.watcher(1, 2);
    for n in 1..=head - 2 {
        assert_eq!(next_block(&mut watcher).await.number, n);
    }
    quiet(&mut watcher).await;
    assert_eq!(watcher.cursor(), head - 1);

    // One more block confirms one more.
    net.rollup.l1.devnet.seal().unwrap();
    let b = next_block(&mut watcher).await;
    assert_eq!((b.number, b.hash), (head - 1, net.hash(head - 1)));
    quiet(&mut watcher).await;

    // With 0 confirmations the head itself is yielded.
    let mut eager = net.watcher(net.head(), 0);
    assert_eq!(next_block(&mut eager).await.number, net.head());
    quiet(&mut eager).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_to_a_longer_chain_is_reported_with_the_common_ancestor() {
    let mut net = Served::start(&[]).await;
    for from in 2..5 {
        net.deposit(from, ETH);
    }
    let head = net.head();
    assert_eq!(head, 4);
    let mut watcher = net.watcher(0, 0);
    let mut old = Vec::new();
    for n in 0..=head {
        let b = next_block(&mut watcher).await;
        assert_eq!(b.number, n);
        old.push(b);
    }

    // Back to block 2 over JSON-RPC (`debug_setHead`), then a different, longer chain.
    let client = net.client();
    let () = client.raw_request("debug_setHead", jsonrpsee::rpc_params![U64::from(2)]).await.unwrap();
    net.deposit_on_new_chain(6, 5 * ETH);
    for _ in 0..3 {
        net.rollup.l1.devnet.seal().unwrap();
    }
    assert!(net.head() > head);
    assert_ne!(net.hash(3), old[3].hash);

    assert_eq!(next(&mut watcher).await, L1Event::Reorg { common_ancestor: 2 });
    assert_eq!(watcher.cursor(), 3);
    assert_eq!(watcher.last(), Some((2, old[2].hash)));
    // The new chain from there, in order, on the kept ancestor.
    let b3 = next_block(&mut watcher).await;
    assert_eq!((b3.number, b3.hash, b3.parent_hash), (3, net.hash(3), old[2].hash));
    // Block 3' re-included the dropped deposits and the new one: every message is there.
    assert_eq!(b3.messages.len(), 3);
    for n in 4..=net.head() {
        assert_eq!(next_block(&mut watcher).await.hash, net.hash(n));
    }
    quiet(&mut watcher).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_cut_back_is_reported_before_new_blocks_arrive() {
    let mut net = Served::start(&[]).await;
    for from in 2..4 {
        net.deposit(from, ETH);
    }
    // Start at 2: the parent of the first yielded block is the deepest known ancestor.
    let mut watcher = net.watcher(2, 0);
    let b2 = next_block(&mut watcher).await;
    let b3 = next_block(&mut watcher).await;
    assert_eq!((b2.number, b3.number), (2, 3));
    quiet(&mut watcher).await;

    // Cut to block 1 (below the first yielded block), with no new block yet.
    net.rollup.l1.devnet.set_head(1).unwrap();
    assert_eq!(next(&mut watcher).await, L1Event::Reorg { common_ancestor: 1 });
    assert_eq!(watcher.cursor(), 2);
    quiet(&mut watcher).await;

    // The replacement blocks (a new transaction makes them differ) follow.
    net.deposit_on_new_chain(5, 7 * ETH);
    let b2_new = next_block(&mut watcher).await;
    assert_eq!((b2_new.number, b2_new.hash), (2, net.hash(2)));
    assert_ne!(b2_new.hash, b2.hash);
    assert_eq!(b2_new.parent_hash, b2.parent_hash);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_deeper_than_the_remembered_history_is_an_error() {
    let mut net = Served::start(&[]).await;
    for from in 2..6 {
        net.deposit(from, ETH);
    }
    let mut watcher = net.watcher(0, 0).with_history(2);
    for _ in 0..=net.head() {
        next_block(&mut watcher).await;
    }
    assert_eq!(watcher.recent().map(|(n, _)| n).collect::<Vec<_>>(), vec![4, 5]);
    net.rollup.l1.devnet.set_head(2).unwrap();
    net.deposit_on_new_chain(6, 9 * ETH);
    let err = timeout(WAIT, watcher.next()).await.unwrap().unwrap_err();
    assert!(matches!(err, WatcherError::ReorgTooDeep { oldest: 4 }), "{err}");
    assert_eq!(err.severity(), Severity::Critical);

    // A watcher resumed with the caller's own record of block 2 finds the ancestor.
    let mut resumed = net.watcher(3, 0);
    resumed.resume_after([(1, net.hash(1)), (2, net.hash(2))]);
    assert_eq!(resumed.last(), Some((2, net.hash(2))));
    assert_eq!(next_block(&mut resumed).await.hash, net.hash(3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_reads_and_writes_l1() {
    let mut net = Served::start(&[]).await;
    let (deposit_block, _) = net.deposit(2, ETH);
    let client = net.client();
    let devnet = net.rollup.l1.devnet.clone();

    assert_eq!(client.chain_id().await.unwrap(), devnet.spec().chain_id);
    assert_eq!(client.block_number().await.unwrap(), net.head());
    let block = client.block(deposit_block).await.unwrap().unwrap();
    assert_eq!(block.header.hash, net.hash(deposit_block));
    let tx = block.transactions.txns().next().expect("full transactions");
    assert_eq!(tx.to(), Some(net.rollup.address));
    assert_eq!(client.block_by_hash(block.header.hash).await.unwrap().unwrap().header, block.header);
    assert_eq!(client.header(deposit_block).await.unwrap().unwrap(), block.header);
    assert!(client.block(1_000).await.unwrap().is_none());
    let receipts = client.block_receipts(deposit_block).await.unwrap().unwrap();
    assert_eq!(receipts.len(), 1);
    assert!(receipts[0].status());
    let receipt = client.transaction_receipt(*tx.inner.tx_hash()).await.unwrap().unwrap();
    assert_eq!(receipt.block_number, Some(deposit_block));
    let logs = client.logs(&nrd_l1_watcher::message_filter(net.rollup.address, block.header.hash)).await.unwrap();
    assert_eq!(logs.len(), 1);
    assert_eq!(nrd_l1_watcher::decode_message(&logs[0].inner).unwrap(), net.rollup.queue[0]);

    let key = net.rollup.l1.key(7);
    let latest = BlockNumberOrTag::Latest;
    assert_eq!(client.nonce(key.address(), latest).await.unwrap(), 0);
    let balance = client.balance(key.address(), latest).await.unwrap();
    assert_eq!(balance, net.rollup.l1.balance(key.address()));

    let fees = client.fee_estimate().await.unwrap();
    assert!(fees.base_fee > 0 && fees.priority_fee > 0 && fees.blob_base_fee > 0, "{fees:?}");
    assert!(fees.max_fee_per_gas() > fees.base_fee && fees.max_fee_per_blob_gas() >= fees.blob_base_fee);

    // A deposit estimated, simulated and sent over JSON-RPC.
    let call = NativeRollup::depositCall { to: key.address(), gasLimit: 100_000, data: Bytes::new() };
    let request = TransactionRequest::default()
        .from(key.address())
        .to(net.rollup.address)
        .value(U256::from(ETH))
        .input(call.abi_encode().into());
    let gas = client.estimate_gas(&request, latest).await.unwrap();
    assert!(gas > 21_000);
    // `deposit` returns the message's queue index: 1, after the first deposit.
    assert_eq!(client.call(&request, latest).await.unwrap(), Bytes::from(B256::with_last_byte(1)));
    let tx = TxEip1559 {
        chain_id: client.chain_id().await.unwrap(),
        nonce: client.nonce(key.address(), BlockNumberOrTag::Pending).await.unwrap(),
        gas_limit: gas,
        max_fee_per_gas: fees.max_fee_per_gas(),
        max_priority_fee_per_gas: fees.priority_fee,
        to: TxKind::Call(net.rollup.address),
        value: U256::from(ETH),
        input: call.abi_encode().into(),
        ..Default::default()
    };
    let hash = client.send_raw_transaction(&raw(&sign(&key, tx))).await.unwrap();
    assert!(client.transaction_receipt(hash).await.unwrap().is_none(), "pending until sealed");
    assert_eq!(client.nonce(key.address(), BlockNumberOrTag::Pending).await.unwrap(), 1);
    devnet.seal().unwrap();
    assert!(client.transaction_receipt(hash).await.unwrap().unwrap().status());

    // A reverting call: code 3 with the contract's error as data.
    let advance = NativeRollup::advanceCall { blocks: vec![], messages: vec![] };
    let request =
        TransactionRequest::default().from(key.address()).to(net.rollup.address).input(advance.abi_encode().into());
    let err = client.call(&request, latest).await.unwrap_err();
    assert_eq!(err.rpc_code(), Some(3), "{err}");
    let data = err.revert_data().expect("revert data");
    assert!(matches!(
        NativeRollup::NativeRollupErrors::abi_decode(&data).unwrap(),
        NativeRollup::NativeRollupErrors::NotSequencer(_)
    ));
    assert!(matches!(client.estimate_gas(&request, latest).await, Err(L1Error::Rpc { code: 3, .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_rpc_error_is_typed_with_its_code() {
    let net = Served::start(&[]).await;
    let err = net.client().send_raw_transaction(&[0x02, 0xc0]).await.unwrap_err();
    match &err {
        L1Error::Rpc { code, message, .. } => {
            assert_eq!(*code, nrd_rpc::SERVER_ERROR);
            assert!(!message.is_empty());
        }
        other => panic!("expected a JSON-RPC error, got {other:?}"),
    }
    assert!(!err.is_temporary());
    // Bad parameters: -32602.
    let err = net.client().raw_request::<U64>("eth_getBalance", jsonrpsee::rpc_params!["nope"]).await.unwrap_err();
    assert_eq!(err.rpc_code(), Some(nrd_rpc::INVALID_PARAMS), "{err}");
    // The beacon API's error status.
    let err = net.client().blob_sidecars(1_000).await.unwrap_err();
    assert!(matches!(err, L1Error::Http { status: 404, .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_node_is_a_temporary_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let client =
        L1Client::new(L1ClientConfig::new(url.clone()).with_beacon(url.clone()).with_timeout(Duration::from_secs(5)))
            .unwrap();
    let err = client.block_number().await.unwrap_err();
    assert!(matches!(err, L1Error::Transport { .. }), "{err}");
    assert!(err.is_temporary());
    let err = client.blob_sidecars(1).await.unwrap_err();
    assert!(matches!(err, L1Error::Transport { .. }) && err.is_temporary(), "{err}");

    let mut watcher =
        L1Watcher::new(client, Address::ZERO, WatcherConfig { start_block: 0, confirmations: 0, poll_interval: POLL });
    let err = timeout(WAIT, watcher.next()).await.unwrap().unwrap_err();
    assert!(err.is_temporary(), "{err}");
    assert_eq!(watcher.cursor(), 0);

    // No beacon URL: blobs cannot be fetched, and that is a configuration error.
    let no_beacon = L1Client::new(L1ClientConfig::new(url)).unwrap();
    assert!(matches!(no_beacon.blob_sidecars(1).await, Err(L1Error::Config { .. })));
    assert!(matches!(L1Client::new(L1ClientConfig::new("not a url")), Err(L1Error::Config { .. })));
}

/// What a watcher followed in a task reports.
#[derive(Debug)]
enum Seen {
    Event(L1Event),
    Error(WatcherError),
    /// Caught up: the watcher is about to wait for a head.
    CaughtUp {
        subscribed: bool,
        error: Option<WatcherError>,
    },
}

/// Follows `watcher` in a task as [`L1Watcher::next`] does (look; when caught up, wait for a
/// head), reporting each event and each time it is caught up. A block sealed after a
/// `CaughtUp` report is seen only once something wakes the watcher.
fn follow(mut watcher: L1Watcher) -> mpsc::UnboundedReceiver<Seen> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let seen = match watcher.poll().await {
                Ok(Some(event)) => Seen::Event(event),
                Ok(None) => {
                    Seen::CaughtUp { subscribed: watcher.subscribed(), error: watcher.subscription_error().cloned() }
                }
                Err(e) => Seen::Error(e),
            };
            let wait = !matches!(seen, Seen::Event(_));
            if tx.send(seen).is_err() {
                return;
            }
            if wait {
                watcher.wait_for_head().await;
            }
        }
    });
    rx
}

async fn seen(rx: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    timeout(WAIT, rx.recv()).await.expect("the watcher reports in time").expect("the watcher task runs")
}

/// The events until the watcher is caught up with its subscription open; every `CaughtUp` on
/// the way must be subscribed too when `always_subscribed`.
async fn until_subscribed_and_caught_up(
    rx: &mut mpsc::UnboundedReceiver<Seen>,
    always_subscribed: bool,
) -> Vec<L1Event> {
    let mut events = Vec::new();
    loop {
        match seen(rx).await {
            Seen::Event(e) => events.push(e),
            Seen::Error(e) => panic!("watcher error: {e}"),
            Seen::CaughtUp { subscribed: true, error } => {
                assert!(error.is_none(), "{error:?}");
                return events;
            }
            Seen::CaughtUp { subscribed: false, error } => {
                assert!(!always_subscribed, "the subscription dropped: {error:?}");
            }
        }
    }
}

fn blocks(events: Vec<L1Event>) -> Vec<L1Block> {
    events
        .into_iter()
        .map(|e| match e {
            L1Event::Block(b) => b,
            other => panic!("expected a block, got {other:?}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscribed_watcher_is_woken_by_new_heads_and_sees_what_polling_sees() {
    let alice = l2_key("alice");
    let mut net = Served::start(&[(alice.address(), U256::from(100 * ETH))]).await;
    let seq = net.rollup.sequencer();
    net.deposit(2, ETH);

    // Polling every hour: only newHeads notifications wake it.
    let ws = net.watcher_polling(0, 1, HOUR).with_ws(net.ws_url());
    assert_eq!(ws.head_source().ws_url(), Some(net.ws_url().as_str()));
    assert!(!ws.subscribed());
    let mut rx = follow(ws);
    let mut followed = blocks(until_subscribed_and_caught_up(&mut rx, false).await);
    assert_eq!(followed.len() as u64, net.head(), "blocks 0..head-1 with one confirmation");

    // Each round's blocks are sealed while the watcher waits with its subscription open.
    // Rounds: a deposit (Some(account)), an empty block (None), an advance (Some(0)).
    for (i, round) in [Some(3), None, Some(0), Some(4), None].into_iter().enumerate() {
        let before = net.head();
        match round {
            Some(0) => {
                let tx = net.rollup.l2.tx(&alice, 0, Address::repeat_byte(1), U256::from(1), Bytes::new());
                let block = net.rollup.build(true, vec![tx]);
                assert!(net.rollup.advance(&seq, std::slice::from_ref(&block), DaMode::Calldata).success);
            }
            Some(from) => {
                net.deposit(from, ETH);
            }
            None => net.seal(),
        }
        // One block a round: no notification of this round is left for the next.
        assert_eq!(net.head(), before + 1);
        let new = blocks(until_subscribed_and_caught_up(&mut rx, true).await);
        assert!(!new.is_empty(), "round {i}: a notification woke the watcher");
        followed.extend(new);
    }
    // Everything up to the newest confirmed block, once, in order.
    let confirmed = net.head() - 1;
    assert_eq!(followed.iter().map(|b| b.number).collect::<Vec<_>>(), (0..=confirmed).collect::<Vec<_>>());
    assert!(followed.iter().any(|b| !b.advances.is_empty()) && followed.iter().any(|b| !b.messages.is_empty()));

    // A polling watcher sees the same blocks.
    let mut polling = net.watcher(0, 1);
    for block in &followed {
        assert_eq!(&next_block(&mut polling).await, block);
    }
    quiet(&mut polling).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_is_detected_through_the_subscription_as_by_polling() {
    let mut net = Served::start(&[]).await;
    for from in 2..5 {
        net.deposit(from, ETH);
    }
    assert_eq!(net.head(), 4);
    let mut rx = follow(net.watcher_polling(0, 0, HOUR).with_ws(net.ws_url()));
    let old = blocks(until_subscribed_and_caught_up(&mut rx, false).await);
    assert_eq!(old.iter().map(|b| b.number).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
    let mut polling = net.watcher(0, 0);
    for block in &old {
        assert_eq!(&next_block(&mut polling).await, block);
    }

    // Back to block 2 (no notification), then a different, longer chain (notified).
    let () = net.client().raw_request("debug_setHead", jsonrpsee::rpc_params![U64::from(2)]).await.unwrap();
    net.deposit_on_new_chain(6, 5 * ETH);
    for _ in 0..3 {
        net.seal();
    }
    let head = net.head();
    assert_eq!(head, 6);
    assert_ne!(net.hash(3), old[3].hash);

    let mut events = Vec::new();
    while !matches!(events.last(), Some(L1Event::Block(b)) if b.number == head) {
        events.extend(until_subscribed_and_caught_up(&mut rx, true).await);
    }
    assert_eq!(events[0], L1Event::Reorg { common_ancestor: 2 });
    let new = blocks(events[1..].to_vec());
    assert_eq!(
        new.iter().map(|b| (b.number, b.hash)).collect::<Vec<_>>(),
        (3..=head).map(|n| (n, net.hash(n))).collect::<Vec<_>>()
    );
    assert_eq!(new[0].parent_hash, old[2].hash);
    assert_eq!(new[0].messages.len(), 3, "the dropped deposits and the new one");

    // The polling watcher reports the same.
    assert_eq!(next(&mut polling).await, L1Event::Reorg { common_ancestor: 2 });
    for block in &new {
        assert_eq!(&next_block(&mut polling).await, block);
    }
    quiet(&mut polling).await;
}

/// A local address where nothing listens (yet).
fn unused_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_websocket_server_the_watcher_polls_and_subscribes_once_one_listens() {
    let net = Served::start(&[]).await;
    let addr = unused_addr();
    let url = format!("ws://{addr}");
    let mut watcher = net
        .watcher(0, 0)
        .with_head_source(HeadSource::Subscribe { url: url.clone(), retry: Duration::from_millis(50) });
    for n in 0..=net.head() {
        assert_eq!(next_block(&mut watcher).await.number, n);
    }
    // Waiting tries to subscribe, fails, and polls.
    quiet(&mut watcher).await;
    assert!(!watcher.subscribed());
    let err = watcher.subscription_error().cloned().expect("why the subscription is down");
    assert!(matches!(&err, WatcherError::Subscription { endpoint, .. } if *endpoint == url), "{err}");
    assert!(err.is_temporary());
    for _ in 0..3 {
        net.seal();
        let b = next_block(&mut watcher).await;
        assert_eq!((b.number, b.hash), (net.head(), net.hash(net.head())));
        quiet(&mut watcher).await;
    }
    assert!(!watcher.subscribed());

    // A server at that address: the subscription is retried and opens.
    let _ws = serve_l1(net.rollup.l1.devnet.clone(), addr, RpcLimits::default()).await.unwrap();
    timeout(WAIT, async {
        while !watcher.subscribed() {
            watcher.wait_for_head().await;
        }
    })
    .await
    .expect("subscribed in time");
    assert!(watcher.subscription_error().is_none());
    net.seal();
    assert_eq!(next_block(&mut watcher).await.hash, net.hash(net.head()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_subscription_falls_back_to_polling_and_is_reopened() {
    let net = Served::start(&[]).await;
    let devnet = net.rollup.l1.devnet.clone();
    // Heads from a second server of the same L1, blocks from the first.
    let ws = serve_l1(devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
    let addr = ws.addr;
    let watcher = net
        .watcher_polling(0, 0, HOUR)
        .with_head_source(HeadSource::Subscribe { url: format!("ws://{addr}"), retry: Duration::from_millis(50) });
    let mut rx = follow(watcher);
    let mut followed = blocks(until_subscribed_and_caught_up(&mut rx, false).await);
    net.seal();
    followed.extend(blocks(until_subscribed_and_caught_up(&mut rx, true).await));
    assert_eq!(followed.last().map(|b| b.number), Some(net.head()));

    // The subscription's server goes away: the watcher says why and polls.
    ws.handle.stop().unwrap();
    ws.handle.stopped().await;
    let error = match seen(&mut rx).await {
        Seen::CaughtUp { subscribed: false, error } => error,
        other => panic!("expected the watcher caught up without its subscription, got {other:?}"),
    };
    assert!(matches!(error, Some(WatcherError::Subscription { .. })), "{error:?}");
    net.seal();
    let block = loop {
        match seen(&mut rx).await {
            Seen::Event(L1Event::Block(b)) => break b,
            Seen::CaughtUp { subscribed: false, .. } => {}
            other => panic!("expected a block found by polling, got {other:?}"),
        }
    };
    assert_eq!((block.number, block.hash), (net.head(), net.hash(net.head())));
    followed.push(block);

    // The server is back: the subscription is reopened and wakes the watcher again.
    let _ws = serve_l1(devnet, addr, RpcLimits::default()).await.unwrap();
    followed.extend(blocks(until_subscribed_and_caught_up(&mut rx, false).await));
    net.seal();
    followed.extend(blocks(until_subscribed_and_caught_up(&mut rx, true).await));
    assert_eq!(
        followed.iter().map(|b| (b.number, b.hash)).collect::<Vec<_>>(),
        (0..=net.head()).map(|n| (n, net.hash(n))).collect::<Vec<_>>()
    );
}
