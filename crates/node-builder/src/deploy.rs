//! Deploying `NativeRollup` for an L2 genesis (`nrd deploy`, `nrd devnet`).

use crate::DeployError;
use alloy_primitives::{Address, Bytes};
use alloy_signer_local::PrivateKeySigner;
use alloy_sol_types::SolValue;
use nrd_derivation::L2Genesis;
use nrd_l1_client::{L1Client, L1Tx, TxError, TxSender, TxSenderConfig};
use std::time::Duration;

/// Gas limit of the deployment (the contract's init code and constructor need about 4.5M).
const DEPLOY_GAS: u64 = 6_000_000;
/// How long the deployment may take to be mined.
const DEPLOY_TIMEOUT: Duration = Duration::from_secs(60);

/// Parameters `NativeRollup` is deployed with (flags of `nrd deploy` and `nrd devnet`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct RollupParams {
    /// Forced-inclusion window of the rollup contract, seconds.
    #[arg(long, default_value_t = 3600)]
    pub forced_inclusion_window: u64,
    /// Withdrawal delay of the rollup contract, seconds.
    #[arg(long, default_value_t = 60)]
    pub withdrawal_delay: u64,
    /// Timelock delay of governance actions, seconds: at least the withdrawal delay plus the
    /// forced-inclusion window (the default), so users see a change coming in time to leave.
    #[arg(long)]
    pub timelock_delay: Option<u64>,
}

impl RollupParams {
    /// The timelock: as given, or the least the bounds allow.
    pub fn timelock(&self) -> u64 {
        self.timelock_delay.unwrap_or(self.forced_inclusion_window.saturating_add(self.withdrawal_delay))
    }

    /// The contract's governance bounds (docs/protocol.md §8.7), checked before deploying so
    /// the error names the flags rather than reverting on L1.
    pub fn check(&self) -> Result<(), DeployError> {
        let max = nrd_bridge::MAX_DELAY;
        for (flag, value) in
            [("--forced-inclusion-window", self.forced_inclusion_window), ("--withdrawal-delay", self.withdrawal_delay)]
        {
            if value > max {
                return Err(DeployError::Param { flag, value, problem: format!("is above the maximum of {max} s") });
            }
        }
        let timelock = self.timelock();
        if timelock > nrd_bridge::MAX_TIMELOCK {
            return Err(DeployError::Param {
                flag: "--timelock-delay",
                value: timelock,
                problem: format!("is above the maximum of {} s", nrd_bridge::MAX_TIMELOCK),
            });
        }
        let required = self.forced_inclusion_window + self.withdrawal_delay;
        if timelock < required {
            return Err(DeployError::Param {
                flag: "--timelock-delay",
                value: timelock,
                problem: format!("must be at least --withdrawal-delay + --forced-inclusion-window = {required} s"),
            });
        }
        Ok(())
    }
}

/// Deploys `NativeRollup` for `genesis` from `owner`, with `sequencer`; returns its address
/// and the L1 block it was deployed in.
pub async fn deploy_rollup(
    client: &L1Client,
    owner: &PrivateKeySigner,
    sequencer: Address,
    genesis: &L2Genesis,
    params: RollupParams,
) -> Result<(Address, u64), DeployError> {
    params.check()?;
    let root = genesis.state_root();
    let header = genesis.header(root);
    let args = (
        owner.address(),
        sequencer,
        root,
        header.hash(),
        params.forced_inclusion_window,
        params.withdrawal_delay,
        params.timelock(),
        genesis.gas_limit(),
    )
        .abi_encode_params();
    let mut code = nrd_bridge::NativeRollup::BYTECODE.to_vec();
    code.extend_from_slice(&args);
    let config = TxSenderConfig { receipt_timeout: DEPLOY_TIMEOUT, ..Default::default() };
    let sender = TxSender::connect(client.clone(), owner.clone(), config).await?;
    let receipt = match sender.send_and_wait(L1Tx::create(Bytes::from(code)).with_gas_limit(DEPLOY_GAS)).await {
        Ok(receipt) => receipt,
        Err(TxError::Reverted { hash, .. }) => return Err(DeployError::Reverted(hash)),
        Err(TxError::Timeout { hash, waited }) => {
            return Err(DeployError::NotMined { tx: hash, seconds: waited.as_secs() });
        }
        Err(e) => return Err(DeployError::Send(e)),
    };
    let tx = receipt.transaction_hash;
    let address = receipt.contract_address.ok_or(DeployError::NoAddress(tx))?;
    Ok((address, receipt.block_number.unwrap_or_default()))
}
