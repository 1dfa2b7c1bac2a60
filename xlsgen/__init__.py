"""xlsgen: read, validate, roll forward, report, simulate and audit municipal Excel workbooks."""

from __future__ import annotations

import functools


@functools.cache
def version() -> str:
    """xlsgen's version. An installed copy (wheel, `pip install .`) gives its package
    metadata; a checkout (a setup.cfg beside the package, run through PYTHONPATH or an
    editable install) gives the version in its own setup.cfg; `unknown` when neither."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version
    from pathlib import Path

    cfg = Path(__file__).resolve().parent.parent / "setup.cfg"
    if cfg.is_file():
        import configparser

        parser = configparser.ConfigParser()
        parser.read(cfg, encoding="utf-8")
        checkout = parser.get("metadata", "version", fallback=None)
        if checkout and parser.get("metadata", "name", fallback="") == "xlsgen":
            return checkout
    try:
        return dist_version("xlsgen")
    except PackageNotFoundError:
        return "unknown"


def __getattr__(name: str):
    if name == "__version__":  # computed when asked, not at every import
        return version()
    raise AttributeError(f"module 'xlsgen' has no attribute {name!r}")
