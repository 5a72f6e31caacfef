#!/usr/bin/env bash
# Sets up a fresh Debian machine (root) for metallb-ts: system packages, npm dependencies (with
# cap's native libpcap binding, asserted), the test cluster's binaries including kube-scheduler, kubelet and
# kube-proxy, Helm and promtool (built from Go modules and cached outside the repo), the TypeScript build, and the
# images real lab nodes run (the project's image, pause and the demo backend; scripts/build-lab-images.sh).
# Safe to run again: every step is idempotent, and cached steps take seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(
  libpcap-dev build-essential python3   # cap's node-gyp build
  openssl                               # test-cluster certificates
  iproute2 iputils-ping arping ndisc6 tcpdump curl   # lab hosts and witnesses
  nftables                              # the split-brain e2e (gossip blocked in a node namespace)
  keepalived                            # the failover bench's VRRPv3 reference row
  bird2 frr gobgpd                      # BGP peers
  podman buildah debootstrap runc uidmap # the container image (scripts/build-image.sh)
  containerd iptables conntrack busybox-static file   # real lab nodes (lab up --kubelet): runtime, kube-proxy, demo image
)

step() { printf '\n== %s\n' "$*"; }

step "system packages"
missing=()
for p in "${APT_PACKAGES[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  [[ $(id -u) == 0 ]] || { echo "setup: FAILED: need root to apt-get install ${missing[*]}" >&2; exit 1; }
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "installed: ${missing[*]}"
else
  echo "all present"
fi

step "npm dependencies"
command -v node >/dev/null || { echo "setup: FAILED: node is not on PATH (Node 20 or newer is needed)" >&2; exit 1; }
npm ci --no-audit --no-fund
# A stricter npm may skip install scripts silently; cap without its native module is useless.
if [[ ! -f node_modules/cap/build/Release/cap.node ]]; then
  echo "cap's native module was not built by npm ci; building it explicitly"
  npm rebuild cap --foreground-scripts
fi
[[ -f node_modules/cap/build/Release/cap.node ]] || { echo "setup: FAILED: cap's native module (libpcap binding) did not build" >&2; exit 1; }
node -e "import('cap').then(() => console.log('cap loads'))"
# koffi's binary comes prebuilt in the npm package @koromix/koffi-linux-x64 (an optional dependency npm ci
# installs); its install script only checks it and downloads nothing. BGP's TCP-MD5 dialer needs it.
node -e "import('koffi').then((k) => { k.default.load('libc.so.6'); console.log('koffi loads libc'); })" \
  || { echo "setup: FAILED: koffi (BGP TCP-MD5/source-address dialer) does not load" >&2; exit 1; }

step "test cluster binaries (and kube-scheduler, kubelet, kube-proxy for real lab nodes)"
bash test/cluster/build-binaries.sh --kubelet

step "helm (the chart tests)"
bash scripts/build-helm.sh

step "promtool (the PrometheusRule tests)"
bash scripts/build-promtool.sh

step "build"
npm run build --silent

step "images for real lab nodes (metallb-ts, pause, demo backend)"
bash scripts/build-lab-images.sh
echo "setup: done"
