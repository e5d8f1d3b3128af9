"""Administrators created with a fixed password: SEC023 where every installation gets the account
(migrations, start-up code, the image), DEP018 where a script has to be run (seeds, management
commands, shell scripts); tests, fixtures and development files never."""

from __future__ import annotations

from textwrap import dedent

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

BCRYPT = "$2a$10$7EqJtq98hPqEX7fNZaFWoOhi5BWX4Z9fBzk7Qf0G3uT1h2c9w5J1u"
DJANGO_MIGRATION = """from django.db import migrations

def forwards(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    User.objects.create_superuser(username="admin", email="admin@example.com", password="admin")

class Migration(migrations.Migration):
    operations = [migrations.RunPython(forwards)]
"""


def case(path: str, source: str, *expected: tuple[str, int]) -> object:
    """A file (its source dedented; a triple-quoted source starts with an empty line 1) and the
    (rule, line) findings it must produce, no others."""
    return pytest.param(path, dedent(source), set(expected), id=f"{path}:{source.strip()[:40]}")


CASES = [
    case("accounts/migrations/0002_admin.py", DJANGO_MIGRATION, ("SEC023", 5)),
    case(
        "db/migration/V2__seed_admin.sql",
        f"""
        INSERT INTO app_user (id, username, password, enabled)
        VALUES
          (1, 'admin', '{BCRYPT}', true),
          (2, 'guest', '{BCRYPT}', true);
        """,
        ("SEC023", 4),
    ),
    case(
        "db/migration/V3__ops.sql",
        f"INSERT INTO users (email, password_hash, is_admin) VALUES ('o@x.io', '{BCRYPT}', 1);\n",
        ("SEC023", 1),
    ),
    # the password in a local constant; the environment's fallback is SEC022's
    case(
        "repo/migrations/0002_default_superuser.py",
        """
        def generate_superuser(apps, schema_editor):
            SU_PASSWORD = "admin"
            User.objects.create_superuser(username="admin", email="", password=SU_PASSWORD)
        """,
        ("SEC023", 4),
    ),
    case(
        "core/migrations/0003_admin.py",
        """
        def forwards(apps, schema_editor):
            User.objects.create_superuser(
                username=os.getenv("SITE_ADMIN_USER", "admin"),
                password=os.getenv("SITE_ADMIN_PASSWORD"),
            )
        """,
    ),
    case(
        "core/migrations/0004_staff.py",
        """
        def forwards(apps, schema_editor):
            User = apps.get_model("auth", "User")
            User.objects.create(
                username="ops", password=make_password("12345678"), is_superuser=True
            )
        """,
        ("SEC023", 4),
    ),
    case(
        "db/migration/V5__admin.sql",
        f"""
        insert into "user"(role_id, username, password)
        select r.id, 'admin', '{BCRYPT}' from role r where r.role = 'ADMIN';
        """,
        ("SEC023", 3),
    ),
    # built step by step
    case(
        "accounts/migrations/0005_admin.py",
        """
        def forwards(apps, schema_editor):
            user = User(username="admin", email="admin@example.com")
            user.is_superuser = True
            user.set_password("admin")
            user.save()
        """,
        ("SEC023", 5),
    ),
    case(
        "accounts/migrations/0006_editor.py",
        """
        def forwards(apps, schema_editor):
            user = User(username="editor")
            user.set_password("editor")
            user.save()
        """,
    ),
    case(
        "src/migrations/1572860290391-InsertAdmin.ts",
        """
        export class InsertAdmin implements MigrationInterface {
          public async up(queryRunner: QueryRunner): Promise<any> {
            const user = new User();
            user.username = "admin";
            user.password = "admin";
            user.roles = ["ADMIN"];
            await getRepository(User).save(user);
          }
        }
        """,
        ("SEC023", 6),
    ),
    # an ordinary user, and a placeholder that is no usable hash
    case(
        "db/migration/V4__demo.sql",
        f"""
        INSERT INTO users (email, password_hash) VALUES ('jane@shop.io', '{BCRYPT}');
        INSERT INTO user_ (name, password_encrypted) VALUES ('admin', 'TBD');
        """,
    ),
    case(
        "src/main/resources/data.sql",
        "INSERT INTO users (username, password, role) VALUES ('admin', '{noop}admin', 'ADMIN');\n",
        ("SEC023", 1),
    ),
    case(
        "src/main/resources/db/seed.sql",
        "INSERT INTO users (username, password, role) VALUES ('admin', '{noop}admin', 'ADMIN');\n",
        ("DEP018", 1),
    ),
    # application start-up code
    case(
        "app/initial_data.py",
        """
        def init(session):
            session.add(
                User(
                    email="admin@example.com",
                    hashed_password=get_password_hash("admin"),
                    is_superuser=True,
                )
            )
        """,
        ("SEC023", 4),
    ),
    case(
        "app/initial_data.py",
        """
        def init(session):
            user = UserCreate(
                email=settings.FIRST_SUPERUSER,
                password=settings.FIRST_SUPERUSER_PASSWORD,
                is_superuser=True,
            )
        """,
    ),
    case(
        "src/bootstrap.ts",
        """
        await User.create({
          username: "admin", password: await bcrypt.hash("admin", 10), role: Role.ADMIN,
        });
        """,
        ("SEC023", 2),
    ),
    # Go: the owner account created at start-up (cmd/ holds the server's main package)
    case(
        "internal/cmd/root.go",
        """
        package cmd
        func ensureOwner(ctx context.Context, d *Deps) {
            account := model.AccountDTO{
                Username: "shiori",
                Password: "gopher",
                Owner:    model.Ptr(true),
            }
            if _, err := d.Accounts().CreateAccount(ctx, account); err != nil {
                log.Fatal(err)
            }
        }
        """,
        ("SEC023", 4),
    ),
    case(
        "internal/store/users.go",
        """
        package store
        func seedGuest(ctx context.Context, s *Store) error {
            return s.CreateUser(ctx, User{Username: "guest", Password: "guest"})
        }
        """,
    ),
    # objects with a password that are not handed to anything that stores them; components
    case(
        "src/login.ts",
        """
        export const demoLogin = { username: "admin", password: "admin" };
        await api.post("/login", { email: "admin@example.com", password: "admin" });
        """,
    ),
    case(
        "src/pages/Login.tsx",
        'await db.user.create({ data: { email: "a@x.io", password: "admin", role: "admin" } });\n',
    ),
    # management commands, seeds, scripts: someone has to run them
    case(
        "accounts/management/commands/make_admin.py",
        """
        class Command(BaseCommand):
            def handle(self, *args, **options):
                User.objects.create_superuser("admin", "admin@example.com", "admin")
        """,
        ("DEP018", 4),
    ),
    case(
        "prisma/seed.ts",
        """
        await prisma.user.create({
          data: { email: "admin@example.com", password: hashSync("password"), roles: [Role.ADMIN] },
        });
        """,
        ("DEP018", 3),
    ),
    case(
        "shop/utils/populate_db.py",
        'def run():\n    User.objects.create_superuser("admin", "a@x.io", "admin")\n',
        ("DEP018", 2),
    ),
    case(
        "scripts/docker-init.sh",
        """
        superset fab create-admin --username admin --firstname A --lastname B \\
          --email admin@example.com --password admin
        """,
        ("DEP018", 2),
    ),
    case(
        "docker/entrypoint.sh",
        """
        python manage.py migrate
        echo "from django.contrib.auth.models import User; \\
        User.objects.create_superuser('admin', 'admin@example.com', 'admin')" \\
          | python manage.py shell
        create-admin --email ops@example.com --password admin
        """,
        ("DEP018", 4),
        ("DEP018", 6),
    ),
    case(
        "docker-compose.yml",
        """
        services:
          web:
            command: sh -c 'python manage.py createsuperuser --noinput'
            environment:
              DJANGO_SUPERUSER_PASSWORD: admin
        """,
        ("DEP018", 6),
    ),
    case(
        "Dockerfile",
        """
        FROM python:3.12
        ENV DJANGO_SUPERUSER_PASSWORD=admin
        CMD python manage.py createsuperuser --noinput && gunicorn app.wsgi
        """,
        ("SEC023", 3),
    ),
    case(
        "Dockerfile",
        'FROM python:3.12\nCMD python manage.py createsuperuser --noinput --username "$ADMIN"\n',
    ),
    # tests and fixtures
    case(
        "internal/testutil/accounts.go",
        """
        package testutil
        func NewAdminUser(d Deps) (*Account, error) {
            return d.Accounts().CreateAccount(ctx, Account{Username: "admin", Password: "admin"})
        }
        """,
    ),
    case(
        "accounts/tests/test_admin.py",
        'def test_admin(db):\n    User.objects.create_superuser("admin", "a@x.io", "admin")\n',
    ),
    case(
        "e2e/fixtures/users.ts",
        'await prisma.user.create({ data: { email: "a@x.io", password: "x", isAdmin: true } });\n',
    ),
]


@pytest.mark.parametrize(("path", "source", "expected"), CASES)
def test_admin_accounts(
    path: str, source: str, expected: set[tuple[str, int]], ruleset: Ruleset, analyzer: Analyzer
) -> None:
    report = audit_files({path: source}, ruleset, analyzer=analyzer)
    fired = {(f.rule, f.line) for f in report.findings if f.rule in {"SEC023", "DEP018"}}
    assert fired == expected


def test_default_admin_credentials_are_stop_ship_and_never_show_the_password(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    migration = DJANGO_MIGRATION.replace('password="admin"', 'password="Pa55w0rd!"')
    files = {"accounts/migrations/0002_admin.py": migration}
    report = audit_files(files, ruleset, analyzer=analyzer)
    (finding,) = [f for f in report.findings if f.rule == "SEC023"]
    assert finding.stop_ship
    assert "Pa55w0rd!" not in finding.message
