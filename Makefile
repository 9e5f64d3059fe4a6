# Every target sets up what it needs (venv, Python packages, Debian packages) and is safe to
# run again. Only Python 3.11, make and apt are assumed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench lint format venv clean browser desktop-deps wine-deps bundle windows

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is needed"'
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV) || { \
		echo "venv is missing: installing python3-venv with apt"; \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq python3-venv && \
		$(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $(STAMP)

## demo: tracker (demo data) + Apex simulator + headless ApexAPI engine; prints URLs and key
demo: venv
	$(BIN)/python -m demo --tracker-port $${DEMO_PORT:-8000}

## browser: Debian's Chromium for the browser tests (Playwright never downloads one)
browser:
	@command -v chromium >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core; }

## desktop-deps: a virtual screen, a tray host and the libraries Qt's web view needs (tests, bundle)
DESKTOP_PKGS := xvfb trayer dbus dbus-x11 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 \
	libxcb-image0 libxcb-render-util0 libxkbcommon-x11-0 libxcb-xinerama0 libxcb-xkb1 libxcb-randr0 \
	libxcb-shape0 libegl1 libgl1 libnss3 libxcomposite1 libxdamage1 libxrandr2 libxtst6 \
	libxkbfile1 libasound2 fonts-dejavu-core
desktop-deps:
	@dpkg -s $(DESKTOP_PKGS) >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends $(DESKTOP_PKGS); }

## bundle: the Linux one-folder ApexAPI build (dist/ApexAPI/ApexAPI)
bundle: venv desktop-deps
	PYSTRAY_BACKEND=dummy $(BIN)/pyinstaller installer/apexapi.spec --noconfirm --log-level WARN \
		--distpath dist --workpath build/pyinstaller

## wine-deps: Wine, to build and smoke-test ApexAPI.exe on Linux
wine-deps:
	@command -v wine >/dev/null || { $(SUDO) apt-get update -qq && \
		$(SUDO) apt-get install -y -qq --no-install-recommends wine wine64; }

## windows: ApexAPI.exe built with Wine + Windows CPython, then smoke-tested under Wine
windows: venv wine-deps
	$(BIN)/python -m installer.windows_build
	$(BIN)/python -m pytest -q tests/installer/test_windows_exe.py

## test: lint, type-check, build the Linux bundle and run the whole test suite
test: venv browser desktop-deps wine-deps bundle
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

## bench: /apex-calculate vs Flask and a memory ceiling; engine freshness, idle cost, burst;
##        METRC pulls and outbox drain; reports on a year of data; a simulated trading day
##        (oversell exposure: the guide's design vs ours)
bench: venv desktop-deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq wrk; }
	$(BIN)/python -m bench.apex_calculate
	$(BIN)/python -m bench.sync_engine
	$(BIN)/python -m bench.packing_sheet
	$(BIN)/python -m bench.desktop
	$(BIN)/python -m bench.metrc
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.exposure

## lint: ruff check, ruff format --check, mypy
lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .ruff_cache .hypothesis bench/results build dist
