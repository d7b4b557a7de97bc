"""Every command that writes checks its output folder (and the volume cache) before any work.

Tests run as root here, and root ignores permission bits; so the unwritable places are a folder
under a regular file (refused to root too) and a probe made to fail as a read-only mount fails.
"""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from alignome.cli import app
from alignome.errors import DataError
from alignome.io import writable
from alignome.io.writable import check_prefix_writable, check_writable

from tests.helpers.paths import RECIPES

runner = CliRunner()


@pytest.fixture
def blocked(tmp_path):
    """A path no one can create: its parent is a regular file."""
    (tmp_path / "file").write_text("not a folder\n")
    return tmp_path / "file" / "sub"


def test_a_folder_under_a_file_is_refused_naming_the_path(blocked):
    with pytest.raises(DataError) as err:
        check_writable(blocked)
    assert str(blocked) in str(err.value) and "is a file" in str(err.value) and err.value.fix


def test_a_read_only_folder_is_refused(tmp_path, monkeypatch):
    def refuse(folder):
        raise PermissionError(13, "Permission denied", str(folder))

    monkeypatch.setattr(writable, "_probe", refuse)
    with pytest.raises(DataError, match="Permission denied") as err:
        check_writable(tmp_path / "new" / "run", "volume cache")
    assert "volume cache" in str(err.value)


def test_writable_places_pass_and_nothing_is_left_behind(tmp_path):
    assert check_writable(tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()
    check_prefix_writable(tmp_path / "gwas" / "emb")
    check_writable(tmp_path)
    assert list(tmp_path.iterdir()) == []


WRITING_COMMANDS = {
    "simulate ad-cohort": ["simulate", "ad-cohort", "--subjects", "20", "--out", "{out}"],
    "simulate mri3d": ["simulate", "mri3d", "--subjects", "4", "--out", "{out}"],
    "simulate mm-cohort": ["simulate", "mm-cohort", "--subjects", "1", "--out", "{out}"],
    "run ad-gated-fusion": ["run", str(RECIPES / "ad-gated-fusion.yaml"), "--preset", "quick", "--out", "{out}"],
    "run longitudinal-mri": ["run", str(RECIPES / "longitudinal-mri.yaml"), "--preset", "quick", "--out", "{out}"],
    "gwas": ["gwas", "--bfile", "none", "--pheno", "none.tsv", "--out", "{out}/emb"],
    "prs": ["prs", "--bfile", "none", "--score", "none.txt", "--out", "{out}/prs"],
    "variants clump": ["variants", "clump", "--bfile", "none", "--sumstats", "none.tsv", "--out", "{out}/c"],
    "variants qc": ["variants", "qc", "--bfile", "none", "--out", "{out}/qc"],
    "variants meta": ["variants", "meta", "--sumstats", "none.tsv", "--out", "{out}/meta"],
    "variants select": ["variants", "select", "--sumstats", "none.tsv", "--bfile", "none", "--out", "{out}/panel"],
}


@pytest.mark.parametrize("command", sorted(WRITING_COMMANDS))
def test_every_writing_command_refuses_an_unwritable_out_before_reading_anything(command, blocked):
    args = [a.replace("{out}", str(blocked)) for a in WRITING_COMMANDS[command]]
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert str(blocked) in result.output and "fix:" in result.output
    assert "not found" not in result.output  # refused before any input was read


def test_the_3d_recipe_refuses_an_unwritable_volume_cache_before_any_work(blocked, tmp_path, monkeypatch):
    monkeypatch.setenv("ALIGNOME_CACHE_DIR", str(blocked))
    out = tmp_path / "run"
    result = runner.invoke(app, ["run", str(RECIPES / "longitudinal-mri.yaml"), "--preset", "quick", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert "volume cache" in result.output and "ALIGNOME_CACHE_DIR" in result.output
    assert not (out / "data").exists()  # nothing simulated


def _commands(typer_app, prefix: str = "") -> set[str]:
    names = {f"{prefix}{c.name or c.callback.__name__}" for c in typer_app.registered_commands}
    for group in typer_app.registered_groups:
        names |= _commands(group.typer_instance, f"{prefix}{group.name} ")
    return names


def test_every_command_that_writes_is_checked():
    reads_a_run_directory = {"report"}  # writes into a run directory that a run wrote
    prints_only = {"simulate mri3d-calibration"}
    missing = _commands(app) - reads_a_run_directory - prints_only - {c.split(" ", 1)[0] if c.startswith("run ") else c
                                                       for c in WRITING_COMMANDS}
    assert not missing, f"add these commands to WRITING_COMMANDS: {sorted(missing)}"
