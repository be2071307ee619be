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
from typing import NamedTuple

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "expected"
SEED = 3


class GoldenCase(NamedTuple):
    name: str  # configs/<name>.yaml ("example-fast-track": the example as `sendsim init` drafts)
    policy: str | None = None  # a prioritisation policy in place of the file's
    scenario: str | None = None  # one of the file's scenarios: its dated actions
    months: int = 18

    @property
    def id(self) -> str:
        return f"{self.name}-{self.scenario or self.policy or 'as-shipped'}"


# every policy on the example; Devon and Bury as shipped (calibrated, with the fast track and the
# capacity response), and Devon under triage; and each of their scenarios, long enough to reach
# its actions (cohorts, agency caps and conversion, merged teams)
CASES = [GoldenCase("example", p) for p in ("deadline", "oldest", "fifo", "triage")] + [
    GoldenCase("devon"),
    GoldenCase("devon", "triage"),
    GoldenCase("bury"),
    GoldenCase("example-fast-track"),
    GoldenCase("devon", scenario="fill_17_posts", months=30),
    GoldenCase("devon", scenario="convert_and_cap_agency", months=30),
    GoldenCase("devon", scenario="merge_teams", months=30),
    GoldenCase("bury", scenario="after_restructure", months=30),
]


def run_case(case: GoldenCase) -> pd.DataFrame:
    sys.path.insert(0, str(ROOT))
    import sim

    name = case.name
    overrides = {"policy.priority": case.policy} if case.policy else {}
    if name == "example-fast-track":
        from sim.data.init_config import CAPACITY_RESPONSE, FAST_TRACK_SHARE

        name = "example"
        overrides = {"policy.fast_track_share": FAST_TRACK_SHARE, "workforce.capacity_response": CAPACITY_RESPONSE}
    result = sim.run(
        ROOT / "configs" / f"{name}.yaml",
        seed=SEED,
        months=case.months,
        overrides=overrides,
        cases=False,
        scenario=case.scenario,
    )
    metrics = result.metrics.copy()
    metrics["month"] = metrics["month"].dt.strftime("%Y-%m")
    return metrics


def path_of(case: GoldenCase) -> Path:
    return EXPECTED / f"{case.id}.csv"


def main(argv: list[str]) -> int:
    if "--regenerate" in argv:
        EXPECTED.mkdir(parents=True, exist_ok=True)
        for case in CASES:
            run_case(case).to_csv(path_of(case), index=False, float_format="%.12g")
            print(f"wrote {path_of(case).relative_to(ROOT)}")
        return 0
    bad = [case.id for case in CASES if not same(case)]
    print("golden master: " + ("unchanged" if not bad else f"CHANGED: {', '.join(bad)}"))
    return 1 if bad else 0


def same(case: GoldenCase) -> bool:
    stored = pd.read_csv(path_of(case), keep_default_na=True)
    fresh = pd.read_csv(pd.io.common.StringIO(run_case(case).to_csv(index=False, float_format="%.12g")))
    return stored.equals(fresh)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
