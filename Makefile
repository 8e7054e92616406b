# veille: `make run` sets up and runs the offline demo; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup system-deps run test bench lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	$(BIN)/pip install -q -e '.[test]'
	@# An editable install leaves veille as source: compile it once, as a wheel install would.
	$(BIN)/python -m compileall -q spiders monitor storage alerts >/dev/null
	touch $@

setup: $(BIN)/.installed

# Debian's chromium for JavaScript pages and browser tests (Playwright's own download does not
# work everywhere); sqlite3 for inspecting databases by hand; systemd for `systemd-analyze verify`
# of the units in systemd/ (it works without systemd running).
system-deps:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v sqlite3 >/dev/null 2>&1 \
		|| ! command -v systemd-analyze >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q chromium sqlite3 systemd; \
	fi

run: setup
	$(BIN)/python -m monitor.demo

test: setup system-deps
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/check_cycle.py --pages 200 1000

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
