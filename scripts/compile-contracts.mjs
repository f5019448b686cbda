#!/usr/bin/env node
// Compiles the rollup contracts (crates/bridge/contracts/**/*.sol) with the pinned solc-js,
// offline, and writes one artifact per contract: <out>/<Contract>.json with its ABI, creation
// bytecode and runtime bytecode.
//
// Usage: node scripts/compile-contracts.mjs [out-dir]   (default: crates/bridge/artifacts)
//
// The settings below are part of the build: changing them changes every artifact, and the test
// `crates/bridge/tests/artifacts.rs` fails until the committed artifacts are regenerated.
// Metadata hashes are off so artifacts depend only on sources and settings, not on paths.
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const tools = process.env.NRD_TOOLS_DIR || join(repo, '.tools');
const solc = createRequire(join(tools, 'package.json'))('solc');
const root = process.env.NRD_CONTRACTS_SRC || join(repo, 'crates/bridge/contracts');
const out = process.argv[2] || join(repo, 'crates/bridge/artifacts');

const walk = (dir) => readdirSync(dir).sort().flatMap((name) => {
  const path = join(dir, name);
  return statSync(path).isDirectory() ? walk(path) : name.endsWith('.sol') ? [path] : [];
});
const sources = Object.fromEntries(walk(root).map((p) => [relative(root, p), { content: readFileSync(p, 'utf8') }]));

const input = {
  language: 'Solidity',
  sources,
  settings: {
    evmVersion: 'prague',
    optimizer: { enabled: true, runs: 200 },
    metadata: { bytecodeHash: 'none', appendCBOR: false },
    outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'] } },
  },
};
const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === 'error');
for (const e of output.errors || []) process.stderr.write(e.formattedMessage + '\n');
if (errors.length) process.exit(1);

mkdirSync(out, { recursive: true });
let count = 0;
for (const [file, contracts] of Object.entries(output.contracts).sort()) {
  for (const [name, c] of Object.entries(contracts).sort()) {
    // Interfaces, abstract contracts and libraries (all internal here) get no artifact.
    if (c.evm.bytecode.object === '' || file.startsWith('lib/')) continue;
    const artifact = {
      contractName: name,
      sourceName: file,
      compiler: `solc-js ${solc.version()}`,
      abi: c.abi,
      bytecode: '0x' + c.evm.bytecode.object,
      deployedBytecode: '0x' + c.evm.deployedBytecode.object,
    };
    writeFileSync(join(out, `${name}.json`), JSON.stringify(artifact, null, 2) + '\n');
    count += 1;
  }
}
process.stderr.write(`compile-contracts: ${count} artifacts (solc ${solc.version()}) -> ${out}\n`);
