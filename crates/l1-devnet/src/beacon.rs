//! The beacon API's blob endpoint, so standard tools can fetch blobs by block, as a consensus
//! client would serve it.

use crate::node::Devnet;
use alloy_primitives::hex;
use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::json;
use std::{net::SocketAddr, sync::Arc};

/// `GET /eth/v1/beacon/blob_sidecars/{block_id}` (`head`, `genesis`, a number or a block hash;
/// slots are block numbers on the devnet), plus `/eth/v1/node/health`.
pub fn router(devnet: Arc<Devnet>) -> Router {
    Router::new()
        .route("/eth/v1/beacon/blob_sidecars/{block_id}", get(blob_sidecars))
        .route("/eth/v1/node/health", get(|| async { StatusCode::OK }))
        .with_state(devnet)
}

/// Serves [`router`] on `addr` until `shutdown` completes; returns the bound address.
pub async fn serve_beacon(
    devnet: Arc<Devnet>,
    addr: SocketAddr,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router(devnet)).with_graceful_shutdown(shutdown).await {
            tracing::error!(target: "nrd::rpc", "beacon API stopped: {e}");
        }
    });
    Ok(bound)
}

fn error(code: StatusCode, message: &str) -> Response {
    (code, Json(json!({ "code": code.as_u16(), "message": message }))).into_response()
}

async fn blob_sidecars(State(devnet): State<Arc<Devnet>>, Path(block_id): Path<String>) -> Response {
    let block = match block_id.as_str() {
        "head" | "finalized" | "justified" => Some(devnet.head()),
        "genesis" => devnet.block(0),
        id if id.starts_with("0x") && id.len() == 66 => match id.parse() {
            Ok(hash) => devnet.block_by_hash(hash),
            Err(_) => return error(StatusCode::BAD_REQUEST, &format!("invalid block id {id}")),
        },
        id => match id.parse::<u64>() {
            Ok(n) => devnet.block(n),
            Err(_) => return error(StatusCode::BAD_REQUEST, &format!("invalid block id {id}")),
        },
    };
    let Some(block) = block else {
        return error(StatusCode::NOT_FOUND, &format!("block {block_id} not found"));
    };
    let header = block.header();
    let data: Vec<_> = devnet
        .blobs()
        .block_sidecars(block.number())
        .into_iter()
        .enumerate()
        .map(|(index, b)| {
            json!({
                "index": index.to_string(),
                "blob": format!("0x{}", hex::encode(b.blob.as_slice())),
                "kzg_commitment": b.commitment,
                "kzg_proof": b.proof,
                "signed_block_header": {
                    "message": {
                        "slot": header.number.to_string(),
                        "proposer_index": "0",
                        "parent_root": header.parent_beacon_block_root.unwrap_or_default(),
                        "state_root": header.state_root,
                        "body_root": block.hash,
                    },
                    "signature": format!("0x{}", "00".repeat(96)),
                },
                "kzg_commitment_inclusion_proof": [],
            })
        })
        .collect();
    (StatusCode::OK, Json(json!({ "data": data, "execution_optimistic": false, "finalized": true }))).into_response()
}
