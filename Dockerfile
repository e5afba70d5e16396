# okrsync API server with scheduled sync. Configure it only through OKRSYNC_*
# environment variables; mount mapping files and point OKRSYNC_MAPPINGS at them.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 okrsync \
    && mkdir -p /data && chown okrsync /data

WORKDIR /srv/okrsync

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p app connectors \
    && touch app/__init__.py connectors/__init__.py \
    && pip install . \
    && pip uninstall --yes okrsync

COPY app ./app
COPY connectors ./connectors
RUN pip install --no-deps .

USER okrsync
ENV OKRSYNC_HOST=0.0.0.0 \
    OKRSYNC_PORT=8000 \
    OKRSYNC_DATABASE_URL=sqlite:////data/okrsync.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
CMD ["okrsync", "serve"]
