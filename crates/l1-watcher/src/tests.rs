//! The watcher against an in-memory L1 ([`FakeL1`], an [`L1Provider`]): order, confirmations,
//! reorgs and their common ancestor, resuming, messages and advances (calldata and blob mode)
//! decoded, errors classified. No processes, no sockets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::needless_pass_by_value)]

use crate::{L1Event, L1Watcher, WatcherConfig, WatcherError, message_from_event};
use alloy_consensus::{
    Eip658Value, Receipt, ReceiptEnvelope, ReceiptWithBloom, TxEip1559, TxEip4844, transaction::Recovered,
};
use alloy_eips::{BlockId, BlockNumberOrTag, eip4844::Blob};
use alloy_primitives::{Address, B256, Bloom, Bytes, TxKind, U256, map::HashMap};
use alloy_rpc_types_eth::{Block, BlockTransactions, Filter, Header, Log, Transaction, TransactionReceipt};
use alloy_sol_types::SolEvent;
use nrd_bridge::{L1Message, NativeRollup};
use nrd_chain::{Classify, Severity};
use nrd_derivation::{DaMode, L1BlockRef, PostedBlock, encode_advance};
use nrd_l1_client::{L1Error, L1Provider};
use std::{
    future::Future,
    sync::{Arc, Mutex},
    time::Duration,
};

const ROLLUP: Address = Address::repeat_byte(0x42);

/// What goes into a fake L1 block.
#[derive(Default)]
struct Contents {
    /// `MessageEnqueued` events of the rollup.
    messages: Vec<NativeRollup::MessageEnqueued>,
    /// Transactions: (to, input, succeeded, blobs).
    txs: Vec<(Address, Bytes, bool, Vec<Blob>)>,
    /// A log of another contract with the same event.
    foreign_message: bool,
}

#[derive(Debug, Clone)]
struct Stored {
    block: Block,
    receipts: Vec<TransactionReceipt>,
    logs: Vec<Log>,
    blobs: Vec<(B256, Blob)>,
}

#[derive(Debug, Default)]
struct Chain {
    /// Canonical hashes by number.
    canonical: Vec<B256>,
    /// Every block ever made, by hash.
    blocks: HashMap<B256, Stored>,
    /// Distinguishes forks.
    salt: u64,
    /// Errors the next requests return.
    failures: Vec<L1Error>,
}

/// An in-memory L1 that forks on demand.
#[derive(Debug, Clone, Default)]
struct FakeL1(Arc<Mutex<Chain>>);

impl FakeL1 {
    /// A chain of `blocks` empty blocks (genesis included).
    fn new(blocks: u64) -> Self {
        let l1 = Self::default();
        for _ in 0..blocks {
            l1.push(Contents::default());
        }
        l1
    }

    fn chain(&self) -> std::sync::MutexGuard<'_, Chain> {
        self.0.lock().unwrap()
    }

    fn hash(&self, number: u64) -> B256 {
        self.chain().canonical[number as usize]
    }

    /// Drops the canonical blocks after `ancestor` (the next pushes fork from it).
    fn reorg_to(&self, ancestor: u64) {
        let mut chain = self.chain();
        chain.canonical.truncate(ancestor as usize + 1);
        chain.salt += 1;
    }

    /// The next request fails with `error`.
    fn fail_next(&self, error: L1Error) {
        self.chain().failures.push(error);
    }

    /// Seals a block with `contents` on the canonical head.
    fn push(&self, contents: Contents) -> B256 {
        let mut chain = self.chain();
        let number = chain.canonical.len() as u64;
        let parent_hash = chain.canonical.last().copied().unwrap_or_default();
        let key = nrd_test_utils::key("fake l1 sender");

        let mut logs_bloom = Bloom::ZERO;
        let mut logs = Vec::new();
        for event in &contents.messages {
            logs.push(alloy_primitives::Log { address: ROLLUP, data: event.encode_log_data() });
        }
        if contents.foreign_message {
            let event = message(99);
            logs.push(alloy_primitives::Log { address: Address::repeat_byte(0x99), data: event.encode_log_data() });
        }
        for log in &logs {
            logs_bloom.accrue_log(log);
        }
        let mut txs = Vec::new();
        let mut blobs = Vec::new();
        for (nonce, (to, input, _, tx_blobs)) in contents.txs.iter().enumerate() {
            let envelope = if tx_blobs.is_empty() {
                let tx = TxEip1559 {
                    chain_id: 1,
                    nonce: nonce as u64,
                    to: TxKind::Call(*to),
                    input: input.clone(),
                    ..Default::default()
                };
                nrd_test_utils::sign(&key, tx)
            } else {
                let sidecar = alloy_eips::eip4844::BlobTransactionSidecar::try_from_blobs_with_settings(
                    tx_blobs.clone(),
                    alloy_eips::eip4844::env_settings::EnvKzgSettings::Default.get(),
                )
                .unwrap();
                let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
                blobs.extend(hashes.iter().copied().zip(tx_blobs.iter().copied()));
                let tx = TxEip4844 {
                    chain_id: 1,
                    nonce: nonce as u64,
                    to: *to,
                    input: input.clone(),
                    blob_versioned_hashes: hashes,
                    max_fee_per_blob_gas: 1,
                    ..Default::default()
                };
                nrd_test_utils::sign(&key, tx)
            };
            txs.push(envelope);
        }

        let header = alloy_consensus::Header {
            parent_hash,
            number,
            timestamp: 1_000 + 12 * number,
            logs_bloom,
            extra_data: Bytes::copy_from_slice(&chain.salt.to_be_bytes()),
            ..Default::default()
        };
        let hash = header.hash_slow();
        let transactions: Vec<Transaction> = txs
            .iter()
            .enumerate()
            .map(|(i, tx)| Transaction {
                inner: Recovered::new_unchecked(tx.clone(), key.address()),
                block_hash: Some(hash),
                block_number: Some(number),
                transaction_index: Some(i as u64),
                effective_gas_price: None,
                block_timestamp: None,
            })
            .collect();
        let receipts = txs
            .iter()
            .zip(&contents.txs)
            .enumerate()
            .map(|(i, (tx, (to, _, success, _)))| TransactionReceipt {
                inner: ReceiptEnvelope::Eip1559(ReceiptWithBloom {
                    receipt: Receipt { status: Eip658Value::Eip658(*success), cumulative_gas_used: 0, logs: vec![] },
                    logs_bloom: Bloom::ZERO,
                }),
                transaction_hash: *tx.tx_hash(),
                transaction_index: Some(i as u64),
                block_hash: Some(hash),
                block_number: Some(number),
                gas_used: 0,
                effective_gas_price: 0,
                blob_gas_used: None,
                blob_gas_price: None,
                from: key.address(),
                to: Some(*to),
                contract_address: None,
            })
            .collect();
        let logs = logs
            .into_iter()
            .enumerate()
            // Served out of order: the watcher sorts by log index.
            .rev()
            .map(|(i, inner)| Log {
                inner,
                block_hash: Some(hash),
                block_number: Some(number),
                log_index: Some(i as u64),
                ..Default::default()
            })
            .collect();
        let block = Block {
            header: Header { hash, inner: header, total_difficulty: None, size: None },
            uncles: vec![],
            transactions: BlockTransactions::Full(transactions),
            withdrawals: None,
        };
        chain.blocks.insert(hash, Stored { block, receipts, logs, blobs });
        chain.canonical.push(hash);
        hash
    }

    fn answer<T>(&self, read: impl FnOnce(&Chain) -> T) -> std::future::Ready<Result<T, L1Error>> {
        let mut chain = self.chain();
        let result = if chain.failures.is_empty() { Ok(read(&chain)) } else { Err(chain.failures.remove(0)) };
        std::future::ready(result)
    }

    fn by_number(chain: &Chain, number: BlockNumberOrTag) -> Option<&Stored> {
        let n = match number {
            BlockNumberOrTag::Number(n) => n,
            BlockNumberOrTag::Latest | BlockNumberOrTag::Safe | BlockNumberOrTag::Finalized => {
                chain.canonical.len() as u64 - 1
            }
            _ => return None,
        };
        chain.canonical.get(n as usize).and_then(|h| chain.blocks.get(h))
    }

    fn by_id(chain: &Chain, id: BlockId) -> Option<&Stored> {
        match id {
            BlockId::Hash(h) => chain.blocks.get(&h.block_hash),
            BlockId::Number(n) => Self::by_number(chain, n),
        }
    }
}

impl L1Provider for FakeL1 {
    fn chain_id(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        self.answer(|_| 1)
    }

    fn block_number(&self) -> impl Future<Output = Result<u64, L1Error>> + Send {
        self.answer(|c| c.canonical.len() as u64 - 1)
    }

    fn block(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        self.answer(|c| Self::by_number(c, number).map(|s| s.block.clone()))
    }

    fn block_by_hash(&self, hash: B256) -> impl Future<Output = Result<Option<Block>, L1Error>> + Send {
        self.answer(|c| c.blocks.get(&hash).map(|s| s.block.clone()))
    }

    fn header(&self, number: BlockNumberOrTag) -> impl Future<Output = Result<Option<Header>, L1Error>> + Send {
        self.answer(|c| Self::by_number(c, number).map(|s| s.block.header.clone()))
    }

    fn block_receipts(
        &self,
        block: BlockId,
    ) -> impl Future<Output = Result<Option<Vec<TransactionReceipt>>, L1Error>> + Send {
        self.answer(|c| Self::by_id(c, block).map(|s| s.receipts.clone()))
    }

    fn logs(&self, filter: &Filter) -> impl Future<Output = Result<Vec<Log>, L1Error>> + Send {
        let filter = filter.clone();
        self.answer(move |c| {
            let hash = filter.get_block_hash().expect("the watcher asks for one block's logs");
            c.blocks
                .get(&hash)
                .map(|s| s.logs.iter().filter(|l| filter.matches(&l.inner)).cloned().collect())
                .unwrap_or_default()
        })
    }

    fn transaction_receipt(
        &self,
        hash: B256,
    ) -> impl Future<Output = Result<Option<TransactionReceipt>, L1Error>> + Send {
        self.answer(|c| {
            c.canonical
                .iter()
                .filter_map(|h| c.blocks.get(h))
                .flat_map(|s| &s.receipts)
                .find(|r| r.transaction_hash == hash)
                .cloned()
        })
    }

    fn blob_sidecars(&self, block_id: u64) -> impl Future<Output = Result<Vec<(B256, Blob)>, L1Error>> + Send {
        self.answer(|c| {
            Self::by_number(c, BlockNumberOrTag::Number(block_id)).map(|s| s.blobs.clone()).unwrap_or_default()
        })
    }
}

fn message(index: u64) -> NativeRollup::MessageEnqueued {
    NativeRollup::MessageEnqueued {
        index,
        kind: 0,
        from: Address::repeat_byte(0xaa),
        to: Address::repeat_byte(0xbb),
        mint: U256::from(index + 1),
        value: U256::ZERO,
        gasLimit: 100_000,
        enqueuedAt: 1_000,
        data: Bytes::new(),
        rollingHash: B256::ZERO,
    }
}

fn watcher(l1: &FakeL1, start_block: u64, confirmations: u64) -> L1Watcher<FakeL1> {
    L1Watcher::with_provider(
        l1.clone(),
        ROLLUP,
        WatcherConfig { start_block, confirmations, poll_interval: Duration::from_millis(1) },
    )
}

async fn poll(watcher: &mut L1Watcher<FakeL1>) -> Option<L1Event> {
    watcher.poll().await.unwrap()
}

async fn block(watcher: &mut L1Watcher<FakeL1>) -> crate::L1Block {
    match poll(watcher).await {
        Some(L1Event::Block(block)) => block,
        other => panic!("expected a block, got {other:?}"),
    }
}

/// Two L2 blocks (the second applying a deposit), posted in calldata and in blob mode.
fn posted_blocks() -> Vec<PostedBlock> {
    let mut l2 = nrd_testkit::L2::new(&[]);
    let anchor = L1BlockRef { number: 1, hash: B256::repeat_byte(1), timestamp: 1_012 };
    let first = l2.build(&[], vec![], anchor);
    let deposit = message_from_event(&message(0));
    let second = l2.build(&[deposit], vec![], anchor);
    vec![first, second]
}

#[tokio::test]
async fn every_block_in_order_with_its_messages_and_decoded_advances() {
    let l1 = FakeL1::new(1);
    let posted = posted_blocks();
    let calldata = encode_advance(&posted[..1], DaMode::Calldata).unwrap();
    let blob = encode_advance(&posted[1..], DaMode::Blob).unwrap();
    let blobs = blob.sidecar.clone().unwrap().blobs;
    let refused = encode_advance(&posted[1..], DaMode::Calldata).unwrap();

    // Block 1: two messages (served out of order) and another contract's look-alike.
    l1.push(Contents { messages: vec![message(0), message(1)], foreign_message: true, ..Default::default() });
    // Block 2: an advance in calldata mode, a reverted one, a transfer, a call of another contract.
    l1.push(Contents {
        txs: vec![
            (ROLLUP, calldata.calldata.clone(), true, vec![]),
            (ROLLUP, refused.calldata.clone(), false, vec![]),
            (ROLLUP, Bytes::new(), true, vec![]),
            (Address::repeat_byte(1), calldata.calldata.clone(), true, vec![]),
        ],
        ..Default::default()
    });
    // Block 3: an advance in blob mode and a message.
    l1.push(Contents {
        messages: vec![message(2)],
        txs: vec![(ROLLUP, blob.calldata.clone(), true, blobs)],
        ..Default::default()
    });

    let mut w = watcher(&l1, 0, 0);
    let mut parent = None;
    for n in 0..=3 {
        let b = block(&mut w).await;
        assert_eq!((b.number, b.hash, b.timestamp), (n, l1.hash(n), 1_000 + 12 * n));
        if let Some(parent) = parent {
            assert_eq!(b.parent_hash, parent);
        }
        parent = Some(b.hash);
        assert_eq!(w.cursor(), n + 1);
        let expected_messages: Vec<L1Message> = match n {
            1 => vec![message_from_event(&message(0)), message_from_event(&message(1))],
            3 => vec![message_from_event(&message(2))],
            _ => vec![],
        };
        assert_eq!(b.messages, expected_messages, "messages of block {n}");
        match n {
            2 => {
                assert_eq!(b.advances.len(), 1, "only the successful advance of the rollup");
                assert_eq!(b.advances[0].posted, posted[..1]);
                let key = nrd_test_utils::key("fake l1 sender");
                assert_eq!(b.advances[0].from, key.address());
            }
            3 => {
                assert_eq!(b.advances.len(), 1);
                assert_eq!(b.advances[0].posted, posted[1..], "the blob batch, filled from the blobs");
            }
            _ => assert!(b.advances.is_empty()),
        }
    }
    assert_eq!(poll(&mut w).await, None, "caught up");
    assert_eq!(w.last(), Some((3, l1.hash(3))));
}

#[tokio::test]
async fn confirmations_hold_back_the_newest_blocks() {
    let l1 = FakeL1::new(5);
    let mut w = watcher(&l1, 1, 2);
    for n in 1..=2 {
        assert_eq!(block(&mut w).await.number, n);
    }
    assert_eq!(poll(&mut w).await, None, "block 3 has one confirmation only");
    l1.push(Contents::default());
    assert_eq!(block(&mut w).await.number, 3);
    assert_eq!(poll(&mut w).await, None);
    // The parent of the first block yielded is remembered too.
    assert_eq!(w.recent().collect::<Vec<_>>(), (0..=3).map(|n| (n, l1.hash(n))).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_reorg_is_reported_with_the_common_ancestor_and_the_new_chain_follows() {
    let l1 = FakeL1::new(5);
    let mut w = watcher(&l1, 0, 0);
    for _ in 0..=4 {
        block(&mut w).await;
    }
    let old: Vec<B256> = (0..=4).map(|n| l1.hash(n)).collect();
    // Blocks 3 and 4 replaced by a longer chain: the first new block's parent is not ours.
    l1.reorg_to(2);
    for _ in 0..4 {
        l1.push(Contents { messages: vec![message(0)], ..Default::default() });
    }
    assert_ne!(l1.hash(3), old[3]);
    assert_eq!(poll(&mut w).await, Some(L1Event::Reorg { common_ancestor: 2 }));
    assert_eq!((w.cursor(), w.last()), (3, Some((2, old[2]))));
    for n in 3..=6 {
        let b = block(&mut w).await;
        assert_eq!((b.number, b.hash), (n, l1.hash(n)));
        assert_eq!(b.messages.len(), 1, "the new chain's messages");
    }
    assert_eq!(poll(&mut w).await, None);

    // Cut back to a shorter chain: found while caught up, before any new block is ready.
    l1.reorg_to(4);
    l1.push(Contents::default());
    assert_eq!(poll(&mut w).await, Some(L1Event::Reorg { common_ancestor: 4 }));
    assert_eq!(block(&mut w).await.hash, l1.hash(5));
}

#[tokio::test]
async fn a_reorg_deeper_than_the_history_is_critical() {
    let l1 = FakeL1::new(6);
    let mut w = watcher(&l1, 0, 0).with_history(2);
    for _ in 0..=5 {
        block(&mut w).await;
    }
    l1.reorg_to(2);
    for _ in 0..4 {
        l1.push(Contents::default());
    }
    let err = w.poll().await.unwrap_err();
    assert!(matches!(err, WatcherError::ReorgTooDeep { oldest: 4 }), "{err}");
    assert_eq!(err.severity(), Severity::Critical);
}

#[tokio::test]
async fn resuming_checks_the_first_block_against_the_known_ones() {
    let l1 = FakeL1::new(5);
    // What the caller processed before a restart, still canonical: carry on at block 3.
    let mut w = watcher(&l1, 3, 0);
    w.resume_after([(1, l1.hash(1)), (2, l1.hash(2))]);
    assert_eq!(w.last(), Some((2, l1.hash(2))));
    assert_eq!(block(&mut w).await.hash, l1.hash(3));

    // Block 2 was replaced while the node was down: the watcher says so before yielding.
    let stale = B256::repeat_byte(0xee);
    let mut w = watcher(&l1, 3, 0);
    w.resume_after([(1, l1.hash(1)), (2, stale)]);
    assert_eq!(poll(&mut w).await, Some(L1Event::Reorg { common_ancestor: 1 }));
    assert_eq!(w.cursor(), 2);
    assert_eq!(block(&mut w).await.hash, l1.hash(2));

    // Blocks that do not end just before the cursor are ignored.
    let mut w = watcher(&l1, 4, 0);
    w.resume_after([(1, l1.hash(1)), (2, l1.hash(2))]);
    assert_eq!(w.last(), None);
}

#[tokio::test]
async fn l1_errors_keep_their_severity_and_the_watcher_does_not_move() {
    let l1 = FakeL1::new(3);
    let mut w = watcher(&l1, 0, 0);
    l1.fail_next(L1Error::Timeout { endpoint: "http://l1".into() });
    let err = w.next().await.unwrap_err();
    assert!(matches!(err, WatcherError::L1(L1Error::Timeout { .. })), "{err}");
    assert_eq!(err.severity(), Severity::Temporary);
    assert_eq!(w.cursor(), 0);
    l1.fail_next(L1Error::malformed("nonsense"));
    assert_eq!(w.next().await.unwrap_err().severity(), Severity::Critical);
    assert_eq!(w.cursor(), 0);
    // Retried, it carries on where it was.
    assert!(matches!(w.next().await.unwrap(), L1Event::Block(b) if b.number == 0));
}
