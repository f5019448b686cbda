//! On-disk encodings of the store's values.
//!
//! Chain data keeps its standard encodings (block RLP, EIP-2718 receipts, ABI-encoded
//! `L1Message[]`, RLP witness) inside small length-prefixed records that start with a version
//! byte. Decoding never trusts a length or a count: every failure is a [`DecodeError`], which the
//! store turns into [`crate::StoreError::Corrupt`] with the record's name.

use crate::{L2Block, error::DecodeError};
use alloy_consensus::{Block, Header, ReceiptEnvelope, TxEnvelope};
use alloy_eips::eip2718::{Decodable2718, Encodable2718};
use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_rlp::{Decodable, Encodable};
use alloy_sol_types::SolValue;
use nrd_bridge::L1Message;
use nrd_chain::{AccountState, StoredBlock};
use nrd_execute_client::ExecutionWitness;
use std::sync::Arc;

/// Version byte of block records.
const BLOCK_VERSION: u8 = 1;
/// Version byte of a block record that keeps only the header (the body and receipts were
/// pruned, or the block is an ancestor a checkpoint brought).
const HEADER_VERSION: u8 = 2;
/// Version byte of undo records.
const UNDO_VERSION: u8 = 1;
/// Bytes of an account value: nonce (8), balance (32), code hash (32).
pub(crate) const ACCOUNT_LEN: usize = 72;

pub(crate) type DecodeResult<T> = Result<T, DecodeError>;

/// Appends fields to a buffer.
#[derive(Debug, Default)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.0.push(v);
    }

    pub(crate) fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_be_bytes());
    }

    pub(crate) fn fixed(&mut self, v: &[u8]) {
        self.0.extend_from_slice(v);
    }

    /// Length-prefixed bytes.
    pub(crate) fn bytes(&mut self, v: &[u8]) {
        self.u64(v.len() as u64);
        self.0.extend_from_slice(v);
    }

    pub(crate) fn finish(self) -> Vec<u8> {
        self.0
    }
}

/// Reads fields from a buffer, failing on anything short or left over.
#[derive(Debug)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self(buf)
    }

    fn take(&mut self, n: usize) -> DecodeResult<&'a [u8]> {
        if n > self.0.len() {
            return Err(DecodeError::Short { needed: n, left: self.0.len() });
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> DecodeResult<u8> {
        Ok(self.take(1)?[0])
    }

    pub(crate) fn u64(&mut self) -> DecodeResult<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(u64::from_be_bytes(b))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> DecodeResult<[u8; N]> {
        let mut b = [0u8; N];
        b.copy_from_slice(self.take(N)?);
        Ok(b)
    }

    pub(crate) fn bytes(&mut self) -> DecodeResult<&'a [u8]> {
        let len = self.u64()?;
        let len = usize::try_from(len).map_err(|_| DecodeError::Length(len))?;
        self.take(len)
    }

    /// A count of items of at least `min_size` bytes each, checked against what is left.
    pub(crate) fn count(&mut self, min_size: usize) -> DecodeResult<usize> {
        let n = self.u64()?;
        let fits = usize::try_from(n).ok().filter(|n| n.saturating_mul(min_size.max(1)) <= self.0.len());
        fits.ok_or(DecodeError::Count { count: n, left: self.0.len() })
    }

    pub(crate) fn version(&mut self, expected: u8) -> DecodeResult<()> {
        match self.u8()? {
            v if v == expected => Ok(()),
            v => Err(DecodeError::Version(v)),
        }
    }

    pub(crate) fn end(self) -> DecodeResult<()> {
        if self.0.is_empty() { Ok(()) } else { Err(DecodeError::TrailingBytes(self.0.len())) }
    }
}

/// Encodes an account value.
pub(crate) fn encode_account(a: &AccountState) -> [u8; ACCOUNT_LEN] {
    let mut out = [0u8; ACCOUNT_LEN];
    out[..8].copy_from_slice(&a.nonce.to_be_bytes());
    out[8..40].copy_from_slice(&a.balance.to_be_bytes::<32>());
    out[40..].copy_from_slice(a.code_hash.as_slice());
    out
}

/// Decodes an account value.
pub(crate) fn decode_account(raw: &[u8]) -> DecodeResult<AccountState> {
    let mut r = Reader::new(raw);
    let nonce = r.u64()?;
    let balance = U256::from_be_bytes(r.array::<32>()?);
    let code_hash = B256::from(r.array::<32>()?);
    r.end()?;
    Ok(AccountState { nonce, balance, code_hash })
}

/// Decodes a storage value (32 bytes, never zero: zero slots are not stored).
pub(crate) fn decode_slot_value(raw: &[u8]) -> DecodeResult<U256> {
    let b: [u8; 32] = raw.try_into().map_err(|_| DecodeError::SlotLength(raw.len()))?;
    let v = U256::from_be_bytes(b);
    if v.is_zero() { Err(DecodeError::ZeroSlot) } else { Ok(v) }
}

/// Encodes a block record (everything of an [`L2Block`] but the witness, which has its own table).
pub(crate) fn encode_block(stored: &StoredBlock, anchor: &[u8], l1_anchor: u64, messages: &[L1Message]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(BLOCK_VERSION);
    let mut rlp = Vec::new();
    stored.block.encode(&mut rlp);
    w.bytes(&rlp);
    w.u64(stored.senders.len() as u64);
    for s in &stored.senders {
        w.fixed(s.as_slice());
    }
    w.u64(stored.receipts.len() as u64);
    for r in &stored.receipts {
        w.bytes(&r.encoded_2718());
    }
    w.bytes(anchor);
    w.u64(l1_anchor);
    w.bytes(&messages.abi_encode());
    w.finish()
}

/// Decodes a block record; hash and transaction hashes are recomputed.
pub(crate) fn decode_block(raw: &[u8], witness: Option<ExecutionWitness>) -> DecodeResult<L2Block> {
    let mut r = Reader::new(raw);
    r.version(BLOCK_VERSION)?;
    let mut rlp = r.bytes()?;
    let block = Block::<TxEnvelope>::decode(&mut rlp).map_err(DecodeError::BlockRlp)?;
    if !rlp.is_empty() {
        return Err(DecodeError::TrailingAfter("the block rlp"));
    }
    let n = r.count(20)?;
    let senders = (0..n).map(|_| r.array::<20>().map(Address::from)).collect::<DecodeResult<Vec<_>>>()?;
    let n = r.count(8)?;
    let receipts = (0..n)
        .map(|_| {
            let mut raw = r.bytes()?;
            let receipt = ReceiptEnvelope::decode_2718(&mut raw).map_err(DecodeError::Receipt)?;
            if raw.is_empty() { Ok(receipt) } else { Err(DecodeError::TrailingAfter("a receipt")) }
        })
        .collect::<DecodeResult<Vec<_>>>()?;
    let anchor = Bytes::copy_from_slice(r.bytes()?);
    let l1_anchor = r.u64()?;
    let messages = Vec::<L1Message>::abi_decode(r.bytes()?).map_err(DecodeError::Messages)?;
    r.end()?;
    let txs = block.body.transactions.len();
    if senders.len() != txs || receipts.len() != txs {
        return Err(DecodeError::Counts { txs, senders: senders.len(), receipts: receipts.len() });
    }
    let stored = StoredBlock::new(block, senders, receipts);
    Ok(L2Block { stored: Arc::new(stored), anchor, l1_anchor, messages, witness })
}

/// Encodes a header-only block record.
pub(crate) fn encode_header_record(header: &Header) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(HEADER_VERSION);
    let mut rlp = Vec::new();
    header.encode(&mut rlp);
    w.bytes(&rlp);
    w.finish()
}

/// Whether a block record keeps only the header.
pub(crate) fn is_header_record(raw: &[u8]) -> bool {
    raw.first() == Some(&HEADER_VERSION)
}

/// The header of a block record of either form.
pub(crate) fn decode_record_header(raw: &[u8]) -> DecodeResult<Header> {
    let mut r = Reader::new(raw);
    if is_header_record(raw) {
        r.version(HEADER_VERSION)?;
        let mut rlp = r.bytes()?;
        let header = Header::decode(&mut rlp).map_err(DecodeError::BlockRlp)?;
        if !rlp.is_empty() {
            return Err(DecodeError::TrailingAfter("the header rlp"));
        }
        r.end()?;
        return Ok(header);
    }
    r.version(BLOCK_VERSION)?;
    // The block's RLP is a list whose first item is the header: the body is not decoded.
    let mut rlp = r.bytes()?;
    let list = alloy_rlp::Header::decode(&mut rlp).map_err(DecodeError::BlockRlp)?;
    if !list.list {
        return Err(DecodeError::BlockRlp(alloy_rlp::Error::UnexpectedString));
    }
    Header::decode(&mut rlp).map_err(DecodeError::BlockRlp)
}

/// Encodes a witness.
pub(crate) fn encode_witness(w: &ExecutionWitness) -> Vec<u8> {
    let mut out = Vec::new();
    w.encode(&mut out);
    out
}

/// Decodes a witness.
pub(crate) fn decode_witness(mut raw: &[u8]) -> DecodeResult<ExecutionWitness> {
    let w = ExecutionWitness::decode(&mut raw).map_err(DecodeError::WitnessRlp)?;
    if raw.is_empty() { Ok(w) } else { Err(DecodeError::TrailingAfter("the witness")) }
}

/// Previous values of what one block changed for one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AccountUndo {
    pub(crate) address: Address,
    /// The account before the block.
    pub(crate) account: Option<AccountState>,
    /// The storage before the block.
    pub(crate) storage: StorageUndo,
}

/// The storage part of an [`AccountUndo`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StorageUndo {
    /// The previous value of each slot written (zero: it was unset).
    Slots(Vec<(U256, U256)>),
    /// The whole previous storage (the block wiped or deleted the account).
    Full(Vec<(U256, U256)>),
}

/// What [`crate::ChainStore::rewind`] needs to remove one block exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct BlockUndo {
    /// In the order the block's changes were applied.
    pub(crate) accounts: Vec<AccountUndo>,
    /// Bytecode the block added to the store.
    pub(crate) new_codes: Vec<B256>,
    /// The block's transaction hashes (entries of the transaction index).
    pub(crate) tx_hashes: Vec<B256>,
}

pub(crate) fn encode_undo(u: &BlockUndo) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(UNDO_VERSION);
    w.u64(u.accounts.len() as u64);
    for a in &u.accounts {
        w.fixed(a.address.as_slice());
        match &a.account {
            None => w.u8(0),
            Some(acc) => {
                w.u8(1);
                w.fixed(&encode_account(acc));
            }
        }
        let (mode, slots) = match &a.storage {
            StorageUndo::Slots(s) => (0, s),
            StorageUndo::Full(s) => (1, s),
        };
        w.u8(mode);
        w.u64(slots.len() as u64);
        for (k, v) in slots {
            w.fixed(&k.to_be_bytes::<32>());
            w.fixed(&v.to_be_bytes::<32>());
        }
    }
    for list in [&u.new_codes, &u.tx_hashes] {
        w.u64(list.len() as u64);
        for h in list {
            w.fixed(h.as_slice());
        }
    }
    w.finish()
}

pub(crate) fn decode_undo(raw: &[u8]) -> DecodeResult<BlockUndo> {
    let mut r = Reader::new(raw);
    r.version(UNDO_VERSION)?;
    let n = r.count(30)?;
    let mut accounts = Vec::with_capacity(n);
    for _ in 0..n {
        let address = Address::from(r.array::<20>()?);
        let account = match r.u8()? {
            0 => None,
            1 => Some(decode_account(&r.array::<ACCOUNT_LEN>()?)?),
            t => return Err(DecodeError::AccountTag(t)),
        };
        let mode = r.u8()?;
        let n = r.count(64)?;
        let slots = (0..n)
            .map(|_| Ok((U256::from_be_bytes(r.array::<32>()?), U256::from_be_bytes(r.array::<32>()?))))
            .collect::<DecodeResult<Vec<_>>>()?;
        let storage = match mode {
            0 => StorageUndo::Slots(slots),
            1 => StorageUndo::Full(slots),
            m => return Err(DecodeError::StorageMode(m)),
        };
        accounts.push(AccountUndo { address, account, storage });
    }
    let mut hashes = || -> DecodeResult<Vec<B256>> {
        let n = r.count(32)?;
        (0..n).map(|_| r.array::<32>().map(B256::from)).collect()
    };
    let new_codes = hashes()?;
    let tx_hashes = hashes()?;
    r.end()?;
    Ok(BlockUndo { accounts, new_codes, tx_hashes })
}

/// Encodes a transaction index entry: block number and position.
pub(crate) fn encode_tx_location(number: u64, index: usize) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&number.to_be_bytes());
    out[8..].copy_from_slice(&(index as u64).to_be_bytes());
    out
}

pub(crate) fn decode_tx_location(raw: &[u8]) -> DecodeResult<(u64, usize)> {
    let mut r = Reader::new(raw);
    let number = r.u64()?;
    let index = r.u64()?;
    r.end()?;
    let index = usize::try_from(index).map_err(|_| DecodeError::Index(index))?;
    Ok((number, index))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn undo_round_trips_and_rejects_truncation() {
        let u = BlockUndo {
            accounts: vec![
                AccountUndo {
                    address: Address::with_last_byte(1),
                    account: Some(AccountState { nonce: 3, balance: U256::from(7), code_hash: B256::repeat_byte(9) }),
                    storage: StorageUndo::Slots(vec![(U256::from(1), U256::ZERO)]),
                },
                AccountUndo {
                    address: Address::with_last_byte(2),
                    account: None,
                    storage: StorageUndo::Full(vec![(U256::from(5), U256::from(6))]),
                },
            ],
            new_codes: vec![B256::repeat_byte(1)],
            tx_hashes: vec![B256::repeat_byte(2), B256::repeat_byte(3)],
        };
        let raw = encode_undo(&u);
        assert_eq!(decode_undo(&raw).unwrap(), u);
        for cut in 0..raw.len() {
            assert!(decode_undo(&raw[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = raw;
        long.push(0);
        assert!(decode_undo(&long).is_err());
    }

    #[test]
    fn huge_counts_are_errors_not_allocations() {
        let mut w = Writer::default();
        w.u8(UNDO_VERSION);
        w.u64(u64::MAX);
        assert!(decode_undo(&w.finish()).is_err());
    }

    proptest::proptest! {
        /// Arbitrary bytes behind a valid version byte are errors, never panics.
        #[test]
        fn arbitrary_records_never_panic(tail in proptest::collection::vec(proptest::num::u8::ANY, 0..300)) {
            let raw = [&[BLOCK_VERSION][..], &tail].concat();
            let _ = decode_block(&raw, None);
            let _ = decode_record_header(&raw);
            let _ = decode_record_header(&[&[HEADER_VERSION][..], &tail].concat());
            let _ = decode_undo(&raw);
            let _ = decode_witness(&tail);
            let _ = decode_tx_location(&tail);
            let _ = decode_account(&tail);
        }
    }

    #[test]
    fn block_record_round_trips_and_rejects_truncation() {
        let header = alloy_consensus::Header { number: 3, ..Default::default() };
        let stored = StoredBlock::new(Block::new(header, Default::default()), vec![], vec![]);
        let messages = vec![L1Message {
            kind: 1,
            from: Address::with_last_byte(1),
            to: Address::with_last_byte(2),
            mint: U256::from(3),
            value: U256::from(4),
            gasLimit: 5,
            index: 6,
            enqueuedAt: 7,
            data: Bytes::from_static(b"hi"),
        }];
        let raw = encode_block(&stored, b"anchor", 9, &messages);
        let back = decode_block(&raw, None).unwrap();
        assert_eq!(back.stored.block, stored.block);
        assert_eq!(back.hash(), stored.hash);
        assert_eq!((back.anchor.as_ref(), back.l1_anchor, back.messages), (&b"anchor"[..], 9, messages));
        for cut in 0..raw.len() {
            assert!(decode_block(&raw[..cut], None).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn header_records_round_trip_and_both_forms_give_the_header() {
        let header = alloy_consensus::Header { number: 7, gas_limit: 30_000_000, ..Default::default() };
        let stored = StoredBlock::new(Block::new(header.clone(), Default::default()), vec![], vec![]);
        let full = encode_block(&stored, b"", 0, &[]);
        let short = encode_header_record(&header);
        assert!(is_header_record(&short) && !is_header_record(&full));
        assert_eq!(decode_record_header(&full).unwrap(), header);
        assert_eq!(decode_record_header(&short).unwrap(), header);
        // A header record is not a block.
        assert!(decode_block(&short, None).is_err());
        for cut in 0..short.len() {
            assert!(decode_record_header(&short[..cut]).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn account_values() {
        let a = AccountState { nonce: u64::MAX, balance: U256::MAX, code_hash: B256::repeat_byte(0xab) };
        assert_eq!(decode_account(&encode_account(&a)).unwrap(), a);
        assert!(decode_account(&[0; 71]).is_err());
        assert!(decode_slot_value(&[0; 32]).is_err());
        assert!(decode_slot_value(&[1; 31]).is_err());
    }
}
