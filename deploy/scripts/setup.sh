#!/usr/bin/env bash
# Makes a fresh Debian machine ready for Argus: pnpm, nats-server, dependencies, build.
# Idempotent: every step checks first and says what it did or why it skipped.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
PNPM_VERSION="10"
NATS_MIN_VERSION="2.9.0"
QUIET="${ARGUS_SETUP_QUIET:-0}"

say() { printf '[setup] %s\n' "$*" >&2; }
detail() { [ "$QUIET" = "1" ] || say "$@"; }
fail() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" = "0" ]; then "$@";
  elif command -v sudo >/dev/null 2>&1; then sudo "$@";
  else fail "need root to run: $* (run this script as root or install sudo)"; fi
}

version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

# --- node ---------------------------------------------------------------
command -v node >/dev/null 2>&1 || fail "Node.js >= 20.19 is required and was not found on PATH"
node_version="$(node -p 'process.versions.node')"
version_ge "$node_version" "20.19.0" || fail "Node.js $node_version is too old: Argus needs >= 20.19"
detail "node $node_version ok"

# --- pnpm ---------------------------------------------------------------
if command -v pnpm >/dev/null 2>&1 && [ "$(pnpm --version 2>/dev/null | cut -d. -f1)" = "$PNPM_VERSION" ]; then
  detail "pnpm $(pnpm --version) ok"
else
  say "installing pnpm@$PNPM_VERSION globally with npm"
  npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null 2>&1 \
    || as_root npm install --global --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null
  command -v pnpm >/dev/null 2>&1 || fail "pnpm was installed but is not on PATH (npm prefix: $(npm prefix -g))"
  say "pnpm $(pnpm --version) installed"
fi

# --- nats-server --------------------------------------------------------
nats_bin="${ARGUS_NATS_SERVER:-nats-server}"
if command -v "$nats_bin" >/dev/null 2>&1; then
  nats_version="$("$nats_bin" --version | sed -E 's/^nats-server: v?//')"
  version_ge "$nats_version" "$NATS_MIN_VERSION" || fail "nats-server $nats_version is older than $NATS_MIN_VERSION"
  detail "nats-server $nats_version ok"
else
  command -v apt-get >/dev/null 2>&1 || fail "nats-server is missing and this is not a Debian-like system: install nats-server >= $NATS_MIN_VERSION and put it on PATH (or set ARGUS_NATS_SERVER)"
  say "installing nats-server from Debian packages"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nats-server >/dev/null
  # The Debian package enables a system service; Argus starts its own servers, so keep it out of the way.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet nats-server 2>/dev/null; then
    as_root systemctl disable --now nats-server >/dev/null 2>&1 || true
  fi
  say "nats-server $(nats-server --version) installed"
fi

# --- kubectl ------------------------------------------------------------
# The Notifications set-up test runs the README's kubectl commands with --local (no cluster needed).
if command -v kubectl >/dev/null 2>&1; then
  detail "kubectl ok"
else
  command -v apt-get >/dev/null 2>&1 || fail "kubectl is missing and this is not a Debian-like system: install kubectl (any version from 1.20) and put it on PATH"
  say "installing kubectl from Debian packages (kubernetes-client)"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq kubernetes-client >/dev/null
  say "$(kubectl version --client 2>/dev/null | head -n1) installed"
fi

# --- chromium (the dashboard's browser tests drive Debian's chromium through playwright-core) ---
chromium_bin="${ARGUS_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$chromium_bin" ]; then
  detail "chromium ok ($("$chromium_bin" --version 2>/dev/null || echo "$chromium_bin"))"
else
  command -v apt-get >/dev/null 2>&1 || fail "chromium is missing and this is not a Debian-like system: install chromium and set ARGUS_CHROMIUM to its path"
  say "installing chromium from Debian packages (for the dashboard's browser tests)"
  as_root apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
  say "$(/usr/bin/chromium --version 2>/dev/null || echo chromium) installed"
fi

# --- dependencies and build ---------------------------------------------
if [ -f node_modules/.modules.yaml ] && [ node_modules/.modules.yaml -nt pnpm-lock.yaml ] && [ "${ARGUS_SETUP_FORCE_INSTALL:-0}" != "1" ]; then
  detail "dependencies up to date"
else
  say "installing dependencies (pnpm install --frozen-lockfile)"
  pnpm install --frozen-lockfile --reporter=silent
fi

say "building (pnpm build: tsc -b, then the dashboard's and the argus command's bundles)"
pnpm run --silent build
detail "ready"
