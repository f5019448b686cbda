//! The beacon API's blob endpoint: parsing `GET /eth/v1/beacon/blob_sidecars/{block_id}` and
//! checking each blob against its KZG commitment.

use crate::L1Error;
use alloy_eips::eip4844::{Blob, Bytes48, env_settings::EnvKzgSettings, kzg_to_versioned_hash};
use alloy_primitives::B256;
use serde::Deserialize;

#[derive(Deserialize)]
struct Response {
    data: Vec<Sidecar>,
}

#[derive(Deserialize)]
struct Sidecar {
    blob: Box<Blob>,
    kzg_commitment: Bytes48,
    kzg_proof: Bytes48,
}

/// Parses a `blob_sidecars` response body into `(versioned hash, blob)` pairs, in the order
/// served, after checking each blob's KZG proof against its commitment (so a blob is bound to
/// the versioned hash the L1 transaction carries, whatever beacon node served it).
pub fn parse_blob_sidecars(body: &[u8]) -> Result<Vec<(B256, Blob)>, L1Error> {
    let response: Response = serde_json::from_slice(body).map_err(|e| L1Error::malformed_by("blob sidecars", e))?;
    let settings = EnvKzgSettings::Default.get();
    response
        .data
        .into_iter()
        .enumerate()
        .map(|(index, sidecar)| {
            let bad = |e: c_kzg::Error| L1Error::malformed_by(format!("blob sidecar {index}"), e);
            let blob = c_kzg::Blob::from_bytes(sidecar.blob.as_slice()).map_err(bad)?;
            let commitment = c_kzg::Bytes48::from_bytes(sidecar.kzg_commitment.as_slice()).map_err(bad)?;
            let proof = c_kzg::Bytes48::from_bytes(sidecar.kzg_proof.as_slice()).map_err(bad)?;
            match settings.verify_blob_kzg_proof(&blob, &commitment, &proof) {
                Ok(true) => Ok((kzg_to_versioned_hash(sidecar.kzg_commitment.as_slice()), *sidecar.blob)),
                Ok(false) => Err(L1Error::malformed(format!(
                    "blob sidecar {index}: KZG proof does not verify against the commitment"
                ))),
                Err(e) => Err(bad(e)),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use alloy_eips::eip4844::BlobTransactionSidecar;
    use alloy_primitives::hex;

    fn body(blob: &Blob, commitment: &Bytes48, proof: &Bytes48) -> Vec<u8> {
        serde_json::json!({
            "data": [{
                "index": "0",
                "blob": format!("0x{}", hex::encode(blob.as_slice())),
                "kzg_commitment": commitment,
                "kzg_proof": proof,
                "signed_block_header": { "message": { "slot": "1" } },
                "kzg_commitment_inclusion_proof": [],
            }],
            "execution_optimistic": false,
            "finalized": true,
        })
        .to_string()
        .into_bytes()
    }

    fn sidecar() -> BlobTransactionSidecar {
        let mut blob = Blob::default();
        blob[1..12].copy_from_slice(b"hello blobs");
        BlobTransactionSidecar::try_from_blobs_with_settings(vec![blob], EnvKzgSettings::Default.get()).unwrap()
    }

    #[test]
    fn a_sidecar_parses_to_its_versioned_hash_and_blob() {
        let s = sidecar();
        let parsed = parse_blob_sidecars(&body(&s.blobs[0], &s.commitments[0], &s.proofs[0])).unwrap();
        assert_eq!(parsed.len(), 1);
        assert_eq!(parsed[0].0, s.versioned_hashes().next().unwrap());
        assert_eq!(parsed[0].1, s.blobs[0]);
        let empty = parse_blob_sidecars(br#"{"data":[],"finalized":true}"#).unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn a_blob_that_does_not_match_its_commitment_is_refused() {
        let s = sidecar();
        let mut other = s.blobs[0];
        other[1] ^= 1;
        let err = parse_blob_sidecars(&body(&other, &s.commitments[0], &s.proofs[0])).unwrap_err();
        assert!(matches!(err, L1Error::Malformed { ref what, .. } if what.contains("KZG")), "{err}");
        assert!(!err.is_temporary());
        let err = parse_blob_sidecars(b"{\"data\": [{\"blob\": \"0x00\"}]}").unwrap_err();
        assert!(matches!(err, L1Error::Malformed { .. }), "{err}");
        assert!(matches!(parse_blob_sidecars(b"<html>"), Err(L1Error::Malformed { .. })));
    }
}
