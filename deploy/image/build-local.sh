#!/usr/bin/env bash
# Builds the netpulse image (deploy/image/Dockerfile) with podman on a Debian 12 machine that has
# no Docker daemon and cannot pull from Docker Hub: the Dockerfile's base (ARG NODE_IMAGE, by
# default node:20-bookworm-slim) is replaced by a local one made here from a Debian 12 rootfs
# (debootstrap, from the Debian mirror apt already uses) plus this machine's Node 20 and npm.
# Then it runs `netpulse --help` in the image.
#
#   deploy/image/build-local.sh [--tag NAME] [--rebuild-base] [--save FILE.tar]
#
#   --tag NAME        the image to build (default localhost/netpulse:latest)
#   --rebuild-base    make the base again even if podman has it
#   --save FILE.tar   also write the image as a docker-archive (for `ctr images import`, `kind load
#                     image-archive`, or `docker load` elsewhere)
#
# Needs root (debootstrap, podman). Installs podman and debootstrap with apt if they are missing.
# Work files (the rootfs) go to $NETPULSE_IMAGE_WORK (default .netpulse/image). The Debian mirror
# is the first one in /etc/apt/sources.list*; NETPULSE_DEBIAN_MIRROR overrides it.
set -euo pipefail

root="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)"
say() { printf 'build-local: %s\n' "$*"; }
die() {
  printf 'build-local: %s\n' "$*" >&2
  exit 2
}

tag=localhost/netpulse:latest
base=localhost/netpulse-node:20-bookworm
rebuild_base=""
save=""
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) [ $# -ge 2 ] || die "--tag needs a name"; tag="$2"; shift 2 ;;
    --rebuild-base) rebuild_base=1; shift ;;
    --save) [ $# -ge 2 ] || die "--save needs a file name"; save="$2"; shift 2 ;;
    -h | --help) sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done

[ "$(id -u)" -eq 0 ] || die "run as root (debootstrap and podman need it)"
work="${NETPULSE_IMAGE_WORK:-$root/.netpulse/image}"
mkdir -p "$work"

# --- tools -----------------------------------------------------------------------------------
missing=()
command -v podman >/dev/null || missing+=(podman)
command -v debootstrap >/dev/null || missing+=(debootstrap)
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# --- the base: Debian 12 + Node 20 -----------------------------------------------------------
# The URIs of this machine's Debian sources (one-line and deb822 formats), main archive first.
debian_uris() {
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    sed -n -E -e 's/^deb(\s+\[[^]]*\])?\s+(\S+)\s+.*/\2/p' -e 's/^URIs:\s*(\S+).*/\1/p'
}
mirror="${NETPULSE_DEBIAN_MIRROR:-$(debian_uris | grep -E '/debian/?$' | head -n1 || true)}"
security="$(debian_uris | grep -E '/debian-security/?$' | head -n1 || true)"

make_base() {
  [ -n "$mirror" ] || die "no Debian mirror in /etc/apt/sources.list*: set NETPULSE_DEBIAN_MIRROR"
  local node_bin npm_dir major rootfs="$work/rootfs"
  node_bin="$(readlink -f "$(command -v node || true)")"
  [ -x "$node_bin" ] || die "node not found: the base takes this machine's Node 20"
  major="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
  [ "$major" = 20 ] || die "this machine's node is $("$node_bin" --version), the image wants Node 20"
  npm_dir="$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)"
  [ -f "$npm_dir/bin/npm-cli.js" ] || die "npm not found next to node"

  say "base: debootstrap bookworm (minbase) into $rootfs"
  rm -rf "$rootfs" "$rootfs.tmp"
  debootstrap --variant=minbase bookworm "$rootfs.tmp" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -n 20 "$work/debootstrap.log" >&2; die "debootstrap failed (log: $work/debootstrap.log)"; }
  mv "$rootfs.tmp" "$rootfs"
  {
    echo "deb $mirror bookworm main"
    echo "deb $mirror bookworm-updates main"
    if [ -n "$security" ]; then echo "deb $security bookworm-security main"; fi
  } >"$rootfs/etc/apt/sources.list"

  say "base: Node $("$node_bin" --version) and npm $(node "$npm_dir/bin/npm-cli.js" --version) into /usr/local (as the official node images have them)"
  install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
  mkdir -p "$rootfs/usr/local/lib/node_modules"
  cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
  chroot "$rootfs" /usr/local/bin/node -e 'process.exit(0)' || die "node does not run in the Debian 12 rootfs"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*

  say "base: podman import as $base"
  podman rmi -f "$base" >/dev/null 2>&1 || true
  tar -C "$rootfs" --numeric-owner -c . |
    podman import \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'CMD ["node"]' \
      - "$base" >/dev/null
  rm -rf "$rootfs"
}

if [ -n "$rebuild_base" ] || ! podman image exists "$base"; then
  make_base
else
  say "base: $base present (--rebuild-base makes it again)"
fi

# --- how containers run here ------------------------------------------------------------------
# podman's defaults (crun, RLIMIT_NOFILE/NPROC raised to 1048576) fail where root lacks
# CAP_SYS_RESOURCE or cgroup v1 runs beside a cgroup v2 hierarchy with controllers (crun refuses
# that "hybrid" mode). Then runc with limits this machine allows works: probe, keep what runs.
run_opts=()
if ! podman run --rm "$base" true >/dev/null 2>&1; then
  run_opts=(--runtime runc --ulimit "nofile=$(ulimit -Hn):$(ulimit -Hn)" --ulimit nproc=32768:32768)
  command -v runc >/dev/null || { say "installing runc (apt)"; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq runc >/dev/null; }
  podman run --rm "${run_opts[@]}" "$base" true >/dev/null ||
    die "podman cannot start a container here, with its defaults nor with: ${run_opts[*]}"
fi
say "containers run with: podman run ${run_opts[*]:-(defaults)}"
printf '%s\n' "${run_opts[@]}" >"$work/podman-run-options"

# --- the image -------------------------------------------------------------------------------
# Host network for the build: apt and npm inside reach the registries exactly as this machine
# does, and npm trusts the CA bundle node trusts here (a TLS-inspecting proxy's, if any).
source_id="$("$root/deploy/image/source-id.sh")"
build_opts=(--network host --build-arg "NODE_IMAGE=$base" --label "io.netpulse.source-id=$source_id")
ca="${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}"
if [ -s "$ca" ]; then build_opts+=(--secret "id=ca_bundle,src=$ca"); fi
say "image: podman build ${build_opts[*]} ${run_opts[*]} -f deploy/image/Dockerfile -t $tag"
start=$(date +%s)
podman build "${build_opts[@]}" "${run_opts[@]}" -f "$root/deploy/image/Dockerfile" -t "$tag" "$root"
say "image: built in $(($(date +%s) - start)) s, $(podman image inspect --format '{{.Size}}' "$tag" | awk '{printf "%.0f MB", $1 / 1e6}')"

podman run --rm "${run_opts[@]}" "$tag" --help >/dev/null ||
  die "the image's entrypoint failed: podman run --rm ${run_opts[*]} $tag --help"
say "image: \`podman run --rm ${run_opts[*]} $tag --help\` works"

if [ -n "$save" ]; then
  podman save --format docker-archive -o "$save" "$tag"
  say "image: saved to $save"
fi
