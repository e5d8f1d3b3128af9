# syntax=docker/dockerfile:1
# Build stage: stopship with the GitHub App's server stack (the `app` extra) in a virtualenv.
FROM python:3.11.10-slim-bookworm AS build
WORKDIR /src
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY pyproject.toml README.md LICENSE ./
COPY app ./app
COPY rules ./rules
COPY migrations ./migrations
RUN pip install --no-cache-dir ".[app]"

# Runtime stage: only the virtualenv, run as an unprivileged user.
FROM python:3.11.10-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 stopship
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    STOPSHIP_LOG_FORMAT=json
USER 10001
WORKDIR /home/stopship
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz/live', timeout=2); sys.exit(0)"]
ENTRYPOINT ["stopship"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
