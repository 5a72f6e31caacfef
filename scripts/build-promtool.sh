#!/usr/bin/env bash
# Builds promtool (Prometheus's rule checker and rule unit-test runner) from its Go module at a pinned version
# into a cache beside the cluster binaries:
#   ${METALLB_TS_CACHE:-~/.cache/metallb-ts}/promtool-<version>/promtool
# A warm cache returns at once; a cold build (module download + compile) takes minutes on two cores (measured in
# docs/monitoring.md). Used by test/manifests/prometheus-rules.test.ts and installed by scripts/setup.sh. No
# Prometheus release binaries are downloaded: the Go module proxy serves the source and go.sum checking pins it.
# Prometheus 3.x tags its Go module v0.3xx.y (v0.316.0 is Prometheus 3.16.0).
# Built with the tag remove_all_sd (Prometheus >= 3.10): it drops every optional service-discovery provider (the
# AWS EC2, Azure, GCE, Hetzner, Consul ... SDKs, about 250 of the 1,364 packages and most of the heaviest ones);
# `check rules` and `test rules` use none of them. Kubernetes SD stays, promtool's `check config` imports it.
# Usage: build-promtool.sh          build if missing, print where it is
#        build-promtool.sh --path   print the binary's path (built or not) so callers share this one pin
set -euo pipefail

PROMTOOL_VERSION=v0.316.0
PROMETHEUS_VERSION=3.16.0   # the release that module version is; `promtool --version` prints it
PROMTOOL_TAGS=remove_all_sd
CACHE_ROOT="${METALLB_TS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-ts}"
OUT="$CACHE_ROOT/promtool-$PROMTOOL_VERSION"
BIN="$OUT/promtool"

if [[ ${1:-} == --path ]]; then echo "$BIN"; exit 0; fi
if [[ -x $BIN ]]; then echo "promtool: cached in $BIN"; exit 0; fi

# One build at a time per cache (setup and a test run may both ask): wait for a running build, then re-check.
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build-promtool-$PROMTOOL_VERSION.lock"
if ! flock -n 9; then
  echo "promtool: another build is running; waiting for it (lock $CACHE_ROOT/.build-promtool-$PROMTOOL_VERSION.lock)"
  flock 9
fi
if [[ -x $BIN ]]; then echo "promtool: cached in $BIN"; exit 0; fi

command -v go >/dev/null || { echo "promtool: FAILED: no Go toolchain on PATH (needed to build promtool $PROMTOOL_VERSION)" >&2; exit 1; }
echo "promtool: building $PROMTOOL_VERSION (tags $PROMTOOL_TAGS) with $(go version | awk '{print $3}') into $OUT (cold: minutes)"
start=$(date +%s)
tmp="$OUT.partial"
rm -rf "$tmp" && mkdir -p "$tmp"
# `go install pkg@version` ignores any go.mod around it: the pin above is the whole build input.
# The -X flag is what Prometheus's .promu.yml sets, so `promtool --version` names the release.
ldflags="-s -w -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
GOBIN="$tmp" CGO_ENABLED=0 GOFLAGS=-buildvcs=false go install -p 2 -trimpath -tags "$PROMTOOL_TAGS" -ldflags "$ldflags" "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_VERSION"
mkdir -p "$OUT"
mv -f "$tmp/promtool" "$BIN"
rmdir "$tmp" 2>/dev/null || true
"$BIN" --version | head -1
echo "promtool: built in $(( $(date +%s) - start )) s"
