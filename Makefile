# Two commands: `make demo` and `make test`. Both set up .venv on a machine with only python3 and make.
# opentrons 8.8 needs Python 3.10 or 3.11: prefer those if python3 is another version
PYTHON ?= $(shell for p in python3.11 python3.10 python3; do command -v $$p >/dev/null 2>&1 && echo $$p && break; done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test test-long bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/labkit demo -o out

# the facade (`import labkit`, labkit.api and what it hands out) and the CLI's shared machinery under
# `mypy --strict`; the whole package under plain mypy (config: [tool.mypy] in pyproject.toml)
STRICT := src/labkit/__init__.py src/labkit/api.py src/labkit/errors.py src/labkit/layout/experiment.py \
          src/labkit/cli.py src/labkit/cli_support.py src/labkit/progress.py

test: $(STAMP)
	$(BIN)/ruff check src tests benchmarks docs
	$(BIN)/mypy
	$(BIN)/mypy --strict --follow-imports=silent --no-warn-unused-configs $(STRICT)
	$(BIN)/python -m pytest -q -n 2

# the property test over random layouts, wide: N examples, every size the schema allows (slow: minutes), and
# 8- and 16-plate runs of every assay on both robots end to end (tests/plan/test_scale.py)
test-long: $(STAMP)
	LABKIT_LONG=$${N:-100} $(BIN)/python -m pytest -q tests/layout/test_layouts_property.py --hypothesis-show-statistics
	LABKIT_LONG=1 $(BIN)/python -m pytest -q -n 2 tests/plan/test_scale.py

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
