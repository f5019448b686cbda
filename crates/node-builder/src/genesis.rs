//! The devnet L2 genesis (`config/l2-genesis.json`, `nrd genesis print`).

use alloy_primitives::U256;
use nrd_derivation::L2Genesis;
use nrd_l1_devnet::{TEST_MNEMONIC, dev_accounts};

/// Chain id of the devnet L2.
pub const DEVNET_L2_CHAIN_ID: u64 = 901;
/// Block gas limit of the devnet L2.
pub const DEVNET_L2_GAS_LIMIT: u64 = 30_000_000;
/// Test accounts the devnet L2 prefunds.
const DEVNET_ACCOUNTS: u32 = 10;
/// Their balance, in ether.
const DEVNET_BALANCE_ETH: u64 = 10_000;

/// The devnet L2 genesis: chain 901, the predeploys, and the test mnemonic's first ten accounts
/// with 10 000 ETH each (so wallets work at once; that ETH is not backed on L1).
pub fn devnet_genesis() -> L2Genesis {
    devnet_genesis_with_gas_limit(DEVNET_L2_GAS_LIMIT)
}

/// The devnet L2 genesis with another block gas limit (`nrd devnet --l2-gas-limit`).
pub fn devnet_genesis_with_gas_limit(gas_limit: u64) -> L2Genesis {
    let accounts = dev_accounts(TEST_MNEMONIC, DEVNET_ACCOUNTS).unwrap_or_default();
    let balance = U256::from(DEVNET_BALANCE_ETH) * U256::from(10u128.pow(18));
    let prefunded: Vec<_> = accounts.iter().map(|a| (a.address(), balance)).collect();
    L2Genesis::new(DEVNET_L2_CHAIN_ID, gas_limit, &prefunded)
}
