"""What every command-line module shares: how an alignome error ends a command."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer

from alignome.errors import AlignomeError
from alignome.io.writable import file_error

#: Exit status of a command stopped by Ctrl-C (128 + SIGINT), as shells report it.
INTERRUPTED = 130


def exit_with_error(exc: AlignomeError | str) -> None:
    """Print ``error: …`` (file, field, row and fix) without a traceback and exit with status 2."""
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=2)


@contextmanager
def command_errors() -> Iterator[None]:
    """End a command on an alignome error, or an ``OSError`` (read-only folder, full disk), with status 2."""
    try:
        yield
    except AlignomeError as exc:
        exit_with_error(exc)
    except OSError as exc:
        exit_with_error(file_error(exc))
