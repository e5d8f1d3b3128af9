"""Swallowed errors (ERR001, ERR009 in browser code), database clients (ERR003) and exception
text in responses (ERR005) on the shapes real repositories have."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset


def lines_of(
    rule: str, files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer
) -> list[tuple[str | None, int | None]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return sorted((f.path, f.line) for f in report.findings if f.rule == rule)


LOADER = """\
export async function loader({ params }: LoaderArgs) {
  const invoice = await getInvoice({ id: params.id }).catch(() => null);

  if (!invoice || invoice.status === "DRAFT") {
    throw new Response("Not Found", { status: 404 });
  }

  const [lines, payer] = await Promise.all([
    getLines({ invoiceId: invoice.id }),
    getPayer({ token: params.token }).catch(() => null),
  ]);

  if (!payer) {
    return notFound();
  }

  await markViewed({ id: invoice.id }).catch(() => null);
  const branding = await getBranding(invoice.teamId).catch(() => null);

  return { invoice, lines, payer, branding };
}
"""


def test_a_rejection_answered_by_an_explicit_not_found_is_handled(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    # lines 2 and 10 are answered by the `if` that follows; 17 and 18 are dropped for good
    assert lines_of("ERR001", {"app/routes/invoices.$id.ts": LOADER}, ruleset, analyzer) == [
        ("app/routes/invoices.$id.ts", 17),
        ("app/routes/invoices.$id.ts", 18),
    ]


def test_a_trpc_not_found_and_a_4xx_response_answer_it_too(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = """\
export const getInvoiceRoute = procedure.query(async ({ input }) => {
  const invoice = await getInvoiceById({ id: input.id }).catch(() => null);
  if (!invoice) {
    throw new TRPCError({ code: "NOT_FOUND", message: "Invoice not found" });
  }
  return invoice;
});

app.get("/jobs/:id", async (c) => {
  const job = await prisma.job.findUnique({ where: { id: c.req.param("id") } }).catch(() => null);
  if (!job) {
    return c.text("Job not found", 404);
  }
  return c.json(job);
});
"""
    assert lines_of("ERR001", {"src/invoices.ts": source}, ruleset, analyzer) == []


def test_a_checked_result_that_is_not_answered_stays_reported(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = """\
export async function sync(id: string) {
  const invoice = await getInvoice(id).catch(() => null);
  if (!invoice) {
    return;
  }
  const other = await getInvoice(id).catch(() => null);
  if (other) {
    throw new Error("duplicate");
  }
}
"""
    assert lines_of("ERR001", {"src/sync.ts": source}, ruleset, analyzer) == [
        ("src/sync.ts", 2),
        ("src/sync.ts", 6),
    ]


def test_a_zod_fallback_is_not_an_error_handler(ruleset: Ruleset, analyzer: Analyzer) -> None:
    source = """\
import { z as zod } from "zod";
export const Params = zod.object({
  page: zod.coerce.number().min(1).optional().catch(() => undefined),
});
export const load = (id: string) => fetchInvoice(id).catch(() => undefined);
"""
    assert lines_of("ERR001", {"src/params.ts": source}, ruleset, analyzer) == [
        ("src/params.ts", 5)
    ]


def test_browser_code_is_reported_lower(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "client/app/components/Refresh.jsx": (
            'import { useState } from "react";\n'
            "export function Refresh({ load }) {\n"
            "  const [busy, setBusy] = useState(false);\n"
            "  const refresh = () => load().catch(() => {}).then(() => setBusy(false));\n"
            "  return busy;\n"
            "}\n"
        ),
        "src/jobs/refresh.js": "export const refresh = (load) => load().catch(() => {});\n",
    }
    assert lines_of("ERR001", files, ruleset, analyzer) == [("src/jobs/refresh.js", 1)]
    assert lines_of("ERR009", files, ruleset, analyzer) == [
        ("client/app/components/Refresh.jsx", 4)
    ]
    severities = {
        f.rule: f.severity.value
        for f in audit_files(files, ruleset, analyzer=analyzer).findings
        if f.rule in ("ERR001", "ERR009")
    }
    assert severities == {"ERR001": "high", "ERR009": "low"}


REDIS_PY = """\
from redis import ConnectionPool, Redis


class Buffer:
    def pool(self):
        return ConnectionPool.from_url(self.url, socket_connect_timeout=0.25, socket_timeout=1)

    def connect(self):
        return Redis(connection_pool=self.pool())


def cache_pool(url):
    return ConnectionPool.from_url(url)
"""


def test_a_redis_client_given_a_pool_uses_the_pool_timeouts(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert lines_of("ERR003", {"app/buffer.py": REDIS_PY}, ruleset, analyzer) == [
        ("app/buffer.py", 13)
    ]


def test_pool_settings_spread_in_from_the_caller_are_not_judged(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "src/queue.ts": (
            "import pg from 'pg';\n"
            "export const open = (config: pg.PoolConfig) => new pg.Pool({ ...config, min: 0 });\n"
            "export const local = () => new pg.Pool({ host: 'db', max: 5 });\n"
        )
    }
    assert lines_of("ERR003", files, ruleset, analyzer) == [("src/queue.ts", 3)]


@pytest.mark.parametrize(
    ("source", "reported"),
    [
        (
            'logger.warning("lookup failed", extra={"url": url, "error": str(e)})\n',
            False,
        ),
        (
            'task_logger.warning(\n    "failed %s",\n    checkout_id,\n    extra={\n'
            '        "checkout_id": checkout_id,\n        "error": str(error),\n    },\n)\n',
            False,
        ),
        ('return JsonResponse({"error": str(e)}, status=500)\n', True),
        ("raise HTTPException(status_code=500, detail=str(exc))\n", True),
    ],
)
def test_exception_text_in_a_log_record_is_not_a_response(
    source: str, reported: bool, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    body = "".join(f"        {line}\n" if line else "\n" for line in source.splitlines())
    module = (
        "def view(request, url, checkout_id):\n"
        "    try:\n"
        "        work()\n"
        "    except ValueError as e:\n"
        f"        error = exc = e\n{body}"
    )
    found = lines_of("ERR005", {"app/views.py": module}, ruleset, analyzer)
    assert bool(found) is reported
