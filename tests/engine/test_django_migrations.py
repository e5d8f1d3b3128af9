"""Django migrations judged with Django's own semantics: which AddField leaves existing rows
without a value (DEP008), and which migrations run on empty tables only (squashed, initial)."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.detectors.django_fields import FieldKind, known_field_kind, resolve_field_kind
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

NOT_NULL = "DEP008"


def _migration(field: str, *, extra: str = "") -> str:
    return (
        "from django.db import migrations, models\n"
        "import shop.fields\n"
        "import taggit.managers\n"
        "\n"
        "\n"
        "class Migration(migrations.Migration):\n"
        "    dependencies = [('shop', '0007_previous')]\n"
        f"{extra}"
        "    operations = [\n"
        "        migrations.AddField(\n"
        "            model_name='order',\n"
        "            name='extra',\n"
        f"            field={field},\n"
        "        ),\n"
        "    ]\n"
    )


def _lines(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer, rule: str) -> list[int]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return [f.line or 0 for f in report.findings if f.rule == rule]


PATH = "shop/migrations/0008_order_extra.py"


@pytest.mark.parametrize(
    "field",
    [
        "models.CharField(blank=True, max_length=50)",
        "models.TextField(blank=True)",
        "models.SlugField(blank=True)",
        "models.EmailField(blank=True, max_length=254)",
        "models.URLField(blank=True)",
        "models.FileField(blank=True, upload_to='x')",
        "models.BinaryField(blank=True)",
        "django_countries.fields.CountryField(blank=True, max_length=2)",
        "models.ManyToManyField(blank=True, to='shop.Tag')",
        "models.ManyToManyField(to='shop.Tag')",
        "taggit.managers.TaggableManager(through='shop.TaggedItem', to='shop.Tag')",
        "models.IntegerField(default=0)",
        "models.IntegerField(db_default=0)",
        "models.ForeignKey(null=True, on_delete=models.SET_NULL, to='shop.Customer')",
        "models.DateTimeField(auto_now_add=True)",
        "models.DateField(auto_now=True)",
        "models.BigAutoField(primary_key=True, serialize=False)",
    ],
)
def test_add_field_that_gets_a_value_for_existing_rows_is_quiet(
    field: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert _lines({PATH: _migration(field)}, ruleset, analyzer, NOT_NULL) == []


@pytest.mark.parametrize(
    "field",
    [
        "models.IntegerField()",
        "models.IntegerField(blank=True)",  # blank gives no value: integers allow no ''
        "models.BooleanField(blank=True)",
        "models.DateTimeField(blank=True)",
        "models.UUIDField(blank=True)",
        "models.JSONField(blank=True)",
        "models.ForeignKey(on_delete=models.CASCADE, to='shop.Customer')",
        "models.ForeignKey(blank=True, on_delete=models.CASCADE, to='shop.Customer')",
        "models.CharField(max_length=50)",  # not blank: Django asks for a one-off default
        "models.DecimalField(blank=True, decimal_places=2, max_digits=8)",
        "shop.fields.MoneyField(blank=True)",  # a project class nobody defines here
    ],
)
def test_add_field_without_a_value_for_existing_rows_is_reported(
    field: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert _lines({PATH: _migration(field)}, ruleset, analyzer, NOT_NULL) == [9]


FIELDS_PY = (
    "from django.db import models\n"
    "\n"
    "\n"
    "class HexColourField(models.CharField):\n"
    "    def __init__(self, *args, **kwargs):\n"
    "        kwargs['max_length'] = 6\n"
    "        super().__init__(*args, **kwargs)\n"
    "\n"
    "\n"
    "class ShadeField(HexColourField):\n"
    "    pass\n"
    "\n"
    "\n"
    "class CentsField(models.PositiveIntegerField):\n"
    "    pass\n"
    "\n"
    "\n"
    "class LabelsField(models.ManyToManyField):\n"
    "    pass\n"
)


@pytest.mark.parametrize(
    ("field", "reported"),
    [
        ("shop.fields.HexColourField(blank=True)", False),
        ("shop.fields.ShadeField(blank=True)", False),  # through the project's own chain
        ("shop.fields.HexColourField()", True),
        ("shop.fields.CentsField(blank=True)", True),
        ("shop.fields.LabelsField(to='shop.Label')", False),
    ],
)
def test_project_field_classes_are_followed_to_a_django_field(
    field: str, reported: bool, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {PATH: _migration(field), "shop/fields.py": FIELDS_PY}
    assert _lines(files, ruleset, analyzer, NOT_NULL) == ([9] if reported else [])


@pytest.mark.parametrize(
    "extra",
    [
        "    replaces = [('shop', '0002_a'), ('shop', '0003_b')]\n",
        "    initial = True\n",
    ],
)
def test_squashed_and_initial_migrations_run_on_empty_tables(
    extra: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = _migration(
        "models.ForeignKey(on_delete=models.CASCADE, to='shop.Customer')", extra=extra
    )
    source = source.replace(
        "    ]\n",
        "        migrations.AddIndex(\n"
        "            model_name='order', index=models.Index(fields=['extra'], name='x')\n"
        "        ),\n"
        "        migrations.RemoveField(model_name='order', name='legacy'),\n"
        "    ]\n",
    )
    files = {PATH: source}
    for rule in ("DEP008", "DEP005", "DEP009", "DEP007"):
        assert _lines(files, ruleset, analyzer, rule) == [], rule


def test_empty_replaces_is_an_ordinary_migration(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = _migration("models.IntegerField()", extra="    replaces = []\n    initial = False\n")
    assert _lines({PATH: source}, ruleset, analyzer, NOT_NULL) == [11]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("CharField", FieldKind.STRING),
        ("CommaSeparatedIntegerField", FieldKind.STRING),
        ("EncryptedTextField", FieldKind.STRING),
        ("PositiveSmallIntegerField", FieldKind.OTHER),
        ("BigIntegerRangeField", FieldKind.OTHER),
        ("SortedManyToManyField", FieldKind.MANY_TO_MANY),
        ("ClusterTaggableManager", FieldKind.MANY_TO_MANY),
        ("GeneratedField", FieldKind.FILLS_ITSELF),
        ("TreeForeignKey", FieldKind.UNKNOWN),
    ],
)
def test_field_kind_by_name(name: str, kind: FieldKind) -> None:
    assert known_field_kind(name) is kind


def test_resolution_survives_a_cycle() -> None:
    assert resolve_field_kind("A", {"A": ["B"], "B": ["A"]}) is FieldKind.UNKNOWN
