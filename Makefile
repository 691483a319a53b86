# Linewise: `make run` opens the demo plant, `make test` runs the checks. Both create .venv first.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp
export QT_API := pyside6

.PHONY: run test lint bench screenshot system-deps clean

$(STAMP): pyproject.toml setup.py $(wildcard ext/*.pyx ext/*.h)
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if v == (3, 11) else \
	  f"Linewise needs Python 3.11; {sys.executable} is {v[0]}.{v[1]}. Run: make PYTHON=/path/to/python3.11")'
	@bash installer/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@$(PY) -c 'import ext; print("ext kernels:", "compiled (Cython)" if ext.HAVE_EXT else "NumPy fallback (the Cython build failed: see the pip output above)")'
	@touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/linewise --demo

test: lint
	@bash installer/test-deps.sh
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not bench"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m tests.benchmarks

screenshot: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/linewise --demo --screenshot resources/screenshot.png --after 10 \
	  --data-dir $$(mktemp -d)

clean:
	rm -rf $(VENV) build *.egg-info ext/*.c ext/*.so
