#!/usr/bin/env bash
# Builds etcd, kube-apiserver, kube-controller-manager and kubectl from their Go
# modules (pinned in test/cluster/build/go.mod) into a cache outside the repo,
# keyed by version. A warm cache returns at once; a cold build takes tens of
# minutes on two cores, so CI keeps the cache across runs on the same machine.
# With --kubelet it also builds kube-scheduler, kubelet and kube-proxy from the
# same pin (what `lab up --kubelet` and the kubelet e2e suite run).
#
# usage: build-binaries.sh [--kubelet] [--dir]
set -euo pipefail

K8S_VERSION=v1.35.4
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_ROOT="${METALLB_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-ts}"
OUT="$CACHE_ROOT/k8s-$K8S_VERSION"
BINARIES=(etcd kube-apiserver kube-controller-manager kubectl)
KUBELET_BINARIES=(kube-scheduler kubelet kube-proxy)
if [[ ${1:-} == --kubelet ]]; then BINARIES+=("${KUBELET_BINARIES[@]}"); shift; fi

complete() { for b in "${BINARIES[@]}"; do [[ -x "$OUT/$b" ]] || return 1; done; }

# --dir: print where the binaries live (built or not) so callers share this one version pin.
if [[ ${1:-} == --dir ]]; then echo "$OUT"; exit 0; fi

if complete; then
  echo "cluster binaries: cached in $OUT"
  exit 0
fi

# One build at a time per cache (npm test and lab up may both ask): wait for a running build, then re-check.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-$K8S_VERSION.lock"
if ! flock -n 9; then
  echo "cluster binaries: another build is running; waiting for it (lock $CACHE_ROOT/.build-$K8S_VERSION.lock)"
  flock 9
fi
if complete; then
  echo "cluster binaries: cached in $OUT"
  exit 0
fi

command -v go >/dev/null || { echo "cluster binaries: FAILED: no Go toolchain on PATH (needed to build Kubernetes $K8S_VERSION)" >&2; exit 1; }
free_gb=$(df -Pk "$CACHE_ROOT" 2>/dev/null | awk 'NR==2{print int($4/1048576)}' || echo 0)
mkdir -p "$CACHE_ROOT"
free_gb=$(df -Pk "$CACHE_ROOT" | awk 'NR==2{print int($4/1048576)}')
if (( free_gb < 8 )); then
  echo "cluster binaries: FAILED: only ${free_gb} GiB free under $CACHE_ROOT; the build needs about 8 GiB" >&2
  exit 1
fi

echo "cluster binaries: building Kubernetes $K8S_VERSION and etcd with $(go version | awk '{print $3}') into $OUT (cold build: tens of minutes)"
start=$(date +%s)
tmp="$OUT.partial"
mkdir -p "$tmp"
ldflags="-s -w"
for v in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=35 -X $v.gitTreeState=clean -X $v.buildDate=1970-01-01T00:00:00Z"
done
cd "$HERE/build"
export GOFLAGS=-mod=readonly CGO_ENABLED=0
for b in "${BINARIES[@]}"; do
  [[ -x $OUT/$b ]] && continue
  t0=$(date +%s)
  if [[ $b == etcd ]]; then pkg=./etcd; else pkg=k8s.io/kubernetes/cmd/$b; fi
  go build -p 2 -trimpath -ldflags "$ldflags" -o "$tmp/$b" "$pkg"
  echo "cluster binaries: $b built in $(( $(date +%s) - t0 )) s"
done
for b in "${BINARIES[@]}"; do [[ -f $tmp/$b ]] || continue; mv -f "$tmp/$b" "$OUT/$b" 2>/dev/null || { mkdir -p "$OUT"; mv -f "$tmp/$b" "$OUT/$b"; }; done
rmdir "$tmp" 2>/dev/null || true
echo "cluster binaries: cold build took $(( $(date +%s) - start )) s"
