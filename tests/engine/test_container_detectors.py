"""Container checks as a user sees them: which rule fires on which line, and which files stay quiet.

The tricky cases live here: only the final Dockerfile stage decides the user, `FROM ${VAR}` is
resolved from ARG defaults, dockerfile-parse's 0-based lines become 1-based, placeholders are not
secrets, Kubernetes files hold several documents, and a file that does not parse is reported as a
parse problem instead of being skipped.
"""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.model import Finding
from app.engine.ruleset import Ruleset

ROOT = "container-runs-as-root"
UNPINNED = "base-image-not-pinned"
HEALTHCHECK = "no-healthcheck"
SINGLE_STAGE = "single-stage-build"
HYGIENE = "image-hygiene"
DOCKERIGNORE = "missing-dockerignore"
COMPOSE = "compose-hygiene"
KUBERNETES = "kubernetes-workload-hygiene"
DOCKERFILE_SECRET = "secret-in-container-config"
COMPOSE_SECRET = "secret-in-compose-environment"

# A .dockerignore that satisfies CTR006, so trees below only show the rule under test.
DOCKERIGNORE_OK = ".git\n.env*\nnode_modules\n"


def rule_id(ruleset: Ruleset, name: str) -> str:
    matches = [r.id for r in ruleset.rules if r.name == name]
    assert matches, f"no rule named {name}"
    return matches[0]


def findings(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, name: str
) -> list[Finding]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    wanted = rule_id(ruleset, name)
    return [f for f in report.findings if f.rule == wanted]


def lines(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, name: str) -> list[int]:
    return sorted(f.line or 0 for f in findings(files, ruleset, analyzer, name))


# --------------------------------------------------------------------------------------------
# Dockerfile: who the container runs as


def test_user_in_build_stage_does_not_count_for_final_stage(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    dockerfile = (
        "FROM golang:1.22 AS build\n"
        "USER 10001\n"
        "RUN go build -o /out/api ./cmd/api\n"
        "\n"
        "FROM debian:12-slim\n"
        "COPY --from=build /out/api /usr/local/bin/api\n"
        'ENTRYPOINT ["api"]\n'
    )
    found = findings({"Dockerfile": dockerfile}, ruleset, analyzer, ROOT)
    assert [f.line for f in found] == [5]  # the final FROM, 1-based
    assert "no USER" in found[0].message


def test_final_user_root_after_unprivileged_user_is_reported_on_its_line(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    dockerfile = (
        "FROM python:3.12-slim AS build\n"
        "RUN pip wheel -w /wheels .\n"
        "FROM python:3.12-slim\n"
        "USER app\n"
        "COPY --from=build /wheels /wheels\n"
        "USER root\n"
        'CMD ["python", "-m", "app"]\n'
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, ROOT) == [6]


def test_user_zero_with_group_is_root(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = "FROM alpine:3.20\nUSER 0:0\n"
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, ROOT) == [2]


def test_final_stage_inherits_user_from_named_stage(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM node:20.15-slim AS base\n"
        "USER node\n"
        "FROM base AS deps\n"
        "RUN npm ci --omit=dev\n"
        "FROM base\n"
        "COPY --from=deps /app/node_modules /app/node_modules\n"
        'CMD ["node", "server.js"]\n'
    )
    assert findings({"Dockerfile": dockerfile}, ruleset, analyzer, ROOT) == []


def test_continuation_lines_keep_later_line_numbers_right(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    dockerfile = (
        "FROM debian:12-slim\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y --no-install-recommends ca-certificates \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "USER root\n"
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, ROOT) == [5]


# --------------------------------------------------------------------------------------------
# Dockerfile: base images


def test_from_variable_resolved_from_arg_default(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = "ARG BASE_IMAGE=node\nFROM ${BASE_IMAGE}\nUSER node\n"
    found = findings({"Dockerfile": dockerfile}, ruleset, analyzer, UNPINNED)
    assert [f.line for f in found] == [2]
    assert "node is untagged" in found[0].message


def test_from_variable_with_pinned_default_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "ARG PYTHON_VERSION=3.12.7\n"
        "FROM python:${PYTHON_VERSION}-slim AS build\n"
        "RUN pip wheel -w /wheels .\n"
        "FROM $BUILDER_IMAGE_WITHOUT_DEFAULT AS unknown\n"
        "FROM build AS runtime\n"
        "FROM scratch\n"
        "COPY --from=runtime /wheels /wheels\n"
    )
    assert findings({"Dockerfile": dockerfile}, ruleset, analyzer, UNPINNED) == []


def test_latest_digest_and_registry_port(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM registry.internal:5000/base/python AS a\n"
        "FROM node:latest AS b\n"
        "FROM python@sha256:" + "a" * 64 + " AS c\n"
        "FROM --platform=linux/amd64 redis:7.2 AS d\n"
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, UNPINNED) == [1, 2]


# --------------------------------------------------------------------------------------------
# Dockerfile: health check, stages, hygiene


def test_healthcheck_in_parent_stage_counts(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM python:3.12-slim AS base\n"
        "HEALTHCHECK CMD python -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:8000/healthz')\"\n"
        "FROM base\n"
        "USER 10001\n"
    )
    assert findings({"Dockerfile": dockerfile}, ruleset, analyzer, HEALTHCHECK) == []


def test_healthcheck_none_is_no_healthcheck(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = "FROM python:3.12-slim\nHEALTHCHECK NONE\nUSER 10001\n"
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, HEALTHCHECK) == [1]


def test_single_stage_only_when_it_builds(ruleset: Ruleset, analyzer: Analyzer) -> None:
    builds = "FROM golang:1.22\nCOPY . /src\nRUN go build -o /api ./cmd/api\nUSER 10001\n"
    copies = "FROM gcr.io/distroless/static-debian12:nonroot\nCOPY api /api\n"
    assert lines({"Dockerfile": builds}, ruleset, analyzer, SINGLE_STAGE) == [1]
    assert findings({"Dockerfile": copies}, ruleset, analyzer, SINGLE_STAGE) == []


def test_apt_get_without_cleanup_and_add_url(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM debian:12-slim\n"
        "RUN apt-get update \\\n"
        "    && apt-get install -y curl\n"
        "ADD https://example.com/tool.tar.gz /opt/\n"
        "RUN apk add --no-cache tini\n"
        "USER 10001\n"
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, HYGIENE) == [2, 4]


# --------------------------------------------------------------------------------------------
# Dockerfile: secrets in ARG / ENV


def test_dockerfile_secret_literal_reported_placeholders_not(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    dockerfile = (
        "FROM node:20.15-slim\n"
        "ARG NPM_TOKEN\n"
        "ENV NODE_ENV=production \\\n"
        "    DB_PASSWORD=Tr0ub4dor-horse\n"
        "ENV API_KEY=${API_KEY}\n"
        "ENV STRIPE_API_KEY=changeme\n"
        "ENV JWT_SECRET=<set-at-runtime>\n"
        "ENV PASSWORD_FILE=/run/secrets/db_password\n"
        "ENV GITHUB_TOKEN ghp_legacyFormLiteral0123456789\n"
        "USER node\n"
    )
    found = findings({"Dockerfile": dockerfile}, ruleset, analyzer, DOCKERFILE_SECRET)
    assert [(f.line, "DB_PASSWORD" in f.message or "GITHUB_TOKEN" in f.message) for f in found] == [
        (3, True),
        (9, True),
    ]


# --------------------------------------------------------------------------------------------
# .dockerignore (repository level)


def test_dockerignore_missing_node_modules_only_for_node_projects(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    python = {"Dockerfile": "FROM python:3.12-slim\n", ".dockerignore": ".git\n.env\n"}
    node = {**python, "package.json": "{}\n"}
    assert findings(python, ruleset, analyzer, DOCKERIGNORE) == []
    found = findings(node, ruleset, analyzer, DOCKERIGNORE)
    assert [(f.path, f.line) for f in found] == [(".dockerignore", None)]
    assert "node_modules" in found[0].message


def test_no_dockerfile_no_dockerignore_finding(ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert findings({"app.py": "print('hi')\n"}, ruleset, analyzer, DOCKERIGNORE) == []


# --------------------------------------------------------------------------------------------
# Compose


def test_compose_literal_secrets_in_both_environment_forms(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    compose = (
        "services:\n"
        "  db:\n"
        "    image: postgres:16\n"
        "    environment:\n"
        "      POSTGRES_USER: app\n"
        "      POSTGRES_PASSWORD: devpassword\n"
        "  api:\n"
        "    build: .\n"
        "    environment:\n"
        "      - JWT_SECRET=9f2c1a7be04d\n"
        "      - STRIPE_API_KEY=${STRIPE_API_KEY:?set it}\n"
        "      - REDIS_PASSWORD\n"
        "      - ADMIN_TOKEN=<your-token>\n"
        "      - SMTP_PASSWORD=changeme\n"
        "      - WEBHOOK_SECRET=xxx\n"
        "      - SESSION_SECRET=$SESSION_SECRET\n"
    )
    found = findings({"docker-compose.yml": compose}, ruleset, analyzer, COMPOSE_SECRET)
    assert [f.line for f in found] == [6, 10]  # a dev compose's literal password is reported


def test_compose_hygiene_lines(ruleset: Ruleset, analyzer: Analyzer) -> None:
    compose = (
        "services:\n"
        "  api:\n"
        "    build: .\n"
        "    depends_on:\n"
        "      - db\n"
        "  worker:\n"
        "    build: .\n"
        "    mem_limit: 512m\n"
        "    depends_on:\n"
        "      db:\n"
        "        condition: service_healthy\n"
        "      migrate:\n"
        "        condition: service_started\n"
        "  db:\n"
        "    image: postgres:16\n"
        "    deploy:\n"
        "      resources:\n"
        "        limits: {memory: 1g}\n"
        "    volumes:\n"
        "      - /var/lib/postgresql/data\n"
        "      - ./init.sql:/docker-entrypoint-initdb.d/init.sql:ro\n"
        "  migrate:\n"
        "    build: .\n"
        "    cpus: 0.5\n"
    )
    # api: no limits (2) and list-form depends_on (5); worker: depends_on migrate without a health
    # condition (12); db: anonymous data volume (20).
    assert lines({"docker-compose.yml": compose}, ruleset, analyzer, COMPOSE) == [2, 5, 12, 20]


def test_compose_parse_problem_not_silent(ruleset: Ruleset, analyzer: Analyzer) -> None:
    broken = "services:\n  api:\n    image: [api\n"
    result = analyzer.analyze("docker-compose.yml", broken.encode())
    assert result.hits == []
    assert [p.parser for p in result.problems] == ["yaml"]


# --------------------------------------------------------------------------------------------
# Kubernetes


MULTI_DOC = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: api-config}
data: {LOG_LEVEL: info}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: api
          image: registry.example.com/api:1.4.2
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz/live, port: 8000}}
          readinessProbe: {httpGet: {path: /healthz/ready, port: 8000}}
        - name: sidecar
          image: registry.example.com/proxy:2.0.1
          securityContext: {privileged: true}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          securityContext: {runAsUser: 0}
          containers:
            - name: report
              image: registry.example.com/report:1.0.0
              resources:
                requests: {cpu: 50m, memory: 64Mi}
                limits: {memory: 128Mi}
"""


def test_kubernetes_multi_document(ruleset: Ruleset, analyzer: Analyzer) -> None:
    found = findings({"deploy/k8s/app.yaml": MULTI_DOC}, ruleset, analyzer, KUBERNETES)
    got = sorted((f.line, f.message.split(": ", 1)[1]) for f in found)
    assert got == [
        (21, "Deployment api, container sidecar: no livenessProbe / readinessProbe"),
        (21, "Deployment api, container sidecar: no resource requests/limits"),
        (21, "Deployment api, container sidecar: privileged"),
        (36, "CronJob nightly, container report: runs as user 0"),  # jobs need no probes
    ]


def test_kubernetes_fact_for_stack(ruleset: Ruleset, analyzer: Analyzer) -> None:
    report = audit_files({"deploy/k8s/app.yaml": MULTI_DOC}, ruleset, analyzer=analyzer)
    assert "Kubernetes" in report.stack.infrastructure


def test_non_workload_yaml_is_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "k8s/kustomization.yaml": (
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
            "resources: [app.yaml]\n"
        ),
        "config/settings.yaml": "kind: of-a-config\napiVersion: 3\nretries: 2\n",
    }
    assert findings(files, ruleset, analyzer, KUBERNETES) == []


def test_kubernetes_parse_problem_not_silent(analyzer: Analyzer) -> None:
    broken = "apiVersion: apps/v1\nkind: Deployment\nspec: : :\n"
    result = analyzer.analyze("k8s/deploy.yaml", broken.encode())
    assert result.hits == []
    assert [p.parser for p in result.problems] == ["yaml"]


# --------------------------------------------------------------------------------------------
# Unparseable Dockerfile, stack facts


def test_undecodable_dockerfile_is_a_parse_problem(analyzer: Analyzer) -> None:
    result = analyzer.analyze("Dockerfile", b"\xff\xfeFROM python:3.12\n")
    assert result.hits == []
    assert {p.parser for p in result.problems} == {"dockerfile-parse"}


def test_docker_and_compose_in_stack(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "Dockerfile": "FROM python:3.12-slim\nUSER 10001\n",
        ".dockerignore": DOCKERIGNORE_OK,
        "compose.yaml": "services:\n  api:\n    build: .\n",
    }
    report = audit_files(files, ruleset, analyzer=analyzer)
    assert {"Docker", "Docker Compose"} <= set(report.stack.infrastructure)


# --------------------------------------------------------------------------------------------
# Build tools and dev dependencies in the image that ships (multi-stage builds)

BUILD_TOOLS = "build-tools-in-runtime-image"


def test_build_tools_only_in_shipped_stages(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM python:3.12-slim AS base\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends \\\n"
        "        gcc libpq-dev=15.* curl \\\n"
        "    && rm -rf /var/lib/apt/lists/*\n"
        "FROM base AS build\n"
        "RUN apt-get update && apt-get install -y build-essential && rm -rf /var/lib/apt/lists/*\n"
        "RUN pip wheel --wheel-dir /wheels -r requirements.txt\n"
        "FROM base\n"
        "COPY --from=build /wheels /wheels\n"
        "USER 10001\n"
    )
    found = findings({"Dockerfile": dockerfile}, ruleset, analyzer, BUILD_TOOLS)
    # `base` ships (the final stage is built FROM it); `build` does not.
    assert [f.line for f in found] == [2]
    assert "gcc, libpq-dev" in found[0].message


def test_build_packages_removed_again_are_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM node:20.15-alpine AS build\n"
        "RUN npm ci && npm run build\n"
        "FROM node:20.15-alpine\n"
        "RUN apk add --no-cache --virtual .gyp python3 make g++ \\\n"
        "    && npm ci --omit=dev \\\n"
        "    && apk del .gyp\n"
        "FROM python:3.12-slim AS unused\n"
        "FROM python:3.12-slim\n"
        "RUN set -eux; \\\n"
        '    savedAptMark="$(apt-mark showmanual)"; \\\n'
        "    apt-get update; apt-get install -y --no-install-recommends gcc libffi-dev; \\\n"
        "    pip install --no-cache-dir cffi; \\\n"
        "    apt-mark auto '.*' > /dev/null; apt-mark manual $savedAptMark; \\\n"
        "    apt-get purge -y --auto-remove; rm -rf /var/lib/apt/lists/*\n"
        "RUN apt-get update && apt-get install -y cmake && apt-get purge -y cmake\n"
        "USER 10001\n"
    )
    assert findings({"Dockerfile": dockerfile}, ruleset, analyzer, BUILD_TOOLS) == []


def test_dev_dependencies_in_final_stage(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM node:20.15-slim AS build\n"
        "RUN npm ci && npm run build\n"
        "FROM python:3.12-slim AS py\n"
        "FROM node:20.15-slim\n"
        "RUN npm install -g pm2@5.4.0\n"
        "RUN yarn install --frozen-lockfile\n"
        "RUN pip install -r requirements/dev.txt\n"
        "RUN pip install -r requirements.txt\n"
        "RUN poetry install --only main\n"
        "RUN poetry install\n"
        "RUN uv sync --frozen --no-dev\n"
        'RUN pip install -e ".[dev,docs]"\n'
        "USER node\n"
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, BUILD_TOOLS) == [6, 7, 10, 12]


def test_production_node_installs_are_quiet(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM node:20.15-slim AS build\n"
        "RUN npm ci && npm run build\n"
        "FROM node:20.15-slim AS prod\n"
        'ENV NODE_ENV="production"\n'
        "RUN npm ci\n"
        "FROM node:20.15-slim\n"
        "RUN NODE_ENV=production yarn install --frozen-lockfile\n"
        "RUN pnpm install --prod\n"
        "RUN npm ci && npm run build && npm prune --omit=dev\n"
        "USER node\n"
    )
    assert findings({"Dockerfile": dockerfile}, ruleset, analyzer, BUILD_TOOLS) == []


def test_single_stage_builds_are_left_to_single_stage_rule(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    dockerfile = (
        "FROM python:3.12-slim\n"
        "RUN apt-get update && apt-get install -y gcc && rm -rf /var/lib/apt/lists/*\n"
        "RUN pip install -r requirements.txt\n"
        "USER 10001\n"
    )
    files = {"Dockerfile": dockerfile}
    assert findings(files, ruleset, analyzer, BUILD_TOOLS) == []
    assert lines(files, ruleset, analyzer, SINGLE_STAGE) == [1]


def test_dev_and_template_dockerfiles_are_not_judged(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = "FROM node\nRUN npm install\n"
    files = {
        ".devcontainer/Dockerfile": dockerfile,
        "docker/Dockerfile.dev": dockerfile,
        "Dockerfile.j2": "FROM {{ base_image }}\nRUN make\n",
    }
    report = audit_files(files, ruleset, analyzer=analyzer)
    judged = {rule_id(ruleset, n) for n in (ROOT, UNPINNED, HEALTHCHECK, SINGLE_STAGE, HYGIENE)}
    assert [f for f in report.findings if f.rule in judged] == []


# --------------------------------------------------------------------------------------------
# Noise and coverage fixes in container_image.py / container_config.py


def test_secret_key_and_pass_names_are_secrets(ruleset: Ruleset, analyzer: Analyzer) -> None:
    compose = (
        "services:\n"
        "  web:\n"
        "    build: .\n"
        "    environment:\n"
        "      SECRET_KEY: 9f8a7sd6f5a4sd3f2g1h\n"
        "      RABBITMQ_DEFAULT_PASS: guest-but-longer\n"
        "      CACHE_BYPASS: enabled\n"
        "      AWS_ACCESS_KEY_ID: AKIAIOSFODNN7EXAMPLE\n"
    )
    dockerfile = "FROM ruby:3.3-slim\nENV SECRET_KEY_BASE=0a1b2c3d4e5f6a7b8c9d\nUSER 10001\n"
    assert lines({"docker-compose.yml": compose}, ruleset, analyzer, COMPOSE_SECRET) == [5, 6]
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, DOCKERFILE_SECRET) == [2]


def test_compose_merge_keys_are_applied(ruleset: Ruleset, analyzer: Analyzer) -> None:
    compose = (
        "x-app: &app\n"
        "  build: .\n"
        "  deploy: {resources: {limits: {memory: 512m}}}\n"
        "  environment: &app-env\n"
        "    DJANGO_SECRET_KEY: a8f7d6s5a4f3d2s1\n"
        "services:\n"
        "  web:\n"
        "    <<: *app\n"
        "  worker:\n"
        "    <<: *app\n"
        "    environment:\n"
        "      <<: *app-env\n"
        "      DJANGO_SECRET_KEY: ${DJANGO_SECRET_KEY}\n"
    )
    files = {"docker-compose.yml": compose}
    assert findings(files, ruleset, analyzer, COMPOSE) == []  # limits come from the anchor
    assert lines(files, ruleset, analyzer, COMPOSE_SECRET) == [5]  # web's; worker overrides it


def test_helm_templates_are_not_parse_problems(analyzer: Analyzer) -> None:
    template = (
        "apiVersion: apps/v1\n"
        "kind: Deployment\n"
        "metadata:\n"
        '  name: {{ include "api.fullname" . }}\n'
        "spec:\n"
        "  template:\n"
        "    spec:\n"
        "      containers:\n"
        "        - name: {{ .Chart.Name }}\n"
        "          {{- with .Values.resources }}\n"
        "          resources:\n"
        "            {{- toYaml . | nindent 12 }}\n"
        "          {{- end }}\n"
    )
    result = analyzer.analyze("charts/api/templates/deployment.yaml", template.encode())
    assert result.hits == [] and result.problems == []


def test_kubernetes_numeric_run_as_user_is_non_root(ruleset: Ruleset, analyzer: Analyzer) -> None:
    manifest = (
        "apiVersion: v1\n"
        "kind: Pod\n"
        "metadata: {name: api}\n"
        "spec:\n"
        "  securityContext: {runAsUser: 0}\n"
        "  containers:\n"
        "    - name: api\n"
        "      image: registry.example.com/api:1.4.2\n"
        "      securityContext: {runAsUser: 10001}\n"
        "      resources: {requests: {cpu: 100m}, limits: {memory: 128Mi}}\n"
        "      livenessProbe: {httpGet: {path: /healthz/live, port: 8000}}\n"
        "      readinessProbe: {httpGet: {path: /healthz/ready, port: 8000}}\n"
    )
    assert findings({"k8s/pod.yaml": manifest}, ruleset, analyzer, KUBERNETES) == []


def test_image_hygiene_only_in_shipped_stages(ruleset: Ruleset, analyzer: Analyzer) -> None:
    dockerfile = (
        "FROM debian:12 AS fetch\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "FROM debian:12-slim\n"
        "RUN --mount=type=cache,target=/var/lib/apt,sharing=locked \\\n"
        "    apt-get update && apt-get install -y --no-install-recommends tini\n"
        "ADD --checksum=sha256:" + "0" * 64 + " https://example.com/tool.tgz /opt/\n"
        "ADD https://example.com/other.tgz /opt/\n"
        "USER 10001\n"
    )
    assert lines({"Dockerfile": dockerfile}, ruleset, analyzer, HYGIENE) == [7]


def test_devcontainer_dockerfile_needs_no_dockerignore(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {".devcontainer/Dockerfile": "FROM mcr.microsoft.com/devcontainers/base:bookworm\n"}
    assert findings(files, ruleset, analyzer, DOCKERIGNORE) == []
