"""What a study reports as it goes (the progress callback of `sendsim optimise` and `goal-seek`),
and goal-seek's answer when the lever's bounds do not reach the target."""

from __future__ import annotations

from optimise_setup import TARGET, write_problem, write_service

from sim.optimise.study import goal_problem, optimise, seek, seek_sentence


def test_a_study_reports_its_search_then_its_re_runs_without_writing_a_folder(tmp_path):
    """Each trial of the search is reported with the best plan so far (or that none has met the target);
    then each re-run of the candidates, counted against candidates x re-runs. Without `out`, nothing is written."""
    path = write_problem(tmp_path, trials=3, reps=1, check_reps=2)
    write_service(tmp_path, months=3)  # a quarter's runs are enough to count
    before = set(tmp_path.iterdir())
    calls: list[tuple[str, int, int, str]] = []
    study = optimise(path, workers=0, progress=lambda *call: calls.append(call))
    phases = [c[0] for c in calls]
    assert phases[0] == "search" and set(phases) <= {"search", "check"}
    assert phases == sorted(phases, key=["search", "check"].index)  # every trial before any re-run
    search = [c for c in calls if c[0] == "search"]
    assert [c[1] for c in search] == [0, 1, 2, 3] and {c[2] for c in search} == {3}
    for _, _, _, note in search:
        assert note == "no plan has met the target yet" or note.startswith("best so far: caseworkers ")
    check = [c for c in calls if c[0] == "check"]
    assert check, "the candidates were re-run"
    assert [c[1] for c in check] == list(range(1, len(check) + 1)) and all(c[1] <= c[2] == 3 * 2 for c in check)
    assert study.config_copy is None and set(tmp_path.iterdir()) == before


def test_goal_seek_says_when_the_levers_top_falls_short(tmp_path):
    """With two or three caseworkers the queue grows without end (3.5 requests a day, each a day's
    work): no value in the bounds meets the target, and the answer says so at the lever's top."""
    service = write_service(tmp_path, months=3)
    problem = goal_problem(service, "staff.solo.count=2..3", [TARGET], 0.8, replications=2)
    points: list[str] = []
    result = seek(problem, workers=0, progress=lambda phase, done, total, note: points.append(note))
    assert not result.answer.reached and result.scenario is None and result.config_copy is None
    text = seek_sentence(problem, result.answer)
    assert text.startswith(
        "Not reached within the bounds: at staff_solo_count 3, the most the lever allows, 0 of 2 runs"
    )
    assert "(0%; 0.8 asked)" in text
    assert points and all(note.startswith("staff_solo_count ") and note.endswith("%") for note in points)


def test_goal_seek_answers_the_levers_bottom_when_it_already_meets_the_target(tmp_path):
    """Six caseworkers or more meet the target with room to spare (Erlang C: 94% within 3 days at
    six): the smallest value shown is the lever's lowest, with nothing below it in the interval."""
    from optimise_setup import erlang_c_within

    assert erlang_c_within(6, 3.5, 1.0, 3.0) > 0.94
    service = write_service(tmp_path, months=3)
    problem = goal_problem(service, "staff.solo.count=6..9", [TARGET], 0.8, replications=3)
    result = seek(problem, workers=0)
    lever = problem.levers["staff_solo_count"]
    assert result.answer.reached and lever.value(result.answer.step) == 6
    assert result.answer.interval is not None and result.answer.interval[0] == 0
    assert seek_sentence(problem, result.answer).startswith(
        "The smallest staff_solo_count that meets the target with probability 0.8: 6 (3 of 3 runs"
    )
