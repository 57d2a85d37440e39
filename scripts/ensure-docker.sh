#!/usr/bin/env bash
# Makes sure Docker Engine answers on this machine. As root it installs Debian's docker.io and
# starts dockerd when they are missing; otherwise it says what to do and fails.
set -euo pipefail

docker_ok() { docker info >/dev/null 2>&1; }
docker_ok && exit 0

if [ "$(id -u)" != "0" ]; then
  cat >&2 <<'MSG'
berth: Docker Engine is not running or not reachable by this user.
  Install it:  sudo apt-get install -y docker.io
  Start it:    sudo systemctl start docker   (or: sudo dockerd &)
  Allow you:   sudo usermod -aG docker "$USER"  (then log in again)
MSG
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
  echo "berth: installing Docker Engine (Debian package docker.io)…" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
fi

if [ -d /run/systemd/system ] && systemctl start docker 2>/dev/null; then
  :
else
  echo "berth: starting dockerd in the background (log: /var/log/berth-dockerd.log)…" >&2
  nohup dockerd >/var/log/berth-dockerd.log 2>&1 &
fi

for _ in $(seq 1 60); do
  docker_ok && exit 0
  sleep 1
done
echo "berth: dockerd did not come up within 60 s; see /var/log/berth-dockerd.log" >&2
exit 1
