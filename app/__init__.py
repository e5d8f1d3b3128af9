"""stopship: a production-readiness gate for GitHub."""

__version__ = "0.1.0"
