//! The `advance` cost model against the real L1 devnet: for batches of several shapes (empty
//! blocks, transfers in calldata and blob mode, several blocks, L1 messages with data, a large
//! state whose witness dominates), posted with `NativeRollup.advance` and verified by EXECUTE,
//! the model's L1 gas is never below what L1 measured and at most 1.5x of it. A contract or
//! precompile change that makes `advance` dearer than the model breaks this test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use alloy_primitives::{Address, Bytes, U256};
use alloy_signer_local::PrivateKeySigner;
use nrd_derivation::{DaMode, PostedBlock};
use nrd_execute_client::MeterConfig;
use nrd_sequencer::{advance_cost, advance_run_cost, execute_fee_gas};
use nrd_testkit::{ETH, Rollup, l2_key};

struct Shape {
    name: &'static str,
    mode: DaMode,
    /// Transfers per block (to fresh addresses).
    blocks: Vec<usize>,
    /// Deposits with this much data, applied by the first block.
    deposits: usize,
    deposit_data: usize,
    /// Posted as one run (`advanceRun`) rather than block by block.
    run: bool,
}

fn funded(senders: usize, extra: usize) -> (Vec<PrivateKeySigner>, Vec<(Address, U256)>) {
    let keys: Vec<PrivateKeySigner> = (0..senders).map(|i| l2_key(&format!("cost sender {i}"))).collect();
    let mut alloc: Vec<(Address, U256)> = keys.iter().map(|k| (k.address(), U256::from(1000 * ETH))).collect();
    alloc.extend(
        (0..extra as u64).map(|i| (Address::from_word(alloy_primitives::keccak256(i.to_be_bytes())), U256::from(1))),
    );
    (keys, alloc)
}

/// Posts `shape` on a fresh rollup; (model's L1 gas, L1 gas used).
fn measure(shape: &Shape, extra_accounts: usize) -> (u64, u64) {
    let (keys, alloc) = funded(10, extra_accounts);
    let mut rollup = Rollup::new(&alloc);
    for i in 0..shape.deposits {
        let depositor = rollup.l1.key(2);
        let call = nrd_bridge::NativeRollup::depositCall {
            to: Address::with_last_byte(i as u8 + 1),
            gasLimit: 100_000,
            data: Bytes::from(vec![0xab; shape.deposit_data]),
        };
        assert!(rollup.send(&depositor, U256::from(ETH), call).success);
    }
    let mut nonces = vec![0u64; keys.len()];
    let mut blocks: Vec<PostedBlock> = Vec::new();
    let mut fresh = 0u64;
    for (n, transfers) in shape.blocks.iter().enumerate() {
        let txs = (0..*transfers)
            .map(|i| {
                let k = i % keys.len();
                fresh += 1;
                let to = Address::from_word(alloy_primitives::keccak256(format!("fresh {fresh}")));
                let tx = rollup.l2.tx(&keys[k], nonces[k], to, U256::from(1), Bytes::new());
                nonces[k] += 1;
                tx
            })
            .collect();
        blocks.push(rollup.build(n == 0, txs));
    }
    let (_, cost) = if shape.run {
        advance_run_cost(&blocks, &rollup.l2.run_witness(&blocks), shape.mode).unwrap()
    } else {
        advance_cost(&blocks, shape.mode).unwrap()
    };
    // EXECUTE's fee, charged as L1 gas at the transaction's price (at least the testkit's 1 gwei
    // tip), at the next L1 block's EXECUTE base fee.
    let devnet = &rollup.l1.devnet;
    let meter = devnet.execute_gas(devnet.head().number()).unwrap();
    let next_fee = MeterConfig::default().next_base_fee(meter.base_fee, meter.used);
    let model = cost.l1_gas + execute_fee_gas(cost.execute_gas, next_fee, 1_000_000_000);
    // L2 timestamps run a second per block past L1's: let L1's clock pass them.
    rollup.l1.increase_time(shape.blocks.len() as u64 + 1);
    let sequencer = rollup.sequencer();
    let outcome = if shape.run {
        rollup.advance_run(&sequencer, &blocks, shape.mode)
    } else {
        rollup.advance(&sequencer, &blocks, shape.mode)
    };
    assert!(outcome.success, "{}: advance reverted", shape.name);
    eprintln!(
        "{}: intrinsic {} floor {} execution (model) {} execution (L1) {}",
        shape.name,
        cost.intrinsic_gas,
        cost.floor_gas,
        cost.execution_gas,
        outcome.gas_used as i64 - cost.intrinsic_gas as i64
    );
    (model, outcome.gas_used)
}

#[test]
fn the_model_bounds_the_l1_gas_of_advance_within_one_and_a_half_times() {
    let shapes = [
        Shape {
            name: "1 empty block, calldata",
            mode: DaMode::Calldata,
            blocks: vec![0],
            deposits: 0,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "4 empty blocks, blob",
            mode: DaMode::Blob,
            blocks: vec![0; 4],
            deposits: 0,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "1x200 transfers, calldata",
            mode: DaMode::Calldata,
            blocks: vec![200],
            deposits: 0,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "1x200 transfers, blob",
            mode: DaMode::Blob,
            blocks: vec![200],
            deposits: 0,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "4x100 transfers, blob",
            mode: DaMode::Blob,
            blocks: vec![100; 4],
            deposits: 0,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "8 deposits, no data, blob",
            mode: DaMode::Blob,
            blocks: vec![0],
            deposits: 8,
            deposit_data: 0,
            run: false,
        },
        Shape {
            name: "8 deposits with 512 B data, blob",
            mode: DaMode::Blob,
            blocks: vec![0, 0],
            deposits: 8,
            deposit_data: 512,
            run: false,
        },
        Shape {
            name: "8 deposits with 2 KiB data + 50 transfers, calldata",
            mode: DaMode::Calldata,
            blocks: vec![50],
            deposits: 8,
            deposit_data: 2048,
            run: false,
        },
        // Runs: one EXECUTE, one witness, one state root for all the blocks.
        Shape {
            name: "4 empty blocks, run, blob",
            mode: DaMode::Blob,
            blocks: vec![0; 4],
            deposits: 0,
            deposit_data: 0,
            run: true,
        },
        Shape {
            name: "4x100 transfers, run, blob",
            mode: DaMode::Blob,
            blocks: vec![100; 4],
            deposits: 0,
            deposit_data: 0,
            run: true,
        },
        Shape {
            name: "2x100 transfers, run, calldata",
            mode: DaMode::Calldata,
            blocks: vec![100; 2],
            deposits: 0,
            deposit_data: 0,
            run: true,
        },
        Shape {
            name: "8 deposits with 512 B data over 2 blocks, run, blob",
            mode: DaMode::Blob,
            blocks: vec![0, 0],
            deposits: 8,
            deposit_data: 512,
            run: true,
        },
    ];
    let mut report = Vec::new();
    for shape in &shapes {
        let (model, real) = measure(shape, 0);
        report.push((shape.name, model, real));
    }
    // A large state: each transfer to a fresh address carries a long proof (the floor rules).
    let big = Shape {
        name: "1x600 transfers, 20k accounts, blob",
        mode: DaMode::Blob,
        blocks: vec![600],
        deposits: 0,
        deposit_data: 0,
        run: false,
    };
    let (model, real) = measure(&big, 20_000);
    report.push((big.name, model, real));
    let big_run = Shape { name: "3x200 transfers, 20k accounts, run, blob", blocks: vec![200; 3], run: true, ..big };
    let (model, real) = measure(&big_run, 20_000);
    report.push((big_run.name, model, real));
    for (name, model, real) in &report {
        eprintln!("{name}: model {model}, L1 {real}, ratio {:.3}", *model as f64 / *real as f64);
    }
    for (name, model, real) in report {
        assert!(model >= real, "{name}: the model ({model}) is below the L1 gas used ({real})");
        assert!(model * 2 <= real * 3, "{name}: the model ({model}) is above 1.5x the L1 gas used ({real})");
    }
}
