"""FastAPI: the webhook route, health and metrics; nothing else of substance."""
