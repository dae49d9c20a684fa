"""The one output format of the benchmarks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    name: str
    measured: str
    target: str = ""
    ok: bool | None = None  # None: informative, no target


def print_table(rows: list[Row]) -> None:
    headers = ("benchmark", "measured", "target", "")
    cells = [(r.name, r.measured, r.target, {True: "ok", False: "MISSED", None: ""}[r.ok])
             for r in rows]  # fmt: skip
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    print(line)
    print("-" * len(line))
    for c in cells:
        print("  ".join(v.ljust(w) for v, w in zip(c, widths, strict=True)))
