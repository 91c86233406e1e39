#!/usr/bin/env bash
# Builds docker/Dockerfile and runs docker/compose.yaml for real with rootful podman and
# docker-compose v1 (no Docker engine needed), then tears everything down. .ci/run calls it.
#
#   bash docker/podman-ci.sh            # from the repository root (or anywhere: it finds it)
#
# What it checks, across containers: the one-way and the mutual flow end to end (agents enroll,
# check in and ship; their results merged by `fleet-tls results`), three agents with --scale, an
# agent without FLEET_CA failing with Go's words in *its* log and the TLS error in Fleet Server's,
# a published port reached from the host side, two load containers merged by histogram, the
# proxy profile (agents through the forward proxy, its CONNECT lines in its log; agents behind the
# secure proxy), and `docker-compose config -q` as a lint. It prints the image size, build times and `up` to the
# first enrollment.
#
# Machine facts it works around (podman 4.3 on Debian 12, no systemd, no registry):
#  - containers.conf: runc (crun refuses cgroups v1 hybrid) and no default ulimits (no CAP_SYS_RESOURCE);
#  - node:20-slim is made locally: debootstrap minbase plus the host's Node 20, cached as a tar in $WORK;
#  - the image build reaches the npm registry with --network host; everything after it runs in a
#    fresh network namespace (unshare --net): only its own loopback and bridges, no route out;
#  - podman runs no healthchecks without systemd: a loop runs them so depends_on: service_healthy works;
#  - aardvark-dns 1.4 can stall name lookups for 15-20 s while containers join: waits are generous.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${FLEET_TLS_PODMAN_WORK:-/var/tmp/fleet-tls-podman}
IMAGE=localhost/fleet-tls-harness:local
export ROOT WORK IMAGE

[ "$(id -u)" = 0 ] || { echo "podman-ci: needs root (rootful podman, unshare --net)"; exit 1; }
# netavark 1.4 sets up bridge networks with iptables (inside the namespace only). What it drives, installed when missing (as scripts/test-peers.sh does for the tests). docker-compose
# without its Recommends: they are a Docker engine (docker.io, containerd), which we do not want.
need=()
for pair in podman:podman runc:runc netavark:/usr/lib/podman/netavark aardvark-dns:/usr/lib/podman/aardvark-dns iptables:iptables debootstrap:debootstrap curl:curl; do
  package=${pair%%:*} probe=${pair#*:}
  { [ -x "$probe" ] || command -v "$probe" >/dev/null 2>&1; } || need+=("$package")
done
if [ ${#need[@]} -gt 0 ] || ! command -v docker-compose >/dev/null 2>&1; then
  echo "podman-ci: installing ${need[*]} docker-compose"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  [ ${#need[@]} -eq 0 ] || apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null
  command -v docker-compose >/dev/null 2>&1 || apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 docker-compose >/dev/null
fi

mkdir -p "$WORK"/{storage,run,tmp,netconf,volumes}
cat > "$WORK/containers.conf" <<CONF
[containers]
default_ulimits = []
[engine]
runtime = "runc"
tmp_dir = "$WORK/tmp"
volume_path = "$WORK/volumes"
[network]
network_config_dir = "$WORK/netconf"
CONF
cat > "$WORK/storage.conf" <<CONF
[storage]
driver = "overlay"
graphroot = "$WORK/storage"
runroot = "$WORK/run"
CONF
# Nothing is pulled: a missing image fails at once instead of reaching for a registry.
cat > "$WORK/registries.conf" <<'CONF'
unqualified-search-registries = []
[[registry]]
location = "docker.io"
blocked = true
[[registry]]
location = "quay.io"
blocked = true
[[registry]]
location = "ghcr.io"
blocked = true
CONF
export CONTAINERS_CONF=$WORK/containers.conf CONTAINERS_STORAGE_CONF=$WORK/storage.conf CONTAINERS_REGISTRIES_CONF=$WORK/registries.conf

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# 1. node:20-slim, made here (Debian's mirror is reachable; Docker Hub is not).
if ! podman image exists localhost/node20-base; then
  if [ -f "$WORK/node20-base.tar" ]; then
    podman load -q -i "$WORK/node20-base.tar" >/dev/null
  else
    t=$(now)
    R=$WORK/rootfs; rm -rf "$R"
    debootstrap --variant=minbase bookworm "$R" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1
    rm -rf "$R"/var/cache/apt/archives/*.deb "$R"/var/lib/apt/lists/* "$R"/usr/share/doc/* "$R"/usr/share/man/* "$R"/usr/share/locale/*
    install -D -m 0755 "$(readlink -f "$(command -v node)")" "$R/usr/local/bin/node"
    npm_dir=$(dirname "$(readlink -f "$(command -v npm)")")/..
    mkdir -p "$R/usr/local/lib/node_modules"
    cp -a "$(cd "$npm_dir" && pwd)" "$R/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$R/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$R/usr/local/bin/npx"
    chroot "$R" sh -c 'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node'
    tar --numeric-owner -C "$R" -c . | podman import -q --change 'CMD ["node"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - localhost/node20-base >/dev/null
    rm -rf "$R"
    podman save -q -o "$WORK/node20-base.tar" localhost/node20-base
    echo "podman-ci: base image node:20-slim made with debootstrap in $(since "$t") s (cached in $WORK)"
  fi
fi
podman tag localhost/node20-base docker.io/library/node:20-slim

# 2. The image: cold (no layer cache) when asked or when it does not exist yet, then cached.
# A TLS-inspecting proxy's CA, when this machine's Node trusts one, reaches npm in the build as a
# read-only mount (not a layer): see the Dockerfile.
ca=()
[ -s "${NODE_EXTRA_CA_CERTS:-}" ] && ca=(-v "$NODE_EXTRA_CA_CERTS:/etc/ssl/npm-ca.pem:ro")
build() {
  local rc=0
  podman build -q --format docker --network host "${ca[@]}" -f "$ROOT/docker/Dockerfile" -t "$IMAGE" "$@" "$ROOT" >/dev/null 2>"$WORK/build.err" || rc=$?
  grep -v '^npm \(notice\|warn\)' "$WORK/build.err" >&2 || true
  return $rc
}
if [ "${FLEET_TLS_COLD_BUILD:-0}" = 1 ] || ! podman image exists "$IMAGE"; then
  t=$(now); build --no-cache; echo "podman-ci: image build (no cache): $(since "$t") s"
fi
t=$(now); build; echo "podman-ci: image build (cached): $(since "$t") s"
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
base=$(podman image inspect localhost/node20-base --format '{{.Size}}')
echo "podman-ci: image size $((size / 1000000)) MB (the node:20-slim base is $((base / 1000000)) MB of it)"
podman image prune -f >/dev/null 2>&1 || true

# 3. Everything else in a network namespace of its own.
exec unshare --net bash "$ROOT/docker/podman-ci-run.sh"
