#!/usr/bin/env bash
# Vendors the official Kubernetes OpenAPI v2 document and gnostic's OpenAPIv2.proto (the wire
# format kubectl asks /openapi/v2 for) from Debian's archive. Nothing here is written by hand:
# - swagger.json: Kubernetes v1.27.0's published OpenAPI v2 document, shipped as test data by
#   kube-openapi (Debian package golang-k8s-kube-openapi-dev, pkg/schemaconv/testdata/swagger.json);
# - OpenAPIv2.proto: github.com/google/gnostic-models (Debian package golang-github-google-gnostic-models-dev).
# Run from the project root; commits the results under src/kube/openapi/.
set -euo pipefail
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
OPENAPI_DEB=pool/main/g/golang-k8s-kube-openapi/golang-k8s-kube-openapi-dev_0.0~git20260721.d427ff9-1_all.deb
out=src/kube/openapi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
curl -fsSL "$MIRROR/$OPENAPI_DEB" -o "$tmp/openapi.deb"
dpkg -x "$tmp/openapi.deb" "$tmp/openapi"
gzip -9n < "$tmp/openapi/usr/share/gocode/src/k8s.io/kube-openapi/pkg/schemaconv/testdata/swagger.json" > "$out/swagger.json.gz"
# gnostic-models: find its current file name in the archive's index.
curl -fsSL "$MIRROR/dists/sid/main/binary-all/Packages.xz" -o "$tmp/Packages.xz"
gnostic=$(xz -dc "$tmp/Packages.xz" |
  awk '/^Package: golang-github-google-gnostic-models-dev$/{p=1} p&&/^Filename:/{print $2; exit}' || true)
curl -fsSL "$MIRROR/$gnostic" -o "$tmp/gnostic.deb"
dpkg -x "$tmp/gnostic.deb" "$tmp/gnostic"
cp "$tmp/gnostic/usr/share/gocode/src/github.com/google/gnostic-models/openapiv2/OpenAPIv2.proto" "$out/OpenAPIv2.proto"
printf 'swagger.json.gz  from %s (pkg/schemaconv/testdata/swagger.json, Kubernetes v1.27.0)\nOpenAPIv2.proto  from %s\n' \
  "$(basename "$OPENAPI_DEB")" "$(basename "$gnostic")" > "$out/SOURCES"
echo "vendored into $out:"; cat "$out/SOURCES"
