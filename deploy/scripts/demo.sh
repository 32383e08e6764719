#!/usr/bin/env bash
# The Argus demo (README's first command): sets up what is missing, then runs packages/demo:
# a nats-server, a hub with embedded ClickHouse, simulated Argo CDs of every architecture with
# their agents, a CI producer, a scenario, and the unified stream, a service timeline and DORA
# metrics at the end. Arguments go to the demo: --help, --duration 0 (unattended), --nats <url>.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ARGUS_SETUP_QUIET=1 bash deploy/scripts/setup.sh
exec node packages/demo/dist/main.js "$@"
