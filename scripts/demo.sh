#!/usr/bin/env bash
# The demo `make run` executes: experiments/quickstart.json once the pipeline runs manifests; until then a tour
# of the engine on the default model (inspect, forward with captures, chat generation, steering).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/reptune
if [ -f experiments/quickstart.json ] && "$BIN" help run >/dev/null 2>&1; then
    exec "$BIN" run experiments/quickstart.json
fi
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
step "reptune inspect"
"$BIN" inspect
step "reptune forward --prompt 'The capital of France is' --top 5 --capture 14"
"$BIN" forward --prompt "The capital of France is" --top 5 --capture 14
step "reptune generate --chat experiments/chat-example.json"
"$BIN" generate --chat experiments/chat-example.json --max-tokens 40
step "steering: block 10 output plus m × a fixed random unit direction (the reference's steering case), m = 0, 30, 60"
python3 - > /tmp/reptune-demo-vector.json <<'PY'
import json
print(json.dumps(next(p for p in json.load(open("../shared/reference/smollm2-135m-q4_1/prompts.json"))["prompts"] if p["name"] == "steered")["steer"]["vector"]))
PY
for m in 0 30 60; do
    printf 'm = %-3s' "$m"
    "$BIN" generate --prompt "I think the most important thing in life is" --max-tokens 24 \
        --steer /tmp/reptune-demo-vector.json --layer 10 --mult "$m"
done
