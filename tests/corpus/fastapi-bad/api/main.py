import httpx
import jwt
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from sqlalchemy import create_engine, text

app = FastAPI()
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
engine = create_engine("postgresql://api:api@localhost:5432/api")
JWT_KEY = "c2VjcmV0LWtleS1mb3ItcHJvZHVjdGlvbi11c2U9PQ"


@app.get("/users/{user_id}")
def user(user_id: str):
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT * FROM users WHERE id = '{user_id}'")).mappings().all()


@app.get("/me")
def me(request: Request):
    token = request.headers["authorization"].removeprefix("Bearer ")
    return jwt.decode(token, options={"verify_signature": False})


@app.post("/notify")
async def notify(payload: dict):
    async with httpx.AsyncClient() as client:
        await client.post("https://hooks.example.com/notify", json=payload)
    return {"ok": True}


@app.post("/login")
def login(payload: dict):
    print("login attempt", payload["email"], payload["password"])
    return {"ok": True}
