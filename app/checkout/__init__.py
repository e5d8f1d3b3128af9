"""A local checkout: its snapshot, an on-disk result cache and a parallel scan (for the CLI)."""
