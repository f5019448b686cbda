//! # nrd-execute-client
//!
//! Everything between "a block ran on a full node" and "L1 believes it": the heart of the
//! EXECUTE precompile.
//!
//! - **Witness recording** ([`record_block`]): import a block over the full state and keep every
//!   trie node, bytecode and ancestor header it touched — including the siblings that deletions
//!   fold into their parents — as an [`ExecutionWitness`] (the `debug_executionWitness` shape).
//! - **Stateless verification** ([`verify_block`]): rebuild a sparse state from the witness only,
//!   re-execute the block with the very code a full node imports with, and check every header
//!   commitment. A missing node or code, an unused one, a parent header that does not hash right:
//!   each is its own [`VerifyError`].
//! - **Traces** ([`Trace`]): the versioned byte format EXECUTE receives.
//! - **Batches** ([`encode_batch`], [`encode_witness_batch`], [`payload_to_blobs`]): several L2
//!   blocks' transactions, and optionally a run's witness, brotli-compressed and packed into
//!   blobs (blob mode).
//! - **The [`Verifier`] seam**: [`Reexecution`] now; a proof verifier can implement it later.
//! - **The EXECUTE precompile** ([`ExecutePrecompile`]): decodes the call, meters EXECUTE gas
//!   per L1 block in its own storage (EIP-1559-style base fee), charges every piece of work as
//!   L1 gas before doing it (the fee included, with a floor), settles the meter after each
//!   transaction so reverted calls count too, resolves blob references of the current
//!   transaction, and verifies through [`Reexecution`] under a work budget.
//!
//! ```text
//! full node:  record_block(spec, block, anchor, &mut state, &ancestors) -> (imported, witness)
//! verifier:   Reexecution::new(spec).verify(&ExecuteInput { pre, post, gas_used, trace })
//! ```

mod batch;
mod blob;
mod precompile;
mod record;
mod stateless;
mod trace;
mod verifier;
mod witness;

pub use batch::{
    BATCH_VERSION_BROTLI, BATCH_VERSION_RAW, BATCH_VERSION_WITNESS, BROTLI_LGWIN, BROTLI_QUALITY, Batch, BatchError,
    Compression, MAX_BATCH_BYTES, batch_body_len, decode_batch, decode_batch_within, encode_batch,
    encode_witness_batch,
};
pub use blob::{
    BlobBatchError, BlobPayloadError, USABLE_BYTES_PER_BLOB, blobs_for_payload, blobs_to_payload, decode_batch_blobs,
    encode_batch_blobs, payload_to_blobs,
};
pub use precompile::{
    BlobSource, EXECUTE_ADDRESS, ExecuteCallError, ExecuteGas, ExecutePrecompile, METER_BASE_FEE_SLOT,
    METER_BLOCK_SLOT, METER_USED_SLOT, MeterConfig, NoBlobs, StoredMeter, encode_execute_input,
};
pub use record::{Ancestors, record_block, record_run};
pub use stateless::{VerifiedBlock, VerifyError, verify_block, verify_block_bounded, verify_run};
pub use trace::{
    AnyTrace, BlobRunTrace, MAX_RUN_BLOCKS, RunTrace, TRACE_VERSION_BLOB_RUN, TRACE_VERSION_RAW, TRACE_VERSION_RUN,
    Trace, TraceError,
};
pub use verifier::{ExecuteError, ExecuteInput, Reexecution, Verifier, decode_run_anchors, encode_run_anchors};
pub use witness::ExecutionWitness;
