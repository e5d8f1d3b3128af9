"""Deployment rules on the code that real repositories contain: configuration read with a local
default, dev-server configuration, CORS origin lists, and Go servers with and without draining."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset


def rules_fired(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer
) -> set[tuple[str, str | None]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return {(f.rule, f.path) for f in report.findings}


def test_local_defaults_dev_tooling_and_origin_lists_are_not_hardcoded_hosts(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "internal/config/config.go": (
            'package config\nvar RedisAddr = getEnv("REDIS_ADDR", "localhost:6379")\n'
        ),
        "web/vite.config.ts": (
            "export default { server: { proxy: { '/api': 'http://localhost:8000' } } };\n"
        ),
        "app/main.py": 'ALLOWED_ORIGINS = ["http://localhost:3000"]\norigins = ["http://127.0.0.1:5173"]\n',
    }
    assert not {r for r in rules_fired(files, ruleset, analyzer) if r[0] == "DEP002"}


def test_a_hardcoded_service_url_is_reported(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "internal/store/store.go": 'package store\nconst dsn = "postgres://app@localhost:5432/app"\n'
    }
    assert ("DEP002", "internal/store/store.go") in rules_fired(files, ruleset, analyzer)


GO_SERVER = (
    "package main\n"
    'import ("net/http")\n'
    "func main() {\n"
    '    srv := &http.Server{Addr: ":8080"}\n'
    "    srv.ListenAndServe()\n"
    "}\n"
)


def test_go_graceful_shutdown_needs_a_signal_and_shutdown(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    plain = {
        "main.go": GO_SERVER,
        "worker.go": "package main\nfunc stop(w *Worker) { w.Shutdown() }\n",
    }
    assert ("DEP004", None) in rules_fired(plain, ruleset, analyzer)
    drained = GO_SERVER.replace(
        "    srv.ListenAndServe()\n",
        "    ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)\n"
        "    defer stop()\n    go srv.ListenAndServe()\n    <-ctx.Done()\n"
        "    srv.Shutdown(context.Background())\n",
    )
    assert ("DEP004", None) not in rules_fired({"main.go": drained}, ruleset, analyzer)
