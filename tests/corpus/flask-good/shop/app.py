import uuid

import requests
import structlog
from flask import Flask, g, jsonify, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_talisman import Talisman
from prometheus_flask_exporter import PrometheusMetrics
from psycopg_pool import ConnectionPool
from tenacity import retry, stop_after_attempt, wait_exponential

from shop.settings import settings

log = structlog.get_logger()
app = Flask(__name__)
app.config["SECRET_KEY"] = settings.secret_key
Talisman(app)
limiter = Limiter(get_remote_address, app=app, default_limits=["100 per minute"])
PrometheusMetrics(app)
pool = ConnectionPool(str(settings.database_url), min_size=1, max_size=10, timeout=5,
                      kwargs={"options": "-c statement_timeout=5000"})


@app.before_request
def request_id():
    g.request_id = request.headers.get("X-Request-ID") or str(uuid.uuid4())
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


@app.errorhandler(Exception)
def internal_error(exc):
    log.exception("unhandled error")
    return jsonify({"error": "internal_error", "request_id": g.get("request_id")}), 500


@app.get("/healthz")
def health():
    return {"status": "ok"}


@app.get("/products")
def products():
    limit = min(int(request.args.get("limit", 50)), 100)
    with pool.connection() as conn:
        rows = conn.execute(
            "SELECT id, name, price FROM products WHERE name ILIKE %s ORDER BY id LIMIT %s",
            (f"%{request.args['q']}%", limit),
        ).fetchall()
    return jsonify({"items": rows, "limit": limit})


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2))
def fetch_price(sku: str) -> dict:
    response = requests.get(f"{settings.pricing_url}/v1/{sku}", timeout=(2, 5))
    response.raise_for_status()
    return response.json()


@app.get("/price/<sku>")
def price(sku):
    try:
        return jsonify(fetch_price(sku))
    except requests.RequestException:
        log.warning("pricing unavailable", sku=sku)
        return jsonify({"error": "pricing_unavailable"}), 503
