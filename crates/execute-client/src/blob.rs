//! Blob payloads: how an L2 block's transactions travel in EIP-4844 blobs (blob mode).
//!
//! A blob is 4096 field elements of 32 bytes; the first byte of each is kept zero so every
//! element is below the BLS modulus, leaving 31 usable bytes. The usable bytes of the
//! referenced blobs, concatenated in order, hold `len (4 bytes, big endian) ‖ payload ‖ zero
//! padding`, where `payload = rlp([tx, …])` with each transaction in its block-body encoding.

use alloy_consensus::TxEnvelope;
use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob};
use alloy_rlp::{Decodable, Encodable};

/// Usable bytes per 32-byte field element.
const USABLE_PER_ELEMENT: usize = 31;
/// Usable bytes per blob.
pub const USABLE_BYTES_PER_BLOB: usize = BYTES_PER_BLOB / 32 * USABLE_PER_ELEMENT;

/// Why blob contents are not a transaction payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobPayloadError {
    /// A field element's first byte is not zero.
    #[error("field element {0} does not start with a zero byte")]
    NonCanonicalElement(usize),
    /// The length prefix points past the blobs' usable bytes.
    #[error("payload length {len} exceeds the {available} usable bytes of the blobs")]
    Length {
        /// Declared length.
        len: usize,
        /// Usable bytes after the prefix.
        available: usize,
    },
    /// Bytes after the payload are not zero.
    #[error("non-zero padding after the payload")]
    Padding,
    /// The payload is not an RLP list of transactions.
    #[error("payload does not decode: {0}")]
    Rlp(String),
}

/// Packs transactions into as many blobs as they need.
pub fn encode_blob_payload(txs: &[TxEnvelope]) -> Vec<Blob> {
    let mut payload = Vec::new();
    txs.to_vec().encode(&mut payload);
    let mut data = (payload.len() as u32).to_be_bytes().to_vec();
    data.extend_from_slice(&payload);
    let blobs = data.len().div_ceil(USABLE_BYTES_PER_BLOB).max(1);
    let mut out = vec![Blob::ZERO; blobs];
    for (i, chunk) in data.chunks(USABLE_PER_ELEMENT).enumerate() {
        let (blob, element) = (i / 4096, i % 4096);
        let start = element * 32 + 1;
        out[blob][start..start + chunk.len()].copy_from_slice(chunk);
    }
    out
}

/// Reads the transactions back out of blobs (in the order they were referenced).
pub fn decode_blob_payload(blobs: &[&Blob]) -> Result<Vec<TxEnvelope>, BlobPayloadError> {
    let mut data = Vec::with_capacity(blobs.len() * USABLE_BYTES_PER_BLOB);
    for (b, blob) in blobs.iter().enumerate() {
        for (e, element) in blob.chunks_exact(32).enumerate() {
            if element[0] != 0 {
                return Err(BlobPayloadError::NonCanonicalElement(b * 4096 + e));
            }
            data.extend_from_slice(&element[1..]);
        }
    }
    let (prefix, rest) = data.split_at(4.min(data.len()));
    let len =
        u32::from_be_bytes(prefix.try_into().map_err(|_| BlobPayloadError::Length { len: 4, available: 0 })?) as usize;
    if len > rest.len() {
        return Err(BlobPayloadError::Length { len, available: rest.len() });
    }
    let (payload, padding) = rest.split_at(len);
    if padding.iter().any(|b| *b != 0) {
        return Err(BlobPayloadError::Padding);
    }
    let mut buf = payload;
    let txs = Vec::<TxEnvelope>::decode(&mut buf).map_err(|e| BlobPayloadError::Rlp(e.to_string()))?;
    if !buf.is_empty() {
        return Err(BlobPayloadError::Rlp(format!("{} bytes after the transaction list", buf.len())));
    }
    Ok(txs)
}
