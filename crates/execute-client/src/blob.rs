//! Blob packing: how a byte payload (a batch, see [`crate::encode_batch`]) travels in EIP-4844
//! blobs (blob mode).
//!
//! A blob is 4096 field elements of 32 bytes; the first byte of each is kept zero so every
//! element is below the BLS modulus, leaving 31 usable bytes. The usable bytes of the
//! referenced blobs, concatenated in order, hold `len (4 bytes, big endian) ‖ payload ‖ zero
//! padding`.

use crate::batch::{BatchError, Compression, decode_batch, encode_batch};
use alloy_consensus::TxEnvelope;
use alloy_eips::eip4844::{BYTES_PER_BLOB, Blob, FIELD_ELEMENTS_PER_BLOB};

/// Usable bytes per 32-byte field element.
const USABLE_PER_ELEMENT: usize = 31;
/// Usable bytes per blob.
pub const USABLE_BYTES_PER_BLOB: usize = BYTES_PER_BLOB / 32 * USABLE_PER_ELEMENT;
/// Bytes of the length prefix.
const LENGTH_PREFIX: usize = 4;

/// Why blob contents are not a payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobPayloadError {
    /// No blobs at all.
    #[error("no blobs")]
    NoBlobs,
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
}

impl nrd_chain::Classify for BlobPayloadError {
    fn severity(&self) -> nrd_chain::Severity {
        // The blobs are what they are: decoding them again fails again.
        nrd_chain::Severity::Critical
    }
}

/// The number of blobs a payload of `len` bytes needs.
pub const fn blobs_for_payload(len: usize) -> usize {
    let blobs = (LENGTH_PREFIX + len).div_ceil(USABLE_BYTES_PER_BLOB);
    if blobs == 0 { 1 } else { blobs }
}

/// Packs a payload into as many blobs as it needs (at least one).
///
/// # Panics
///
/// If the payload is 4 GiB or longer (its length does not fit the prefix).
pub fn payload_to_blobs(payload: &[u8]) -> Vec<Blob> {
    let len = u32::try_from(payload.len()).unwrap_or_else(|_| panic!("blob payload of {} bytes", payload.len()));
    let mut out = vec![Blob::ZERO; blobs_for_payload(payload.len())];
    let mut data = Vec::with_capacity(LENGTH_PREFIX + payload.len());
    data.extend_from_slice(&len.to_be_bytes());
    data.extend_from_slice(payload);
    for (i, chunk) in data.chunks(USABLE_PER_ELEMENT).enumerate() {
        let (blob, element) = (i / FIELD_ELEMENTS_PER_BLOB as usize, i % FIELD_ELEMENTS_PER_BLOB as usize);
        let start = element * 32 + 1;
        out[blob][start..start + chunk.len()].copy_from_slice(chunk);
    }
    out
}

/// Reads a payload back out of blobs (in the order they were referenced); never panics.
pub fn blobs_to_payload(blobs: &[&Blob]) -> Result<Vec<u8>, BlobPayloadError> {
    if blobs.is_empty() {
        return Err(BlobPayloadError::NoBlobs);
    }
    let mut data = Vec::with_capacity(blobs.len() * USABLE_BYTES_PER_BLOB);
    for (b, blob) in blobs.iter().enumerate() {
        for (e, element) in blob.chunks_exact(32).enumerate() {
            if element[0] != 0 {
                return Err(BlobPayloadError::NonCanonicalElement(b * FIELD_ELEMENTS_PER_BLOB as usize + e));
            }
            data.extend_from_slice(&element[1..]);
        }
    }
    // At least one blob: far more than the prefix.
    let (prefix, rest) = data.split_at(LENGTH_PREFIX);
    let len = u32::from_be_bytes([prefix[0], prefix[1], prefix[2], prefix[3]]) as usize;
    if len > rest.len() {
        return Err(BlobPayloadError::Length { len, available: rest.len() });
    }
    if rest[len..].iter().any(|b| *b != 0) {
        return Err(BlobPayloadError::Padding);
    }
    data.truncate(LENGTH_PREFIX + len);
    data.drain(..LENGTH_PREFIX);
    Ok(data)
}

/// Why blobs do not hold a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlobBatchError {
    /// The blobs do not hold a payload.
    #[error("blob payload: {0}")]
    Payload(#[from] BlobPayloadError),
    /// The payload is not a batch.
    #[error("batch: {0}")]
    Batch(#[from] BatchError),
}

impl nrd_chain::Classify for BlobBatchError {
    fn severity(&self) -> nrd_chain::Severity {
        // The blobs are what they are: decoding them again fails again.
        nrd_chain::Severity::Critical
    }
}

/// Encodes blocks' transactions as a batch and packs it into blobs.
pub fn encode_batch_blobs(blocks: &[Vec<TxEnvelope>], compression: Compression) -> Vec<Blob> {
    payload_to_blobs(&encode_batch(blocks, compression))
}

/// Unpacks blobs and decodes the batch they hold.
pub fn decode_batch_blobs(blobs: &[&Blob]) -> Result<Vec<Vec<TxEnvelope>>, BlobBatchError> {
    Ok(decode_batch(&blobs_to_payload(blobs)?)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_fill_blobs_exactly() {
        assert_eq!(USABLE_BYTES_PER_BLOB, 126_976);
        for len in [0, 1, USABLE_BYTES_PER_BLOB - 4, USABLE_BYTES_PER_BLOB - 3, 2 * USABLE_BYTES_PER_BLOB] {
            let payload: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
            let blobs = payload_to_blobs(&payload);
            assert_eq!(blobs.len(), blobs_for_payload(len));
            assert_eq!(blobs.len(), (len + 4).div_ceil(USABLE_BYTES_PER_BLOB), "{len}");
            assert!(blobs.iter().all(|b| b.chunks_exact(32).all(|e| e[0] == 0)));
            let refs: Vec<&Blob> = blobs.iter().collect();
            assert_eq!(blobs_to_payload(&refs).unwrap(), payload);
        }
        // The prefix is big-endian and comes first, right after the element's zero byte.
        let blobs = payload_to_blobs(&[0xaa; 300]);
        assert_eq!(&blobs[0][..7], &[0, 0, 0, 0x01, 0x2c, 0xaa, 0xaa]);
        assert_eq!(&blobs[0][31..34], &[0xaa, 0, 0xaa]);
    }

    #[test]
    fn malformed_blobs_have_their_own_errors() {
        assert_eq!(blobs_to_payload(&[]), Err(BlobPayloadError::NoBlobs));
        let blobs = payload_to_blobs(b"hello");
        let mut bad = blobs[0];
        bad[32 * 7] = 1;
        assert_eq!(blobs_to_payload(&[&blobs[0], &bad]), Err(BlobPayloadError::NonCanonicalElement(4096 + 7)));
        let mut padded = blobs[0];
        padded[32 * 100 + 5] = 1;
        assert_eq!(blobs_to_payload(&[&padded]), Err(BlobPayloadError::Padding));
        let mut long = blobs[0];
        long[1..5].copy_from_slice(&(USABLE_BYTES_PER_BLOB as u32 - 3).to_be_bytes());
        assert_eq!(
            blobs_to_payload(&[&long]),
            Err(BlobPayloadError::Length { len: USABLE_BYTES_PER_BLOB - 3, available: USABLE_BYTES_PER_BLOB - 4 })
        );
        assert_eq!(decode_batch_blobs(&[&blobs[0]]), Err(BlobBatchError::Batch(BatchError::UnknownVersion(b'h'))));
    }
}
