//! # nrd-test-utils
//!
//! What the tests of every nrd crate write otherwise again and again (reth keeps the same in
//! `testing/testing-utils`): deterministic test keys and signed transactions. It depends on
//! alloy alone, so any crate — `nrd-chain` included — can take it as a dev-dependency without a
//! cycle. The rollup-level harness (an L1 devnet with `NativeRollup` deployed and an L2 next to
//! it) is `nrd-testkit`, built on this one.
//!
//! ```
//! use alloy_primitives::{Address, Bytes, U256};
//! use nrd_test_utils::{eip1559, key, raw, sign};
//!
//! let alice = key("alice");
//! let tx = sign(&alice, eip1559(901, 0, Address::with_last_byte(1), U256::from(1), Bytes::new()));
//! assert!(!raw(&tx).is_empty());
//! ```

use alloy_consensus::{
    EthereumTxEnvelope, SignableTransaction, Signed, TxEip1559, TxEip4844, TxEip4844WithSidecar, TxEnvelope,
    transaction::Recovered,
};
use alloy_eips::{Encodable2718, eip4844::BlobTransactionSidecar, eip7594::BlobTransactionSidecarVariant};
use alloy_primitives::{B256, Bytes, Signature, TxKind, U256, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;

/// Gas limit of [`eip1559`]'s transactions.
pub const GAS_LIMIT: u64 = 200_000;
/// `maxFeePerGas` of [`eip1559`]'s transactions (20 gwei).
pub const MAX_FEE: u128 = 20_000_000_000;
/// `maxPriorityFeePerGas` of [`eip1559`]'s transactions (1 gwei).
pub const TIP: u128 = 1_000_000_000;

/// The key whose secret is `keccak256(label)`: the same for a label in every test.
pub fn key(label: &str) -> PrivateKeySigner {
    #[allow(clippy::expect_used)]
    PrivateKeySigner::from_bytes(&keccak256(label)).expect("a keccak hash is a valid secp256k1 key")
}

/// `n` distinct keys (`key("key 0")`, `key("key 1")`, …).
pub fn keys(n: usize) -> Vec<PrivateKeySigner> {
    (0..n).map(|i| key(&format!("key {i}"))).collect()
}

/// An EIP-1559 transaction with the defaults tests use ([`GAS_LIMIT`], [`MAX_FEE`], [`TIP`]);
/// change fields before signing where a test needs others.
pub fn eip1559(chain_id: u64, nonce: u64, to: impl Into<TxKind>, value: U256, input: Bytes) -> TxEip1559 {
    TxEip1559 {
        chain_id,
        nonce,
        gas_limit: GAS_LIMIT,
        max_fee_per_gas: MAX_FEE,
        max_priority_fee_per_gas: TIP,
        to: to.into(),
        value,
        input,
        access_list: Default::default(),
    }
}

/// `key`'s signature over `hash`: for what [`sign`] cannot wrap into a [`TxEnvelope`] — an
/// EIP-7702 authorization, a blob transaction in its sidecar form.
pub fn signature(key: &PrivateKeySigner, hash: B256) -> Signature {
    #[allow(clippy::expect_used)]
    key.sign_hash_sync(&hash).expect("a local key signs any hash")
}

/// Signs any transaction type with `key`.
pub fn sign<T>(key: &PrivateKeySigner, tx: T) -> TxEnvelope
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    let signature = signature(key, tx.signature_hash());
    tx.into_signed(signature).into()
}

/// Signs `tx` and pairs it with its sender, as a block builder takes transactions.
pub fn sign_recovered<T>(key: &PrivateKeySigner, tx: T) -> Recovered<TxEnvelope>
where
    T: SignableTransaction<Signature>,
    Signed<T>: Into<TxEnvelope>,
{
    Recovered::new_unchecked(sign(key, tx), key.address())
}

/// The network encoding (`eth_sendRawTransaction`'s argument).
pub fn raw(tx: &TxEnvelope) -> Bytes {
    tx.encoded_2718().into()
}

/// Signs a blob transaction and encodes it in its network form, with its (EIP-4844) sidecar:
/// what a blob sender passes to `eth_sendRawTransaction`.
pub fn raw_blob(key: &PrivateKeySigner, tx: TxEip4844, sidecar: BlobTransactionSidecar) -> Bytes {
    let signature = signature(key, tx.signature_hash());
    let with_sidecar = TxEip4844WithSidecar { tx, sidecar: BlobTransactionSidecarVariant::Eip4844(sidecar) };
    EthereumTxEnvelope::Eip4844(Signed::new_unhashed(with_sidecar, signature)).encoded_2718().into()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use alloy_consensus::{Transaction, TxLegacy, transaction::SignerRecoverable};
    use alloy_primitives::Address;

    #[test]
    fn signed_transactions_recover_their_signer() {
        let alice = key("alice");
        assert_eq!(alice.address(), key("alice").address());
        assert_ne!(alice.address(), key("bob").address());
        let tx = sign(&alice, eip1559(901, 3, Address::with_last_byte(1), U256::from(7), Bytes::new()));
        assert_eq!(tx.recover_signer().unwrap(), alice.address());
        assert_eq!((tx.chain_id(), tx.nonce(), tx.value()), (Some(901), 3, U256::from(7)));
        let legacy = TxLegacy { chain_id: Some(1), gas_limit: 21_000, ..Default::default() };
        let recovered = sign_recovered(&alice, legacy);
        assert_eq!(recovered.signer(), alice.address());
        assert_eq!(recovered.inner().recover_signer().unwrap(), alice.address());
        assert_eq!(keys(3).len(), 3);
    }

    #[test]
    fn blob_transactions_carry_their_sidecar() {
        use alloy_consensus::EthereumTxEnvelope;
        use alloy_eips::Decodable2718;
        let alice = key("alice");
        let sidecar = BlobTransactionSidecar {
            blobs: vec![Default::default()],
            commitments: vec![Default::default()],
            proofs: vec![Default::default()],
        };
        let tx = TxEip4844 { chain_id: 900, blob_versioned_hashes: vec![B256::repeat_byte(1)], ..Default::default() };
        let raw = raw_blob(&alice, tx, sidecar.clone());
        let decoded =
            EthereumTxEnvelope::<TxEip4844WithSidecar<BlobTransactionSidecarVariant>>::decode_2718(&mut raw.as_ref())
                .unwrap();
        assert_eq!(decoded.recover_signer().unwrap(), alice.address());
        let EthereumTxEnvelope::Eip4844(signed) = decoded else { panic!("not a blob transaction") };
        assert_eq!(signed.tx().sidecar, BlobTransactionSidecarVariant::Eip4844(sidecar));
    }
}
