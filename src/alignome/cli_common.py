"""What every command-line module shares: how an alignome error ends a command."""

from __future__ import annotations

import typer

from alignome.errors import AlignomeError


def exit_with_error(exc: AlignomeError | str) -> None:
    """Print ``error: …`` (file, field, row and fix) without a traceback and exit with status 2."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)
