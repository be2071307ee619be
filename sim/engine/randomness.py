"""Independent random streams, one per source of randomness, all from one seed.

Each stream is keyed by its name rather than by the order streams are created in, so adding a
source to a model (or a scenario that uses a lever the base does not) leaves every other stream's
draws untouched: two scenarios compare on common random numbers. Draws come in numpy batches,
because one scalar call per event costs more than the event itself.
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.engine.distributions import Distribution

BATCH = 256


class Streams:
    def __init__(self, seed: int):
        self.seed = int(seed)
        self._used: set[str] = set()

    def generator(self, name: str) -> np.random.Generator:
        if name in self._used:
            raise ValueError(f"random stream {name!r} is already in use; each source needs its own")
        self._used.add(name)
        key = zlib.crc32(name.encode("utf-8"))
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(key,))))

    def sampler(self, levers: object, section: str, field: str) -> Sampler:
        """Draws from the distribution at `levers.section.field` (stream "section.field"),
        following it when a lever set replaces the section (sim/model/levers.py)."""
        return Sampler(self.generator(f"{section}.{field}"), levers, section, field)

    def uniform(self, name: str) -> Sampler:
        return Sampler(self.generator(name), None, "", "")


class _StandardUniform:
    @staticmethod
    def sample(rng: np.random.Generator, size: int) -> np.ndarray:
        return rng.random(size)


class Sampler:
    """Next value from a distribution, drawn a batch at a time: call it for one float."""

    __slots__ = ("_rng", "_levers", "_section", "_field", "_dist", "_buffer")

    def __init__(self, rng: np.random.Generator, levers: object | None, section: str, field: str):
        self._rng = rng
        self._levers = levers
        self._section = section
        self._field = field
        self._dist: Distribution | _StandardUniform = _StandardUniform()
        self._buffer: list[float] = []

    def __call__(self) -> float:
        if self._levers is not None:
            dist = getattr(getattr(self._levers, self._section), self._field)
            if dist is not self._dist:  # first call, or a lever set changed the distribution
                self._dist = dist
                self._buffer = []
        if not self._buffer:
            # Reversed so that pop() hands out the batch in the order it was drawn.
            self._buffer = self._dist.sample(self._rng, BATCH).tolist()[::-1]
        return self._buffer.pop()
