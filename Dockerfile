# syntax=docker/dockerfile:1
# Build stage: stopship's wheel, and a virtualenv of the GitHub App's server stack (the `app`
# extra) installed only from the hashed lock files: every package pinned with its hashes, wheels
# only (requirements/server.lock; regenerate it with the command at its top).
FROM python:3.11.10-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY requirements/server.lock requirements/build.lock ./requirements/
RUN python -m venv /opt/build \
    && /opt/build/bin/pip install --require-hashes --only-binary=:all: -r requirements/build.lock \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --require-hashes --only-binary=:all: -r requirements/server.lock
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY rules ./rules
COPY migrations ./migrations
# stopship itself: built with the locked backend, installed without resolving anything new
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . \
    && /opt/venv/bin/pip install --no-deps /wheels/stopship-*.whl \
    && /opt/venv/bin/pip uninstall --yes pip setuptools

# Runtime stage: the virtualenv and nothing the server does not use (no git, no pip), run as an
# unprivileged user; the root filesystem can be read-only (a writable /tmp is all it needs).
FROM python:3.11.10-slim-bookworm
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="stopship" \
      org.opencontainers.image.description="stopship's GitHub App: webhook service, queue worker and migrations" \
      org.opencontainers.image.source="https://github.com/stopship/stopship" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
RUN python -m pip uninstall --yes pip setuptools wheel \
    && useradd --create-home --uid 10001 --user-group stopship \
    && mkdir /data \
    && chown 10001:10001 /data
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    STOPSHIP_LOG_FORMAT=json
USER 10001
WORKDIR /home/stopship
EXPOSE 8000
# One check for both commands: `serve` answers /healthz/live on 8000 (the default); a worker sets
# STOPSHIP_HEALTHCHECK_URL=http://127.0.0.1:9101/healthz (its --metrics-port), which answers 200
# only while its heartbeat is fresh.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('STOPSHIP_HEALTHCHECK_URL', 'http://127.0.0.1:8000/healthz/live'), timeout=3)"]
ENTRYPOINT ["stopship"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
