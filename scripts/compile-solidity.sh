#!/usr/bin/env bash
# Compile Solidity sources to ABI + bytecode with the pinned solc-js.
#
# Usage: scripts/compile-solidity.sh <out-dir> <file.sol>...
#
# Runs `solcjs --abi --bin --optimize -o <out-dir> <files...>` using
# .tools/bin/solcjs (installed on demand by scripts/install-tools.sh) and prints
# the produced .abi/.bin files, one path per line, on stdout.
#
# solcjs names outputs after the source path and contract, e.g. compiling
# contracts/Foo.sol (contract Foo) yields contracts_Foo_sol_Foo.abi / .bin.
#
# Env:
#   SOLCJS_EXTRA_ARGS  extra arguments for solcjs (word-split), e.g.
#                      "--base-path . --include-path node_modules"
#   NRD_TOOLS_DIR      tools dir (default: <repo>/.tools)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
TOOLS_DIR="${NRD_TOOLS_DIR:-$REPO_ROOT/.tools}"
SOLCJS="$TOOLS_DIR/bin/solcjs"

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <out-dir> <file.sol>..." >&2
  exit 2
fi

OUT_DIR="$1"
shift
for src in "$@"; do
  [[ -f "$src" ]] || { echo "compile-solidity: no such file: $src" >&2; exit 1; }
done

# Idempotent; a fast no-op when the tools are already installed.
"$SCRIPT_DIR/install-tools.sh" --quiet >/dev/null

mkdir -p "$OUT_DIR"
marker="$(mktemp "${TMPDIR:-/tmp}/compile-solidity.XXXXXX")"
trap 'rm -f "$marker"' EXIT
# Ensure outputs written in this run are strictly newer than the marker.
touch -d '1 second ago' "$marker" 2>/dev/null || true

extra=()
if [[ -n "${SOLCJS_EXTRA_ARGS:-}" ]]; then
  read -r -a extra <<<"$SOLCJS_EXTRA_ARGS"
fi

echo "compile-solidity: $("$SOLCJS" --version) -> $OUT_DIR" >&2
"$SOLCJS" --abi --bin --optimize ${extra[@]+"${extra[@]}"} -o "$OUT_DIR" "$@" >&2

produced="$(find "$OUT_DIR" -maxdepth 1 -type f \( -name '*.abi' -o -name '*.bin' \) -newer "$marker" | sort)"
if [[ -z "$produced" ]]; then
  echo "compile-solidity: error: solcjs produced no .abi/.bin files in $OUT_DIR" >&2
  exit 1
fi
echo "$produced"
