#!/usr/bin/env bash
# One real lab node for `lab up --kubelet`: containerd, kubelet and kube-proxy in one mount namespace, run as
#   ip netns exec <prefix>nodeN bash src/lab/kubelet-node.sh NODE_DIR CGROUP_ROOT HOST_PID
# `ip netns exec` gives this script the node's network namespace and a mount namespace of its own (a slave of the
# host's) with a fresh /sys. Everything mounted here stays here and goes away with the last process, so the host
# keeps no mounts:
#   - /sys/fs/cgroup: `ip netns exec` leaves it empty; the host's hierarchies are mounted again as HOST_PID (the
#     lab process that starts us) sees them, and CGROUP_ROOT is created in each, since the kubelet wants it to exist;
#   - /var/lib: a tmpfs, so paths the kubelet and the CNI plugins do not let us choose (the device-plugin socket
#     under /var/lib/kubelet/device-plugins, host-local's /var/lib/cni) exist per node; NODE_DIR/kubelet is bound
#     on /var/lib/kubelet, the kubelet's --root-dir;
#   - /run: a tmpfs, for /run/containerd (containerd 1.6 puts shim sockets in /run/containerd/s whatever its state
#     dir), /run/netns (where the CRI pins Pod network namespaces) and iptables' /run/xtables.lock: neither the host
#     nor another node sees them, and no directory is made on the host;
#   - NODE_DIR/containerd: a tmpfs for containerd's root and state.
# Writes NODE_DIR/{containerd,kubelet,kube-proxy}.pid and logs in NODE_DIR/logs; stops with its children (SIGTERM).
# The lab (src/lab/kubelet-nodes.ts) writes the config files this reads and does the teardown of Pods and cgroups.
set -euo pipefail
dir=$1 cgroup_root=$2 host_pid=$3
bin=$(cat "$dir/bin-dir")
log() { printf '{"ts":"%s","component":"kubelet-node","msg":"%s"}\n' "$(date -u +%FT%TZ)" "$*"; }

# The same hierarchies as the host's (a v1 hierarchy mounted again with the same controllers is the same tree);
# a bind from another mount namespace would come without its submounts.
mount -t tmpfs -o mode=0755 cgroup /sys/fs/cgroup
while read -r _ _ _ _ mountpoint _ rest; do
  read -r fstype _ superopts <<<"${rest#*- }"
  case $fstype in
    cgroup) mkdir -p "$mountpoint"; mount -t cgroup -o "$(tr ',' '\n' <<<"$superopts" | grep -vxE 'rw|ro' | paste -sd,)" cgroup "$mountpoint" ;;
    cgroup2) mkdir -p "$mountpoint"; mount -t cgroup2 cgroup2 "$mountpoint" ;;
  esac
done < <(awk '$5 ~ "^/sys/fs/cgroup/"' "/proc/$host_pid/mountinfo")
for hierarchy in /sys/fs/cgroup/*/; do mkdir -p "$hierarchy${cgroup_root#/}"; done
mount -t tmpfs -o mode=0755 lab-var-lib /var/lib
mkdir -p /var/lib/kubelet /var/lib/cni
mount --bind "$dir/kubelet" /var/lib/kubelet
mount -t tmpfs -o mode=0755 lab-run /run
# containerd's root and state (the unpacked images: ~0.8 GB a node) in memory: imports are faster, and they vanish
# with this mount namespace instead of costing `lab down` a minute of deleting tens of thousands of files.
mount -t tmpfs -o mode=0700 lab-containerd "$dir/containerd"
mkdir -p /run/containerd /run/netns

children=()
stop() {
  log "stopping"
  for pid in "${children[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
  exit 0
}
trap stop TERM INT

containerd --config "$dir/containerd.toml" >"$dir/logs/containerd.log" 2>&1 &
echo $! >"$dir/containerd.pid"
children+=($!)
for _ in $(seq 1 100); do [[ -S $dir/containerd.sock ]] && break; sleep 0.1; done
[[ -S $dir/containerd.sock ]] || { log "containerd did not start; see $dir/logs/containerd.log"; stop; }
# The images come from archives (no registry); `ctr` is containerd's own client.
for archive in "$dir"/images/*.tar; do
  ctr --address "$dir/containerd.sock" -n k8s.io images import "$archive" >>"$dir/logs/images.log" 2>&1 \
    || { log "ctr images import $archive failed; see $dir/logs/images.log"; stop; }
done
log "containerd ready, images imported"
touch "$dir/images.ready"

"$bin/kubelet" --config="$dir/kubelet.yaml" --kubeconfig="$dir/kubeconfig" --root-dir=/var/lib/kubelet \
  --cert-dir="$dir/kubelet/pki" $(cat "$dir/kubelet.flags") >"$dir/logs/kubelet.log" 2>&1 &
echo $! >"$dir/kubelet.pid"
children+=($!)
"$bin/kube-proxy" --config="$dir/kube-proxy.yaml" $(cat "$dir/kube-proxy.flags") >"$dir/logs/kube-proxy.log" 2>&1 &
echo $! >"$dir/kube-proxy.pid"
children+=($!)
log "kubelet and kube-proxy started"
wait -n || true
log "a child exited; stopping the node"
stop
