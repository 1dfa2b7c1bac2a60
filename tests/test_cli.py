"""The command line as a contract: every command documented, `python -m xlsgen` works."""

import subprocess
import sys

from click.testing import CliRunner

from xlsgen.cli import cli


def test_every_command_has_help_with_an_example():
    assert {"extract", "validate"} <= set(cli.commands)
    for name in cli.commands:
        result = CliRunner().invoke(cli, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"{name} --help has no Example"


def test_python_dash_m():
    out = subprocess.run([sys.executable, "-m", "xlsgen", "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "extract" in out.stdout
