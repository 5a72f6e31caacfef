#!/usr/bin/env bash
# Builds Helm from its Go module at a pinned version into a cache outside the repo:
#   ${METALLB_TS_CACHE:-~/.cache/metallb-ts}/helm-<version>/helm
# A warm cache returns at once; a cold build (module download + compile) takes a few minutes on two cores.
# Used by the chart tests (test/charts) and installed by scripts/setup.sh. No Helm release binaries are
# downloaded: the Go module proxy serves the source, and go.sum checking (sum.golang.org) pins its content.
# Usage: build-helm.sh          build if missing, print where it is
#        build-helm.sh --path   print the binary's path (built or not) so callers share this one pin
set -euo pipefail

HELM_VERSION=v3.22.0
CACHE_ROOT="${METALLB_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-ts}"
OUT="$CACHE_ROOT/helm-$HELM_VERSION"
BIN="$OUT/helm"

if [[ ${1:-} == --path ]]; then echo "$BIN"; exit 0; fi
if [[ -x $BIN ]]; then echo "helm: cached in $BIN"; exit 0; fi

# One build at a time per cache (setup and a test run may both ask): wait for a running build, then re-check.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-helm-$HELM_VERSION.lock"
if ! flock -n 9; then
  echo "helm: another build is running; waiting for it (lock $CACHE_ROOT/.build-helm-$HELM_VERSION.lock)"
  flock 9
fi
if [[ -x $BIN ]]; then echo "helm: cached in $BIN"; exit 0; fi

command -v go >/dev/null || { echo "helm: FAILED: no Go toolchain on PATH (needed to build Helm $HELM_VERSION)" >&2; exit 1; }
echo "helm: building $HELM_VERSION with $(go version | awk '{print $3}') into $OUT (cold: a few minutes)"
start=$(date +%s)
tmp="$OUT.partial"
rm -rf "$tmp" && mkdir -p "$tmp"
# `go install pkg@version` ignores any go.mod around it: the pin above is the whole build input.
# The -X flags are what Helm's Makefile sets, so `helm version` prints the full version instead of "v3.22".
ldflags="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -p 2 -trimpath -ldflags "$ldflags" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mkdir -p "$OUT"
mv -f "$tmp/helm" "$BIN"
rmdir "$tmp" 2>/dev/null || true
"$BIN" version --short
echo "helm: cold build took $(( $(date +%s) - start )) s"
