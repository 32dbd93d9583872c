#!/usr/bin/env bash
# Build the opsbook execution environment (execution-environment.yml, ansible-builder 3) on a
# Debian base image made here, with no registry:
#   1. base: debootstrap of Debian SUITE from this machine's Debian mirror (python3, pip, venv,
#      ca-certificates + the machine's CA certificates), cached as a tarball in
#      ~/.cache/opsbook/ee/ keyed by suite, mirror, package list and CA certificates, then
#      `docker import`ed as opsbook/debian-base:SUITE-KEY (and :SUITE);
#   2. the collection tarball (ansible-galaxy collection build) into build/ee/;
#   3. `ansible-builder build --container-runtime docker` (legacy builder, host network).
# The engine is DOCKER_HOST, else the lab's (`opsbook lab up --with docker`).
#   ansible-builder's image is cached (docker save) keyed by the definitions; a later run loads it
#   and only replaces the collection in it.
# Usage: scripts/build_ee.sh [--base-only] [--force: rebuild all]   (env: OPSBOOK_EE_IMAGE, OPSBOOK_EE_SUITE)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${OPSBOOK_VENV:-.venv}
BIN=$PWD/$VENV/bin
SUITE=${OPSBOOK_EE_SUITE:-bookworm}
PACKAGES=python3,python3-pip,python3-venv,ca-certificates
CACHE=${OPSBOOK_CACHE_DIR:-$HOME/.cache/opsbook}/ee
VERSION=$(awk '$1 == "version:" {print $2; exit}' galaxy.yml)
IMAGE=${OPSBOOK_EE_IMAGE:-opsbook/ee:$VERSION}
base_only=false force=false
for arg in "$@"; do
  case $arg in
    --base-only) base_only=true ;;
    --force) force=true ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build_ee.sh: unknown option $arg (expected --base-only, --force)" >&2; exit 64 ;;
  esac
done
log() { printf '\033[1m[build_ee]\033[0m %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- the Docker engine ----------------------------------------------------------------
if [ -z "${DOCKER_HOST:-}" ]; then
  # (lab status exits non-zero when a service is down: only the docker entry matters here)
  DOCKER_HOST=$({ "$BIN/opsbook" lab status --json || true; } | "$BIN/python" -c '
import json, sys
d = json.load(sys.stdin)["services"].get("docker", {})
print(d.get("docker_host", "") if d.get("status") == "ok" else "")')
  [ -n "$DOCKER_HOST" ] || die "no DOCKER_HOST and the lab's Docker is not running: opsbook lab up --with docker"
fi
export DOCKER_HOST
docker version --format '{{.Server.Version}}' >/dev/null 2>&1 || die "no Docker engine answers on $DOCKER_HOST"

# --- 1. the Debian base image -----------------------------------------------------------
# The mirror this machine's apt uses for SUITE (deb822 sources or one-line sources.list).
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk -v s="$SUITE" '
  /^URIs:/ {u=$2} /^Suites:/ {for (i = 2; i <= NF; i++) if ($i == s) print u} /^$/ {u=""}' | head -1)
[ -n "$mirror" ] || mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
  | awk -v s="$SUITE" '$1 == "deb" && $3 == s {print $2; exit}')
[ -n "$mirror" ] || die "no Debian mirror for $SUITE in /etc/apt/sources.list*"
cas=(/usr/local/share/ca-certificates/*.crt)
[ -e "${cas[0]}" ] || cas=()
key=$( { echo "$SUITE $mirror $PACKAGES"; cat "${cas[@]}" /dev/null; } | sha256sum | cut -c1-12)
BASE=opsbook/debian-base:$SUITE-$key
tarball=$CACHE/debian-$SUITE-$key.tar
ensure_base() {
t0=$(date +%s)
if [ ! -s "$tarball" ] || $force; then
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] \
    || die "debootstrap is missing: apt-get install -y debootstrap (scripts/bootstrap.sh installs it)"
  [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
  mkdir -p "$CACHE"
  work=$(mktemp -d "$CACHE/.rootfs-XXXXXX")
  # debootstrap mounts /proc and /sys in the rootfs; unmount them whatever happens
  cleanup() {
    awk -v p="$work/" 'index($2, p) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do umount "$m" || true; done
    rm -rf --one-file-system "$work"  # never into a mount left behind
  }
  trap cleanup EXIT
  log "base: debootstrap $SUITE ($PACKAGES) from $mirror"
  PATH=$PATH:/usr/sbin debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$work/rootfs" "$mirror" \
    > "$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  # pip in the build verifies TLS with the same CAs as this machine
  [ ${#cas[@]} -eq 0 ] || cp "${cas[@]}" "$work/rootfs/usr/local/share/ca-certificates/"
  chroot "$work/rootfs" update-ca-certificates >/dev/null
  chroot "$work/rootfs" apt-get clean
  rm -rf "$work/rootfs/var/lib/apt/lists/"*
  tar --numeric-owner -C "$work/rootfs" -cf "$work/rootfs.tar" .
  mv -f "$work/rootfs.tar" "$tarball"  # same file system: atomic
  log "base: rootfs $tarball ($(du -m "$tarball" | cut -f1) MB) in $(( $(date +%s) - t0 ))s"
else
  log "base: cached rootfs $tarball"
fi
if ! docker image inspect "$BASE" >/dev/null 2>&1 || $force; then
  docker import -c 'CMD ["/bin/bash"]' -c 'ENV LANG=C.UTF-8' "$tarball" "$BASE" >/dev/null
fi
docker tag "$BASE" "opsbook/debian-base:$SUITE"
log "base: image $BASE ready in $(( $(date +%s) - t0 ))s"
}
$base_only && { ensure_base; echo "$BASE"; exit 0; }

# --- 2. the collection ----------------------------------------------------------------------
t1=$(date +%s)
mkdir -p build/ee
"$BIN/ansible-galaxy" collection build --force --output-path build/ee . >/dev/null
mv -f "build/ee/opsbook-runbooks-$VERSION.tar.gz" build/ee/opsbook-runbooks.tar.gz

# --- 3. the execution environment ---------------------------------------------------------
# Everything but the collection's own files is keyed on the definitions that shape it: such an image
# (ansible-builder's whole build, minutes) is kept in the cache as `docker save` output, and a later
# run loads it (no base needed then) and only replaces the collection in it (a one-step build, seconds).
deps_key=$( { echo "$BASE"; "$BIN/ansible-builder" --version
  cat execution-environment.yml meta/execution-environment.yml meta/ee-requirements.txt meta/ee-bindep.txt
} | sha256sum | cut -c1-12)
DEPS=opsbook/ee-deps:$deps_key
saved=$CACHE/opsbook-ee-deps-$deps_key.tar
if $force || { ! docker image inspect "$DEPS" >/dev/null 2>&1 && [ ! -s "$saved" ]; }; then
  ensure_base
  log "ee: ansible-builder build -t $IMAGE (base $BASE)"
  # The legacy builder (DOCKER_BUILDKIT=0): the lab engine has no buildx; host network: no bridge here.
  DOCKER_BUILDKIT=0 "$BIN/ansible-builder" build --container-runtime docker -f execution-environment.yml \
    -c build/ee/context -t "$IMAGE" --build-arg "EE_BASE_IMAGE=$BASE" \
    --extra-build-cli-args=--network=host -v 3 > build/ee/build.log 2>&1 \
    || { tail -40 build/ee/build.log >&2; die "ansible-builder build failed (log: build/ee/build.log)"; }
  docker tag "$IMAGE" "$DEPS"
  docker save -o "$saved.tmp" "$DEPS" && mv -f "$saved.tmp" "$saved"
  log "ee: built in $(( $(date +%s) - t1 ))s (log: build/ee/build.log), saved as $saved"
else
  if ! docker image inspect "$DEPS" >/dev/null 2>&1; then
    docker load -q -i "$saved" >/dev/null
    log "ee: loaded $DEPS from $saved"
  fi
  # the image's dependencies as cached, this checkout's collection
  cat > build/ee/Dockerfile.collection <<EOF2
FROM $DEPS
USER root
COPY opsbook-runbooks.tar.gz /tmp/opsbook-runbooks.tar.gz
RUN ansible-galaxy collection install --force --no-deps -p /usr/share/ansible/collections /tmp/opsbook-runbooks.tar.gz \\
 && rm /tmp/opsbook-runbooks.tar.gz
USER 1000
EOF2
  DOCKER_BUILDKIT=0 docker build -q --network=host -f build/ee/Dockerfile.collection -t "$IMAGE" build/ee \
    > build/ee/build.log 2>&1 || { tail -20 build/ee/build.log >&2; die "collection layer failed (log: build/ee/build.log)"; }
fi
size=$(docker image inspect "$IMAGE" --format '{{.Size}}')
log "ee: image $IMAGE ($(( size / 1000000 )) MB) ready in $(( $(date +%s) - t1 ))s"
echo "$IMAGE"
