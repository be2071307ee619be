"""The golden master: small seeded runs whose every monthly measure is stored, so that a change
meant to leave results alone (a refactor, a speed-up) is seen to leave them alone.

    .venv/bin/python tests/golden.py            check (as tests/test_golden.py does)
    .venv/bin/python tests/golden.py --regenerate

Regenerate only when a change is meant to alter results, and say so in the commit: the stored
tables (tests/expected/*.csv) are then the new behaviour.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"
MONTHS = 18
SEED = 3
# (configuration, policy): every policy on the example; Devon and Bury as shipped (calibrated,
# with the fast track and the capacity response), and Devon under triage
CASES = [("example", p) for p in ("deadline", "oldest", "fifo", "triage")] + [
    ("devon", None),
    ("devon", "triage"),
    ("bury", None),
    ("example-fast-track", None),
]


def run_case(name: str, policy: str | None) -> pd.DataFrame:
    sys.path.insert(0, str(ROOT))
    import sim

    overrides = {"policy.priority": policy} if policy else {}
    if name == "example-fast-track":  # the example with the behaviour `sendsim init` drafts
        from sim.data.init_config import CAPACITY_RESPONSE, FAST_TRACK_SHARE

        name = "example"
        overrides = {"policy.fast_track_share": FAST_TRACK_SHARE, "workforce.capacity_response": CAPACITY_RESPONSE}
    result = sim.run(ROOT / "configs" / f"{name}.yaml", seed=SEED, months=MONTHS, overrides=overrides, cases=False)
    metrics = result.metrics.copy()
    metrics["month"] = metrics["month"].dt.strftime("%Y-%m")
    return metrics


def path_of(name: str, policy: str | None) -> Path:
    return EXPECTED / f"{name}-{policy or 'as-shipped'}.csv"


def main(argv: list[str]) -> int:
    if "--regenerate" in argv:
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for name, policy in CASES:
            run_case(name, policy).to_csv(path_of(name, policy), index=False, float_format="%.12g")
            print(f"wrote {path_of(name, policy).relative_to(ROOT)}")
        return 0
    bad = [f"{n}/{p}" for n, p in CASES if not same(n, p)]
    print("golden master: " + ("unchanged" if not bad else f"CHANGED: {', '.join(bad)}"))
    return 1 if bad else 0


def same(name: str, policy: str | None) -> bool:
    stored = pd.read_csv(path_of(name, policy), keep_default_na=True)
    fresh = pd.read_csv(pd.io.common.StringIO(run_case(name, policy).to_csv(index=False, float_format="%.12g")))
    return stored.equals(fresh)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
