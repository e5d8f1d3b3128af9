from contextlib import asynccontextmanager
from uuid import UUID

import httpx
import jwt
import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from prometheus_fastapi_instrumentator import Instrumentator
from slowapi import Limiter
from slowapi.util import get_remote_address
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from secure import Secure
from tenacity import retry, stop_after_attempt, wait_exponential

from api.settings import settings

log = structlog.get_logger()
engine = create_async_engine(settings.database_url, pool_pre_ping=True, pool_recycle=1800,
                             connect_args={"timeout": 5, "command_timeout": 10})
limiter = Limiter(key_func=get_remote_address)
secure_headers = Secure.with_default_headers()


@asynccontextmanager
async def lifespan(app: FastAPI):
    app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(5.0))
    yield
    await app.state.http.aclose()
    await engine.dispose()


app = FastAPI(lifespan=lifespan)
app.add_middleware(CORSMiddleware, allow_origins=settings.allowed_origins, allow_credentials=True)
app.add_middleware(CorrelationIdMiddleware)
app.state.limiter = limiter
Instrumentator().instrument(app).expose(app)


@app.middleware("http")
async def security_headers(request: Request, call_next):
    response = await call_next(request)
    await secure_headers.set_headers_async(response)
    return response


def current_user(request: Request) -> dict:
    token = request.headers.get("authorization", "").removeprefix("Bearer ")
    try:
        return jwt.decode(token, settings.jwt_secret, algorithms=["HS256"])
    except jwt.PyJWTError as exc:
        raise HTTPException(status_code=401, detail="invalid token") from exc


@app.get("/healthz/live")
async def live():
    return {"status": "ok"}


@app.get("/users/{user_id}")
async def user(user_id: UUID, me: dict = Depends(current_user)):
    async with engine.connect() as conn:
        row = await conn.execute(text("SELECT public_id, email, created_at FROM users WHERE public_id = :id"), {"id": user_id})
        return row.mappings().first()


@retry(stop=stop_after_attempt(3), wait=wait_exponential(multiplier=0.2))
async def _notify(client: httpx.AsyncClient, payload: dict) -> None:
    (await client.post(settings.notify_url, json=payload)).raise_for_status()


@app.post("/notify")
@limiter.limit("10/minute")
async def notify(request: Request, payload: dict, me: dict = Depends(current_user)):
    await _notify(request.app.state.http, payload)
    log.info("notified", user=me["sub"])
    return {"ok": True}
