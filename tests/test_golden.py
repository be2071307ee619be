"""The golden master (tests/golden.py): every monthly measure of small seeded runs of the example
under every policy, and of Devon and Bury as shipped, is what tests/expected holds. A change that
means to alter results regenerates it (`.venv/bin/python tests/golden.py --regenerate`)."""

from __future__ import annotations

import golden
import pytest


@pytest.mark.parametrize("name, policy", golden.CASES, ids=[f"{n}-{p or 'as-shipped'}" for n, p in golden.CASES])
def test_results_are_the_stored_ones(name, policy):
    assert golden.path_of(name, policy).exists(), "run tests/golden.py --regenerate"
    stored = golden.pd.read_csv(golden.path_of(name, policy))
    fresh = golden.pd.read_csv(
        golden.pd.io.common.StringIO(golden.run_case(name, policy).to_csv(index=False, float_format="%.12g"))
    )
    diff = stored.merge(fresh, on=["month", "metric"], how="outer", suffixes=("_stored", "_now"), indicator=True)
    changed = diff[
        (diff["_merge"] != "both")
        | ~((diff["value_stored"] == diff["value_now"]) | (diff["value_stored"].isna() & diff["value_now"].isna()))
    ]
    assert changed.empty, changed.head(10).to_string()
