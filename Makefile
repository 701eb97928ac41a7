# The two commands a newcomer needs: `make demo` and `make test`.
# Each creates .venv and installs the project into it on first use, and again
# whenever pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The PostgreSQL the machine runs; `make test` exercises it beside SQLite.
TONLE_TEST_POSTGRES_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
export TONLE_TEST_POSTGRES_URL

# GraphiQL for the gateway's explorer page: npm packages installed from the lock file into a
# gitignored node_modules, never copied into the repository. Without npm (or when `npm ci`
# fails) the gateway serves its plain explorer page instead, so neither stops `make`.
EXPLORER := gateway/graphiql
EXPLORER_STAMP := $(EXPLORER)/node_modules/.installed

.PHONY: demo test lint typecheck format fuzz bench-gateway bench-registry bench-soak bench-consolidated clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

$(EXPLORER_STAMP): $(EXPLORER)/package.json $(EXPLORER)/package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: the explorer will be the plain page, not GraphiQL (install Node.js and npm for it)"; \
	elif (cd $(EXPLORER) && npm ci --no-audit --no-fund --loglevel=error); then \
		touch $@; \
	else \
		echo "npm ci failed in $(EXPLORER): the explorer will be the plain page, not GraphiQL"; \
	fi

demo: $(STAMP) $(EXPLORER_STAMP)
	$(BIN)/tonle demo

# The suite runs on every core (pytest-xdist): each test has its own database schema, files,
# ports and Redis prefix, so tests do not share state across workers.
test: lint $(STAMP) $(EXPLORER_STAMP)
	$(BIN)/python -m pytest -q -n auto

# The fuzz suite (tests/fuzz) with a long budget: FUZZ_EXAMPLES examples per test instead of
# the few dozen `make test` runs; no per-test timeout, a test takes minutes at this budget.
FUZZ_EXAMPLES ?= 2000
fuzz: $(STAMP)
	TONLE_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -q --timeout=0 tests/fuzz

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy gateway subgraphs identity_store policies sandbox tonle analysts

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench-gateway: $(STAMP)
	$(BIN)/python -m bench.gateway

# De-duplication quality, registration throughput and lookup latency; the 1,000,000-people
# runs take a while (BENCH_REGISTRY_SIZES=100000 for a quicker look).
bench-registry: $(STAMP)
	$(BIN)/python -m bench.registry

# Five minutes of partners against the demo while MoI is down, PCA slow and IDPoor flapping;
# prints figures and PASS/FAIL per target (BENCH_SOAK_SECONDS=60 for a quicker look).
bench-soak: $(STAMP)
	$(BIN)/python -m bench.soak

# 10,000 people with all four operators' fields in one request, and a province of 200,000
# streamed, on the demo; beside the same with the subgraphs' column path off. Prints
# PASS/FAIL per target (seeds bench/consolidated/.work once, about 2 minutes).
bench-consolidated: $(STAMP)
	$(BIN)/python -m bench.consolidated

clean:
	rm -rf $(VENV) .tonle .mypy_cache .ruff_cache .pytest_cache $(EXPLORER)/node_modules
