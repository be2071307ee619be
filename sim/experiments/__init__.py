"""Experiments: one replication run and written, replications of scenarios in parallel,
replications to a precision, experiment folders, national runs."""
