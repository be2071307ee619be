"""Independent random streams, one per source of randomness, all from one seed.

Each stream is keyed by its name rather than by the order streams are created in, so adding a
source to a model (or a scenario that uses a lever the base does not) leaves every other stream's
draws untouched: two scenarios compare on common random numbers. Draws come in numpy batches,
because one scalar call per event costs more than the event itself.
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.distributions import Distribution

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

    def sampler(self, name: str, dist: Distribution) -> "Sampler":
        return Sampler(self.generator(name), dist.sample)

    def uniform(self, name: str) -> "Sampler":
        return Sampler(self.generator(name), lambda rng, n: rng.random(n))


class Sampler:
    """Next value from a distribution, drawn a batch at a time: call it for one float."""

    __slots__ = ("_rng", "_draw", "_buffer")

    def __init__(self, rng: np.random.Generator, draw):
        self._rng = rng
        self._draw = draw
        self._buffer: list[float] = []

    def __call__(self) -> float:
        if not self._buffer:
            # Reversed so that pop() hands out the batch in the order it was drawn.
            self._buffer = self._draw(self._rng, BATCH).tolist()[::-1]
        return self._buffer.pop()
