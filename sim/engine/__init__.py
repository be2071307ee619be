"""The engine: the clock, random streams, distributions, work queues and SimPy's fast paths."""
