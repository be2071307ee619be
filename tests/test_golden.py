"""The golden master (tests/golden.py): every monthly measure of small seeded runs of the example
under every policy, of Devon and Bury as shipped and of their scenarios, is what tests/expected holds. A change that
means to alter results regenerates it (`.venv/bin/python tests/golden.py --regenerate`)."""

from __future__ import annotations

import golden
import pytest


@pytest.mark.parametrize("case", golden.CASES, ids=[case.id for case in golden.CASES])
def test_results_are_the_stored_ones(case):
    assert golden.path_of(case).exists(), "run tests/golden.py --regenerate"
    stored = golden.pd.read_csv(golden.path_of(case))
    fresh = golden.pd.read_csv(
        golden.pd.io.common.StringIO(golden.run_case(case).to_csv(index=False, float_format="%.12g"))
    )
    diff = stored.merge(fresh, on=["month", "metric"], how="outer", suffixes=("_stored", "_now"), indicator=True)
    changed = diff[
        (diff["_merge"] != "both")
        | ~((diff["value_stored"] == diff["value_now"]) | (diff["value_stored"].isna() & diff["value_now"].isna()))
    ]
    assert changed.empty, changed.head(10).to_string()
