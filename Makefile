# The two commands a newcomer needs (see README.md):
#   make demo   set up everything that is missing, then open the TUI on the demo queue
#   make test   set up everything that is missing, then run every check and test
# Both are idempotent; with everything present, setup takes a few seconds.

CARGO ?= cargo

.PHONY: demo test setup-system lint unit-and-integration

demo: setup-system
	$(CARGO) build --release --quiet
	$(CARGO) run --release --quiet -- setup
	$(CARGO) run --release --quiet --

test: setup-system
	$(CARGO) build --quiet
	$(CARGO) run --quiet -- setup
	scripts/build-llama-server.sh >/dev/null
	$(MAKE) --no-print-directory lint unit-and-integration

setup-system:
	@scripts/setup-system.sh

lint:
	$(CARGO) fmt --check
	$(CARGO) clippy --quiet --all-targets -- -D warnings

unit-and-integration:
	$(CARGO) test --no-fail-fast
