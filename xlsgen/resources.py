"""Files shipped inside the package (layouts, simulation and report templates), found
through `importlib.resources` so an installed wheel finds them as a checkout does."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

TEMPLATE_KINDS = ("layouts", "simulations", "reports")


def templates_dir(kind: str | None = None) -> Path:
    """The shipped `templates/` folder (or its `layouts`, `simulations`, `reports` part)."""
    root = Path(str(files("xlsgen").joinpath("templates")))
    return root / kind if kind else root


def schema_path() -> Path:
    """The JSON Schema of what `extract` writes (xlsgen/schema/book.schema.json)."""
    return Path(str(files("xlsgen").joinpath("schema", "book.schema.json")))
