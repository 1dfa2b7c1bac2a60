import os
import shutil
from pathlib import Path

import pytest

from xlsgen import libreoffice

ROOT = Path(__file__).resolve().parent.parent
INPUTS = ROOT / "inputs"
OJIYA = INPUTS / "ojiya_進行管理シート_R3.xlsx"
JOSO = INPUTS / "joso_事務事業評価シート_R3.xlsx"
NISHITOKYO = INPUTS / "nishitokyo_施策体系KPI.xlsx"


@pytest.fixture
def recalc(tmp_path):
    """Recalculate a workbook in LibreOffice; returns the recalculated copy's path.

    Skips only outside CI: under CI=true a missing LibreOffice is a failure.
    """
    if libreoffice.soffice() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required under CI=true (install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice not installed")

    def run(path):
        return libreoffice.recalculate(path, tmp_path / "recalc")

    return run


@pytest.fixture
def ojiya_copy(tmp_path):
    """A private copy of the shipped 小千谷 workbook (inputs are never touched)."""
    dst = tmp_path / OJIYA.name
    shutil.copy(OJIYA, dst)
    return dst
