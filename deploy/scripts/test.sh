#!/usr/bin/env bash
# The whole suite from a fresh clone: set up what is missing, check types and lint, run every test.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ARGUS_SETUP_QUIET=1 bash deploy/scripts/setup.sh
echo "[test] typecheck (tsc -b, tests included)" >&2
pnpm exec tsc -p tsconfig.tests.json
echo "[test] lint (biome)" >&2
pnpm exec biome check .
echo "[test] vitest" >&2
exec pnpm exec vitest run "$@"
