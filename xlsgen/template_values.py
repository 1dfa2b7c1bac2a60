"""Reading and value helpers shared by the simulation and survey template loaders (a leaf
module: nothing of xlsgen but its errors)."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import yaml

from xlsgen.errors import XlsgenError


def excel_round(value: float, digits: int = 0) -> float:
    """ROUND as Excel and LibreOffice do it: half away from zero, on 15 significant digits."""
    d = Decimal(f"{value:.15g}").quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
    return float(d)


def published_figure(raw: Any) -> tuple[float, int] | None:
    """A published figure and the decimals it was printed with: "10.7%" → (0.107, 3)."""
    text = unicodedata.normalize("NFKC", str(raw)).replace(",", "").strip()
    pct = text.endswith("%")
    text = text.rstrip("%")
    try:
        value = float(text)
    except ValueError:
        return None
    digits = len(text.split(".")[1]) if "." in text else 0
    return (excel_round(value / 100, digits + 2), digits + 2) if pct else (value, digits)


def yaml_mapping(raw: Any, where: str, errors: list[str], keys: tuple[str, ...] = ()) -> dict:
    """A YAML mapping; with `keys`, any other key is reported (often a value cut at a comma)."""
    if not isinstance(raw, dict):
        errors.append(f"{where}: 「キー: 値」の形で書いてください")
        return {}
    for key in raw:
        if keys and key not in keys:
            errors.append(f"{where}: 不明な項目「{key}」があります（使える項目: {', '.join(keys)}。"
                          "{ } の中の値にカンマがあるときは値を引用符で囲んでください）")
    return raw


MAX_NUMBER = 1e15  # Excel keeps 15 significant digits; larger inputs lose their units


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose scalars remember their line (`line_of`), for messages."""


class _LineStr(str):
    line = 0


class _LineInt(int):
    line = 0


class _LineFloat(float):
    line = 0


def _with_line(cls, constructor):
    def construct(loader, node):
        value = constructor(loader, node)
        if isinstance(value, bool) or value is None:
            return value
        out = cls(value)
        out.line = node.start_mark.line + 1
        return out
    return construct


_LineLoader.add_constructor("tag:yaml.org,2002:str",
                            _with_line(_LineStr, yaml.SafeLoader.construct_yaml_str))
_LineLoader.add_constructor("tag:yaml.org,2002:int",
                            _with_line(_LineInt, yaml.SafeLoader.construct_yaml_int))
_LineLoader.add_constructor("tag:yaml.org,2002:float",
                            _with_line(_LineFloat, yaml.SafeLoader.construct_yaml_float))


def line_of(raw: Any) -> str:
    """`（12行目）` for a value read by `read_template`, else ""."""
    line = getattr(raw, "line", 0)
    return f"（{line}行目）" if line else ""


def read_template(path: str | Path) -> Any:
    """Parse a YAML template saved in UTF-8 or, failing that, cp932 (Shift_JIS, the
    default of Windows editors), with the checks every user YAML file gets
    (`xlsgen.yamlfile`: size, alias bombs, duplicate keys, depth). Raises XlsgenError
    naming the file and the line."""
    from xlsgen.yamlfile import load, read_bytes

    path = str(path)
    data = read_bytes(path, XlsgenError, "テンプレート")
    return load(data, path, XlsgenError, loader=_LineLoader, what="テンプレート")[0]
