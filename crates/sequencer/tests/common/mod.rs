//! What the sequencer's integration tests share: the in-process L1 devnet served over JSON-RPC
//! and the beacon API, as a node reaches a real L1.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use nrd_l1_client::{L1Client, L1ClientConfig};
use nrd_l1_devnet::{serve_beacon, serve_l1};
use nrd_rpc::{RpcLimits, RunningServer};
use nrd_testkit::Rollup;

/// Serves `rollup`'s L1 devnet on loopback (JSON-RPC and the beacon blob API); the JSON-RPC
/// server, which stops when dropped, and a client reaching both.
pub async fn serve(rollup: &Rollup) -> (RunningServer, L1Client) {
    let devnet = rollup.l1.devnet.clone();
    let rpc = serve_l1(devnet.clone(), "127.0.0.1:0".parse().unwrap(), RpcLimits::default()).await.unwrap();
    let beacon = serve_beacon(devnet, "127.0.0.1:0".parse().unwrap(), std::future::pending()).await.unwrap();
    let client =
        L1Client::new(L1ClientConfig::new(format!("http://{}", rpc.addr)).with_beacon(format!("http://{beacon}")))
            .unwrap();
    (rpc, client)
}
