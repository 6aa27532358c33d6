# The few commands a contributor runs every day; each calls a script that
# also works without make.
VENV := .venv

.PHONY: help setup serve test lint bench

help:
	@echo "make serve   set up and serve on http://127.0.0.1:8000 (scripts/serve)"
	@echo "make test    set up and run the checks and the whole test suite (scripts/test)"
	@echo "             extra pytest arguments: make test ARGS='tests/test_serving.py -x'"
	@echo "make lint    ruff on the code (config in pyproject.toml)"
	@echo "make bench   run the benchmarks in bench/"
	@echo "make setup   only set up (virtualenv with the dev tools, var/, demo corpus, index)"

setup:
	scripts/setup --dev

serve:
	scripts/serve

test:
	scripts/test $(ARGS)

lint: setup
	@$(VENV)/bin/python -m ruff --version >/dev/null 2>&1 \
		|| { echo "ruff is not installed in $(VENV): it belongs in requirements-dev.txt"; exit 1; }
	$(VENV)/bin/python -m ruff check .

# Each bench/bench_*.py prints its own figures (see bench/README.md).
bench: setup
	@set -e; found=0; for script in bench/bench_*.py; do \
		[ -e "$$script" ] || continue; found=1; \
		echo "==> $$script"; $(VENV)/bin/python "$$script"; \
	done; [ $$found -eq 1 ] || echo "no benchmarks in bench/ yet"
