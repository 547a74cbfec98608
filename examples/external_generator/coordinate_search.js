// A coordinate-search external generator in Node.js: starts at the middle of every range,
// then moves from the best trial along one coordinate at a time with a shrinking step,
// keeping choices/fixed values of the best trial and respecting the linear constraints.
const fs = require("fs");
const path = require("path");
const dir = process.argv[2];
const input = JSON.parse(fs.readFileSync(path.join(dir, "input.json"), "utf8"));
const params = input.parameters;
const [points, results] = input.trials;
const [objective, sense] = Object.entries(input.objectives)[0];
const better = (a, b) => (sense === "min" ? a < b : a > b);

function satisfies(p) {
  return input.constraints.every((c) => {
    let expr = c;
    for (const [k, v] of Object.entries(p)) expr = expr.replace(new RegExp(`\\b${k}\\b`, "g"), `(${Number(v)})`);
    return Function(`"use strict"; return (${expr});`)();
  });
}

let base = {};
for (const [k, s] of Object.entries(params)) {
  if (s.parameter_type === "RANGE") base[k] = s.type === "INT" ? Math.round((s.range[0] + s.range[1]) / 2) : (s.range[0] + s.range[1]) / 2;
  else if (s.parameter_type === "CHOICE") base[k] = s.values[0];
  else base[k] = s.value;
}
let proposal = base;
if (points.length > 0) {
  let best = 0;
  for (let i = 1; i < points.length; i++) if (better(results[i][objective], results[best][objective])) best = i;
  const ranged = Object.keys(params).filter((k) => params[k].parameter_type === "RANGE");
  const n = points.length;
  const k = ranged[Math.floor(n / 2) % ranged.length];
  const s = params[k];
  const step = ((s.range[1] - s.range[0]) / 4) * Math.pow(0.85, Math.floor(n / (2 * ranged.length)));
  const dirn = n % 2 === 0 ? 1 : -1;
  proposal = { ...points[best] };
  let v = Math.min(s.range[1], Math.max(s.range[0], proposal[k] + dirn * step));
  if (s.type === "INT") v = Math.round(v);
  proposal[k] = v;
  if (!satisfies(proposal)) proposal = { ...points[best] };
}
if (!satisfies(proposal)) proposal[Object.keys(params)[0]] = params[Object.keys(params)[0]].range[0];
fs.writeFileSync(path.join(dir, "results.json"), JSON.stringify({ parameters: proposal }));
