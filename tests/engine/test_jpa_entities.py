"""JPA entities in the schema rules: a foreign key is reported once, where it is declared."""

from __future__ import annotations

from app.engine.memory import audit_files
from app.engine.ruleset import load_ruleset

RULESET = load_ruleset()

ENTITY = """\
@Entity
@Table(name = "invoices")
public class Invoice {
    @Id @GeneratedValue private Long id;
    @ManyToOne @JoinColumn(name = "customer_id") private Customer customer;
    @CreationTimestamp private Instant createdAt;
}
"""
MIGRATION = """\
CREATE TABLE invoices (
  id bigserial PRIMARY KEY,
  customer_id bigint NOT NULL REFERENCES customers (id),
  created_at timestamptz NOT NULL DEFAULT now()
);
"""


def _db006(files: dict[str, str]) -> list[tuple[str | None, int | None]]:
    report = audit_files(files, RULESET)
    return [(f.path, f.line) for f in report.findings if f.rule == "DB006"]


def test_a_key_the_migrations_declare_is_reported_in_the_migration_only() -> None:
    files = {
        "src/main/java/com/example/Invoice.java": ENTITY,
        "src/main/resources/db/migration/V1__invoices.sql": MIGRATION,
    }
    assert _db006(files) == [("src/main/resources/db/migration/V1__invoices.sql", 1)]


def test_an_index_the_migrations_create_covers_the_entity() -> None:
    files = {
        "src/main/java/com/example/Invoice.java": ENTITY,
        "src/main/resources/db/migration/V2__invoices_customer.sql": (
            "CREATE INDEX CONCURRENTLY invoices_customer_id_idx ON invoices (customer_id);\n"
        ),
    }
    assert _db006(files) == []


def test_an_entity_alone_is_reported_on_its_association() -> None:
    assert _db006({"src/main/java/com/example/Invoice.java": ENTITY}) == [
        ("src/main/java/com/example/Invoice.java", 5)
    ]
