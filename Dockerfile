# Serves Autodiag Médiation with uvicorn as a non-root user.
# Same install as the README (uv, from the lock file), without the development tools.
FROM python:3.11-slim

# Bytecode is compiled once here (UV_COMPILE_BYTECODE, compileall for the app): a worker that
# started from sources compiled them all again, most of its start-up CPU.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    PATH=/opt/venv/bin:$PATH
# WeasyPrint (the PDF reports) needs Pango and its FreeType back end, and the DejaVu fonts it prints in.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && pip install --no-cache-dir "uv==0.13.8" \
    && useradd --create-home --uid 10001 autodiag

WORKDIR /srv/autodiag
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY criteria ./criteria
COPY questionnaires ./questionnaires
COPY templates ./templates
RUN uv sync --frozen --no-dev \
    && python -m compileall -q app \
    && autodiag criteria validate \
    && mkdir -p data && chown autodiag data
VOLUME ["/srv/autodiag/data"]

USER autodiag
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
# Migrate (a no-op when up to date), then serve. With several replicas, run `autodiag db upgrade`
# as a one-off job before starting them instead.
CMD ["sh", "-c", "autodiag db upgrade && exec autodiag serve --host 0.0.0.0 --port 8000"]
