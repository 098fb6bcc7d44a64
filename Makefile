# The project's commands. `make serve` and `make test` are the two the README documents.
UV_VERSION := 0.13.8
UV := python3 -m uv
COVERED := app/catalog/*,app/scoring/*

.PHONY: setup serve test lint

setup:  # install uv (pinned) if missing, then exactly the locked dependencies
	@python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(UV) sync --frozen

serve: setup  # serve the app on http://127.0.0.1:8000
	$(UV) run autodiag serve

lint: setup  # style, formatting, types, and every criteria and questionnaire file
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run mypy
	$(UV) run autodiag criteria validate

test: lint  # the whole suite, with the coverage floor on the catalog and scoring code
	$(UV) run pytest --cov --cov-report=
	$(UV) run coverage report --include="$(COVERED)" --fail-under=90
