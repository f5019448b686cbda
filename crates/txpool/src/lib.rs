//! # nrd-txpool
//!
//! The transaction pool both of nrd's chains use: the L1 devnet and the L2 sequencer.
//!
//! - **Admission** ([`Pool::add`]): signature, chain id, nonce, balance, fee caps, intrinsic gas
//!   (with the EIP-7623 floor) and, for blob transactions, KZG proofs, checked against the state
//!   and the next block ([`AdmissionContext`]); refusals are typed [`PoolError`]s whose messages
//!   read as geth's, which wallets and tools recognise.
//! - **Queues**: per sender, by nonce; a pooled nonce is replaced only by a fee bump; limits per
//!   sender, in total and on nonce gaps ([`PoolLimits`]).
//! - **Candidates** ([`Pool::candidates`]): per sender the run of nonces from the account nonce,
//!   merged across senders by effective tip, for the block builder.
//! - **Decoding** ([`decode_pooled`]): network-form raw transactions (blob transactions with
//!   their sidecar).

mod pool;

pub use pool::{AdmissionContext, Pool, PoolError, PoolLimits, PooledTx, decode_pooled};
