#!/usr/bin/env bash
# Debian packages the integration tests use as real clients and image material.
set -euo pipefail
need=()
[ -x /bin/busybox ] || need+=(busybox-static)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/bin/aws ] || need+=(awscli)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v skopeo >/dev/null 2>&1 || need+=(skopeo)
# The pull-through cache tests and the registry benchmark use CNCF distribution 2.8 as the upstream/peer.
[ -x /usr/bin/docker-registry ] || need+=(docker-registry)
# The ALB benchmark (npm run bench:alb) measures against HAProxy with wrk.
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
# kubectl: Debian's kubernetes-client (1.20) is what the EKS tests drive, unpacked beside any
# kubectl already installed (a newer one, e.g. Google's, would conflict with installing it).
KUBECTL_120=/opt/berth-tools/kubectl-1.20/usr/bin/kubectl
if [ ! -x "$KUBECTL_120" ] && [ "$(id -u)" = "0" ]; then
  echo "berth: unpacking Debian's kubectl 1.20 into /opt/berth-tools…" >&2
  tmp=$(mktemp -d)
  (cd "$tmp" && apt-get download kubernetes-client >/dev/null 2>&1 || { apt-get update -qq && apt-get download kubernetes-client >/dev/null; })
  mkdir -p /opt/berth-tools/kubectl-1.20
  dpkg -x "$tmp"/kubernetes-client_*.deb /opt/berth-tools/kubectl-1.20
  rm -rf "$tmp"
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "berth tests need these Debian packages: ${need[*]} (sudo apt-get install -y ${need[*]})" >&2
  exit 1
fi
echo "berth: installing test tools: ${need[*]}…" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
