//! Batches: the transactions of several consecutive L2 blocks in one payload (blob mode).
//!
//! ```text
//! payload = version (1 byte) ‖ body
//!   version 0x00: body = rlp([[tx, …], [tx, …], …])     one list per L2 block, each transaction
//!                                                        in its block-body encoding
//!   version 0x01: body = brotli(rlp([[tx, …], …]))       a standard (RFC 7932) brotli stream,
//!                                                        no large window, nothing after it
//! ```
//!
//! Decoding is bounded: the RLP body (decompressed, for version `0x01`) may be at most
//! [`MAX_BATCH_BYTES`] long, and decompression stops as soon as it would produce more, so a small
//! stream that expands enormously costs at most that much memory and work. Every malformed
//! payload is a [`BatchError`]; decoding never panics.

use crate::witness::ExecutionWitness;
use alloy_consensus::TxEnvelope;
use alloy_rlp::{Decodable, Encodable, RlpDecodable, RlpEncodable};
use brotli::{BrotliDecompressStream, BrotliResult, BrotliState, HeapAlloc, HuffmanCode, enc::BrotliEncoderParams};

/// Batch format version: the body is the raw RLP.
pub const BATCH_VERSION_RAW: u8 = 0x00;
/// Batch format version: the body is the RLP compressed with brotli.
pub const BATCH_VERSION_BROTLI: u8 = 0x01;
/// Batch format version: the body is the RLP of the transactions and a run's witness,
/// compressed with brotli.
pub const BATCH_VERSION_WITNESS: u8 = 0x02;
/// The longest RLP body a batch may have (after decompression): 16 MiB.
pub const MAX_BATCH_BYTES: usize = 16 * 1024 * 1024;
/// Brotli quality the encoder uses (the densest).
pub const BROTLI_QUALITY: i32 = 11;
/// Brotli window (log2 of its size) the encoder uses.
pub const BROTLI_LGWIN: i32 = 22;

/// Decompressed bytes produced per decoder step.
const DECOMPRESS_CHUNK: usize = 64 * 1024;

/// How a batch's body is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Raw RLP (version `0x00`).
    None,
    /// Brotli-compressed RLP (version `0x01`).
    #[default]
    Brotli,
}

impl Compression {
    /// The version byte this compression is written with.
    pub const fn version(self) -> u8 {
        match self {
            Self::None => BATCH_VERSION_RAW,
            Self::Brotli => BATCH_VERSION_BROTLI,
        }
    }
}

/// Why bytes are not a batch.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BatchError {
    /// No bytes at all (not even the version).
    #[error("batch is empty")]
    Empty,
    /// The version byte names no known format.
    #[error("batch version {0:#04x} is not supported")]
    UnknownVersion(u8),
    /// The brotli stream is malformed.
    #[error("batch does not decompress: invalid brotli stream")]
    Decompress,
    /// The brotli stream ends before its last meta-block.
    #[error("batch does not decompress: truncated brotli stream")]
    Truncated,
    /// Bytes follow the end of the brotli stream.
    #[error("batch has {0} bytes after its brotli stream")]
    TrailingCompressedBytes(usize),
    /// The RLP body is longer than [`MAX_BATCH_BYTES`] (decompression stopped there).
    #[error("batch body exceeds {MAX_BATCH_BYTES} bytes")]
    TooLarge,
    /// The body is not RLP of a list of transaction lists.
    #[error("batch body does not decode: {0}")]
    Rlp(alloy_rlp::Error),
    /// Bytes follow the RLP list.
    #[error("batch has {0} bytes after its RLP body")]
    TrailingBytes(usize),
}

impl nrd_chain::Classify for BatchError {
    fn severity(&self) -> nrd_chain::Severity {
        // The bytes are what they are: decoding them again fails again.
        nrd_chain::Severity::Critical
    }
}

/// Encodes the transactions of consecutive L2 blocks (one list per block) as a batch payload.
///
/// A batch whose RLP is longer than [`MAX_BATCH_BYTES`] does not decode: callers keep batches
/// smaller (the blobs of one L1 transaction hold far less anyway).
pub fn encode_batch(blocks: &[Vec<TxEnvelope>], compression: Compression) -> Vec<u8> {
    let mut rlp = Vec::with_capacity(alloy_rlp::list_length::<_, Vec<TxEnvelope>>(blocks));
    alloy_rlp::encode_list::<_, Vec<TxEnvelope>>(blocks, &mut rlp);
    match compression {
        Compression::None => {
            let mut out = Vec::with_capacity(1 + rlp.len());
            out.push(BATCH_VERSION_RAW);
            out.extend_from_slice(&rlp);
            out
        }
        Compression::Brotli => compress(BATCH_VERSION_BROTLI, &rlp),
    }
}

/// Encodes the transactions of a run's blocks (one list per block) with the run's witness as a
/// version `0x02` batch payload (always brotli-compressed).
pub fn encode_witness_batch(blocks: &[Vec<TxEnvelope>], witness: &ExecutionWitness) -> Vec<u8> {
    let body = WitnessBody { blocks: blocks.to_vec(), witness: witness.clone() };
    compress(BATCH_VERSION_WITNESS, &alloy_rlp::encode(&body))
}

/// The length of a batch's RLP body (what EXECUTE charges per word) for these blocks'
/// transactions and, for a version `0x02` batch, this witness.
pub fn batch_body_len(blocks: &[Vec<TxEnvelope>], witness: Option<&ExecutionWitness>) -> usize {
    let txs = alloy_rlp::list_length::<_, Vec<TxEnvelope>>(blocks);
    match witness {
        None => txs,
        Some(w) => {
            let payload = txs + w.length();
            alloy_rlp::length_of_length(payload) + payload
        }
    }
}

/// `version ‖ brotli(rlp)`.
fn compress(version: u8, rlp: &[u8]) -> Vec<u8> {
    let mut out = vec![version];
    let params = BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_LGWIN,
        size_hint: rlp.len(),
        large_window: false,
        ..Default::default()
    };
    // Reading a slice and writing a vector cannot fail.
    let mut input = rlp;
    if brotli::BrotliCompress(&mut input, &mut out, &params).is_err() {
        unreachable!("brotli from a slice into a vector does not fail");
    }
    out
}

/// The RLP body of a version `0x02` batch.
#[derive(RlpEncodable, RlpDecodable)]
struct WitnessBody {
    blocks: Vec<Vec<TxEnvelope>>,
    witness: ExecutionWitness,
}

/// A decoded batch: its blocks' transactions and, for a version `0x02` batch, a run's witness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// One transaction list per block.
    pub blocks: Vec<Vec<TxEnvelope>>,
    /// The witness of the run the blocks form (version `0x02` only).
    pub witness: Option<ExecutionWitness>,
}

impl Batch {
    /// Decoded items: transactions, and the witness's trie nodes, codes and headers (what
    /// EXECUTE charges `batch_item_gas` for: each is then hashed, recovered or indexed).
    pub fn items(&self) -> usize {
        let txs: usize = self.blocks.iter().map(Vec::len).sum();
        txs + self.witness.as_ref().map_or(0, ExecutionWitness::items)
    }
}

/// Decodes a batch payload (of any version) into its blocks' transaction lists; never panics,
/// whatever the bytes. A version `0x02` batch's witness is decoded, then dropped (a follower,
/// which holds the state, does not need it).
pub fn decode_batch(payload: &[u8]) -> Result<Vec<Vec<TxEnvelope>>, BatchError> {
    decode_batch_within(payload, MAX_BATCH_BYTES).0.map(|batch| batch.blocks)
}

/// [`decode_batch`] with the RLP body bounded by `cap` bytes (at most [`MAX_BATCH_BYTES`]):
/// decompression stops, with [`BatchError::TooLarge`], as soon as it would pass it. Also
/// returns, whatever the outcome, how many body bytes were produced (decompressed, or read raw):
/// the work EXECUTE charges for, refused batches included.
pub fn decode_batch_within(payload: &[u8], cap: usize) -> (Result<Batch, BatchError>, usize) {
    let cap = cap.min(MAX_BATCH_BYTES);
    let Some((&version, body)) = payload.split_first() else { return (Err(BatchError::Empty), 0) };
    let decompressed;
    let rlp = match version {
        BATCH_VERSION_RAW => {
            if body.len() > cap {
                return (Err(BatchError::TooLarge), cap);
            }
            body
        }
        BATCH_VERSION_BROTLI | BATCH_VERSION_WITNESS => match brotli_decompress(body, cap) {
            Ok(out) => {
                decompressed = out;
                decompressed.as_slice()
            }
            Err((err, produced)) => return (Err(err), produced),
        },
        other => return (Err(BatchError::UnknownVersion(other)), 0),
    };
    let mut buf = rlp;
    let decoded = if version == BATCH_VERSION_WITNESS {
        WitnessBody::decode(&mut buf).map(|b| Batch { blocks: b.blocks, witness: Some(b.witness) })
    } else {
        Vec::<Vec<TxEnvelope>>::decode(&mut buf).map(|blocks| Batch { blocks, witness: None })
    };
    let batch = match decoded {
        Ok(batch) if buf.is_empty() => Ok(batch),
        Ok(_) => Err(BatchError::TrailingBytes(buf.len())),
        Err(e) => Err(BatchError::Rlp(e)),
    };
    (batch, rlp.len())
}

/// Decompresses a standard brotli stream of at most `cap` bytes, stopping as soon as it would
/// produce more; an error comes with how many bytes were produced before it.
fn brotli_decompress(input: &[u8], cap: usize) -> Result<Vec<u8>, (BatchError, usize)> {
    // Strict: standard window sizes only (at most 16 MiB), never the large-window extension.
    let mut state = BrotliState::new_strict(
        HeapAlloc::<u8>::default(),
        HeapAlloc::<u32>::default(),
        HeapAlloc::<HuffmanCode>::default(),
    );
    let mut out = Vec::new();
    let mut chunk = vec![0u8; DECOMPRESS_CHUNK];
    let (mut available_in, mut input_offset, mut total_out) = (input.len(), 0usize, 0usize);
    loop {
        let (mut available_out, mut output_offset) = (chunk.len(), 0usize);
        let consumed_before = input_offset;
        let result = BrotliDecompressStream(
            &mut available_in,
            &mut input_offset,
            input,
            &mut available_out,
            &mut output_offset,
            &mut chunk,
            &mut total_out,
            &mut state,
        );
        let produced = chunk.get(..output_offset).ok_or((BatchError::Decompress, out.len()))?;
        if out.len() + produced.len() > cap {
            return Err((BatchError::TooLarge, cap));
        }
        out.extend_from_slice(produced);
        let fail = |err| Err((err, out.len()));
        match result {
            BrotliResult::ResultSuccess if available_in == 0 => return Ok(out),
            BrotliResult::ResultSuccess => return fail(BatchError::TrailingCompressedBytes(available_in)),
            BrotliResult::NeedsMoreOutput if output_offset > 0 || input_offset > consumed_before => {}
            // More output wanted, yet a whole empty chunk made no progress: never loop on it.
            BrotliResult::NeedsMoreOutput => return fail(BatchError::Decompress),
            BrotliResult::NeedsMoreInput => return fail(BatchError::Truncated),
            BrotliResult::ResultFailure => return fail(BatchError::Decompress),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_batches_round_trip() {
        for compression in [Compression::None, Compression::Brotli] {
            let payload = encode_batch(&[], compression);
            assert_eq!(payload[0], compression.version());
            assert_eq!(decode_batch(&payload), Ok(vec![]));
            let payload = encode_batch(&[vec![], vec![]], compression);
            assert_eq!(decode_batch(&payload), Ok(vec![vec![], vec![]]));
        }
    }

    #[test]
    fn malformed_payloads_have_their_own_errors() {
        assert_eq!(decode_batch(&[]), Err(BatchError::Empty));
        assert_eq!(decode_batch(&[0x03, 0xc0]), Err(BatchError::UnknownVersion(0x03)));
        assert_eq!(decode_batch(&[0x00, 0xc0, 0x00]), Err(BatchError::TrailingBytes(1)));
        assert_eq!(decode_batch(&[0x00, 0x80]), Err(BatchError::Rlp(alloy_rlp::Error::UnexpectedString)));
        assert_eq!(decode_batch(&[0x00]), Err(BatchError::Rlp(alloy_rlp::Error::InputTooShort)));
        // A block that is not a list of transactions.
        assert!(matches!(decode_batch(&[0x00, 0xc1, 0x01]), Err(BatchError::Rlp(_))));

        let compressed = encode_batch(&[vec![], vec![]], Compression::Brotli);
        let mut trailing = compressed.clone();
        trailing.push(0);
        assert_eq!(decode_batch(&trailing), Err(BatchError::TrailingCompressedBytes(1)));
        assert_eq!(decode_batch(&compressed[..compressed.len() - 1]), Err(BatchError::Truncated));
        assert_eq!(decode_batch(&[0x01]), Err(BatchError::Truncated));
        // WBITS of the large-window extension: rejected by the strict decoder.
        assert_eq!(decode_batch(&[0x01, 0x11, 0xff]), Err(BatchError::Decompress));

        // Brotli of bytes that are not RLP.
        let mut garbage = vec![BATCH_VERSION_BROTLI];
        let mut input: &[u8] = &[0x80, 0x01];
        brotli::BrotliCompress(&mut input, &mut garbage, &BrotliEncoderParams::default()).unwrap();
        assert!(matches!(decode_batch(&garbage), Err(BatchError::Rlp(_))));
    }

    #[test]
    fn witness_batches_round_trip_and_are_measured_exactly() {
        let witness = ExecutionWitness {
            state: vec![vec![0xc0].into(), vec![0x12; 532].into()],
            codes: vec![vec![0x60, 0x00].into()],
            headers: vec![],
        };
        for blocks in [vec![], vec![vec![], vec![]]] {
            let payload = encode_witness_batch(&blocks, &witness);
            assert_eq!(payload[0], BATCH_VERSION_WITNESS);
            let (decoded, produced) = decode_batch_within(&payload, MAX_BATCH_BYTES);
            let batch = decoded.unwrap();
            assert_eq!(batch, Batch { blocks: blocks.clone(), witness: Some(witness.clone()) });
            assert_eq!(batch.items(), 3);
            assert_eq!(produced, batch_body_len(&blocks, Some(&witness)));
            // A follower reads the transactions only.
            assert_eq!(decode_batch(&payload), Ok(blocks.clone()));
            let (_, produced) = decode_batch_within(&encode_batch(&blocks, Compression::Brotli), MAX_BATCH_BYTES);
            assert_eq!(produced, batch_body_len(&blocks, None));
        }
        // A version 0x01 body under version 0x02 (no witness field) does not decode.
        let mut relabelled = encode_batch(&[vec![]], Compression::Brotli);
        relabelled[0] = BATCH_VERSION_WITNESS;
        assert!(matches!(decode_batch(&relabelled), Err(BatchError::Rlp(_))));
    }

    #[test]
    fn raw_bodies_over_the_cap_are_rejected() {
        let mut payload = vec![BATCH_VERSION_RAW];
        payload.resize(MAX_BATCH_BYTES + 2, 0);
        assert_eq!(decode_batch(&payload), Err(BatchError::TooLarge));
    }

    #[test]
    fn decompression_stops_at_the_cap() {
        // Exactly the cap decompresses (then fails as RLP); one byte more is refused.
        for (len, expected) in [(MAX_BATCH_BYTES, None), (MAX_BATCH_BYTES + 1, Some(BatchError::TooLarge))] {
            let mut stream = Vec::new();
            let zeros = vec![0u8; len];
            let mut input = zeros.as_slice();
            brotli::BrotliCompress(&mut input, &mut stream, &BrotliEncoderParams::default()).unwrap();
            assert!(stream.len() < 1024, "{} bytes compress to {}", len, stream.len());
            match expected {
                Some(err) => assert_eq!(brotli_decompress(&stream, MAX_BATCH_BYTES).map_err(|(e, _)| e), Err(err)),
                None => assert_eq!(brotli_decompress(&stream, MAX_BATCH_BYTES).unwrap().len(), len),
            }
        }
    }

    #[test]
    fn refused_batches_report_the_bytes_they_made_decoding_produce() {
        // A bomb: 17 MiB of zeros in a few kilobytes.
        let zeros = vec![0u8; MAX_BATCH_BYTES + (1 << 20)];
        let mut bomb = vec![BATCH_VERSION_BROTLI];
        let params = BrotliEncoderParams { quality: 5, lgwin: BROTLI_LGWIN, ..Default::default() };
        brotli::BrotliCompress(&mut zeros.as_slice(), &mut bomb, &params).unwrap();
        assert!(bomb.len() < 64 * 1024);
        // Refused at the cap, whichever cap: the work up to it is what a caller pays for.
        assert_eq!(decode_batch_within(&bomb, MAX_BATCH_BYTES), (Err(BatchError::TooLarge), MAX_BATCH_BYTES));
        assert_eq!(decode_batch_within(&bomb, 4096), (Err(BatchError::TooLarge), 4096));
        // A body that decompresses but is not RLP of a batch: all of it was produced.
        let mut not_rlp = vec![BATCH_VERSION_BROTLI];
        brotli::BrotliCompress(&mut [0xffu8; 1000].as_slice(), &mut not_rlp, &params).unwrap();
        let (result, produced) = decode_batch_within(&not_rlp, MAX_BATCH_BYTES);
        assert!(matches!(result, Err(BatchError::Rlp(_))), "{result:?}");
        assert_eq!(produced, 1000);
    }
}
