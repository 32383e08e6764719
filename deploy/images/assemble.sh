#!/usr/bin/env bash
# Assembles the root folder of an Argus image: the files its Containerfile copies onto the base
# (Debian + Node, built by deploy/scripts/images.sh). The one home for what an image holds:
# test/deploy/images.test.ts runs the hub and an agent from this folder, images.sh builds from it.
#
#   deploy/images/assemble.sh hub|agent <dest>
#
# <dest>/app                  `pnpm deploy --prod` of @argus/cli (the `argus` command), sources and tests pruned
# <dest>/usr/local/bin/argus  -> ../../../app/bundle/argus.js (the command bundled by `pnpm build`)
# hub: with chdb's native library (@chdb/lib-*, an optional dependency of chdb);
# agent: without it (--no-optional): `argus agent` never loads chdb.
set -euo pipefail

variant="${1:-}"
dest="${2:-}"
say() { printf '[assemble] %s\n' "$*" >&2; }
case "$variant" in
  hub) optional=() ;;
  agent) optional=(--no-optional) ;;
  *) say "usage: $0 hub|agent <dest>"; exit 2 ;;
esac
[ -n "$dest" ] || { say "usage: $0 hub|agent <dest>"; exit 2; }
[ ! -e "$dest" ] || { say "error: $dest exists; give a new folder"; exit 1; }

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v pnpm >/dev/null 2>&1 || { say "error: pnpm is not on PATH (deploy/scripts/setup.sh installs it)"; exit 1; }
[ -f packages/cli/bundle/argus.js ] || { say "error: packages/cli/bundle/argus.js is missing: run pnpm build first"; exit 1; }
mkdir -p "$dest/usr/local/bin"
dest="$(cd "$dest" && pwd)"

# pnpm 10 deploys only from a workspace with injected workspace packages: set for this command only,
# so the workspace keeps its links (an injected copy would not see `tsc -b` output). The lockfile is
# the workspace's; --prefer-offline takes the packages from the store `pnpm install` filled.
log="$(mktemp)"
if ! pnpm --config.inject-workspace-packages=true --filter @argus/cli deploy --prod --prefer-offline \
  "${optional[@]}" "$dest/app" >"$log" 2>&1; then
  cat "$log" >&2
  rm -f "$log"
  say "error: pnpm deploy failed"
  exit 1
fi
rm -f "$log"

# Sources, tests and TypeScript settings of the workspace packages are not needed to run.
prune() {
  rm -rf "$1/src" "$1/test" "$1/tsconfig.json" "$1/tsconfig.tsbuildinfo" "$1/bundle.mjs"
}
prune "$dest/app"
# The command runs from its bundle (bundle/argus.js); tsc's output of it is not loaded.
rm -rf "$dest/app/dist"
for package in "$dest"/app/node_modules/.pnpm/@argus+*/node_modules/@argus/*; do
  [ -d "$package" ] && [ ! -L "$package" ] && prune "$package"
done
chmod 0755 "$dest/app/bundle/argus.js"
ln -s ../../../app/bundle/argus.js "$dest/usr/local/bin/argus"

if [ "$variant" = agent ] && find "$dest/app/node_modules/.pnpm" -maxdepth 1 -name '@chdb+lib-*' | grep -q .; then
  say "error: the agent image holds chdb's native library"
  exit 1
fi
say "$variant: $(du -sh "$dest" | cut -f1) in $dest"
