#!/usr/bin/env bash
# Builds the images `lab up --kubelet` imports into every lab node's containerd, with no container registry,
# and writes each as a docker-archive that `ctr images import` takes:
#   - localhost/pause:3.10.1      the Pod sandbox: Kubernetes' own pause.c (build/pause/linux in the pinned
#                                  k8s.io/kubernetes module, so the same pin as the kubelet), static, FROM scratch;
#   - localhost/lab-demo:1         the demo backend: Debian's busybox-static (`busybox httpd`) FROM scratch, a
#                                  few hundred kB; the lab's Deployment writes the Pod's name as its index page;
#   - metallb-ts:<version>         the project's image (scripts/build-image.sh), saved under the name the manifests'
#                                  `image: metallb-ts:<version>` resolves to (docker.io/library/...).
# Cached in $CACHE/lab-images/ by image ID: a second run with unchanged images only checks. Prints the directory.
#
# Usage: scripts/build-lab-images.sh     Needs: root, podman, gcc with a static libc, busybox-static, Go's module
# cache holding k8s.io/kubernetes (test/cluster/build-binaries.sh --kubelet fills it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=$(node -p "require('$ROOT/package.json').version")
CACHE_ROOT="${METALLB_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-ts}"
OUT="$CACHE_ROOT/lab-images"
PAUSE=localhost/pause:3.10.1
DEMO=localhost/lab-demo:1
say() { printf 'build-lab-images: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
[[ $(id -u) == 0 ]] || fail "needs root (podman's rootful storage)"
mkdir -p "$OUT"
exec 9>"$OUT/.lock"
flock -n 9 || { say "another build is running; waiting for it"; flock 9; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# FROM scratch + COPY runs no container, so neither this VM's runtime nor its ulimits matter here.
if ! podman image exists "$PAUSE"; then
  src="$(cd "$ROOT/test/cluster/build" && GOFLAGS=-mod=readonly go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  [[ -f $src ]] || fail "no $src (run test/cluster/build-binaries.sh --kubelet first)"
  mkdir -p "$work/pause"
  gcc -Os -Wall -static -DVERSION=v3.10.1-metallb-ts -o "$work/pause/pause" "$src" || fail "gcc -static pause.c (needs libc6-dev)"
  printf 'FROM scratch\nCOPY pause /pause\nUSER 65535:65535\nENTRYPOINT ["/pause"]\n' >"$work/pause/Containerfile"
  podman build -q --pull=never -t "$PAUSE" "$work/pause" >/dev/null || fail "podman build $PAUSE"
fi
if ! podman image exists "$DEMO"; then
  busybox=$(command -v busybox) || fail "no busybox (apt-get install busybox-static)"
  file -L "$busybox" 2>/dev/null | grep -q 'statically linked' || ldd "$busybox" 2>&1 | grep -q 'not a dynamic' \
    || fail "$busybox is not static (apt-get install busybox-static)"
  mkdir -p "$work/demo/rootfs/bin" "$work/demo/rootfs/tmp"
  cp "$busybox" "$work/demo/rootfs/bin/busybox"
  for applet in sh mkdir echo cat hostname httpd sleep; do ln -s busybox "$work/demo/rootfs/bin/$applet"; done
  printf 'FROM scratch\nCOPY rootfs/ /\nENV PATH=/bin\nUSER 65534:65534\nENTRYPOINT ["/bin/sh"]\n' >"$work/demo/Containerfile"
  podman build -q --pull=never -t "$DEMO" "$work/demo" >/dev/null || fail "podman build $DEMO"
fi
# Always: podman's layer cache makes it seconds when the sources did not change, and the lab must run this checkout.
bash "$ROOT/scripts/build-image.sh" >/dev/null || fail "scripts/build-image.sh"

# archive name → image; the archive is rewritten only when the image ID changed.
save() {
  local image=$1 name=$2 file=$3
  local id; id=$(podman image inspect "$image" --format '{{.Id}}')
  if [[ -f $file && -f $file.id && $(cat "$file.id") == "$id" ]]; then return; fi
  podman tag "$image" "$name"
  rm -f "$file" "$file.id"
  podman save -q --format docker-archive -o "$file.partial" "$name" || fail "podman save $name"
  [[ $name == "$image" ]] || podman untag "$name" "$name" 2>/dev/null || true
  mv "$file.partial" "$file"
  echo "$id" >"$file.id"
  say "saved $file ($name, $(( $(stat -c %s "$file") / 1000000 )) MB)"
}
save "$PAUSE" "$PAUSE" "$OUT/pause.tar"
save "$DEMO" "$DEMO" "$OUT/lab-demo.tar"
save "localhost/metallb-ts:$VERSION" "docker.io/library/metallb-ts:$VERSION" "$OUT/metallb-ts.tar"
echo "$OUT"
