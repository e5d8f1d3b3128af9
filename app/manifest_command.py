"""`stopship app-manifest --url URL`: print the GitHub App's manifest (app/app_manifest.py) for
GitHub's App-from-manifest flow, its webhook delivering to URL."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def app_manifest(
    url: Annotated[
        str,
        typer.Option(help="The webhook URL, e.g. https://stopship.example.com/webhooks/github."),
    ],
    name: Annotated[str, typer.Option(help="The App's name (unique on GitHub).")] = "stopship",
) -> None:
    """Print the GitHub App manifest: the permissions and events the App uses, nothing more."""
    from app.app_manifest import manifest

    try:
        document = manifest(url, name)
    except ValueError as exc:
        typer.echo(f"stopship: --url: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(json.dumps(document, indent=2))
