# The two commands a new user needs are `make run` and `make test` (see README.md).
TONEARM_DATA ?= ./data
CARGO ?= cargo

.PHONY: run test bench lint fmt deps

run:
	@scripts/ensure-deps.sh build
	$(CARGO) run --release -p tonearm -- serve --data "$(TONEARM_DATA)"

test:
	@scripts/ensure-deps.sh test
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

bench:
	@scripts/ensure-deps.sh test
	$(CARGO) run --release -p tonearm -- bench

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
