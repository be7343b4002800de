#!/usr/bin/env bash
# Serves a dataset mirror on 127.0.0.1 as a stand-in for the datasets' sources, for `reptune datasets fetch`
# without the internet (or from a lab's own copy):
#   scripts/serve-dataset-sources.sh MIRROR [PORT]          (default port 8765; Ctrl-C stops it)
#   REPTUNE_DATA_SOURCE=http://127.0.0.1:PORT reptune datasets fetch ...
# Every descriptor file the mirror holds is laid out, in a temporary folder, at its source address without
# `https://` (`reptune datasets sources`: raw.githubusercontent.com/<owner>/<repo>/<commit>/<path>); files the
# mirror lacks are left out, so the server answers 404 for them. Needs the built reptune and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
mirror=$(cd "${1:?usage: scripts/serve-dataset-sources.sh MIRROR [PORT]}" && pwd)
port=${2:-8765}
layout=$(mktemp -d "${TMPDIR:-/tmp}/reptune-sources.XXXXXX")
trap 'rm -rf "$layout"' EXIT
env -u REPTUNE_DATA_SOURCE .build/release/reptune datasets sources | while IFS=$'\t' read -r url path; do
    if [ ! -f "$mirror/$path" ]; then echo "not served (not in $mirror): $path" >&2; continue; fi
    dest="$layout/${url#https://}"
    mkdir -p "$(dirname "$dest")"
    cp "$mirror/$path" "$dest"
done
echo "serving $mirror as the datasets' sources: REPTUNE_DATA_SOURCE=http://127.0.0.1:$port"
python3 -m http.server --bind 127.0.0.1 --directory "$layout" "$port"
