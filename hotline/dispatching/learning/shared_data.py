"""Where the project's shared real data lives: `shared/data/` beside the repository (or beside one of its parent
folders, as for a worktree), or HOTLINE_SHARED_DATA. Never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path


def shared_data_dir() -> Path | None:
    env = os.environ.get("HOTLINE_SHARED_DATA")
    if env:
        return Path(env) if Path(env).is_dir() else None
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "shared" / "data"
        if candidate.is_dir():
            return candidate
    return None
