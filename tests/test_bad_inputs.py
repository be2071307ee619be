"""Property tests of bad input (issue 11): hypothesis mutates the shipped configurations and damages
copies of the SEN2 release, and every example either runs cleanly or is refused cleanly.

- A configuration (configs/example.yaml or configs/devon.yaml with values, keys, names, structure or
  text changed): `sendsim validate` and `sendsim run --months 2` both exit 0 and the run's metrics
  hold no infinite value, or both exit 2 with one message naming the file and what was changed, no
  exception and no output folder.
- A SEN2 folder (the release cut down to three small authorities, or the small release of
  tests/test_sen2.py when ../shared is absent, with cells, rows, columns or files damaged):
  `sendsim init` exits 2 the same way, or drafts a configuration that validates and runs as above.

The mutations are those of tests/bad_inputs.py, whose corpus runs all of them. Profiles, chosen by
SENDSIM_HYPOTHESIS_PROFILE: `ci` (the default: 500 configurations and 100 folders, the same examples
every run), `thorough` (ten times as many, drawn afresh) and `smoke` (20 and 10, to try the tests).
"""

from __future__ import annotations

import copy
import os
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from bad_inputs import (
    AUTHORITIES,
    BAD_CELLS,
    BAD_DATES,
    BAD_NUMBERS,
    BAD_STRINGS,
    CONFIGS,
    MEASURES,
    REAL_SEN2,
    ROOT,
    Case,
    _read,
    _rows_of,
    field_names,
    leaves,
    mappings,
    run_case,
    sen2_damages,
    set_at,
    small_release,
    structure_mutations,
    text_mutations,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile("ci", deadline=None, derandomize=True, database=None, suppress_health_check=HEALTH)
settings.register_profile("thorough", deadline=None, suppress_health_check=HEALTH)
settings.register_profile("smoke", deadline=None, derandomize=True, database=None, suppress_health_check=HEALTH)
PROFILE = os.environ.get("SENDSIM_HYPOTHESIS_PROFILE", "ci")
CONFIG_EXAMPLES, SEN2_EXAMPLES = {"ci": (500, 100), "thorough": (5000, 1000), "smoke": (20, 10)}[PROFILE]

RAW = {stem: yaml.safe_load((ROOT / "configs" / f"{stem}.yaml").read_text(encoding="utf-8")) for stem in CONFIGS}
TEXT = {stem: (ROOT / "configs" / f"{stem}.yaml").read_text(encoding="utf-8") for stem in CONFIGS}
LEAVES = {stem: [path for path, _ in leaves(raw)] for stem, raw in RAW.items()}
MAPPINGS = {stem: [path for path, _ in mappings(raw)] for stem, raw in RAW.items()}
# only those that need no file of their own (6 MB files and the like are in the corpus)
TEXT_MUTATIONS = {stem: [m for m in text_mutations(text) if len(m[1]) < 2**20] for stem, text in TEXT.items()}
STRUCTURE = {stem: list(structure_mutations(raw)) for stem, raw in RAW.items()}

values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-3, max_value=400),
    st.text(max_size=12),
    st.booleans(),
    st.none(),
    st.lists(st.integers(-5, 5), max_size=3),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(BAD_NUMBERS + BAD_STRINGS + BAD_DATES),
)


@st.composite
def mutated_configs(draw) -> tuple[str, str, bytes, tuple[str, ...]]:
    """(configuration, what was done, the file's bytes, what a refusal may name)."""
    stem = draw(st.sampled_from(("example",) * 4 + ("devon",)))  # the small one mostly: cheaper to run
    kind = draw(st.sampled_from(("value", "value", "value", "value", "key", "delete", "structure", "text")))
    if kind == "text":
        label, data, expect = draw(st.sampled_from(TEXT_MUTATIONS[stem]))
        return stem, label, data, expect
    if kind == "structure":
        label, raw, expect = draw(st.sampled_from(STRUCTURE[stem]))
        return stem, label, yaml.safe_dump(raw, sort_keys=False, allow_unicode=True).encode(), expect
    raw = copy.deepcopy(RAW[stem])
    labels, expect = [], []
    if kind == "value":  # one to three values at once
        for path in draw(st.lists(st.sampled_from(LEAVES[stem]), min_size=1, max_size=3, unique=True)):
            value = draw(values)
            set_at(raw, path, value)
            labels.append(f"{'.'.join(map(str, path))}={value!r:.40}")
            expect += field_names(path)
    else:
        path = draw(st.sampled_from(MAPPINGS[stem]))
        target = raw
        for key in path:
            target = target[key]
        if kind == "key":
            key = draw(st.text(min_size=1, max_size=12))
            target[key] = draw(values)
            labels.append(f"{'.'.join(map(str, path))}: key {key!r}")
            expect += [key, *field_names(path)]
        elif target:
            key = draw(st.sampled_from(sorted(target, key=str)))
            del target[key]
            labels.append(f"{'.'.join(map(str, path))}: without {key}")
            expect += [str(key), *field_names(path)]
    return stem, "; ".join(labels), yaml.safe_dump(raw, sort_keys=False, allow_unicode=True).encode(), tuple(expect)


@pytest.mark.slow
@settings(settings.get_profile(PROFILE), max_examples=CONFIG_EXAMPLES)
@given(mutated_configs())
def test_a_mutated_configuration_runs_or_is_refused_cleanly(mutation):
    stem, label, data, expect = mutation
    folder = Path(tempfile.mkdtemp(prefix="mutated-"))
    try:
        path = folder / f"{stem}.yaml"
        path.write_bytes(data)
        case, outcome, detail = run_case(Case("config", f"{stem}: {label}", str(path), expect))
        assert outcome in ("refused", "ran"), f"{case.label}: {outcome}: {detail}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- SEN2 ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> tuple[Path, tuple[str, ...], tuple[int, ...]]:
    """The release cut down to three small authorities, or the small one of tests/test_sen2.py."""
    folder = tmp_path_factory.mktemp("release")
    if (REAL_SEN2 / "requests.csv").exists():
        return small_release(REAL_SEN2, folder / "sen2"), AUTHORITIES, (2021, 2022)
    from test_sen2 import write_sen2

    return write_sen2(folder / "sen2"), ("Devon", "Torbay"), (2020, 2021)


cells = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**15), max_value=10**15).map(str),
    st.text(max_size=8),
    st.sampled_from(BAD_CELLS + ("x", "c", "z", "low", "", "1,010", '"1,010"')),
)


@st.composite
def damages(draw, authorities: tuple[str, ...], years: tuple[int, ...]):
    """(authority, year, what was done, the damage, what a refusal may name)."""
    la, year = draw(st.sampled_from(authorities)), draw(st.sampled_from(years))
    if draw(st.booleans()):  # a damage of the corpus's catalogue
        label, damage, expect = draw(st.sampled_from(list(sen2_damages(Path(), la, year))))
        return la, year, label, damage, expect
    name = draw(st.sampled_from(sorted(MEASURES)))
    column = draw(st.sampled_from(MEASURES[name]))
    cell = draw(cells)

    def damage(folder: Path) -> None:
        frame = _read(folder / name)
        if column in frame:
            frame.loc[_rows_of(frame, la, year, name), column] = cell
        frame.to_csv(folder / name, index=False)

    return la, year, f"{name} {column} of {la} {year} = {cell!r}", damage, (column,)


@pytest.mark.slow
def test_a_damaged_release_is_refused_or_drafts_a_service_that_runs(release):
    base, authorities, years = release

    @settings(settings.get_profile(PROFILE), max_examples=SEN2_EXAMPLES)
    @given(damages(authorities, years))
    def check(damaged):
        la, year, label, damage, expect = damaged
        folder = Path(tempfile.mkdtemp(prefix="damaged-")) / "sen2"
        try:
            shutil.copytree(base, folder)
            damage(folder)
            case, outcome, detail = run_case(Case("sen2", label, str(folder), expect, la=la, year=year))
            assert outcome in ("refused", "ran"), f"{case.label}: {outcome}: {detail}"
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)

    check()
