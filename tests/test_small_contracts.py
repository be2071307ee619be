"""Small contracts that callers rely on: a random stream used once, an empty queue refused, a metric
that is not there named, a folder that is not sendsim's kept, a lever's unit and a measure's label."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from sim.engine.priority import FastTrackQueue, WorkQueue
from sim.engine.randomness import Streams
from sim.experiments.runner import atomic_folder


def test_a_random_stream_is_given_to_one_source_only():
    streams = Streams(42)
    first = streams.generator("demand")
    with pytest.raises(ValueError, match=r"random stream 'demand' is already in use; each source needs its own"):
        streams.generator("demand")
    # a stream's numbers depend on the seed and its name only, not on the order asked
    again = Streams(42)
    again.generator("reviews")
    assert again.generator("demand").random() == first.random()


@dataclass
class _Work:
    deadline: float
    origin: float
    seq: int
    fast: bool = False


def test_popping_an_empty_queue_is_an_index_error_and_work_comes_in_deadline_order():
    for queue in (WorkQueue("deadline"), FastTrackQueue("deadline", SimpleNamespace(fast_track_share=0.5))):
        with pytest.raises(IndexError):
            queue.pop(0.0)
        for seq, deadline in enumerate((30.0, 10.0, 20.0)):
            queue.push(_Work(deadline, 0.0, seq))
        assert [queue.pop(0.0).deadline for _ in range(3)] == [10.0, 20.0, 30.0]
        with pytest.raises(IndexError):
            queue.pop(0.0)
    with pytest.raises(IndexError, match="pop from an empty queue"):
        FastTrackQueue("fifo", SimpleNamespace(fast_track_share=0.2)).pop(0.0)


def test_a_metric_not_in_the_run_is_named(simulate):
    result = simulate("example", seed=3, months=12, cases=False)
    with pytest.raises(KeyError, match="no metric named 'plans_issud'"):
        result.series("plans_issud")


def test_a_failed_write_leaves_the_earlier_results_and_no_staging(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "provenance.json").write_text("{}", encoding="utf-8")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_folder(out) as staging:
            (staging / "half.parquet").write_text("x", encoding="utf-8")
            raise RuntimeError("disk full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert [p.name for p in out.iterdir()] == ["provenance.json"]
    # a folder holding other files is never replaced
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep", encoding="utf-8")
    with pytest.raises(FileExistsError, match="holds files that are not sendsim results"):
        with atomic_folder(tmp_path / "mine"):
            pass
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep"


def test_a_name_that_is_no_measure_is_shown_as_written():
    from sim.measures import label

    assert label("plans_issued") == "Plans issued"
    assert label("something_else.x") == "something_else.x"


def test_a_lever_without_a_known_ending_has_no_unit():
    from sim.levers import unit

    assert unit("assessment.decision_hours.cv") == "sd ÷ mean"
    assert unit("staff.0.fte") == "FTE"
    assert unit("policy.mysterious") == ""
