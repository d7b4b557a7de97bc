"""Paths of the repository that tests read (recipes, benchmarks)."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES = REPO / "recipes"
