"""Linear constraints over parameters, parsed without ``eval``: ``"x >= y"``,
``"2*x + y <= 10"``, ``"x - 3.5*z >= -1"``. Anything else is a clear error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from libens.errors import SpecError

_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+)|([A-Za-z_]\w*)|(<=|>=|==|[-+*]))")


@dataclass(frozen=True)
class LinearConstraint:
    """``sum(coef[name] * value[name]) + const  OP  0`` with OP one of <=, >=, ==."""

    text: str
    coef: dict[str, float]
    const: float
    op: str

    def holds(self, values: dict[str, float], tol: float = 1e-9) -> bool:
        s = self.const + sum(c * float(values[n]) for n, c in self.coef.items())
        if self.op == "<=":
            return s <= tol
        if self.op == ">=":
            return s >= -tol
        return abs(s) <= tol


def _side(tokens: list[tuple[str, str]], text: str) -> tuple[dict[str, float], float]:
    coef: dict[str, float] = {}
    const = 0.0
    i, sign = 0, 1.0
    expect_term = True
    while i < len(tokens):
        kind, tok = tokens[i]
        if kind == "op" and tok in "+-" and expect_term:
            sign *= -1.0 if tok == "-" else 1.0
            i += 1
            continue
        if not expect_term:
            if kind == "op" and tok in "+-":
                expect_term, sign = True, -1.0 if tok == "-" else 1.0
                i += 1
                continue
            raise SpecError(f"constraint {text!r}: expected + or - before {tok!r}")
        factor, name = sign, None
        while True:  # a product of numbers and at most one parameter
            kind, tok = tokens[i]
            if kind == "num":
                factor *= float(tok)
            elif kind == "name":
                if name is not None:
                    raise SpecError(
                        f"constraint {text!r}: {name}*{tok} is not linear; only "
                        "sums of number*parameter are supported"
                    )
                name = tok
            else:
                raise SpecError(f"constraint {text!r}: unexpected {tok!r}")
            i += 1
            if i < len(tokens) and tokens[i] == ("op", "*"):
                i += 1
                if i >= len(tokens):
                    raise SpecError(f"constraint {text!r}: ends with '*'")
                continue
            break
        if name is None:
            const += factor
        else:
            coef[name] = coef.get(name, 0.0) + factor
        expect_term, sign = False, 1.0
    if expect_term:
        raise SpecError(f"constraint {text!r}: a side is empty or ends with an operator")
    return coef, const


def parse_constraint(text: str, names: set[str] | None = None) -> LinearConstraint:
    """Parse ``LHS OP RHS`` (OP: <=, >=, ==) into a LinearConstraint."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        m = _TOKEN.match(stripped, pos)
        if not m or m.end() == pos:
            raise SpecError(
                f"constraint {text!r}: cannot read {stripped[pos:]!r}; use numbers, "
                "parameter names, + - * and one of <= >= =="
            )
        num, name, op = m.groups()
        tokens.append(("num", num) if num else ("name", name) if name else ("op", op))
        pos = m.end()
    ops = [i for i, t in enumerate(tokens) if t[0] == "op" and t[1] in ("<=", ">=", "==")]
    if len(ops) != 1:
        raise SpecError(f"constraint {text!r}: needs exactly one of <=, >=, ==")
    k = ops[0]
    lc, lk = _side(tokens[:k], text)
    rc, rk = _side(tokens[k + 1 :], text)
    coef = dict(lc)
    for n, c in rc.items():
        coef[n] = coef.get(n, 0.0) - c
    if names is not None:
        unknown = set(coef) - names
        if unknown:
            raise SpecError(
                f"constraint {text!r}: unknown parameter(s) {sorted(unknown)}; "
                f"known: {sorted(names)}"
            )
    return LinearConstraint(text, coef, lk - rk, tokens[k][1])
