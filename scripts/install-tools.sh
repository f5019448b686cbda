#!/usr/bin/env bash
# Install the pinned external tools used by nrd's tests into <repo>/.tools/.
#
#   cast, anvil  foundry 1.7.1  (npm: @foundry-rs/{cast,anvil}-linux-amd64, native ELF binaries)
#   solcjs       solc-js 0.8.37 (npm: solc, run with node)
#   viem         viem 2.57.20   (npm: JS client library, in .tools/node_modules)
#   web3.py      web3 8.0.0     (PyPI: Python client library, in the venv .tools/venv)
#   prometheus,  Prometheus 2.42.0 (Debian's package prometheus=2.42.0+ds-5+deb12u1, fetched
#   promtool     with `apt-get download` and unpacked with `dpkg -x` into .tools/prometheus:
#                nothing is installed system-wide; needs Debian's apt sources, `apt-get update`
#                is run once if the pinned version is not in the package lists)
#   docker-compose  Compose 1.29.2 (Debian's package docker-compose=1.29.2-3 and the Python
#                packages it needs, each pinned below in COMPOSE_DEBS, fetched with
#                `apt-get download` and unpacked with `dpkg -x` into .tools/compose; run by
#                Debian's /usr/bin/python3 (3.11) with only the unpacked dist-packages on its
#                path): `docker-compose config` validates docker/compose.yml offline, without
#                a Docker engine
#
# npm: versions are pinned in scripts/tools/package.json and locked (with sha512
# integrity) in scripts/tools/package-lock.json. Installation uses `npm ci`, so
# the result is exactly the lockfile. Tarballs land in the npm cache
# (~/.npm/_cacache), so later installs work offline (NRD_TOOLS_OFFLINE=1 forces
# --offline; the default is --prefer-offline).
#
# Python: web3 and its whole dependency closure are pinned with `==` in
# scripts/tools/requirements.txt and installed, wheels only, with pip into a
# virtualenv made by `python3 -m venv` (pip's cache keeps later installs fast).
#
# Result (stable paths):
#   .tools/bin/cast         -> symlink to the foundry cast binary
#   .tools/bin/anvil        -> symlink to the foundry anvil binary
#   .tools/bin/solcjs       -> shell wrapper running `node .../solc/solc.js`
#   .tools/node_modules     -> viem (scripts elsewhere load it with createRequire(<this dir>))
#   .tools/bin/python-web3  -> shell wrapper running .tools/venv/bin/python (has web3)
#   .tools/bin/prometheus   -> symlink to .tools/prometheus/usr/bin/prometheus
#   .tools/bin/promtool     -> symlink to .tools/prometheus/usr/bin/promtool
#   .tools/bin/python-compose -> shell wrapper: /usr/bin/python3 -S with .tools/compose's packages
#                              (PyYAML among them) as its only site packages
#   .tools/bin/docker-compose -> shell wrapper running .tools/compose/usr/bin/docker-compose with it
#
# Idempotent: the npm part and the Python part each keep a stamp of the
# manifest they were installed from; when both are current the script only
# prints the paths (fast no-op). Only an outdated part is reinstalled.
#
# Usage: scripts/install-tools.sh [--force] [--check] [--quiet]
#   --force  reinstall even if up to date
#   --check  also run `--version` on each tool and import web3 (always done after an install)
#   --quiet  print only the bin directory on stdout
# Env:
#   NRD_TOOLS_DIR      install dir (default: <repo>/.tools)
#   NRD_TOOLS_OFFLINE  if 1, install with `npm ci --offline` (cache only)
#   NODE               node binary the solcjs wrapper uses (default: `node` on PATH)
#   PYTHON             python (>= 3.10) the venv is made from (default: python3)
#   NRD_TOOLS_VENV_NO_ENSUREPIP  if 1, make the venv without pip and install with $PYTHON's pip
#                      (what happens anyway when the venv's ensurepip fails)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/.." && pwd)"
MANIFEST_DIR="$SCRIPT_DIR/tools"
TOOLS_DIR="${NRD_TOOLS_DIR:-$REPO_ROOT/.tools}"
BIN_DIR="$TOOLS_DIR/bin"
STAMP="$TOOLS_DIR/.install-stamp"
VENV_DIR="$TOOLS_DIR/venv"
VENV_STAMP="$TOOLS_DIR/.venv-stamp"
PROM_DEB_VERSION="2.42.0+ds-5+deb12u1"
PROM_DIR="$TOOLS_DIR/prometheus"
PROM_STAMP="$TOOLS_DIR/.prometheus-stamp"
# docker-compose 1.29.2 and every Python package of its dependency closure (apt-cache depends
# --recurse docker-compose) that a bare Debian bookworm with python3 lacks, pinned.
COMPOSE_DEBS=(
  docker-compose=1.29.2-3
  python3-attr=22.2.0-1
  python3-cached-property=1.5.2-1
  python3-certifi=2022.9.24-1
  python3-chardet=5.1.0+dfsg-2
  python3-charset-normalizer=3.0.1-2
  python3-distro=1.8.0-1
  python3-distutils=3.11.2-3
  python3-docker=5.0.3-1
  python3-dockerpty=0.4.1-4
  python3-docopt=0.6.2-4.1
  python3-dotenv=0.21.0-1
  python3-idna=3.3-1+deb12u1
  python3-importlib-metadata=4.12.0-1
  python3-importlib-resources=5.1.2-2
  python3-jsonschema=4.10.3-1
  python3-lib2to3=3.11.2-3
  python3-more-itertools=8.10.0-2
  python3-pkg-resources=66.1.1-1+deb12u2
  python3-pyrsistent=0.18.1-1+b3
  python3-requests=2.28.1+dfsg-1
  python3-six=1.16.0-4
  python3-texttable=1.6.7-1
  python3-typing-extensions=4.4.0-1
  python3-urllib3=1.26.12-1+deb12u4
  python3-websocket=1.2.3-1
  python3-yaml=6.0-3+b2
  python3-zipp=1.0.0-6+deb12u1
)
COMPOSE_WANT="$(printf '%s\n' "${COMPOSE_DEBS[@]}" | sha256sum | cut -d' ' -f1)"
COMPOSE_DIR="$TOOLS_DIR/compose"
COMPOSE_STAMP="$TOOLS_DIR/.compose-stamp"
# Debian's packages are built for Debian's python3 (bookworm: 3.11), not for $PYTHON.
COMPOSE_PYTHON=/usr/bin/python3
PYTHON="${PYTHON:-python3}"

FORCE=0
CHECK=0
QUIET=0
for arg in "$@"; do
  case "$arg" in
    --force) FORCE=1 ;;
    --check) CHECK=1 ;;
    --quiet) QUIET=1 ;;
    -h|--help) sed -n '2,55p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
command -v "$PYTHON" >/dev/null 2>&1 || die "$PYTHON not found (python >= 3.10 with the venv module required)"
[[ -f "$MANIFEST_DIR/package.json" && -f "$MANIFEST_DIR/package-lock.json" ]] \
  || die "missing $MANIFEST_DIR/package.json or package-lock.json"
[[ -f "$MANIFEST_DIR/requirements.txt" ]] || die "missing $MANIFEST_DIR/requirements.txt"

# Fingerprint of what should be installed by npm: manifest + lockfile contents.
fingerprint() {
  cat "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" | sha256sum | cut -d' ' -f1
}
WANT="$(fingerprint)"

# Fingerprint of the venv: the requirements and the interpreter it is made from.
venv_fingerprint() {
  { cat "$MANIFEST_DIR/requirements.txt"; "$PYTHON" -c 'import sys; print(sys.version)'; } \
    | sha256sum | cut -d' ' -f1
}
VENV_WANT="$(venv_fingerprint)"

npm_ok() {
  [[ -f "$STAMP" && "$(cat "$STAMP")" == "$WANT" ]] || return 1
  local t
  for t in cast anvil solcjs; do
    [[ -x "$BIN_DIR/$t" ]] || return 1
  done
  [[ -f "$TOOLS_DIR/node_modules/solc/solc.js" ]] || return 1
  [[ -f "$TOOLS_DIR/node_modules/viem/package.json" ]] || return 1
}

venv_ok() {
  [[ -f "$VENV_STAMP" && "$(cat "$VENV_STAMP")" == "$VENV_WANT" ]] || return 1
  [[ -x "$VENV_DIR/bin/python" && -x "$BIN_DIR/python-web3" ]] || return 1
}

prom_ok() {
  [[ -f "$PROM_STAMP" && "$(cat "$PROM_STAMP")" == "$PROM_DEB_VERSION" ]] || return 1
  [[ -x "$BIN_DIR/prometheus" && -x "$BIN_DIR/promtool" ]] || return 1
}

compose_ok() {
  [[ -f "$COMPOSE_STAMP" && "$(cat "$COMPOSE_STAMP")" == "$COMPOSE_WANT" ]] || return 1
  [[ -x "$BIN_DIR/docker-compose" && -x "$BIN_DIR/python-compose" ]] || return 1
}

installed_ok() { npm_ok && venv_ok && prom_ok && compose_ok; }

# Run `<tool> --version` for each tool and load the client libraries; fail if any does not.
print_versions() {
  local t v
  for t in cast anvil solcjs; do
    v="$("$BIN_DIR/$t" --version 2>&1)" || die "$t --version failed: $v"
    log "$(printf '%-7s' "$t:") $(head -n1 <<<"$v")"
  done
  v="$(cd "$TOOLS_DIR" && node -e 'require("viem"); console.log(require("viem/package.json").version)' 2>&1)" \
    || die "node cannot load viem: $v"
  log "viem:   $v"
  v="$("$BIN_DIR/python-web3" -c 'import web3; print(web3.__version__)' 2>&1)" \
    || die "python-web3 cannot import web3: $v"
  log "web3:   $v"
  for t in prometheus promtool; do
    v="$("$BIN_DIR/$t" --version 2>&1)" || die "$t --version failed: $v"
    log "$(printf '%-11s' "$t:") $(head -n1 <<<"$v")"
  done
  v="$("$BIN_DIR/docker-compose" version --short 2>&1)" || die "docker-compose version failed: $v"
  log "docker-compose: $v"
  v="$("$BIN_DIR/python-compose" -c 'import yaml; print(yaml.__version__)' 2>&1)" \
    || die "python-compose cannot import yaml: $v"
  log "python-compose: PyYAML $v"
}

print_paths() {
  if [[ "$QUIET" == 1 ]]; then
    echo "$BIN_DIR"
    return
  fi
  echo "tools bin dir: $BIN_DIR"
  echo "  cast        = $BIN_DIR/cast"
  echo "  anvil       = $BIN_DIR/anvil"
  echo "  solcjs      = $BIN_DIR/solcjs"
  echo "  python-web3 = $BIN_DIR/python-web3  (the venv's python, with web3)"
  echo "  viem        = $TOOLS_DIR/node_modules/viem"
  echo "  prometheus  = $BIN_DIR/prometheus  (Debian prometheus $PROM_DEB_VERSION)"
  echo "  promtool    = $BIN_DIR/promtool"
  echo "  docker-compose = $BIN_DIR/docker-compose  (Debian docker-compose 1.29.2-3, no engine needed for \`config\`)"
  echo "  python-compose = $BIN_DIR/python-compose  (Debian's python3 with its packages, PyYAML)"
  echo "(add to PATH with: export PATH=\"$BIN_DIR:\$PATH\")"
}

# Fast path: already installed from this exact manifest/lockfile/requirements.
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

install_npm() {
  log "installing pinned npm tools into $TOOLS_DIR"
  rm -f "$STAMP"
  cp "$MANIFEST_DIR/package.json" "$MANIFEST_DIR/package-lock.json" "$TOOLS_DIR/"

  local npm_mode="--prefer-offline"
  [[ "${NRD_TOOLS_OFFLINE:-0}" == 1 ]] && npm_mode="--offline"

  # --ignore-scripts: none of the pinned packages need install scripts (the
  # foundry packages ship prebuilt binaries; solc ships soljson.js; viem is plain JS).
  npm ci \
    --prefix "$TOOLS_DIR" \
    --no-audit --no-fund --no-update-notifier \
    --ignore-scripts \
    "$npm_mode" \
    --loglevel=error >&2

  local cast_bin="$TOOLS_DIR/node_modules/@foundry-rs/cast-linux-amd64/bin/cast"
  local anvil_bin="$TOOLS_DIR/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
  local solc_js="$TOOLS_DIR/node_modules/solc/solc.js"
  local f
  for f in "$cast_bin" "$anvil_bin" "$solc_js" "$TOOLS_DIR/node_modules/viem/package.json"; do
    [[ -f "$f" ]] || die "expected file missing after npm ci: $f"
  done
  chmod +x "$cast_bin" "$anvil_bin"

  mkdir -p "$BIN_DIR"
  # Relative symlinks so the .tools directory stays valid if the checkout moves.
  ln -sfn ../node_modules/@foundry-rs/cast-linux-amd64/bin/cast "$BIN_DIR/cast"
  ln -sfn ../node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil "$BIN_DIR/anvil"

  rm -f "$BIN_DIR/solcjs"
  cat >"$BIN_DIR/solcjs" <<'WRAPPER'
#!/usr/bin/env bash
# Generated by scripts/install-tools.sh: runs the pinned solc-js with node.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "${NODE:-node}" "$here/../node_modules/solc/solc.js" "$@"
WRAPPER
  chmod +x "$BIN_DIR/solcjs"
}

install_venv() {
  log "installing pinned Python tools into $VENV_DIR"
  rm -f "$VENV_STAMP"
  # A fresh venv each time: pip never removes packages a changed pin no longer needs.
  rm -rf "$VENV_DIR"
  # The venv normally gets its own pip from ensurepip. Some Pythons cannot run it (Debian's
  # without python3-venv; a CI image whose ensurepip fails): then the venv is made without pip
  # and the outer interpreter's pip (>= 22.3) installs into it with `--python`.
  local venv_err pip_cmd
  venv_err="$(mktemp)"
  if [[ "${NRD_TOOLS_VENV_NO_ENSUREPIP:-0}" != 1 ]] && "$PYTHON" -m venv "$VENV_DIR" 2>"$venv_err"; then
    pip_cmd=("$VENV_DIR/bin/python" -m pip)
  else
    [[ -s "$venv_err" ]] && log "$PYTHON -m venv with pip failed: $(tail -n 3 "$venv_err")"
    log "making the venv without pip; $PYTHON's own pip installs into it"
    rm -rf "$VENV_DIR"
    "$PYTHON" -m venv --without-pip "$VENV_DIR" 2>"$venv_err" \
      || die "$PYTHON -m venv --without-pip failed (is the venv module installed?): $(cat "$venv_err")"
    "$PYTHON" -m pip --version >/dev/null 2>&1 \
      || die "$PYTHON has neither a working ensurepip nor pip: install python3-venv or python3-pip"
    pip_cmd=("$PYTHON" -m pip --python "$VENV_DIR/bin/python")
  fi
  rm -f "$venv_err"
  # --only-binary: every pinned package has wheels; never build from source.
  # --no-deps is not used: pip checks that the pinned closure is consistent.
  "${pip_cmd[@]}" install \
    --disable-pip-version-check --no-input --quiet \
    --only-binary=:all: \
    --require-virtualenv \
    -r "$MANIFEST_DIR/requirements.txt" >&2 \
    || die "pip install -r $MANIFEST_DIR/requirements.txt failed"
  local out
  out="$("${pip_cmd[@]}" check 2>&1)" || die "pip check failed in $VENV_DIR: $out"
  "$VENV_DIR/bin/python" -c 'import web3' || die "web3 does not import in $VENV_DIR"

  mkdir -p "$BIN_DIR"
  rm -f "$BIN_DIR/python-web3"
  # A wrapper, not a symlink: python finds its venv (pyvenv.cfg) from the path it is run as.
  cat >"$BIN_DIR/python-web3" <<'WRAPPER'
#!/usr/bin/env bash
# Generated by scripts/install-tools.sh: the pinned web3.py venv's python.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "$here/../venv/bin/python" "$@"
WRAPPER
  chmod +x "$BIN_DIR/python-web3"
}

# unpack_debs DIR WHAT PKG=VERSION…: `apt-get download`s the pinned packages (running
# `apt-get update` once when the package lists lack one) and unpacks them all into DIR (emptied
# first) with `dpkg -x`: nothing is installed system-wide.
unpack_debs() {
  local dir="$1" what="$2"
  shift 2
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: $what comes from Debian's packages"
  command -v dpkg >/dev/null 2>&1 || die "dpkg not found: $what comes from Debian's packages"
  local tmp deb
  tmp="$(mktemp -d)"
  # _apt cannot write into a private temp dir; let it (the download is then sandboxed).
  chmod 755 "$tmp"
  if ! (cd "$tmp" && apt-get download -q "$@" >&2); then
    log "the pinned packages of $what are not all in the package lists; running apt-get update"
    apt-get update -q >&2 || die "apt-get update failed"
    (cd "$tmp" && apt-get download -q "$@" >&2) || die "apt-get download $* failed"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  for deb in "$tmp"/*.deb; do
    dpkg -x "$deb" "$dir" || die "dpkg -x $deb failed"
  done
  rm -rf "$tmp"
}

install_prometheus() {
  log "installing Debian's prometheus $PROM_DEB_VERSION (prometheus, promtool) into $PROM_DIR"
  rm -f "$PROM_STAMP"
  unpack_debs "$PROM_DIR" "prometheus/promtool" "prometheus=$PROM_DEB_VERSION"
  local t
  for t in prometheus promtool; do
    [[ -x "$PROM_DIR/usr/bin/$t" ]] || die "expected $PROM_DIR/usr/bin/$t after unpacking"
  done
  mkdir -p "$BIN_DIR"
  ln -sfn ../prometheus/usr/bin/prometheus "$BIN_DIR/prometheus"
  ln -sfn ../prometheus/usr/bin/promtool "$BIN_DIR/promtool"
}

install_compose() {
  log "installing Debian's docker-compose 1.29.2-3 and its Python packages into $COMPOSE_DIR"
  rm -f "$COMPOSE_STAMP"
  [[ -x "$COMPOSE_PYTHON" ]] || die "$COMPOSE_PYTHON not found: Debian's docker-compose runs on Debian's python3"
  unpack_debs "$COMPOSE_DIR" "docker-compose" "${COMPOSE_DEBS[@]}"
  [[ -f "$COMPOSE_DIR/usr/bin/docker-compose" ]] || die "expected $COMPOSE_DIR/usr/bin/docker-compose after unpacking"
  mkdir -p "$BIN_DIR"
  rm -f "$BIN_DIR/python-compose" "$BIN_DIR/docker-compose"
  # -S: no site packages of the host's python, only the unpacked ones (python3-distutils and
  # python3-lib2to3 unpack into usr/lib/python3.11).
  cat >"$BIN_DIR/python-compose" <<'WRAPPER'
#!/usr/bin/env bash
# Generated by scripts/install-tools.sh: Debian's python3 with the unpacked docker-compose packages.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
root="$here/../compose"
export PYTHONPATH="$root/usr/lib/python3/dist-packages:$root/usr/lib/python3.11"
exec /usr/bin/python3 -S "$@"
WRAPPER
  cat >"$BIN_DIR/docker-compose" <<'WRAPPER'
#!/usr/bin/env bash
# Generated by scripts/install-tools.sh: Debian's docker-compose 1.29.2 (unpacked), on python-compose.
set -euo pipefail
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
exec "$here/python-compose" "$here/../compose/usr/bin/docker-compose" "$@"
WRAPPER
  chmod +x "$BIN_DIR/python-compose" "$BIN_DIR/docker-compose"
}

if [[ "$FORCE" == 1 ]] || ! npm_ok; then install_npm; fi
if [[ "$FORCE" == 1 ]] || ! venv_ok; then install_venv; fi
if [[ "$FORCE" == 1 ]] || ! prom_ok; then install_prometheus; fi
if [[ "$FORCE" == 1 ]] || ! compose_ok; then install_compose; fi

# Verify each tool actually runs before declaring success.
print_versions

echo "$WANT" >"$STAMP"
echo "$VENV_WANT" >"$VENV_STAMP"
echo "$PROM_DEB_VERSION" >"$PROM_STAMP"
echo "$COMPOSE_WANT" >"$COMPOSE_STAMP"
log "installed"
print_paths
