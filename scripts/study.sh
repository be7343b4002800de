#!/usr/bin/env bash
# The complete SmolLM2 study (experiments/paper-honesty.json, most of a day on 2 cores) carried across machines in
# the committed pack results/smollm2-135m/store (every stored number and generation; artifacts over 16 MiB —
# activations, tuned weights — left out and recomputed only when a stage that still has to run reads them).
#   scripts/study.sh run [OPTS]  unpack the store into runs/paper-honesty if absent, then run what is not stored yet
#                                (OPTS go to reptune run, e.g. --only a,b; Ctrl-C or SIGINT: stops soon; perplexity
#                                keeps its running sums and a sweep block its answers so far)
#   scripts/study.sh pack        pack runs/paper-honesty back into results/smollm2-135m/store
#   scripts/study.sh report      render the committed store's run 9 (the whole manifest with the controls; cells are shared by key, so
#                                it shows every finished cell of any run) into results/smollm2-135m/paper-honesty
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/reptune
RESULTS=runs/paper-honesty
PACK=results/smollm2-135m/store
MANIFEST=experiments/paper-honesty.json

case "${1:-run}" in
    run)
        if [ ! -d "$RESULTS" ] && [ -d "$PACK" ]; then
            mkdir -p "$(dirname "$RESULTS")"
            cp -R "$PACK" "$RESULTS.tmp" && mv "$RESULTS.tmp" "$RESULTS"
            echo "study: unpacked $PACK into $RESULTS"
        fi
        shift || true
        "$BIN" run "$MANIFEST" --results "$RESULTS" "$@" ;;
    pack)
        "$BIN" pack "$RESULTS" --out "$PACK" ;;
    report)
        "$BIN" report "$PACK" --run 9 --out results/smollm2-135m/paper-honesty --format md,csv,html,svg ;;
    *)
        echo "usage: scripts/study.sh [run|pack|report]" >&2; exit 2 ;;
esac
