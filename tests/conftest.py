import os
import shutil
from pathlib import Path

import pytest

from tests import openpyxl_merges
from xlsgen import libreoffice

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
OJIYA = INPUTS / "ojiya_進行管理シート_R3.xlsx"
JOSO = INPUTS / "joso_事務事業評価シート_R3.xlsx"
NISHITOKYO = INPUTS / "nishitokyo_施策体系KPI.xlsx"


def pytest_configure(config):
    # openpyxl's merged-range borders, the same result faster (see tests/openpyxl_merges.py)
    openpyxl_merges.install()


def need_libreoffice() -> None:
    """Skip without LibreOffice, except under CI=true, where a missing LibreOffice fails."""
    if libreoffice.soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required under CI=true (install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")


class Recalc:
    """`recalc(path)`: a copy recalculated by LibreOffice; `recalc.many(paths)`: copies of
    several workbooks recalculated by one LibreOffice process (starting it costs more than
    converting one workbook), in the order given."""

    def __init__(self, outdir: Path):
        self.outdir = outdir

    def __call__(self, path):
        return libreoffice.recalculate(path, self.outdir)

    def many(self, paths) -> list[Path]:
        return libreoffice.recalculate_many(paths, self.outdir)


@pytest.fixture
def recalc(tmp_path):
    """Recalculate workbooks in LibreOffice (see `Recalc`).

    Skips only outside CI: under CI=true a missing LibreOffice is a failure.
    """
    need_libreoffice()
    return Recalc(tmp_path / "recalc")


@pytest.fixture
def ojiya_copy(tmp_path):
    """A private copy of the shipped 小千谷 workbook (inputs are never touched)."""
    dst = tmp_path / OJIYA.name
    shutil.copy(OJIYA, dst)
    return dst
