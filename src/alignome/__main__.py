"""``python -m alignome …``: the same as the ``alignome`` command."""

from alignome.cli import app

if __name__ == "__main__":  # spawned processes (DDP on CPU) import this module without running the CLI
    app(prog_name="alignome")
