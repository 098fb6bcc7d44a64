# The project's commands. `make serve` and `make test` are the two the README documents.
UV_VERSION := 0.13.8
UV := python3 -m uv
COVERED := app/catalog/*,app/scoring/*

.PHONY: setup serve test lint browser-deps report-deps messages

# Bytecode compiled once here: where PYTHONDONTWRITEBYTECODE is set, every Python process (each
# test server, worker and CLI run) would otherwise compile everything it imports again.
setup:  # install uv (pinned) if missing, then exactly the locked dependencies, compiled
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen --compile-bytecode
	$(UV) run python -m compileall -q app benchmarks tests

serve: setup  # seed the demo (once) and serve the app on http://127.0.0.1:8000
	$(UV) run autodiag demo
	$(UV) run autodiag serve

lint: setup  # style, formatting, types, and every criteria and questionnaire file
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run autodiag criteria validate

# The interface's strings (babel.cfg: app/ and templates/) into the English catalog; then translate
# what `msgstr ""` marks as new. French is the source language: it needs no catalog.
messages: setup  # extract the interface's strings and update app/locale/en/LC_MESSAGES/messages.po
	$(UV) run pybabel extract -F babel.cfg -k N_ --sort-output --no-wrap --add-location=file --project="Autodiag Médiation" -o app/locale/messages.pot .
	$(UV) run pybabel update -i app/locale/messages.pot -d app/locale -l en --no-wrap --no-fuzzy-matching --ignore-obsolete
	rm app/locale/messages.pot

# What tests/browser needs: Debian's Chromium (Playwright's own download cannot work here) and
# axe-core from package-lock.json. Each step runs only when its result is missing. fonts-liberation
# is only a recommendation of chromium's, but a bare machine has no other font to draw text with.
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
browser-deps:  # Chromium and the npm packages, each only if missing
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update -q && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium fonts-liberation; }
	@test -d node_modules/axe-core || npm ci --no-audit --no-fund

# What the reports' tests need: LibreOffice (the spreadsheet program that opens every exported and
# re-saved workbook), poppler's pdftoppm (the first page of each PDF as an image) and DejaVu fonts
# (the PDFs embed them; no network). Installed only when missing.
report-deps:  # LibreOffice Calc, poppler and fonts, each only if missing
	@{ command -v soffice >/dev/null && command -v pdftoppm >/dev/null && test -d /usr/share/fonts/truetype/dejavu; } || \
		{ $(SUDO) apt-get update -q && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		--no-install-recommends libreoffice-calc-nogui poppler-utils fonts-dejavu-core fonts-dejavu-extra; }

test: lint browser-deps report-deps  # the whole suite, with the coverage floor on the catalog and scoring code
	$(UV) run pytest --cov --cov-report= --durations=25
	$(UV) run coverage report --include="$(COVERED)" --fail-under=90
