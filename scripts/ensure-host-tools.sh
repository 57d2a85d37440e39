#!/usr/bin/env bash
# Debian packages Berth itself uses on the host when they are there (it runs without them, with less):
# bindfs — EFS access points own files to their PosixUser for containers that run as their own user.
set -euo pipefail
need=()
command -v bindfs >/dev/null 2>&1 || need+=(bindfs)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != "0" ]; then
  echo "berth: optional host packages missing: ${need[*]} (sudo apt-get install -y ${need[*]})" >&2
  exit 0
fi
echo "berth: installing host packages: ${need[*]}…" >&2
(apt-get install -y -qq "${need[@]}" >/dev/null 2>&1) || {
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
}
