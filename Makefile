# The few commands a contributor runs every day; each calls a script that
# also works without make.
VENV := .venv

.PHONY: help setup serve test lint bench

help:
	@echo "make serve   set up and serve on http://127.0.0.1:8000 (scripts/serve)"
	@echo "make test    set up and run the checks and the whole test suite (scripts/test)"
	@echo "             extra pytest arguments: make test ARGS='tests/test_serving.py -x'"
	@echo "make lint    ruff on the code (config in pyproject.toml)"
	@echo "make bench   list the benchmarks in bench/; make bench NAME=search runs one"
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

# make bench                          lists the benchmarks (bench/README.md says more)
# make bench NAME=search ARGS='--size real'   runs bench/bench_search.py --size real
bench:
	@if [ -z "$(NAME)" ]; then \
		echo "make bench NAME=<name> [ARGS='...'] runs one of:"; \
		for script in bench/bench_*.py; do \
			[ -e "$$script" ] || continue; \
			name=$$(basename "$$script" .py); \
			printf '  %-12s %s\n' "$${name#bench_}" "$$(sed -n '1s/^"""//p' "$$script")"; \
		done; \
	else \
		scripts/setup --dev && $(VENV)/bin/python bench/bench_$(NAME).py $(ARGS); \
	fi
