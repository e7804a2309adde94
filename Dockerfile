# PANDA: one image for the API, the worker, the scheduler, migrations and Flower.
# Build: docker build -t panda .   Run a part: docker run panda api|worker|scheduler|migrate
# In docker compose the API is not published: clients reach it through nginx (deploy/), which
# bounds slow clients and request sizes; the API bounds them too (panda/server.py).

FROM python:3.11-slim AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never
RUN pip install --no-cache-dir uv
WORKDIR /app
# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml uv.lock ./
RUN uv sync --frozen --no-dev --no-install-project
COPY README.md ./
COPY api ./api
COPY domain ./domain
COPY worker ./worker
COPY migrations ./migrations
COPY panda ./panda
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 panda \
    && mkdir -p /app/var/uploads && chown -R panda:panda /app/var
WORKDIR /app
COPY --from=build --chown=panda:panda /app/.venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH" \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8000 \
    LOG_FORMAT=json
USER panda
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"8000\")}/health', timeout=2)"
ENTRYPOINT ["panda"]
CMD ["api"]
