# alignome: the two commands that set everything up on a fresh machine.
#   make demo   create .venv, install, run the default recipe on the simulated cohort, write a report
#   make test   install if needed and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_DIR ?= runs/demo

.PHONY: demo test test-slow quick bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/alignome run recipes/ad-gated-fusion.yaml --out $(RUN_DIR)
	@echo "open $(RUN_DIR)/report.html"

quick: $(STAMP)
	$(BIN)/alignome run recipes/ad-gated-fusion.yaml --preset quick --out runs/quick

# pytest exits 5 when it collects no tests: that is a broken suite, not a pass.
test: $(STAMP)
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-slow: $(STAMP)
	$(BIN)/python -m pytest -q -m slow

bench: $(STAMP)
	$(BIN)/python benchmarks/stage_timings.py

clean:
	rm -rf $(VENV) runs .pytest_cache
