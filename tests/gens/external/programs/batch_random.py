"""A Python external generator that proposes several random points per call (a list)."""

import json
import random
import sys
from pathlib import Path

d = Path(sys.argv[1])
inp = json.loads((d / "input.json").read_text())
rng = random.Random(inp["seed"])
points = []
while len(points) < 3:
    p = {}
    for name, s in inp["parameters"].items():
        if s["parameter_type"] == "RANGE":
            lo, hi = s["range"]
            p[name] = rng.randint(lo, hi) if s["type"] == "INT" else rng.uniform(lo, hi)
        elif s["parameter_type"] == "CHOICE":
            p[name] = str(rng.choice(s["values"]))  # strings on purpose: libens converts
        else:
            p[name] = s["value"]
    if p["y"] <= p["x"]:
        points.append(p)
(d / "results.json").write_text(json.dumps({"parameters": points}))
