"""England as its authorities are: every authority's own drafted and calibrated service.

    .venv/bin/python experiments/england_services.py [--sen2 ../shared/data/sen2] [--year 2022] [--jobs 2]

For each authority in the SEN2 files: `sendsim init --year 2022` (a January 2023 start from its
real January 2023 census, with its history 2019-2022), then `sendsim calibrate` on that history
(each year's capacity and fast-track share, the back-test's settings), written with the draft's
comments to configs/england/<authority>.yaml. configs/england.yaml names the folder, so
`sendsim run configs/england.yaml` is the sum of authorities that each fit their own history.
A finished authority is kept, so an interrupted build resumes; authorities that cannot be drafted
(no requests published) are listed in configs/england/README.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from sim.config import parse_config  # noqa: E402
from sim.data.calibrate import calibrate, calibrated_yaml  # noqa: E402
from sim.data.init_config import draft_config  # noqa: E402
from sim.data.sen2 import authorities, read_sen2  # noqa: E402


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")


def build(sen2_dir: str, la: str, year: int, folder: str, reps: int) -> tuple[str, str, float]:
    out = Path(folder) / f"{slug(la)}.yaml"
    if out.exists():
        return la, "kept", 0.0
    t0 = time.perf_counter()
    try:
        draft = draft_config(read_sen2(sen2_dir), la, year)
        config = parse_config(draft.raw, f"sendsim init --la {la!r} --year {year}")
        fitted = calibrate(config, reps=reps, jobs=1)
        text = calibrated_yaml(
            fitted, f"the SEN2 history {min(fitted.years)}-{max(fitted.years)} in the file", draft.text
        )
    except Exception as exc:  # recorded by name
        return la, f"failed: {type(exc).__name__}: {exc}".splitlines()[0], time.perf_counter() - t0
    tmp = out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(out)
    return la, "rejected" if fitted.rejected else "ok", time.perf_counter() - t0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sen2", default=str(ROOT.parent / "shared" / "data" / "sen2"))
    parser.add_argument("--year", type=int, default=2022)
    parser.add_argument("--reps", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--out", default=str(ROOT / "configs" / "england"))
    parser.add_argument("--la", nargs="+", default=None)
    args = parser.parse_args(argv)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    names = args.la or authorities(read_sen2(args.sen2))
    results = []
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(build, args.sen2, la, args.year, str(folder), args.reps) for la in names]
        for i, future in enumerate(as_completed(futures), 1):
            la, status, seconds = future.result()
            results.append((la, status))
            print(f"[{i}/{len(names)}] {la}: {status} ({seconds:.0f} s)", flush=True)
    failed = sorted((la, s) for la, s in results if s.startswith("failed"))
    built = len(list(folder.glob("*.yaml")))
    lines = [
        "# England's services",
        "",
        f"Made by `experiments/england_services.py`: each authority drafted by `sendsim init --year {args.year}` "
        f"and calibrated on its SEN2 history; {built} services.",
        "",
    ]
    lines += ["Not drafted:" if failed else "Every authority in the SEN2 files was drafted and calibrated."]
    lines += [f"- {la}: {s}" for la, s in failed]
    (folder / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
