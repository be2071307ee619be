"""The authorities table of configs/england_benchmark.yaml, from DfE's SEN2 files.

    .venv/bin/python experiments/england_authorities.py [--sen2 ../shared/data/sen2] [--year 2022]

One row per local authority with requests received in calendar year Y (requests.csv) and plans
in force at the January census after it (caseload.csv, January Y+1). Authorities without both
figures (those merged away before Y) are left out and listed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from sim.data import sen2  # noqa: E402


def table(folder: str | Path, year: int) -> tuple[pd.DataFrame, list[str]]:
    data = sen2.read_sen2(folder)
    rows, left_out = [], []
    for name in sen2.authorities(data):
        h = sen2.history(data, name)
        requests = h["requests"].get(year)
        plans = h["plans_in_force_january"].get(year + 1)
        if pd.isna(requests) or pd.isna(plans):
            left_out.append(name)
            continue
        rows.append({"authority": name, "requests_per_year": int(requests), "plans_in_force": int(plans)})
    return pd.DataFrame(rows), left_out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sen2", default=str(HERE.parent.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--out", default=str(HERE.parent / "configs" / "england_authorities.csv"))
    args = parser.parse_args()
    frame, left_out = table(args.sen2, args.year)
    frame.to_csv(args.out, index=False)
    print(
        f"{len(frame)} authorities: {frame['requests_per_year'].sum():,} requests in {args.year}, "
        f"{frame['plans_in_force'].sum():,} plans in force in January {args.year + 1} -> {args.out}"
    )
    if left_out:
        print(f"left out (no {args.year} requests or January {args.year + 1} census): {', '.join(left_out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
