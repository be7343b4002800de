#!/usr/bin/env bash
# The demo `make run` executes: experiments/quickstart.json once it exists, until then the engine demo.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/reptune
if [ -f experiments/quickstart.json ] && "$BIN" help run >/dev/null 2>&1; then
    exec "$BIN" run experiments/quickstart.json
fi
MODEL=models/SmolLM2-135M-Instruct.Q4_1.gguf
echo "== reptune inspect"; "$BIN" inspect "$MODEL"
echo; echo "== reptune generate"
"$BIN" generate "$MODEL" --chat experiments/chat-example.json --max-tokens 40
