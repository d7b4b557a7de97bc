"""Error types whose messages name the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path


class AlignomeError(Exception):
    """Base class of every error alignome raises on purpose.

    Parameters
    ----------
    problem
        What is wrong, in one sentence.
    file
        The file the problem was found in, if any.
    field
        The column, key or field concerned, if any.
    row
        Where in ``file``: the 1-based line number of the file, header line(s) counted (what an editor
        shows: line 2 is a CSV's first data row, line 1 a ``.bim``'s first variant; for Parquet, the
        data row + 1, as if written as CSV), or a description such as ``"3 and 8"``. One meaning for
        every reader: :attr:`alignome.io.tables.Table.frame`'s index + 1, and
        :func:`alignome.io.fields.file_line` for PLINK text files.
    fix
        What the user should do about it.
    """

    def __init__(
        self,
        problem: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        row: int | str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = str(file) if file is not None else None
        self.field = field
        self.row = row
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        """Human-readable message with location and fix."""
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.field:
            where.append(f"field '{self.field}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        text = self.problem
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class DataError(AlignomeError):
    """Input data are missing, malformed or inconsistent."""


class ConfigError(AlignomeError):
    """A recipe or command-line option is invalid."""
