#!/usr/bin/env bash
# Builds the container image from an unpacked release (run from its top directory) when a
# container engine (docker or podman) is installed; says so and exits 0 when none is.
set -euo pipefail
cd "$(dirname "$0")/.."
engine="$(command -v docker || command -v podman || true)"
if [[ -z "$engine" ]]; then
  echo "no container engine (docker or podman) found; the Dockerfile is docker/Dockerfile" >&2
  exit 0
fi
version="$(cat VERSION)"
"$engine" build -f docker/Dockerfile -t "cairn:$version" .
echo "built cairn:$version"
