"""Goal-seek: the smallest value of one lever that meets the target, with its interval.

The lever's values are its steps, low to high. Every value is run with the same replications
(common random numbers), and a value meets the target when its estimated P(target) is at least
the probability asked. Bisection between a value that fails and one that meets finds the
smallest that meets, taking P(target) to grow with the lever (more posts, a later merge: the
direction a person would try). Then the interval: the neighbouring values are run until one
below is shown to fail (its upper Wilson bound under the probability asked) and one at or above
is shown to meet (its lower bound at or over it); the smallest value that meets lies between
them with the interval's confidence, and the answer is the estimate inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sim.optimise.evaluate import Evaluator, summary
from sim.optimise.intervals import wilson
from sim.optimise.spec import Problem


@dataclass(frozen=True)
class Point:
    step: int
    runs: int
    met: int
    cost: float
    low: float
    high: float

    @property
    def probability(self) -> float:
        return self.met / self.runs


@dataclass
class Answer:
    lever: str
    points: dict[int, Point] = field(default_factory=dict)  # every value run, by step
    step: int | None = None  # the smallest value estimated to meet the target; None: none within the bounds
    interval: tuple[int, int] | None = None  # steps: the smallest value that meets lies in here
    top_shown_to_fail: bool = False  # unreached: even the top value's upper bound is under the probability
    upper_shown: bool = True  # the interval's top is shown to meet (False: it is only the lever's bound)

    @property
    def reached(self) -> bool:
        return self.step is not None


def bisect(problem: Problem, evaluator: Evaluator, progress: Callable[[Point], None] | None = None) -> Answer:
    """Bisection on the one lever of `problem` (the other levers, if any, at their low ends)."""
    if len(problem.levers) != 1:
        raise ValueError(f"goal-seek moves one lever; got {len(problem.levers)}")
    name, lever = next(iter(problem.levers.items()))
    need = problem.spec.target.probability
    reps = list(range(problem.spec.search.replications))
    confidence = problem.spec.selection.confidence
    answer = Answer(name)

    def at(step: int) -> Point:
        if step not in answer.points:
            s = summary(evaluator.evaluate([(step,)], reps))
            low, high = wilson(s.met, s.runs, confidence)
            answer.points[step] = Point(step, s.runs, s.met, s.cost, low, high)
            if progress:
                progress(answer.points[step])
        return answer.points[step]

    def meets(step: int) -> bool:
        return at(step).probability >= need

    top = lever.steps
    if not meets(top):
        answer.top_shown_to_fail = at(top).high < need  # unreached within the bounds: how sure
        return answer
    if meets(0):
        failing, passing = -1, 0
    else:
        failing, passing = 0, top
        while passing - failing > 1:
            middle = (failing + passing) // 2
            failing, passing = (failing, middle) if meets(middle) else (middle, passing)
    answer.step = passing
    upper = passing
    while upper < top and at(upper).low < need:
        upper += 1
    lower = passing - 1
    while lower >= 0 and at(lower).high >= need:
        lower -= 1
    answer.interval = (lower + 1, upper)
    answer.upper_shown = at(upper).low >= need
    return answer
