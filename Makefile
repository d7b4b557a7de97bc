# alignome: the two commands that set everything up on a fresh machine.
#   make demo   create .venv, install, run the default recipe on the simulated cohort, write a report
#   make test   install if needed and run the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
RUN_DIR ?= runs/demo

.PHONY: demo test test-slow quick quick-mri bench bench-genetics bench-mri install sysdeps clean

# the C extensions' sources (setup.py): any change rebuilds them
NATIVE_SOURCES := $(wildcard src/alignome/*/*.c src/alignome/*/*.h)

$(STAMP): pyproject.toml setup.py $(NATIVE_SOURCES)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[test,raw]'
	$(BIN)/python -m pip install --quiet --no-deps antspyx==0.6.3  # see the raw extra in pyproject.toml
	touch $(STAMP)

install: $(STAMP)

# System packages the reference tests compare against: Debian's plink1.9 and plink2.
sysdeps:
	@missing=""; for p in plink1.9 plink2; do command -v $$p >/dev/null || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "make sysdeps: installing$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else \
	    echo "make sysdeps: missing$$missing (Debian: sudo apt-get install$$missing); PLINK reference tests will be skipped" >&2; \
	  fi; \
	fi

demo: $(STAMP)
	$(BIN)/alignome run recipes/ad-gated-fusion.yaml --out $(RUN_DIR)
	@echo "open $(RUN_DIR)/report.html"

quick: $(STAMP)
	$(BIN)/alignome run recipes/ad-gated-fusion.yaml --preset quick --out runs/quick

quick-mri: $(STAMP)
	$(BIN)/alignome run recipes/longitudinal-mri.yaml --preset quick --out runs/quick-mri

# pytest exits 5 when it collects no tests: that is a broken suite, not a pass.
test: $(STAMP) sysdeps
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-slow: $(STAMP) sysdeps
	@$(BIN)/python -m pytest -q -m slow; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test-slow: pytest collected no slow tests" >&2; exit 1; fi; exit $$rc

bench: $(STAMP)
	$(BIN)/python benchmarks/stage_timings.py
	$(BIN)/python benchmarks/cohort_speed.py

# alignome against plink1.9/plink2 on the same msprime data, in one run each (data simulated once, cached
# under benchmarks/out; the 500k-variant GWAS set takes about 4 minutes to simulate the first time)
bench-genetics: $(STAMP) sysdeps
	$(BIN)/python benchmarks/gwas_vs_plink2.py --with-complete --scale-variants 500000
	$(BIN)/python benchmarks/clump_score_vs_plink.py
	$(BIN)/python benchmarks/qc_vs_plink.py

bench-mri: $(STAMP)
	$(BIN)/python benchmarks/cnn3d_throughput.py
	$(BIN)/python benchmarks/mri3d_speed.py

clean:
	rm -rf $(VENV) runs .pytest_cache
