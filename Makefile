# The two commands a new user needs are `make run` and `make test` (see README.md).
TONEARM_DATA ?= ./data
CARGO ?= cargo

.PHONY: run test bench lint fmt deps

run:
	@scripts/ensure-deps.sh build
	@scripts/build-web.sh
	$(CARGO) run --release -p tonearm -- serve --data "$(TONEARM_DATA)"

test:
	@scripts/ensure-deps.sh test
	@# Every test on SQLite, the server's whole integration suite again on PostgreSQL, then the
	@# web app's unit tests and its end-to-end tests in Chromium against the debug server.
	@status=0; \
	if $(CARGO) nextest --version >/dev/null 2>&1; then run="$(CARGO) nextest run --no-fail-fast"; \
	else run="$(CARGO) test --no-fail-fast"; fi; \
	$$run --workspace || status=1; \
	pg=$$(scripts/test-postgres.sh) || exit 1; \
	echo "== the integration suite on PostgreSQL ($$pg)"; \
	TEST_POSTGRES_URL=$$pg $$run -p tonearm --test it || status=1; \
	$(CARGO) build -p tonearm && scripts/test-web.sh || status=1; \
	exit $$status

bench:
	@scripts/ensure-deps.sh test
	$(CARGO) run --release -p tonearm -- bench

lint:
	@# Crate dependency direction and module import cycles, against ARCHITECTURE.md.
	python3 scripts/check-architecture.py
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings
