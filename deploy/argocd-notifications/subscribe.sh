#!/usr/bin/env bash
# Subscribes every application to the Argus triggers of a patch file, keeping every subscription
# already in argocd-notifications-cm. `kubectl patch --type merge` replaces a key whole, and all of
# Argo CD's default subscriptions live in one key (`subscriptions`), so this adds one entry to that
# list instead: marked, so a second run replaces it rather than adding it again.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: subscribe.sh [--namespace NS] [--service NAME] [--local CONFIGMAP.yaml] PATCH.yaml

Adds (or replaces) one entry in the `subscriptions` of argocd-notifications-cm that sends every
`trigger.*` defined in PATCH.yaml to the webhook service NAME. Other subscriptions are kept.

  --namespace NS          namespace of argocd-notifications-cm (default: argocd)
  --service NAME          webhook service the triggers notify (default: argus)
  --local FILE            change FILE (a ConfigMap manifest) instead of the cluster's ConfigMap,
                          and print the result
  --remove                remove the entry instead of adding it
EOF
}

namespace=argocd
service=argus
local_file=""
remove=0
patch_file=""
while [ $# -gt 0 ]; do
  case "$1" in
    --namespace) namespace="${2:?--namespace needs a value}"; shift 2 ;;
    --service) service="${2:?--service needs a value}"; shift 2 ;;
    --local) local_file="${2:?--local needs a file}"; shift 2 ;;
    --remove) remove=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "subscribe.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *)
      [ -z "$patch_file" ] || { echo "subscribe.sh: one PATCH.yaml only (got $patch_file and $1)" >&2; exit 2; }
      patch_file="$1"; shift ;;
  esac
done
if [ "$remove" = 0 ] && [ -z "$patch_file" ]; then
  echo "subscribe.sh: PATCH.yaml is required, e.g. argocd-notifications-applications-cm.yaml (see --help)" >&2
  exit 2
fi
command -v kubectl >/dev/null 2>&1 || { echo "subscribe.sh: kubectl is not on PATH" >&2; exit 1; }

begin_marker="# argus-subscription begin (managed by subscribe.sh; service ${service})"
end_marker="# argus-subscription end (${service})"

# The same kubectl call reads the cluster's ConfigMap or, with --local, the file.
kube_patch() {
  if [ -n "$local_file" ]; then kubectl patch --local -f "$local_file" --type merge "$@";
  else kubectl -n "$namespace" patch configmap argocd-notifications-cm --type merge "$@"; fi
}
read_subscriptions() {
  if [ -n "$local_file" ]; then kube_patch -p '{}' -o 'jsonpath={.data.subscriptions}';
  else kubectl -n "$namespace" get configmap argocd-notifications-cm -o 'jsonpath={.data.subscriptions}'; fi
}

current="$(read_subscriptions)"
# Everything but a previous Argus entry of this service.
kept="$(printf '%s\n' "$current" | awk -v b="$begin_marker" -v e="$end_marker" '
  $0 == b { skip = 1; next }
  $0 == e { skip = 0; next }
  !skip { print }')"
kept="$(printf '%s' "$kept" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')" # drop trailing blank lines

entry=""
if [ "$remove" = 0 ]; then
  [ -f "$patch_file" ] || { echo "subscribe.sh: $patch_file not found" >&2; exit 1; }
  triggers="$(sed -n -E 's/^  trigger\.([A-Za-z0-9_.-]+):.*/\1/p' "$patch_file")"
  [ -n "$triggers" ] || { echo "subscribe.sh: $patch_file defines no trigger.* key" >&2; exit 1; }
  entry="$(
    printf '%s\n' "$begin_marker" "- recipients:" "    - ${service}" "  triggers:"
    printf '%s\n' "$triggers" | sed 's/^/    - /'
    printf '%s\n' "$end_marker"
  )"
fi

new="$kept"
if [ -n "$entry" ]; then
  if [ -n "$new" ]; then new="$(printf '%s\n%s' "$new" "$entry")"; else new="$entry"; fi
fi

tmp="$(mktemp)"
trap 'rm -f "$tmp"' EXIT
{
  printf 'data:\n'
  if [ -z "$new" ]; then
    printf '  subscriptions: null\n'
  else
    # An explicit indentation indicator: the first kept line may be indented more than the others.
    printf '  subscriptions: |2\n'
    printf '%s\n' "$new" | sed 's/^/    /'
  fi
} >"$tmp"

if [ -n "$local_file" ]; then
  kube_patch --patch-file "$tmp" -o yaml
else
  kube_patch --patch-file "$tmp"
  if [ "$remove" = 1 ]; then echo "argus subscription removed from ${namespace}/argocd-notifications-cm" >&2;
  else echo "argus subscription ($(printf '%s\n' "$triggers" | wc -l) triggers -> ${service}) set in ${namespace}/argocd-notifications-cm; other subscriptions kept" >&2; fi
fi
