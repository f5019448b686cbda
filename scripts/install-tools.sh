#!/usr/bin/env bash
# Install the pinned external tools used by nrd's tests into <repo>/.tools/.
#
#   cast, anvil  foundry 1.7.1  (npm: @foundry-rs/{cast,anvil}-linux-amd64, native ELF binaries)
#   solcjs       solc-js 0.8.37 (npm: solc, run with node)
#
# Versions are pinned in scripts/tools/package.json and locked (with sha512
# integrity) in scripts/tools/package-lock.json. Installation uses `npm ci`, so
# the result is exactly the lockfile. Tarballs land in the npm cache
# (~/.npm/_cacache), so later installs work offline (NRD_TOOLS_OFFLINE=1 forces
# --offline; the default is --prefer-offline).
#
# Result (stable paths):
#   .tools/bin/cast    -> symlink to the foundry cast binary
#   .tools/bin/anvil   -> symlink to the foundry anvil binary
#   .tools/bin/solcjs  -> shell wrapper running `node .../solc/solc.js`
#
# Idempotent: if .tools/ already holds an install made from the same manifest
# and lockfile, the script only prints the paths (fast no-op).
#
# Usage: scripts/install-tools.sh [--force] [--check] [--quiet]
#   --force  reinstall even if up to date
#   --check  also run `--version` on each tool (always done after an install)
#   --quiet  print only the bin directory on stdout
# Env:
#   NRD_TOOLS_DIR      install dir (default: <repo>/.tools)
#   NRD_TOOLS_OFFLINE  if 1, install with `npm ci --offline` (cache only)
#   NODE               node binary the solcjs wrapper uses (default: `node` on PATH)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
MANIFEST_DIR="$SCRIPT_DIR/tools"
TOOLS_DIR="${NRD_TOOLS_DIR:-$REPO_ROOT/.tools}"
BIN_DIR="$TOOLS_DIR/bin"
STAMP="$TOOLS_DIR/.install-stamp"

FORCE=0
CHECK=0
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    --quiet) QUIET=1 ;;
    -h|--help) sed -n '2,30p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install-tools.sh: unknown argument: $arg" >&2; exit 2 ;;
  esac
done

log() { [[ "$QUIET" == 1 ]] || echo "install-tools: $*" >&2; }
die() { echo "install-tools: error: $*" >&2; exit 1; }

# The foundry npm packages pinned here are the linux x86_64 builds.
case "$(uname -s)/$(uname -m)" in
  Linux/x86_64|Linux/amd64) ;;
  *) die "unsupported platform $(uname -s)/$(uname -m); scripts/tools/package.json pins the linux-amd64 foundry builds" ;;
esac

command -v node >/dev/null 2>&1 || die "node not found on PATH (node >= 20 required)"
command -v npm >/dev/null 2>&1 || die "npm not found on PATH"
[[ -f "$MANIFEST_DIR/package.json" && -f "$MANIFEST_DIR/package-lock.json" ]] \
  || die "missing $MANIFEST_DIR/package.json or package-lock.json"

# Fingerprint of what should be installed: manifest + lockfile contents.
fingerprint() {
  cat "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" | sha256sum | cut -d' ' -f1
}
WANT="$(fingerprint)"

installed_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] || return 1
  local t
  for t in cast anvil solcjs; do
    [[ -x "$BIN_DIR/$t" ]] || return 1
  done
  [[ -f "$TOOLS_DIR/node_modules/solc/solc.js" ]] || return 1
}

# Run `<tool> --version` for each tool; fail if any of them does not run.
print_versions() {
  local t v
  for t in cast anvil solcjs; do
    v="$("$BIN_DIR/$t" --version 2>&1)" || die "$t --version failed: $v"
    log "$(printf '%-7s' "$t:") $(head -n1 <<<"$v")"
  done
}

print_paths() {
  if [[ "$QUIET" == 1 ]]; then
    echo "$BIN_DIR"
    return
  fi
  echo "tools bin dir: $BIN_DIR"
  echo "  cast   = $BIN_DIR/cast"
  echo "  anvil  = $BIN_DIR/anvil"
  echo "  solcjs = $BIN_DIR/solcjs"
  echo "(add to PATH with: export PATH=\"$BIN_DIR:\$PATH\")"
}

# Fast path: already installed from this exact manifest/lockfile.
if [[ "$FORCE" == 0 ]] && installed_ok; then
  log "up to date ($TOOLS_DIR)"
  [[ "$CHECK" == 1 ]] && print_versions
  print_paths
  exit 0
fi

mkdir -p "$TOOLS_DIR"

# Serialize concurrent installs (e.g. parallel test runners) when flock exists.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$TOOLS_DIR/.install.lock"
  flock 9
  # Someone else may have finished the install while we waited.
  if [[ "$FORCE" == 0 ]] && installed_ok; then
    log "up to date ($TOOLS_DIR)"
    [[ "$CHECK" == 1 ]] && print_versions
    print_paths
    exit 0
  fi
fi

log "installing pinned tools into $TOOLS_DIR"
rm -f "$STAMP"
cp "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" "$TOOLS_DIR/"

NPM_MODE="--prefer-offline"
[[ "${NRD_TOOLS_OFFLINE:-0}" == 1 ]] && NPM_MODE="--offline"

# --ignore-scripts: none of the pinned packages need install scripts (the
# foundry packages ship prebuilt binaries; solc ships soljson.js).
npm ci \
  --prefix "$TOOLS_DIR" \
  --no-audit --no-fund --no-update-notifier \
  --ignore-scripts \
  "$NPM_MODE" \
  --loglevel=error >&2

CAST_BIN="$TOOLS_DIR/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
ANVIL_BIN="$TOOLS_DIR/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
SOLC_JS="$TOOLS_DIR/node_modules/solc/solc.js"
for f in "$CAST_BIN" "$ANVIL_BIN" "$SOLC_JS"; do
  [[ -f "$f" ]] || die "expected file missing after npm ci: $f"
done
chmod +x "$CAST_BIN" "$ANVIL_BIN"

mkdir -p "$BIN_DIR"
# Relative symlinks so the .tools directory stays valid if the checkout moves.
ln -sfn ../node_modules/@foundry-rs/cast-linux-amd64/bin/cast "$BIN_DIR/cast"
ln -sfn ../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil "$BIN_DIR/anvil"

rm -f "$BIN_DIR/solcjs"
cat >"$BIN_DIR/solcjs" <<'EOF'
#!/usr/bin/env bash
# Generated by scripts/install-tools.sh: runs the pinned solc-js with node.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "${NODE:-node}" "$here/../node_modules/solc/solc.js" "$@"
EOF
chmod +x "$BIN_DIR/solcjs"

# Verify each tool actually runs before declaring success.
print_versions

echo "$WANT" >"$STAMP"
log "installed"
print_paths
