"""Value helpers shared by the simulation and survey template loaders (a leaf module)."""

from __future__ import annotations

import unicodedata
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


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
