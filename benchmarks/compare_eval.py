"""Whether two eval.json files hold the same results, bit for bit, apart from timings.

    python examples/reach.py --out runs/before        # on the code before a change
    python examples/reach.py --out runs/after         # and after it (same seed, one thread)
    python -m benchmarks.compare_eval runs/before/eval.json runs/after/eval.json

A refactoring that claims to change no behaviour proves it this way: every score, every
per-episode record and the collapse diagnostics must be equal (NaN equal to NaN); wall-clock
times, act latencies, provenance and video paths may differ. Exit 0 when equal, 1 (listing
what differs) when not.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

TIMINGS = frozenset({"train_wall_s", "total_wall_s", "act_ms_median", "act_ms_p90", "provenance", "videos"})
"""Keys whose values depend on the machine and the moment, not on the code's results."""


def differences(a: Any, b: Any, path: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ (timing keys aside), as ``path: a != b`` lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key in TIMINGS:
                continue
            here = f"{path}.{key}" if path else key
            if key not in a or key not in b:
                out.append(f"{here}: only in {'the second' if key not in a else 'the first'}")
            else:
                out += differences(a[key], b[key], here)
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} entries != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return []
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} != {b!r}"]


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("first", type=Path)
    p.add_argument("second", type=Path)
    args = p.parse_args(argv)
    a, b = (json.loads(f.read_text()) for f in (args.first, args.second))
    found = differences(a, b)
    for line in found[:50]:
        print(line)
    records = len(a.get("records", []))
    print(f"{'the same' if not found else 'DIFFERENT'}: {len(found)} differences "
          f"({records} episode records compared; timings and provenance left out)")
    return 0 if not found else 1


if __name__ == "__main__":
    sys.exit(main())
