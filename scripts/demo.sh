#!/usr/bin/env bash
# What `make run` executes: experiments/quickstart.json (activations → vectors → sweep → tuning → evaluations →
# perplexity → report, a few minutes on 2 cores), then the headline tables and where the report is.
# Running it again reuses every cached stage; Ctrl-C stops after the cells in flight (`reptune resume` finishes).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/reptune
RESULTS=runs/quickstart
"$BIN" run experiments/quickstart.json --results "$RESULTS"
echo
awk '/^## Steering sweeps/ { exit } /^\|/ { print }' "$RESULTS/report/report.md" | cut -d'|' -f2-9 | sed 's/^/  /'
echo
echo "report: $RESULTS/report/index.html (tables and SVG plots; report.md and CSVs beside it)"
echo "ask the cache: $BIN query $RESULTS \"select stage_id, name, value from v_metrics where name = 'honest_pct'\""
