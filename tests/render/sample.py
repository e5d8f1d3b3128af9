"""A small service with a few known findings, written into a temporary directory."""

from __future__ import annotations

from pathlib import Path

FILES = {
    "api/main.py": (
        "import sqlite3\n"
        "from fastapi import FastAPI\n"
        "app = FastAPI()\n"
        "@app.get('/users/{user_id}')\n"
        "def user(user_id: str):\n"
        "    db = sqlite3.connect('app.db')\n"
        "    return db.execute(f\"SELECT id FROM users WHERE id = '{user_id}'\").fetchall()\n"
    ),
    "api/client.py": (
        "import requests\n"
        "\n"
        "\n"
        "def rates():\n"
        "    return requests.get('https://rates.example.com/today').json()\n"
    ),
    "requirements.txt": "fastapi==0.115.0\nrequests==2.32.3\n",
    "Dockerfile": 'FROM python:latest\nCOPY . /app\nCMD ["python", "-m", "api"]\n',
}


def write_sample(root: Path) -> Path:
    """The sample service under `root/service`; its path."""
    repo = root / "service"
    for name, text in FILES.items():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return repo
