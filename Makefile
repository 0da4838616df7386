# The two commands a new machine needs: `make build` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
SHARED_SOURCES ?= ../shared/sources

.PHONY: build test bench bench-import check clean

build: $(VENV)/.installed
	$(BIN)/quizgen build . --out dist --format all

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[grade]'
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test,grade]'
	touch $@

# gift-pegjs (npm) reads the GIFT exports back in the tests; skipped with a reason where npm is missing.
tests/js/node_modules/.installed: tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund --silent && touch $@; \
	else echo "note: npm not found; the GIFT parser tests will be skipped"; fi

# One suite at a time per machine: the browser and Anki tests saturate the cores, and two suites
# side by side each take three times as long (flock is skipped where util-linux is missing).
TEST_LOCK ?= /tmp/quizgen-make-test.lock
LOCKED = $(shell command -v flock >/dev/null 2>&1 && echo "flock $(TEST_LOCK)")

test: $(VENV)/.test-installed tests/js/node_modules/.installed
	$(LOCKED) $(BIN)/python -m pytest -q
	$(BIN)/quizgen check . --lint --strict
	@if [ -d "$(SHARED_SOURCES)" ]; then \
		echo "$(BIN)/quizgen check . --quotes $(SHARED_SOURCES)"; \
		$(BIN)/quizgen check . --quotes $(SHARED_SOURCES); \
	else echo "note: $(SHARED_SOURCES) not found; quote check skipped"; fi

bench: $(VENV)/.test-installed
	$(BIN)/python benchmarks/scale.py

bench-import: $(VENV)/.test-installed
	$(BIN)/python benchmarks/import_apkg.py

clean:
	rm -rf dist build *.egg-info .pytest_cache
