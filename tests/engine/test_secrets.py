"""Hardcoded secrets (SEC001) on the shapes real repositories have: what is a credential in
shipped code and what only looks like one (CI service containers, secret references, enum
members, comments, templates, test configuration, prose), plus SEC019's overridden defaults."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.detectors.secret_values import is_typed_key, looks_secret, names_itself
from app.engine.memory import audit_files
from app.engine.paths import roles_of
from app.engine.ruleset import Ruleset


def findings(
    files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, rule: str = "SEC001"
) -> set[tuple[str | None, int | None]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return {(f.path, f.line) for f in report.findings if f.rule == rule}


# A signing key with spaces, in each language: reported.
TYPED_KEYS = {
    "common/jwt.go": 'package common\nconst JWTSecret = "Our Really Strong Key!!@#%&*^"\n',
    "app/auth.py": 'JWT_SECRET = "Our Really Strong Key!!@#%&*^"\n',
    "src/auth.js": 'const jwtSecret = "Our Really Strong Key!!@#%&*^";\n',
    "src/auth.ts": 'export const jwtSecret: string = "Our Really Strong Key!!@#%&*^";\n',
}
# A message assigned to a secret-named name, in each language: not reported.
MESSAGES = {
    "common/errors.go": (
        'package common\nconst BadPassword = "Invalid password, please try again"\n'
    ),
    "app/errors.py": 'BAD_PASSWORD = "Invalid password, please try again"\n',
    "src/errors.js": 'const badPassword = "Invalid password, please try again";\n',
    "src/errors.ts": 'export const badPassword = "Invalid password, please try again";\n',
}


@pytest.mark.parametrize("path", sorted(TYPED_KEYS))
def test_a_key_with_spaces_is_a_secret(path: str, ruleset: Ruleset, analyzer: Analyzer) -> None:
    line = TYPED_KEYS[path].count("\n")
    assert findings({path: TYPED_KEYS[path]}, ruleset, analyzer) == {(path, line)}


@pytest.mark.parametrize("path", sorted(MESSAGES))
def test_a_message_is_not_a_secret(path: str, ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert findings({path: MESSAGES[path]}, ruleset, analyzer) == set()


def test_a_password_named_phrase_counts_only_when_the_code_signs_with_it(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    code = (
        "package common\n"
        'const SigningPassword = "A String Quite Strong!!@##$!@#$"\n'
        'const KeepPassword = "A String Quite Sentinel!!@##$!@#4"\n'
        "func Sign(t *jwt.Token) (string, error) {\n"
        "    return t.SignedString([]byte(SigningPassword))\n"
        "}\n"
        "func Keep(p string) bool { return p == KeepPassword }\n"
    )
    assert findings({"common/keys.go": code}, ruleset, analyzer) == {("common/keys.go", 2)}


def test_typed_keys_and_prose() -> None:
    assert is_typed_key("A String Very Very Very Strong!!@##$!@#$")
    assert not is_typed_key("Invalid password, please try again")
    assert not is_typed_key("Password must contain @, # or $")
    assert not is_typed_key("Error!!! Password invalid!!!")


def test_ci_service_containers_and_a_job_using_them(ruleset: Ruleset, analyzer: Analyzer) -> None:
    workflow = (
        "jobs:\n"
        "  test:\n"
        "    services:\n"
        "      postgres:\n"
        "        image: postgres:16\n"
        "        env:\n"
        "          POSTGRES_USER: shop\n"
        "          POSTGRES_PASSWORD: Zq8xT4mLp2wK\n"
        "    env:\n"
        "      DB_USER: shop\n"
        "      DB_PASSWORD: shop\n"
        "  deploy:\n"
        "    env:\n"
        "      DEPLOY_PASSWORD: Zq8xT4mLp2wK\n"
    )
    path = ".github/workflows/ci.yml"
    # the deploy job's literal is not a throwaway container's: still reported
    assert findings({path: workflow}, ruleset, analyzer) == {(path, 14)}


def test_a_secret_reference_is_not_a_secret(ruleset: Ruleset, analyzer: Analyzer) -> None:
    pipeline = (
        "steps:\n"
        "  publish:\n"
        "    settings:\n"
        "      username:\n"
        "        from_secret: docker_username\n"
        "      password:\n"
        "        from_secret: docker_password\n"
        "    environment:\n"
        "      CARGO_API_TOKEN:\n"
        "        from_secret: cargo_api_token\n"
    )
    assert findings({".woodpecker.yml": pipeline}, ruleset, analyzer) == set()


def test_enum_members_and_events_named_after_themselves() -> None:
    assert names_itself("INVALID_PASSWORD", "invalid_password")
    assert names_itself("JWT_INVALID_CSRF_TOKEN", "invalid_csrf_token")
    assert names_itself("ACCOUNT_SET_CUSTOMER_PASSWORD", "account_set_customer_password")
    assert names_itself("password", "password")
    assert not names_itself("DB_PASSWORD", "Zq8xT4mLp2wK")
    assert not looks_secret("REQUIRE_PASSWORD", "require_password")


def test_values_that_only_look_like_secrets() -> None:
    assert not looks_secret("Token", "models/users/token.md")  # a navigation entry
    assert not looks_secret("SECRET_KEY", "changethis")
    assert not looks_secret("admin_password", "lemmylemmy")  # typed twice, a local default
    assert not looks_secret("POSTGRES_PASSWORD", "postgres")
    assert not looks_secret("api_key", "string")
    assert looks_secret("DB_PASSWORD", "Zq8xT4mLp2wK")
    assert looks_secret("JWT_SECRET", "super-secret-signing-key")


def test_comments_are_not_settings_in_use(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "app/settings.py": (
            "import os\n"
            'DATABASE_URL = os.environ["DATABASE_URL"]\n'
            '# DATABASE_URL = "postgres://report:Zq8xT4mLp2w@db.internal/app"\n'
            "OPTIONS = {\n"
            "    # 'ssh_key_password': 'Zq8xT4mLp2wK',\n"
            "}\n"
        ),
        "src/config.ts": '// const apiToken = "b7Qz9Lk2Xw4Rt8Vn1Mc6Hj3Pd5Sf0Gy";\n',
        "src/store.ts": 'class Store {\n  #apiToken = "b7Qz9Lk2Xw4Rt8Vn1Mc6Hj3Pd5Sf0Gy";\n}\n',
    }
    # a JavaScript private field starts with `#` and is code
    assert findings(files, ruleset, analyzer) == {("src/store.ts", 2)}


def test_provider_keys_count_in_comments_and_prose(ruleset: Ruleset, analyzer: Analyzer) -> None:
    token = "ghp_Zq8xT4mLp2wR7vKc9NbY3hJd6Fs1Ga5Ue0Xi"
    files = {
        "app/deploy.py": f"# token: {token}\n",
        "README.md": f"Deploy with `{token}`.\n\n    export PASSWORD=Zq8xT4mLp2wK\n",
    }
    assert findings(files, ruleset, analyzer) == {("app/deploy.py", 1), ("README.md", 1)}


def test_an_aws_key_id_needs_its_secret_beside_it(ruleset: Ruleset, analyzer: Analyzer) -> None:
    alone = {"app/s3.py": '"""x-amz-credential: AKIAQ3EGRBVX7PLM2ZTN/20240101/s3/aws4_request"""\n'}
    assert findings(alone, ruleset, analyzer) == set()
    pair = {
        "app/s3.py": 'KEYS = ("AKIAQ3EGRBVX7PLM2ZTN", "q8Zr3L0xW2kP9vYt6NcB1mHs4DfJ7gUa5eRiTo0S")\n'
    }
    assert findings(pair, ruleset, analyzer) == {("app/s3.py", 1)}


@pytest.mark.parametrize(
    "path",
    [
        "netbox/configuration_testing.py",
        "shop/settings_test.py",
        "api_tests/src/shared.py",
        "acceptance/support/env.py",
        "web/e2e/login.py",
        "app/settings_example.py",
        "config.sample.py",
        ".env.example",
        ".env.test.sample",
        "docs/deploy.py",
    ],
)
def test_test_configuration_and_examples_are_not_shipped(
    path: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert "test" in roles_of(path)
    code = 'SECRET_KEY = "f9c2a7e4b1d8e3c6a5f0b9d2e7c4a1f8"\n'
    assert findings({path: code}, ruleset, analyzer) == set()


def test_local_database_defaults(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "app/db.py": (
            'DATABASES = {"default": {\n'
            '    "USER": "shop",\n'
            '    "PASSWORD": "shop",\n'
            '    "HOST": "127.0.0.1",\n'
            "}}\n"
            'REPLICA = "postgres://shop_ro:shop@localhost:5432/shop"\n'
            'CACHE = "redis://default:redis@cache:6379/0"\n'
        ),
        "app/prod.py": 'DSN = "postgres://shop:shop@db.prod.internal:5432/shop"\n',
    }
    # the same password on a real host is not a local default
    assert findings(files, ruleset, analyzer) == {("app/prod.py", 1)}


def test_a_template_of_placeholders_hides_an_example(ruleset: Ruleset, analyzer: Analyzer) -> None:
    template = (
        "{\n"
        '  database: { connection: "postgres://app:password@localhost:5432/app" }\n'
        '  pictrs: { api_key: "string" }\n'
        '  setup: { admin_password: "q8Zr3L0xW2kP9vYt6N" }\n'
        "}\n"
    )
    real = 'setup: { admin_password: "q8Zr3L0xW2kP9vYt6N" }\n'
    assert findings({"config/defaults.hjson": template}, ruleset, analyzer) == set()
    assert findings({"config/app.hjson": real}, ruleset, analyzer) == {("config/app.hjson", 1)}


def test_compose_connection_urls_go_to_the_compose_rule(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    compose = (
        "services:\n"
        "  api:\n"
        "    environment:\n"
        "      DATABASE_URL: postgres://shop:Zq8xT4mLp2wK@db:5432/shop\n"
        "      POOL_URL: postgres://postgres:postgres@pgbouncer:6432/postgres\n"
        "      REPORTS_URL: postgres://shop:Zq8xT4mLp2wK@reports.example.net:5432/shop\n"
    )
    files = {"docker-compose.yml": compose}
    assert findings(files, ruleset, analyzer) == {("docker-compose.yml", 6)}
    assert findings(files, ruleset, analyzer, "SEC017") == {
        ("docker-compose.yml", 4),
        ("docker-compose.yml", 6),
    }
    assert findings({".ci/compose.ci.yaml": compose}, ruleset, analyzer, "SEC017") == set()


SETTINGS_BASE = 'SECRET_KEY = "=k2$w!q9z@x7c&v5b^n3m*l1j0h6g4f9c2a7e4b1"\n'


def test_a_settings_default_overridden_in_production_is_sec019(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "config/django/base.py": SETTINGS_BASE,
        "config/django/production.py": 'from .base import *\nSECRET_KEY = env("SECRET_KEY")\n',
    }
    assert findings(files, ruleset, analyzer) == set()
    assert findings(files, ruleset, analyzer, "SEC019") == {("config/django/base.py", 1)}


def test_a_settings_literal_nobody_overrides_is_sec001(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "config/django/base.py": SETTINGS_BASE,
        # an override elsewhere in the tree is not one of these settings
        "tools/production.py": 'SECRET_KEY = env("SECRET_KEY")\n',
        # nor is a test configuration's
        "config/django/test.py": 'SECRET_KEY = env("SECRET_KEY")\n',
    }
    assert findings(files, ruleset, analyzer) == {("config/django/base.py", 1)}
    assert findings(files, ruleset, analyzer, "SEC019") == set()


def test_settings_read_from_the_environment_do_not_make_a_template(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    properties = (
        "spring.datasource.password=${DB_PASSWORD}\n"
        "app.jwt.secret=${JWT_SECRET}\n"
        "app.mail.password=Zq8xT4mLp2wK\n"
    )
    path = "src/main/resources/application.properties"
    assert findings({path: properties}, ruleset, analyzer) == {(path, 3)}
