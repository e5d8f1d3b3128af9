"""Insecure defaults (DEP017, SEC022, SEC024): settings read from the environment, judged by the
value they take when the variable is unset, on the shapes real settings modules have."""

from __future__ import annotations

from textwrap import dedent

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

RULES = {"DEP017", "SEC022", "SEC024"}
PY = "app/settings.py"
GO = "internal/config/config.go"
PROPERTIES = "src/main/resources/application.properties"


def found(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer) -> set[tuple[str, str, int]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return {(f.rule, f.path or "", f.line or 0) for f in report.findings if f.rule in RULES}


def case(path: str, source: str, *expected: tuple[str, int]) -> object:
    """A file (its source dedented; a triple-quoted source starts with an empty line 1) and the
    (rule, line) findings it must produce, no others."""
    return pytest.param(path, dedent(source), set(expected), id=f"{path}:{source.strip()[:50]}")


DEBUG_CASES = [
    case(
        PY,
        """
        import environ
        env = environ.Env()
        DEBUG = env.bool("DJANGO_DEBUG", default=True)
        """,
        ("DEP017", 4),
    ),
    case(
        PY,
        """
        import environ
        env = environ.Env(
            DEBUG=(bool, True),
        )
        DEBUG = env("DEBUG")
        """,
        ("DEP017", 6),
    ),
    case(
        PY,
        """
        from decouple import config
        DEBUG = config("DEBUG", default=True, cast=bool)
        """,
        ("DEP017", 3),
    ),
    case(PY, 'DEBUG = os.environ.get("DEBUG", "False") == "True"\n'),
    case(PY, 'DEBUG = os.getenv("DEBUG", "0").lower() in ("1", "true")\n'),
    case(PY, 'DEBUG = os.getenv("DEBUG", "1").lower() in ("1", "true")\n', ("DEP017", 1)),
    case(PY, 'DEBUG = not os.environ.get("PRODUCTION")\n', ("DEP017", 1)),
    case(PY, 'DEBUG = bool(int(os.environ.get("DEBUG", 1)))\n', ("DEP017", 1)),
    # a project helper named after the environment (a large shop's settings)
    case(
        PY,
        """
        def get_bool_from_env(name, default):
            return default

        DEBUG = get_bool_from_env("DEBUG", True)
        """,
        ("DEP017", 5),
    ),
    # the project's own readers, named after the environment
    case(
        PY,
        """
        SECRET_KEY = envsecret("SECRET_KEY", "---")
        DEBUG = envbool("DEBUG", "True")
        os.putenv("APP_DEBUG", "1")
        """,
        ("SEC022", 2),
        ("DEP017", 3),
    ),
    # the development server: `python app.py`
    case(
        "app/main.py",
        """
        if __name__ == "__main__":
            app.run(debug=os.getenv("FLASK_DEBUG", True))
        """,
    ),
    case(
        "app/main.py", 'app = FastAPI(debug=os.getenv("DEBUG", "true") == "true")\n', ("DEP017", 1)
    ),
    case("app/settings/dev.py", 'DEBUG = os.getenv("DEBUG", "1") == "1"\n'),
    case("scripts/export.py", 'DEBUG = os.getenv("DEBUG", "1") == "1"\n'),
    case("config/local_settings.py", 'DEBUG = os.getenv("DEBUG", "1") == "1"\n'),
]

SECRET_CASES = [
    case(PY, 'SECRET_KEY = os.environ.get("SECRET_KEY") or "changeme"\n', ("SEC022", 1)),
    case(
        PY,
        """
        SECRET_KEY = os.environ.get("SECRET_KEY")
        if not SECRET_KEY:
            SECRET_KEY = "changeme"
        """,
        ("SEC022", 4),
    ),
    # refused
    case(
        PY,
        """
        SECRET_KEY = os.getenv("SECRET_KEY", "changeme")
        if SECRET_KEY == "changeme":
            raise RuntimeError("set SECRET_KEY")
        """,
    ),
    case(
        PY, 'SECRET_KEY = os.getenv("SECRET_KEY", "")\nAPP_SECRET = os.getenv("APP_SECRET", None)\n'
    ),
    case(PY, 'SECRET_KEY = os.getenv("SECRET_KEY", secrets.token_urlsafe(32))\n'),
    # the second repeats the first's fallback: one finding
    case(
        PY,
        """
        SECRET_KEY = os.getenv("SECRET_KEY", "dev")
        JWT_SECRET_KEY = os.getenv("JWT_SECRET_KEY", SECRET_KEY)
        """,
        ("SEC022", 2),
    ),
    # the first administrator's password, wherever the account is created
    case(
        "core/migrations/0002_superuser.py",
        """
        def generate_superuser(apps, schema_editor):
            DJANGO_SU_PASSWORD = os.environ.get("DJANGO_SU_PASSWORD", "admin")
            User.objects.create_superuser(
                username="admin", password=os.getenv("SITE_ADMIN_PASSWORD", "admin")
            )
        """,
        ("SEC022", 3),
        ("SEC022", 5),
    ),
    # another service's credentials: a placeholder breaks the integration, it lets no one in
    case(
        PY,
        """
        GOOGLE_CLIENT_SECRET = os.getenv("GOOGLE_CLIENT_SECRET", "changeme")
        MINIO_SECRET_KEY = os.getenv("MINIO_SECRET_KEY", "minioadmin")
        """,
    ),
    case(
        PY,
        """
        import hashlib, socket
        SECRET_KEY = os.getenv(
            "SECRET_KEY", hashlib.md5(socket.gethostname().encode()).hexdigest()
        )
        """,
        ("SEC022", 3),
    ),
    case(
        "app/__init__.py",
        """
        def create_app():
            app = Flask(__name__)
            app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "dev")
            return app
        """,
        ("SEC022", 4),
    ),
    case(
        "app/__init__.py",
        'app.config.from_mapping(SECRET_KEY=os.environ.get("SECRET_KEY", "dev"))\n',
        ("SEC022", 1),
    ),
    # the development and testing classes of a Flask config module are not production
    case(
        "app/config.py",
        """
        class Config:
            SECRET_KEY = os.environ["SECRET_KEY"]

        class DevelopmentConfig(Config):
            SECRET_KEY = os.environ.get("SECRET_KEY", "dev")

        class TestingConfig(Config):
            SECRET_KEY = os.environ.get("SECRET_KEY", "test")
        """,
    ),
    # Flask's config classes: the production class overrides the base's fallback
    case(
        "app/config.py",
        """
        class Config:
            SECRET_KEY = os.environ.get("SECRET_KEY") or "hard to guess"
            DEBUG = os.environ.get("FLASK_DEBUG", "1") == "1"

        class ProductionConfig(Config):
            DEBUG = False
        """,
        ("SEC022", 3),
    ),
    # the fallback is in the branch that is not production
    case(
        PY,
        """
        if os.getenv("ENVIRONMENT") == "production":
            SECRET_KEY = os.environ["SECRET_KEY"]
        else:
            SECRET_KEY = os.getenv("SECRET_KEY", "dev")
        """,
    ),
    # pydantic settings: a placeholder default, refused or not
    case(
        "app/core/config.py",
        """
        class Settings(BaseSettings):
            SECRET_KEY: str = "changethis"
            JWT_SECRET: SecretStr = SecretStr("changethis")
        """,
        ("SEC022", 3),
        ("SEC022", 4),
    ),
    case(
        "app/core/config.py",
        """
        class Settings(BaseSettings):
            secret_key: str = "changethis"

            @field_validator("secret_key")
            def _refuse(cls, value):
                if value == "changethis":
                    raise ValueError("set SECRET_KEY")
                return value
        """,
    ),
    # a private attribute of the settings model: the first user's password, fixed in the code
    case(
        "app/core/settings.py",
        """
        class AppSettings(BaseSettings):
            _DEFAULT_EMAIL: str = "changeme@example.com"
            _DEFAULT_PASSWORD: str = "MyPassword"
        """,
        ("SEC022", 4),
    ),
    case(
        "app/core/config.py",
        """
        class Options(BaseModel):
            secret_key: str = "not-a-setting"
            debug: bool = True
        """,
    ),
]

HOSTS_CASES = [
    case(PY, 'ALLOWED_HOSTS = os.environ.get("ALLOWED_HOSTS", "*").split(",")\n', ("SEC024", 1)),
    case(PY, 'ALLOWED_HOSTS = get_list(os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1"))\n'),
    case(PY, 'CORS_ALLOW_ALL_ORIGINS = env.bool("CORS_ALLOW_ALL", default=True)\n', ("SEC024", 1)),
    case(PY, 'CORS_ORIGIN_WHITELIST = env.list("CORS_ORIGINS", default=[BASE_URL])\n'),
]


@pytest.mark.parametrize(("path", "source", "expected"), DEBUG_CASES + SECRET_CASES + HOSTS_CASES)
def test_python_settings(
    path: str, source: str, expected: set[tuple[str, int]], ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert found({path: source}, ruleset, analyzer) == {(r, path, n) for r, n in expected}


JS_CASES = [
    # one finding per variable and file
    case(
        "src/auth.ts",
        """
        export const a = jwt({ secret: process.env.JWT_SECRET || "superSecret" });
        export const b = jwt({ secret: process.env.JWT_SECRET || "superSecret", optional: true });
        """,
        ("SEC022", 2),
    ),
    case(
        "src/config.ts",
        'const { SESSION_SECRET = "keyboard cat", PORT = "3000" } = process.env;\n',
        ("SEC022", 1),
    ),
    # a chain of variables, then a constant
    case(
        "src/config/jwt.ts",
        """
        export const jwtConfig = {
          secret: process.env.JWT_SECRET || process.env.SESSION_SECRET || "pos-secret-key",
          expiresIn: process.env.JWT_EXPIRES_IN || "7d",
        };
        """,
        ("SEC022", 3),
    ),
    case(
        "src/config.js",
        'module.exports = { key: process.env.JWTSECRET || "s3cr3t" };\n',
        ("SEC022", 1),
    ),
    case(
        "src/env.ts",
        """
        export const env = z.object({
          JWT_SECRET: z.string().default("secret"),
          DEBUG: z.coerce.boolean().default(true),
        });
        """,
        ("SEC022", 3),
        ("DEP017", 4),
    ),
    case(
        "src/config/config.js",
        """
        const schema = Joi.object().keys({
          JWT_SECRET: Joi.string().default("thisisasamplesecret").description("JWT key"),
          PORT: Joi.number().default(3000),
        });
        """,
        ("SEC022", 3),
    ),
    case(
        "src/config.js",
        """
        module.exports = convict({
          session: {
            secret: { format: String, default: "keyboard cat", env: "SESSION_SECRET" },
            port: { format: "port", default: 8080, env: "PORT" },
          },
        });
        """,
        ("SEC022", 4),
    ),
    # envalid's devDefault is for development only
    case(
        "src/env.ts",
        """
        export const env = cleanEnv(process.env, {
          COOKIE_SECRET: str({ default: "s3cret" }),
          JWT_SECRET: str({ devDefault: "dev" }),
        });
        """,
        ("SEC022", 3),
    ),
    case(
        "src/auth/auth.module.ts",
        'const secret = this.configService.get<string>("JWT_SECRET", "secretKey");\n',
        ("SEC022", 1),
    ),
    case(
        "src/config.ts",
        'export const key = process.env.JWT_SECRET ? process.env.JWT_SECRET : "abc";\n',
        ("SEC022", 1),
    ),
    case(
        "src/config.ts",
        """
        export const key =
          process.env.NODE_ENV === "production" ? process.env.JWT_SECRET : "dev";
        """,
    ),
    # refused
    case(
        "src/config.ts",
        """
        export const secret = process.env.JWT_SECRET || "dev";
        if (process.env.NODE_ENV === "production" && secret === "dev") {
          throw new Error("JWT_SECRET");
        }
        """,
    ),
    case(
        "src/app.ts",
        'app.use(cors({ origin: (process.env.ORIGINS || "*").split(","), credentials: true }));\n',
        ("SEC024", 1),
    ),
    case(
        "src/config.ts",
        'export const debug = (process.env.DEBUG ?? "true") === "true";\n',
        ("DEP017", 1),
    ),
    case("src/config.ts", 'export const debug = (process.env.DEBUG ?? "false") === "true";\n'),
    case("src/config.example.ts", 'export const secret = process.env.JWT_SECRET || "dev";\n'),
    # build and test tools' own switches
    case(
        "web/vite.config.ts",
        """
        export default {
          server: { cors: { origin: process.env.ORIGIN ?? "*" } },
          debug: process.env.DEBUG ?? true,
        };
        """,
    ),
]

GO_CASES = [
    case(GO, 'package config\nvar secret = getEnv("JWT_SECRET", "secret")\n', ("SEC022", 2)),
    case(
        GO,
        """
        package config
        func load() {
            c := Config{AllowedOrigins: envOr("ALLOWED_ORIGINS", "*")}
        }
        """,
        ("SEC024", 4),
    ),
    case(
        GO,
        'package config\nvar key = cmp.Or(os.Getenv("SIGNING_KEY"), "changeme")\n',
        ("SEC022", 2),
    ),
    case(
        GO,
        'package config\nfunc init() { viper.SetDefault("jwt.secret", "s3cret") }\n',
        ("SEC022", 2),
    ),
    case(
        GO,
        """
        package config
        func load() string {
            key := os.Getenv("SIGNING_KEY")
            if key == "" {
                key = "changeme"
            }
            return key
        }
        """,
        ("SEC022", 6),
    ),
    case(
        GO,
        """
        package config
        var JWTSecret = []byte(getEnv("JWT_SECRET", "super-secret-key-change-this"))
        func GetSigningKey() []byte {
            secret := os.Getenv("SIGNING_KEY")
            if secret == "" {
                return []byte("your-very-secret-key")
            }
            return []byte(secret)
        }
        """,
        ("SEC022", 3),
        ("SEC022", 7),
    ),
    # refused
    case(
        GO,
        """
        package config
        func load() string {
            key := getEnv("SIGNING_KEY", "changeme")
            if key == "changeme" {
                log.Fatal("set SIGNING_KEY")
            }
            return key
        }
        """,
    ),
    case(GO, 'package config\nvar redis = getEnv("REDIS_ADDR", "localhost:6379")\n'),
]

COMPOSE_CASES = [
    case(
        "deploy/docker-compose.prod.yml",
        """
        services:
          api:
            environment:
              JWT_SECRET: ${JWT_SECRET:-changeme}
              DEBUG: "${DEBUG-true}"
              ALLOWED_HOSTS: ${ALLOWED_HOSTS:-*}
              POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-postgres}
              SESSION_SECRET: ${SESSION_SECRET:?required}
        """,
        ("SEC022", 5),
        ("DEP017", 6),
        ("SEC024", 7),
    ),
    case(
        "docker-compose.dev.yml", "services:\n  api:\n    environment:\n      - DEBUG=${DEBUG:-1}\n"
    ),
]

SPRING_CASES = [
    case(
        PROPERTIES,
        "spring.datasource.password=${DB_PASSWORD:petclinic}\njwt.secret=${JWT_SECRET:mySecret}\n",
        ("SEC022", 2),
    ),
    case(
        "src/main/resources/application.yml",
        """
        app:
          jwt:
            secret: ${JWT_SECRET:mySecret}
          cors:
            allowed-origins: ${CORS_ORIGINS:*}
        """,
        ("SEC022", 4),
        ("SEC024", 6),
    ),
    case(
        "src/main/java/com/shop/security/JwtService.java",
        """
        class JwtService {
          @Value("${app.jwt-secret:changeit}")
          private String secret;
        }
        """,
        ("SEC022", 3),
    ),
    case(PROPERTIES, "jwt.secret=${JWT_SECRET}\n"),
    # a document for the development profile
    case(
        "src/main/resources/application.yml",
        """
        app:
          jwt:
            secret: ${JWT_SECRET}
        ---
        spring:
          config:
            activate:
              on-profile: dev
        app:
          jwt:
            secret: ${JWT_SECRET:dev-secret}
        ---
        app:
          cors:
            allowed-origins: ${ORIGINS:*}
        """,
        ("SEC024", 16),
    ),
    case("src/main/resources/application-dev.properties", "jwt.secret=${JWT_SECRET:dev}\n"),
]


@pytest.mark.parametrize(
    ("path", "source", "expected"), JS_CASES + GO_CASES + COMPOSE_CASES + SPRING_CASES
)
def test_other_languages(
    path: str, source: str, expected: set[tuple[str, int]], ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert found({path: source}, ruleset, analyzer) == {(r, path, n) for r, n in expected}


BASE = 'from config.env import env\nDEBUG = env.bool("DJANGO_DEBUG", default=True)\n'
PRODUCTION_DEBUG = 'DEBUG = env.bool("DJANGO_DEBUG", default=False)\n'


@pytest.mark.parametrize(
    "star_import", ["from .base import *  # noqa", "from config.django.base import *"]
)
def test_a_base_setting_production_overrides_is_not_reported(
    star_import: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "config/django/base.py": BASE,
        "config/django/production.py": f"{star_import}\n{PRODUCTION_DEBUG}",
    }
    assert found(files, ruleset, analyzer) == set()


def test_a_base_setting_only_tests_override_is_reported(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "config/django/base.py": BASE,
        "config/django/test.py": "from .base import *\nDEBUG = False\n",
        "config/django/production.py": "from .base import *\nALLOWED_HOSTS = ['shop.io']\n",
    }
    assert found(files, ruleset, analyzer) == {("DEP017", "config/django/base.py", 2)}


def test_a_secret_is_never_shown(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {PY: 'SECRET_KEY = os.getenv("SECRET_KEY", "Zq8xT4mLp2wR7")\n'}
    report = audit_files(files, ruleset, analyzer=analyzer)
    (finding,) = [f for f in report.findings if f.rule == "SEC022"]
    assert "Zq8xT4mLp2wR7" not in finding.message
    assert "SECRET_KEY" in finding.message
