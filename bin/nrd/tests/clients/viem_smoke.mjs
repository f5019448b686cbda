// viem (pinned in scripts/tools/package.json) drives `nrd l1 --block-time 0`.
//
//   node viem_smoke.mjs <rpc-url>
//
// viem is loaded from the pinned tools install: $NRD_TOOLS_NODE_MODULES, else
// <repo>/.tools/node_modules (scripts/install-tools.sh). Prints a JSON summary on stdout and
// exits non-zero on any failed check. Every JSON-RPC request and error is recorded: an error
// answer that viem swallowed (e.g. by falling back to another method) still fails the run.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const modules = process.env.NRD_TOOLS_NODE_MODULES ?? path.resolve(here, '../../../../.tools/node_modules');
const require = createRequire(path.join(modules, 'noop.js'));
const viem = require('viem');
const { privateKeyToAccount, generatePrivateKey } = require('viem/accounts');
const { createPublicClient, createWalletClient, defineChain, http, parseEther, formatEther } = viem;

const url = process.argv[2];
const expectedChainId = Number(process.env.NRD_EXPECT_CHAIN_ID || 900);
if (!url) {
  console.error('usage: node viem_smoke.mjs <rpc-url>');
  process.exit(2);
}

const KEY0 = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDR0 = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
// Init code (12 bytes): codecopy(0, 12, 13); return(0, 13) -- deploys the 13-byte runtime after it.
// Runtime: x = calldataload(0); sstore(0, x); log1(0, 0, x); stop
//   60 00 35 | 80 | 60 00 55 | 60 00 60 00 a1 | 00
const RUNTIME = '0x6000358060005560006000a100';
const INIT = `0x600d600c600039600d6000f3${RUNTIME.slice(2)}`;
const WORD = '0x00000000000000000000000000000000000000000000000000000000c0ffee01';

const summary = { client: `viem ${require('viem/package.json').version}`, url, checks: {}, rpc: { calls: {}, errors: [], expectedErrors: [] } };
let failed = false;

function check(name, ok, detail) {
  summary.checks[name] = { ok: Boolean(ok), ...(detail === undefined ? {} : { detail }) };
  if (!ok) failed = true;
}

const json = (v) => JSON.parse(JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? x.toString() : x)));

// JSON-RPC errors that are the correct answer to an optional probe, not a failure:
// viem 2.5x first tries geth's non-standard `eth_fillTransaction` when it must fill gas or
// fees, and on -32601 (method not found) remembers that and falls back to eth_estimateGas,
// eth_getBlockByNumber and eth_maxPriorityFeePerGas.
const EXPECTED_ERRORS = [{ method: 'eth_fillTransaction', code: -32601 }];

// Record every request and every JSON-RPC error answer.
const pending = new Map();
const transport = http(url, {
  retryCount: 0,
  onFetchRequest: async (request) => {
    const body = await request.clone().text();
    for (const r of [JSON.parse(body)].flat()) {
      summary.rpc.calls[r.method] = (summary.rpc.calls[r.method] ?? 0) + 1;
      pending.set(r.id, r);
    }
  },
  onFetchResponse: async (response) => {
    const text = await response.clone().text();
    let parsed;
    try {
      parsed = JSON.parse(text);
    } catch {
      summary.rpc.errors.push({ status: response.status, body: text });
      return;
    }
    for (const r of [parsed].flat()) {
      if (r.error) {
        const request = pending.get(r.id);
        const expected = EXPECTED_ERRORS.some((e) => e.method === request?.method && e.code === r.error.code);
        (expected ? summary.rpc.expectedErrors : summary.rpc.errors).push({ request, error: r.error });
      }
      pending.delete(r.id);
    }
  },
});

const chain = defineChain({
  id: expectedChainId,
  name: 'nrd l1',
  nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [url] } },
});
const pub = createPublicClient({ chain, transport, pollingInterval: 100 });
const account = privateKeyToAccount(KEY0);
const wallet = createWalletClient({ chain, transport, account, pollingInterval: 100 });

async function step(name, fn) {
  try {
    return await fn();
  } catch (e) {
    check(name, false, { error: String(e?.shortMessage ?? e?.message ?? e), details: e?.details });
    throw e;
  }
}

async function main() {
  check('account0 address', account.address === ADDR0, account.address);

  const chainId = await step('chainId', () => pub.getChainId());
  check('chainId', chainId === expectedChainId, chainId);

  const blockNumber = await step('blockNumber', () => pub.getBlockNumber({ cacheTime: 0 }));
  check('blockNumber', typeof blockNumber === 'bigint' && blockNumber >= 0n, blockNumber);

  const balance0 = await step('getBalance', () => pub.getBalance({ address: ADDR0 }));
  check('getBalance account0 > 1 ETH', balance0 > parseEther('1'), formatEther(balance0));

  // Explicit eth_estimateGas / eth_maxPriorityFeePerGas / eth_feeHistory, sanity-checked.
  const to = privateKeyToAccount(generatePrivateKey()).address;
  const value = parseEther('0.5');
  const transferGas = await step('estimateGas', () => pub.estimateGas({ account: ADDR0, to, value }));
  check('estimateGas plain transfer == 21000', transferGas === 21000n, transferGas);

  const tip = await step('eth_maxPriorityFeePerGas', () => pub.request({ method: 'eth_maxPriorityFeePerGas' }));
  check('eth_maxPriorityFeePerGas is a quantity', /^0x(0|[1-9a-f][0-9a-f]*)$/.test(tip), tip);

  const latest = await step('getBlock latest', () => pub.getBlock());
  check('latest block has baseFeePerGas', typeof latest.baseFeePerGas === 'bigint', latest.baseFeePerGas);

  const history = await step('feeHistory', () =>
    // At the block just read, not `latest`: a block sealed in between would shift the window.
    pub.getFeeHistory({ blockCount: 4, blockNumber: latest.number, rewardPercentiles: [10, 50, 90] }),
  );
  const n = Number(latest.number + 1n < 4n ? latest.number + 1n : 4n);
  check(
    'feeHistory shape',
    history.baseFeePerGas.length === n + 1 &&
      history.gasUsedRatio.length === n &&
      history.reward?.length === n &&
      history.reward.every((r) => r.length === 3 && r[0] <= r[1] && r[1] <= r[2]) &&
      history.oldestBlock === latest.number + 1n - BigInt(n),
    json(history),
  );
  check(
    'feeHistory last base fee == latest block base fee',
    history.baseFeePerGas[n - 1] === latest.baseFeePerGas,
    { history: json(history.baseFeePerGas), latest: json(latest.baseFeePerGas) },
  );
  check('feeHistory gasUsedRatio in [0,1]', history.gasUsedRatio.every((r) => r >= 0 && r <= 1), history.gasUsedRatio);

  // 0.5 ETH transfer, EIP-1559, gas and fees filled by viem, signed locally.
  const hash = await step('sendTransaction', () => wallet.sendTransaction({ to, value }));
  const receipt = await step('waitForTransactionReceipt', () => pub.waitForTransactionReceipt({ hash, timeout: 30_000 }));
  check('transfer receipt status', receipt.status === 'success', receipt.status);
  check('transfer receipt type', receipt.type === 'eip1559', receipt.type);
  check('transfer gasUsed == 21000', receipt.gasUsed === 21000n, receipt.gasUsed);
  const tx = await step('getTransaction', () => pub.getTransaction({ hash }));
  check('transfer tx is eip1559', tx.type === 'eip1559' && tx.maxFeePerGas > 0n, { type: tx.type, maxFeePerGas: json(tx.maxFeePerGas) });
  check('transfer tx fields', tx.from.toLowerCase() === ADDR0.toLowerCase() && tx.to.toLowerCase() === to.toLowerCase() && tx.value === value, json(tx));
  const recipient = await step('getBalance recipient', () => pub.getBalance({ address: to }));
  check('recipient balance == 0.5 ETH', recipient === value, formatEther(recipient));
  const after0 = await step('getBalance account0 after', () => pub.getBalance({ address: ADDR0 }));
  const cost = value + receipt.gasUsed * receipt.effectiveGasPrice;
  check('sender paid value + gas', balance0 - after0 === cost, { paid: json(balance0 - after0), expected: json(cost) });

  // Deploy the log-emitting contract from raw init code.
  const deployHash = await step('deployContract', () => wallet.deployContract({ abi: [], bytecode: INIT }));
  const deployReceipt = await step('deploy receipt', () => pub.waitForTransactionReceipt({ hash: deployHash, timeout: 30_000 }));
  check('deploy receipt status', deployReceipt.status === 'success', deployReceipt.status);
  const contract = deployReceipt.contractAddress;
  check('deploy receipt contractAddress', typeof contract === 'string' && contract.length === 42, contract);
  const code = await step('getCode', () => pub.getCode({ address: contract }));
  check('deployed runtime code', code === RUNTIME, code);

  // Call it with a transaction; it stores and logs the word.
  const callGas = await step('estimateGas call', () => pub.estimateGas({ account: ADDR0, to: contract, data: WORD }));
  check('estimateGas call > 21000', callGas > 21000n, callGas);
  const callHash = await step('call sendTransaction', () => wallet.sendTransaction({ to: contract, data: WORD }));
  const callReceipt = await step('call receipt', () => pub.waitForTransactionReceipt({ hash: callHash, timeout: 30_000 }));
  check('call receipt status', callReceipt.status === 'success', callReceipt.status);
  check('call gasUsed <= estimate', callReceipt.gasUsed <= callGas, { used: json(callReceipt.gasUsed), estimate: json(callGas) });
  check(
    'call receipt log',
    callReceipt.logs.length === 1 &&
      callReceipt.logs[0].address.toLowerCase() === contract.toLowerCase() &&
      callReceipt.logs[0].topics.length === 1 &&
      callReceipt.logs[0].topics[0] === WORD &&
      callReceipt.logs[0].data === '0x',
    json(callReceipt.logs),
  );
  const slot0 = await step('getStorageAt', () => pub.getStorageAt({ address: contract, slot: '0x0' }));
  check('storage slot 0 == word', slot0 === WORD, slot0);

  const logs = await step('getLogs', () =>
    pub.getLogs({ address: contract, fromBlock: deployReceipt.blockNumber, toBlock: 'latest' }),
  );
  check(
    'getLogs by address',
    logs.length === 1 &&
      logs[0].topics[0] === WORD &&
      logs[0].transactionHash === callHash &&
      logs[0].blockNumber === callReceipt.blockNumber &&
      logs[0].blockHash === callReceipt.blockHash &&
      logs[0].logIndex === callReceipt.logs[0].logIndex,
    json(logs),
  );
  const none = await step('getLogs other address', () => pub.getLogs({ address: to, fromBlock: 0n, toBlock: 'latest' }));
  check('getLogs other address is empty', none.length === 0, json(none));

  const end = await step('blockNumber end', () => pub.getBlockNumber({ cacheTime: 0 }));
  if (process.env.NRD_INTERVAL_BLOCKS === '1') {
    // Interval-sealed chain (the rollup L2): the chain advanced.
    check('chain advanced', end >= blockNumber + 1n, { start: json(blockNumber), end: json(end) });
  } else {
    check('one block per transaction', end === blockNumber + 3n, { start: json(blockNumber), end: json(end) });
  }
}

try {
  await main();
} catch (e) {
  failed = true;
  summary.exception = String(e?.stack ?? e);
}
check('no JSON-RPC error answers', summary.rpc.errors.length === 0, summary.rpc.errors);
summary.ok = !failed;
console.log(JSON.stringify(json(summary), null, 2));
process.exit(failed ? 1 : 0);
