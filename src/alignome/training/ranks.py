"""Which process of a multi-process training this is: only the main one evaluates and writes results.

Lightning's ``ddp`` launcher (the default on several GPUs) and ``torchrun`` start every
process on the whole command, so everything after training would run once per process.
They tell a process its place through the environment: ``RANK`` (torchrun, the global
rank), ``NODE_RANK`` and ``LOCAL_RANK`` (Lightning's launcher). ``ddp_spawn`` returns to
the launching process alone, which is rank 0.
"""

from __future__ import annotations

import os

from alignome.errors import ConfigError

#: Environment variables that give a launched process its place; any non-zero one means "not the main process".
RANK_VARIABLES = ("RANK", "NODE_RANK", "LOCAL_RANK")


def launched_rank() -> int:
    """The largest rank the launcher set in :data:`RANK_VARIABLES` (0 when none is set)."""
    ranks = [0]
    for name in RANK_VARIABLES:
        value = os.environ.get(name, "").strip()
        if not value:
            continue
        try:
            ranks.append(int(value))
        except ValueError:
            raise ConfigError(f"the environment variable {name}={value!r} is not a process rank", field=name,
                              fix=f"unset {name} or set it to a whole number (0 for the main process)") from None
    return max(ranks)


def is_main_process(trainer_rank: int = 0) -> bool:
    """True in the one process that evaluates and writes results: rank 0 for the launcher and the trainer."""
    return trainer_rank == 0 and launched_rank() == 0
