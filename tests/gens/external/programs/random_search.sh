#!/bin/sh
# A random-search external generator in POSIX sh + awk: reads the RANGE/CHOICE/FIXED
# parameters, the seed and constraints of the form "A <= B" / "A >= B" (A, B: parameter
# names or numbers) from input.json and writes one random point that satisfies them.
dir="$1"
awk -v RS='\0' -v out="$dir/results.json" '
function num(s) { gsub(/[ "\[\]]/, "", s); return s + 0 }
{
  text = $0
  seed = 1
  if (match(text, /"seed": *-?[0-9]+/)) { s = substr(text, RSTART, RLENGTH); sub(/.*: */, "", s); seed = s + 0 }
  srand(seed)
  body = text
  n = 0
  while (match(body, /"[A-Za-z_][A-Za-z0-9_]*": *\{"parameter_type": *"[A-Z]+"[^}]*\}/)) {
    item = substr(body, RSTART, RLENGTH); body = substr(body, RSTART + RLENGTH)
    name = item; sub(/^"/, "", name); sub(/".*/, "", name)
    ptype = item; sub(/.*"parameter_type": *"/, "", ptype); sub(/".*/, "", ptype)
    vtype = item; sub(/.*"type": *"/, "", vtype); sub(/".*/, "", vtype)
    n++; names[n] = name; ptypes[name] = ptype; vtypes[name] = vtype
    if (ptype == "RANGE") { r = item; sub(/.*"range": *\[/, "", r); sub(/\].*/, "", r); split(r, b, ","); lo[name] = num(b[1]); hi[name] = num(b[2]) }
    if (ptype == "CHOICE") { v = item; sub(/.*"values": *\[/, "", v); sub(/\].*/, "", v); nch[name] = split(v, ch, ","); for (i = 1; i <= nch[name]; i++) { c = ch[i]; gsub(/^ +| +$/, "", c); choices[name, i] = c } }
    if (ptype == "FIXED") { v = item; sub(/.*"value": */, "", v); sub(/\}$/, "", v); fixed[name] = v }
  }
  nc = 0
  if (match(text, /"constraints": *\[[^\]]*\]/)) {
    cs = substr(text, RSTART, RLENGTH); sub(/.*\[/, "", cs); sub(/\].*/, "", cs)
    m = split(cs, parts, ",")
    for (i = 1; i <= m; i++) { c = parts[i]; gsub(/"/, "", c); gsub(/^ +| +$/, "", c); if (c != "") cons[++nc] = c }
  }
  for (tries = 0; tries < 10000; tries++) {
    for (i = 1; i <= n; i++) {
      k = names[i]
      if (ptypes[k] == "RANGE") { x = lo[k] + rand() * (hi[k] - lo[k]); if (vtypes[k] == "INT") x = int(x + 0.5); val[k] = x }
      else if (ptypes[k] == "CHOICE") { val[k] = choices[k, 1 + int(rand() * nch[k])] }
      else { val[k] = fixed[k] }
    }
    ok = 1
    for (j = 1; j <= nc; j++) {
      split(cons[j], t, " ")
      lhs = (t[1] in val) ? val[t[1]] : t[1]; rhs = (t[3] in val) ? val[t[3]] : t[3]
      if (t[2] == "<=" && !(lhs + 0 <= rhs + 0)) ok = 0
      if (t[2] == ">=" && !(lhs + 0 >= rhs + 0)) ok = 0
    }
    if (ok) break
  }
  printf "{\"parameters\": {" > out
  for (i = 1; i <= n; i++) {
    k = names[i]; v = val[k]
    if (vtypes[k] == "STRING" && v !~ /^"/) v = "\"" v "\""
    printf "%s\"%s\": %s", (i > 1 ? ", " : ""), k, v > out
  }
  printf "}}\n" > out
}' "$dir/input.json"
