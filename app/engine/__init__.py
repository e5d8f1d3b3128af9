"""The pure core: snapshot -> findings -> score. No network, no database, no GitHub."""
