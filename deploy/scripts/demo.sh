#!/usr/bin/env bash
# The Argus demo, as far as Argus goes today: a NATS JetStream server, a hub with the embedded
# ClickHouse, an agent receiving Argo CD Notifications webhooks, and CDEvents flowing through both
# entry points (agent webhook and hub HTTP ingest), a repeat and a bad event included. Then it shows
# what the hub stored, dropped as duplicates and dead-lettered, and stops everything.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ARGUS_SETUP_QUIET=1 bash deploy/scripts/setup.sh

work="$(mktemp -d -t argus-demo-XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
wait_http() {
  for _ in $(seq 1 100); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "demo: $1 did not answer" >&2; return 1
}
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

nats_port="$(free_port)"; hub_port="$(free_port)"; agent_port="$(free_port)"; grpc_port="$(free_port)"
argus() { node packages/cli/dist/bin.js "$@"; }

step "nats-server with JetStream on 127.0.0.1:$nats_port (store $work/nats)"
nats-server -js -a 127.0.0.1 -p "$nats_port" -sd "$work/nats" >"$work/nats.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do (exec 3<>"/dev/tcp/127.0.0.1/$nats_port") 2>/dev/null && break; sleep 0.1; done

step "hub with embedded ClickHouse (data $work/hub), HTTP on 127.0.0.1:$hub_port"
argus hub --nats "nats://127.0.0.1:$nats_port" --data-dir "$work/hub" --http-listen "127.0.0.1:$hub_port" \
  --grpc-listen "127.0.0.1:$grpc_port" \
  --ingest-tokens ci=demo-ci-token --log-level warn >"$work/hub.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$hub_port/readyz"

step "agent 'argo-prod-eu' receiving Argo CD Notifications on 127.0.0.1:$agent_port"
argus agent --instance argo-prod-eu --source webhook --cluster prod-eu --architecture distributed \
  --nats "nats://127.0.0.1:$nats_port" --listen "127.0.0.1:$agent_port" --log-level warn >"$work/agent.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$agent_port/readyz"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
merged='{"context":{"specversion":"0.5.1","id":"pr-42-merged","source":"/github/acme/podinfo","type":"dev.cdevents.change.merged.0.3.0","timestamp":"'"$(now)"'"},"subject":{"id":"acme/podinfo/pull/42","content":{"repository":{"id":"acme/podinfo"}}}}'
deployed='{"context":{"version":"0.4.1","id":"podinfo-6.9.2-deployed","source":"/argocd/prod-eu/podinfo/podinfo","type":"dev.cdevents.service.deployed.0.2.0","timestamp":"'"$(now)"'"},"subject":{"id":"podinfo","type":"service","content":{"environment":{"id":"prod-eu/podinfo"},"artifactId":"pkg:helm/podinfo@6.9.2?repository_url=ghcr.io%2Fstefanprodan%2Fcharts"}},"customData":{"argocdApp":"podinfo","syncStatus":"Synced","healthStatus":"Healthy"}}'
broken='{"context":{"specversion":"0.5.1","id":"x","source":"/a","type":"dev.cdevents.service.deployed.0.3.0","timestamp":"yesterday"},"subject":{"id":"podinfo","content":{}}}'

post() { curl -sS -X POST -H 'content-type: application/json' "$@"; echo; }
step "CI posts change.merged to the hub ingest (bearer token of producer 'ci')"
post -H 'authorization: Bearer demo-ci-token' --data "$merged" "http://127.0.0.1:$hub_port/api/v1/events"
step "Argo CD Notifications posts service.deployed (CDEvents 0.4.1, as the talk's templates do) to the agent"
post -H 'Argus-Cluster: in-cluster' --data "$deployed" "http://127.0.0.1:$agent_port/api/v1/notifications"
step "...and delivers it again (Notifications repeat on restarts): a duplicate"
post -H 'Argus-Cluster: in-cluster' --data "$deployed" "http://127.0.0.1:$agent_port/api/v1/notifications"
step "a broken event is refused with the reason"
post --data "$broken" "http://127.0.0.1:$agent_port/api/v1/notifications" || true

sleep 1
step "what the hub did (GET /metrics)"
curl -fsS "http://127.0.0.1:$hub_port/metrics" | grep -E '^argus_hub_(consumed|stored|duplicates|dead_letters|republished)' || true
stored="$(curl -fsS "http://127.0.0.1:$hub_port/metrics" | awk '/^argus_hub_stored_total/ {s+=$2} END {print s+0}')"

cat <<MSG

Two events stored once each in ClickHouse ($work/hub) and republished on the unified stream
(cdevents.unified.<cluster>.<subject>.<predicate>); the repeat was absorbed, the broken one refused.
Coming next: Argo CD simulators of every architecture with their agents, and 'argus query/tail/timeline/dora'.
MSG
if [ "$stored" != "2" ]; then echo "demo: expected 2 stored events, the hub reports $stored" >&2; exit 1; fi
