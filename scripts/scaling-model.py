#!/usr/bin/env python3
"""The model of docs/SCALING.md: the stored SmolLM2 study's measured stage times (results/smollm2-135m/store, read
with `reptune query`) and its DAG (experiments/paper-honesty.json), list-scheduled onto N one-worker nodes with the
executor overheads `reptune bench --executors` measures; the 13B column scales every cell's compute by the ratio of
parameters and adds a model load per unit.

    scripts/scaling-model.py [--start S] [--ingest S] [--load S] [--load-13b S] [--nodes 1,8,64]
"""
import argparse, csv, heapq, io, json, subprocess, sys
from pathlib import Path

root = Path(__file__).resolve().parent.parent
ap = argparse.ArgumentParser()
ap.add_argument("--start", type=float, default=1.9, help="seconds from submission to a worker running (measured: slurm)")
ap.add_argument("--ingest", type=float, default=0.004, help="coordinator seconds to ingest one bundle (measured)")
ap.add_argument("--load", type=float, default=1.0, help="SmolLM2 model load per extra unit, seconds")
ap.add_argument("--load-13b", type=float, default=16.0, help="13B Q4_K model load per unit, seconds (7.9 GB at 500 MB/s)")
ap.add_argument("--scale-13b", type=float, default=13.0e9 / 134.5e6, help="compute per cell, 13B ÷ SmolLM2 (parameter ratio)")
ap.add_argument("--nodes", default="1,8,64")
a = ap.parse_args()

out = subprocess.run([str(root / ".build/release/reptune"), "query", str(root / "results/smollm2-135m/store"),
                      "select stage_id, kind, cells_total, seconds from v_stages", "--format", "csv"],
                     check=True, capture_output=True, text=True).stdout
stages = {r["stage_id"]: (r["kind"], int(r["cells_total"]), float(r["seconds"] or 0)) for r in csv.DictReader(io.StringIO(out))}
manifest = json.loads((root / "experiments/paper-honesty.json").read_text())
deps = {}
for s in manifest["stages"]:
    inputs = []
    for v in (s.get("inputs") or {}).values():
        inputs += v if isinstance(v, list) else [v]
    deps[s["id"]] = [d for d in inputs if d in stages]

def makespan(nodes, scale, load):
    """Critical-path list scheduling: a stage's cells split into min(nodes, cells) units, each unit costing its share
    of the stage's measured time × scale, plus the start overhead and (beyond the first unit, whose load the measured
    time includes) a model load; one worker per node; ingest is serial on the coordinator."""
    units = {}
    for sid, (kind, cells, seconds) in stages.items():
        n = max(1, min(nodes, cells))
        units[sid] = [seconds * scale / n + a.start + load + a.ingest for _ in range(n)]
    done, finish, free = set(), {}, [0.0] * nodes
    heapq.heapify(free)
    pending = set(stages)
    while pending:
        ready = sorted((s for s in pending if all(d in done for d in deps.get(s, []))),
                       key=lambda s: -sum(units[s]))
        s = ready[0]
        at = max([finish[d] for d in deps.get(s, [])] + [0.0])
        ends = []
        for u in units[s]:
            t = heapq.heappop(free)
            end = max(t, at) + u
            heapq.heappush(free, end)
            ends.append(end)
        finish[s] = max(ends)
        done.add(s)
        pending.remove(s)
    return max(finish.values())

work = sum(v[2] for v in stages.values())
print(f"stored study: {len(stages)} stages, {sum(v[1] for v in stages.values())} cells, {work/3600:.2f} h of measured work")
print("| nodes | SmolLM2-135M | speed-up | Llama-2-13B (est.) | speed-up |")
print("|---:|---:|---:|---:|---:|")
base = None
for n in [int(x) for x in a.nodes.split(",")]:
    small = makespan(n, 1.0, a.load)
    big = makespan(n, a.scale_13b, a.load_13b)
    if base is None: base = (small, big)
    h = lambda s: f"{s/3600:.2f} h" if s >= 3600 else f"{s/60:.0f} min"
    print(f"| {n} | {h(small)} | {base[0]/small:.1f}× | {h(big)} | {base[1]/big:.1f}× |")
