"""An installed xlsgen works anywhere: a wheel built from this tree, installed into a fresh
virtual environment, runs the yearly batch on the bundled inputs from a folder outside the
clone (three reports, exit 0), simulates a bundled template by name and checks a layout by
name. The sdist carries the templates too.

The venv is made once for the module, with `--system-site-packages` so the dependencies
are the machine's and the wheel goes in with `--no-deps` (no download); each test proves
that the installed copy runs, not this checkout (`xlsgen.__file__` inside the venv).
Under CI=true this never skips: a missing `wheel` package is a failure."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import INPUTS, OJIYA, ROOT
from xlsgen.cli import cli

TEMPLATES = ("templates/layouts/ojiya.yaml", "templates/simulations/mitaka_model_a.yaml",
             "templates/reports/setagaya_forum_survey.yaml", "py.typed")


def _clean_env() -> dict:
    """No PYTHONPATH (it would put this checkout first)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _run(cmd, cwd, check=True) -> subprocess.CompletedProcess:
    res = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_clean_env(), capture_output=True,
                         text=True, timeout=600)
    if check and res.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} → {res.returncode}\n{res.stdout[-2000:]}\n{res.stderr[-3000:]}")
    return res


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """A wheel and an sdist built from a copy of this tree's package files (the clone is
    not written to)."""
    try:
        import wheel  # noqa: F401 - setuptools needs it to build a wheel without a download
    except ImportError:
        if os.environ.get("CI") == "true":
            pytest.fail("the `wheel` package is required under CI=true (pip install -e '.[test]')")
        pytest.skip("the `wheel` package is not installed")
    src = tmp_path_factory.mktemp("src")
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "xlsgen", src / "xlsgen",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    _run([sys.executable, "-c", "from setuptools import build_meta as b; "
          f"b.build_wheel({str(out)!r}); b.build_sdist({str(out)!r})"], cwd=src)
    return out


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory) -> Path:
    """A fresh venv holding the wheel; returns its bin folder."""
    root = tmp_path_factory.mktemp("venv") / "env"
    _run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", root], cwd=root.parent)
    bindir = root / ("Scripts" if os.name == "nt" else "bin")
    wheel_file = next(dist.glob("xlsgen-*.whl"))
    _run([bindir / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", wheel_file],
         cwd=root.parent)
    return bindir


@pytest.fixture
def elsewhere(tmp_path) -> Path:
    """A working folder outside the clone."""
    assert ROOT not in tmp_path.parents
    return tmp_path


def test_wheel_and_sdist_carry_the_templates(dist):
    with zipfile.ZipFile(next(dist.glob("xlsgen-*.whl"))) as z:
        names = set(z.namelist())
    assert {f"xlsgen/{t}" for t in TEMPLATES} <= names
    with tarfile.open(next(dist.glob("xlsgen-*.tar.gz"))) as t:
        members = {m.name.split("/", 1)[1] for m in t.getmembers() if "/" in m.name}
    assert {f"xlsgen/{t}" for t in TEMPLATES} <= members


def test_installed_copy_is_the_one_that_runs(venv, elsewhere):
    res = _run([venv / "python", "-c", "import xlsgen; print(xlsgen.__file__); print(xlsgen.__version__)"],
               cwd=elsewhere)
    file, version = res.stdout.split()
    assert Path(file).resolve().is_relative_to(venv.parent.resolve()), file
    assert not Path(file).resolve().is_relative_to(ROOT), file
    assert version == _run([venv / "xlsgen", "--version"], cwd=elsewhere).stdout.split()[-1]
    assert version == _setup_version()


def test_installed_run_on_the_bundled_inputs_from_another_folder(venv, elsewhere):
    """`xlsgen run` of the installed copy: three reports and 検証結果.xlsx, exit 0."""
    inputs = elsewhere / "inputs"
    shutil.copytree(INPUTS, inputs)
    res = _run([venv / "xlsgen", "run", "--jobs", "2"], cwd=elsewhere)
    reports = sorted(p.name for p in (elsewhere / "outputs").glob("*_報告書.xlsx"))
    assert len(reports) == 3, (res.stdout, res.stderr)
    assert (elsewhere / "outputs" / "検証結果.xlsx").exists()
    assert "ファイル 3（失敗 0）" in res.stdout


def test_installed_simulate_and_layout_check_by_name(venv, elsewhere):
    listed = _run([venv / "xlsgen", "simulate", "--list"], cwd=elsewhere).stdout
    assert {"mitaka_model_a", "mitaka_model_b", "setagaya_forum_survey"} <= \
        {line.split("\t")[0] for line in listed.splitlines()}
    _run([venv / "xlsgen", "simulate", "mitaka_model_a", "mitaka_model_b", "-o", "mitaka.xlsx"], cwd=elsewhere)
    assert (elsewhere / "mitaka.xlsx").stat().st_size > 10_000
    check = _run([venv / "xlsgen", "layout", "check", "ojiya", OJIYA], cwd=elsewhere)
    assert "ojiya" in check.stdout and "当てはまりません" not in check.stdout


def _setup_version() -> str:
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    return cfg["metadata"]["version"]


# --- the same behaviour in the checkout (no install needed) -------------------------

def test_version_comes_from_the_package_metadata():
    res = CliRunner().invoke(cli, ["--version"])
    assert res.exit_code == 0 and res.output.strip() == f"xlsgen {_setup_version()}"


def test_simulate_a_bundled_template_by_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    listed = runner.invoke(cli, ["simulate", "--list"])
    assert listed.exit_code == 0 and "mitaka_model_a\tsimulation\t" in listed.output
    res = runner.invoke(cli, ["simulate", "setagaya_forum_survey", "-o", "survey.xlsx"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "survey.xlsx").exists()
    wrong = runner.invoke(cli, ["simulate", "mitaka_model_z", "-o", "x.xlsx"])
    assert wrong.exit_code == 1 and "mitaka_model_a" in wrong.output and not (tmp_path / "x.xlsx").exists()
    usage = runner.invoke(cli, ["simulate", "mitaka_model_a"])
    assert usage.exit_code == 2 and "--output" in usage.output


def test_layout_check_by_layout_name(tmp_path):
    runner = CliRunner()
    by_name = runner.invoke(cli, ["layout", "check", "ojiya", str(OJIYA)])
    by_path = runner.invoke(cli, ["layout", "check", str(ROOT / "xlsgen" / "templates" / "layouts" / "ojiya.yaml"),
                                  str(OJIYA)])
    assert by_name.exit_code == 0 and by_name.output == by_path.output
    wrong = runner.invoke(cli, ["layout", "check", "nosuch", str(OJIYA)])
    assert wrong.exit_code == 1 and "ojiya" in wrong.output
