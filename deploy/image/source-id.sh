#!/usr/bin/env bash
# Prints a short id of exactly what the image is built from (the files .dockerignore lets into
# the build context, as they are in the work tree: committed, changed or new, by content). build-local.sh
# labels the image with it (io.netpulse.source-id); test/image.test.ts runs only on an image whose
# label matches the checkout, so an image built from other code is never taken for this one.
# Prints "unknown" outside a git checkout.
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.."
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || { echo unknown; exit 0; }
paths=(
  package.json package-lock.json tsconfig.base.json tsconfig.json bin/netpulse schemas bpf
  deploy/image/Dockerfile .dockerignore
  ':(glob)packages/*/package.json' ':(glob)packages/*/tsconfig.json' ':(glob)packages/*/src/**'
  ':(glob)services/*/package.json' ':(glob)services/*/tsconfig.json' ':(glob)services/*/src/**'
)
# the content of each such file in the work tree, by path: committing a file does not change it
git ls-files -z --cached --others --exclude-standard -- "${paths[@]}" | sort -zu |
  { xargs -0 -r sha256sum 2>/dev/null || true; } | sha256sum | cut -c1-16
