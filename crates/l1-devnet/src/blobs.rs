//! Blob sidecars: kept by versioned hash for EXECUTE's blob mode and by block for the beacon
//! API (`/eth/v1/beacon/blob_sidecars/{block_id}`).

use alloy_eips::{
    eip4844::{Blob, Bytes48, env_settings::EnvKzgSettings},
    eip7594::BlobTransactionSidecarVariant,
};
use alloy_primitives::{B256, map::HashMap};
use nrd_chain::{RwLockExt, StoredBlock};
use nrd_execute_client::BlobSource;
use std::{
    collections::BTreeMap,
    sync::{Arc, RwLock},
};

/// One blob with its KZG commitment and blob proof.
#[derive(Debug, Clone)]
pub struct StoredBlob {
    /// The blob.
    pub blob: Arc<Blob>,
    /// Its KZG commitment.
    pub commitment: Bytes48,
    /// Its EIP-4844 blob proof (computed for EIP-7594 sidecars, which carry cell proofs).
    pub proof: Bytes48,
}

#[derive(Debug, Default)]
struct Inner {
    by_hash: HashMap<B256, StoredBlob>,
    by_block: BTreeMap<u64, Vec<B256>>,
}

/// Blob storage shared by the pool, the block producer, EXECUTE and the beacon API.
#[derive(Debug, Default)]
pub struct BlobStore {
    inner: RwLock<Inner>,
}

impl BlobStore {
    /// Keeps the blobs of a sidecar (already KZG-checked) under their versioned hashes.
    pub fn insert_pending(&self, hashes: &[B256], sidecar: &BlobTransactionSidecarVariant) {
        let (blobs, commitments, proofs): (&[Blob], &[Bytes48], Option<&[Bytes48]>) = match sidecar {
            BlobTransactionSidecarVariant::Eip4844(s) => (&s.blobs, &s.commitments, Some(&s.proofs)),
            BlobTransactionSidecarVariant::Eip7594(s) => (&s.blobs, &s.commitments, None),
        };
        let mut inner = self.inner.write_or_recover();
        for (i, hash) in hashes.iter().enumerate() {
            let (Some(blob), Some(commitment)) = (blobs.get(i), commitments.get(i)) else { continue };
            let proof = match proofs.and_then(|p| p.get(i)) {
                Some(p) => *p,
                None => blob_proof(blob, commitment).unwrap_or_default(),
            };
            inner.by_hash.insert(*hash, StoredBlob { blob: Arc::new(*blob), commitment: *commitment, proof });
        }
    }

    /// Records which blobs block `number` carries, in order.
    pub fn seal_block(&self, number: u64, block: &StoredBlock) {
        use alloy_consensus::Transaction;
        let hashes: Vec<B256> = block
            .block
            .body
            .transactions
            .iter()
            .filter_map(|tx| tx.blob_versioned_hashes())
            .flatten()
            .copied()
            .collect();
        if !hashes.is_empty() {
            self.inner.write_or_recover().by_block.insert(number, hashes);
        }
    }

    /// Forgets which blobs a dropped block carried.
    pub fn drop_block(&self, number: u64) {
        self.inner.write_or_recover().by_block.remove(&number);
    }

    /// The blobs of block `number`, in order.
    pub fn block_sidecars(&self, number: u64) -> Vec<StoredBlob> {
        let inner = self.inner.read_or_recover();
        inner
            .by_block
            .get(&number)
            .map(|hashes| hashes.iter().filter_map(|h| inner.by_hash.get(h).cloned()).collect())
            .unwrap_or_default()
    }
}

fn blob_proof(blob: &Blob, commitment: &Bytes48) -> Option<Bytes48> {
    let settings = EnvKzgSettings::Default.get();
    let blob = c_kzg::Blob::from_bytes(blob.as_slice()).ok()?;
    let commitment = c_kzg::Bytes48::from_bytes(commitment.as_slice()).ok()?;
    let proof = settings.compute_blob_kzg_proof(&blob, &commitment).ok()?;
    Some(Bytes48::from(proof.to_bytes().into_inner()))
}

impl BlobSource for BlobStore {
    fn blob(&self, versioned_hash: &B256) -> Option<Arc<Blob>> {
        self.inner.read_or_recover().by_hash.get(versioned_hash).map(|b| b.blob.clone())
    }
}
