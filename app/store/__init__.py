"""stopship's own database (SQLite by default, PostgreSQL in production), via SQLAlchemy 2 async."""
