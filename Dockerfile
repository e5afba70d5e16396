# okrsync API server with scheduled sync. Configure it only through OKRSYNC_*
# environment variables (and the credential variables your mappings name);
# mount mapping files and point OKRSYNC_MAPPINGS at them. docs/deploy.md has
# single-machine and several-replica set-ups.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed numeric user and group, so volume ownership is predictable and
# Kubernetes' runAsNonRoot can check it.
RUN groupadd --gid 10001 okrsync \
    && useradd --uid 10001 --gid 10001 --create-home okrsync \
    && mkdir -p /data \
    && chown 10001:10001 /data

WORKDIR /srv/okrsync

# Dependencies first, from pyproject.toml alone, so code changes reuse this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p app connectors \
    && touch app/__init__.py connectors/__init__.py \
    && pip install . \
    && pip uninstall --yes okrsync \
    && rm -rf app connectors build ./*.egg-info

COPY app ./app
COPY connectors ./connectors
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

USER 10001:10001
ENV OKRSYNC_HOST=0.0.0.0 \
    OKRSYNC_PORT=8000 \
    OKRSYNC_DATABASE_URL=sqlite:////data/okrsync.db
EXPOSE 8000
# Asks the port the server was told to use, so OKRSYNC_PORT may be changed.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OKRSYNC_PORT', '8000'), timeout=4)"]
# SIGTERM (docker stop) shuts down cleanly: a scheduled sync in progress is
# marked abandoned and the schedule handed to another replica at once.
CMD ["okrsync", "serve"]
