# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow lint bench constraints clean

# constraints.txt pins every dependency to the versions tested (a lock file); pyproject.toml keeps
# the compatible ranges a user's own environment may satisfy. Regenerate it after changing
# pyproject's dependencies: `make constraints`.
$(BIN)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $@

run: $(BIN)/.installed
	$(BIN)/sendsim run configs/devon.yaml --out results/devon --force

# The quality gates first (lint, format, types: mypy with the pydantic plugin, [tool.mypy]), then
# the fast tier of tests with branch coverage measured over sim/ and a floor enforced
# (pyproject.toml, [tool.coverage]). The statistical and end-to-end tier (marked slow) is
# `make test-slow`; .ci/run runs both.
# Both tiers run on every core (pytest-xdist): results do not depend on the number of processes.
test: lint
	$(BIN)/python -m pytest -q -n auto -m "not slow" --cov --cov-report=term:skip-covered --cov-report=xml:coverage.xml

test-slow: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n auto --dist loadfile --no-loadscope-reorder -m slow --durations=10

lint: $(BIN)/.installed
	$(BIN)/ruff check sim tests experiments
	$(BIN)/ruff format --check sim tests experiments
	$(BIN)/mypy

bench: $(BIN)/.installed
	$(BIN)/python -m sim.bench

constraints:
	rm -rf .venv-lock && $(PYTHON) -m venv .venv-lock
	.venv-lock/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	{ echo "# Every dependency pinned to the versions the tests last passed with (make constraints regenerates it)."; .venv-lock/bin/python -m pip freeze --exclude-editable; } > constraints.txt
	rm -rf .venv-lock

clean:
	rm -rf $(VENV) results .pytest_cache .coverage coverage.xml
