"""Layout files (`xlsgen/templates/layouts/*.yaml`): loading, checking and matching labels.

A spec is checked when it is loaded: bad YAML, an unknown key, a wrong type or a bad
pattern raises `LayoutSpecError` naming the file and line. The schema is documented for
users in `docs/layouts.md`; `SCHEMA` below is the same list of keys, as data.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from xlsgen import yamlfile
from xlsgen.errors import XlsgenError
from xlsgen.patterns import PatternError, compile_user
from xlsgen.read.grid import squash

RECORDS = ("sheet", "block", "row")
KINDS = ("progress", "projects", "plan_rows")

# key -> (type, sub-schema). A sub-schema is a dict for a mapping, or for a list the schema
# of each item. `str|list` keys take one string or a list of strings.
_LABELS = "labels"  # str or list of str (label variants)
_FIELD = {"label": _LABELS, "at": str, "nth": int, "parser": str, "required": bool,
          "type": str}
_COLUMN = {"label": _LABELS, "role": str, "carry_down": bool, "warn_blank": bool, "required": bool}
_TABLE = {"header": _LABELS, "header_rows": int, "years": str, "group_roles": dict,
          "columns": {"*": _COLUMN}, "skip_rows": _LABELS, "end": _LABELS,
          "row_roles": {"column": str, "roles": dict}, "text_rows": {"labels": _LABELS, "field": str},
          "section": {"column": str, "labels": _LABELS, "field": str}}
_ANCHOR = {"id": str, "labels": _LABELS, "sheets": _LABELS, "match": str, "required": bool}
SCHEMA: dict[str, Any] = {
    "name": str, "title": str, "document_title": str, "description": str, "record": str, "kind": str, "parser": str,
    "detect": [_ANCHOR],
    "sheets": {"read": _LABELS, "skip": _LABELS, "roles": [{"role": str, "name": _LABELS,
                                                             "when": _LABELS, "when_any": _LABELS}]},
    "block": {"start": _LABELS, "end": _LABELS, "fields": {"*": _FIELD}},
    "group_by": str,
    "fields": {"*": _FIELD},
    "table": _TABLE,
    "text_blocks": {"*": {"label": _LABELS, "split": str, "until": _LABELS}},
    "values": {"none_marks": _LABELS, "status": _LABELS, "percent": str, "down_marks": _LABELS},
    "direction": {"down_words": _LABELS},
    "achievement": {"rule": str, "tolerance": float},
    "grades": {"scale": [{"grade": str, "min": float}]},
    "rollforward": {"next_input": str, "history": _LABELS, "supported": bool},
    "labels": {"*": _LABELS},
}
ENUMS = {"record": RECORDS, "kind": KINDS, "at": ("right", "below", "inside", "block", "same"),
         "years": ("columns", "rows"), "match": ("exact", "start", "contains"),
         "percent": ("fraction", "points"), "split": ("department", "none"),
         "rule": ("ratio", "ratio_inverse_when_down", "progress", "prorated", "none"),
         "next_input": ("first_empty_actual", "none"), "type": ("text", "quantity", "year", "level"),
         "role": ("baseline", "actual", "target", "achievement", "grade")}


class LayoutSpecError(XlsgenError):
    """A layout file that cannot be used: the message names the file and line."""


# A plain label also matches with the decorations clerks add: ■ 【 】 〔 〕, a numbering such as
# (1) or 1. in front, a colon after (text is squashed and NFKC-normalised first).
_DECOR = r"^(?:[■□●○◆◇▼▽・【〔\[]|\(\d{1,2}\)|\d{1,2}[.、])*"
_TAIL = r"(?:[】〕\]]|:)*$"


@dataclass
class Labels:
    """Label variants matched against squashed cell text (spaces gone, NFKC). `regex` is a
    compiled `re` pattern, or for user regexes a time-limited `xlsgen.patterns.Pattern`
    with the same methods."""

    source: list[str]
    regex: Any

    def match(self, text: str) -> bool:
        return bool(self.regex.search(text))

    @property
    def pattern(self) -> str:
        return self.regex.pattern


def compile_labels(items, mode: str = "exact", where: str = "") -> Labels:
    """`["区分", "re:^区\\s*分"]` → one regex. Plain text is squashed and matched whole
    (mode exact), at the start (start) or anywhere (contains); `re:` entries are regexes,
    run with a time budget (`xlsgen.patterns`): a label list with one is compiled by the
    `regex` module, one without stays with `re` (its pattern is escaped text)."""
    items = [items] if isinstance(items, str) else list(items or [])
    parts = []
    user = False
    simple = True  # xlsgen's own parts (escaped text, decorations) are; user parts are checked
    for it in items:
        it = str(it)
        if it.startswith("re:"):
            body = it[3:]
            try:
                simple &= compile_user(body)._fast is not None
            except PatternError as exc:
                raise ValueError(f"{where}の{exc}") from None
            parts.append(f"(?:{body})")
            user = True
        else:
            s = re.escape(squash(it))
            parts.append({"exact": f"{_DECOR}{s}{_TAIL}", "start": f"{_DECOR}{s}",
                          "contains": s}[mode])
    pattern = "|".join(parts) if parts else r"(?!x)x"
    return Labels(items, compile_user(pattern, simple) if user else _compiled(pattern))


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


@dataclass
class Spec:
    """A loaded, checked layout file."""

    data: dict
    path: str
    lines: dict[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.data["name"]

    @property
    def title(self) -> str:
        return self.data.get("title") or self.name

    @property
    def record(self) -> str:
        return self.data.get("record", "sheet")

    @property
    def kind(self) -> str:
        return self.data.get("kind", "progress")

    def get(self, key, default=None):
        return self.data.get(key, default)

    def labels(self, key: str, default: str | list | None = None, mode: str = "exact") -> Labels:
        """The `labels:` entry `key` of the spec (or `default`) compiled."""
        items = self.data.get("labels", {}).get(key, default)
        return compile_labels(items, mode, f"labels.{key}")

    def pattern(self, key: str, default: str):
        """A `labels:` entry as one compiled pattern (the readers' label patterns): the
        layout's own, time-limited when it holds user regexes (`xlsgen.patterns`), or
        xlsgen's `default`."""
        if key not in self.data.get("labels", {}):
            return _compiled(default)
        return self.labels(key).regex

    def line(self, path: str) -> int | None:
        return self.lines.get(path)


def _lines(node, path: str, out: dict[str, int]) -> None:
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{path}.{k.value}" if path else str(k.value)
            out[key] = k.start_mark.line + 1
            _lines(v, key, out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, f"{path}[{i}]", out)


_CACHE: dict[tuple[str, int, int], Spec | LayoutSpecError] = {}


def load_spec(path: str | Path) -> Spec:
    """Load and check one layout file (cached while the file is unchanged, a refusal too);
    raises LayoutSpecError (file and line). The file is input like any other: size,
    encoding (UTF-8 or Shift_JIS), alias bombs and duplicate keys are checked
    (`xlsgen.yamlfile`) before anything is built from it."""
    path = Path(path)
    try:
        st = path.stat()
        key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        key = None
    hit = _CACHE.get(key) if key else None
    if isinstance(hit, Spec):
        return hit
    if isinstance(hit, LayoutSpecError):  # the same refusal, a fresh exception
        err = LayoutSpecError.__new__(LayoutSpecError)
        err.args, err.path = hit.args, hit.path
        raise err
    try:
        data = yamlfile.read_bytes(path, LayoutSpecError, "様式ファイル")
        spec = _load(path, data)
    except LayoutSpecError as exc:
        if key:
            _CACHE[key] = exc
        raise
    if key:
        _CACHE[key] = spec
    return spec


def _load(path: Path, raw: bytes | str) -> Spec:
    data, node = yamlfile.load(raw, path, LayoutSpecError, what="様式ファイル")
    if not isinstance(data, dict):
        raise LayoutSpecError("1行目: 様式ファイルの中身が「キー: 値」の形ではありません", str(path))
    lines: dict[str, int] = {}
    _lines(node, "", lines)
    spec = Spec(data, str(path), lines)
    errors: list[tuple[int, str]] = []
    _check(data, SCHEMA, "", lines, errors)
    if "name" not in data:
        errors.append((1, "name（様式の名前）がありません"))
    elif not re.fullmatch(r"[A-Za-z0-9_\-]+", str(data["name"])):
        errors.append((lines.get("name", 1), "name は半角英数字・_・- で書いてください"))
    if not data.get("detect"):
        errors.append((1, "detect（判定に使う見出し）がありません"))
    for i, anchor in enumerate(data.get("detect") or []):
        if isinstance(anchor, dict) and not anchor.get("labels"):
            errors.append((lines.get(f"detect[{i}]", 1), f"detect[{i}] に labels（見出しの文字）がありません"))
    if not data.get("parser") and not data.get("table"):
        errors.append((lines.get("record", 1), "table（指標の表）がありません"))
    if data.get("record") == "block" and not (data.get("block") or {}).get("start"):
        errors.append((lines.get("record", 1), "record: block には block.start が必要です"))
    if (data.get("rollforward") or {}).get("supported") and data.get("record", "sheet") != "sheet":
        errors.append((lines.get("rollforward.supported", 1),
                       "rollforward.supported: true は record: sheet（年度が列の表）の様式だけに使えます"))
    if not errors:
        errors.extend(_check_patterns(data, lines))
        errors.extend(_check_parsers(data, lines))
    if not errors:
        errors.extend(_check_anchors(data, lines))
    if errors:
        line, msg = min(errors)
        more = f"（ほか {len(errors) - 1} 件）" if len(errors) > 1 else ""
        raise LayoutSpecError(f"{line}行目: {msg}{more}", str(path))
    return spec


def _check(value, schema, path: str, lines: dict, errors: list) -> None:
    line = lines.get(path, 1)
    if schema is _LABELS:
        if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, (str, int)) for v in value)):
            return
        errors.append((line, f"{path} は文字列か文字列のリストで書いてください"))
        return
    if isinstance(schema, dict):
        if not isinstance(value, dict):
            errors.append((line, f"{path or '最上位'} は「キー: 値」の形で書いてください"))
            return
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if k in schema:
                _check(v, schema[k], sub, lines, errors)
            elif "*" in schema:
                _check(v, schema["*"], sub, lines, errors)
            else:
                known = "、".join(x for x in schema if x != "*")
                errors.append((lines.get(sub, line), f"知らないキー「{k}」があります（{path or '最上位'} に書けるキー: {known}）"))
            if k in ENUMS and isinstance(v, str) and v not in ENUMS[k] and schema.get(k) is str \
                    and not (k == "role" and path.startswith("sheets")):  # sheet roles are free
                errors.append((lines.get(sub, line),
                               f"{sub} の値「{v}」は使えません（使える値: {'、'.join(ENUMS[k])}）"))
        return
    if isinstance(schema, list):
        if not isinstance(value, list):
            errors.append((line, f"{path} はリスト（- で始まる行）で書いてください"))
            return
        for i, item in enumerate(value):
            _check(item, schema[0], f"{path}[{i}]", lines, errors)
        return
    if schema is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return
    if schema is dict and isinstance(value, dict):
        if path.endswith(("group_roles", "row_roles.roles")):
            for k, v in value.items():
                if v not in ENUMS["role"]:
                    errors.append((lines.get(f"{path}.{k}", line),
                                   f"{path} の「{k}: {v}」は使えません（使える値: {'、'.join(ENUMS['role'])}）"))
        return
    if not isinstance(value, schema) or (schema is int and isinstance(value, bool)):
        names = {str: "文字列", int: "整数", bool: "true / false", float: "数値", dict: "「キー: 値」"}
        errors.append((line, f"{path} は{names.get(schema, schema.__name__)}で書いてください"))


def _check_patterns(data, lines: dict, path: str = "") -> list[tuple[int, str]]:
    """Every `re:` label compiles."""
    out = []
    if isinstance(data, dict):
        for k, v in data.items():
            out.extend(_check_patterns(v, lines, f"{path}.{k}" if path else str(k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(_check_patterns(v, lines, f"{path}[{i}]"))
    elif isinstance(data, str) and data.startswith("re:"):
        try:
            p = compile_user(data[3:])
            empty = p.search("") is not None
        except PatternError as exc:
            out.append((lines.get(path, 1), f"{path} の{exc}"))
            return out
        if empty:
            out.append((lines.get(path, 1), f"{path} の正規表現「{data[3:]}」は空の文字列にも当てはまるため、"
                        "どのセルにも当てはまります（見出しの文字を書いてください）"))
    return out


# unrelated texts a heading never is: an anchor that matches them all matches every cell
_PROBES = ("あ", "1", "A", "x", "テスト", "合計", "2021", "-", "①", "令和3年度", "備考", "〇〇課", "12.5%", "Total")


def _check_anchors(data: dict, lines: dict) -> list[tuple[int, str]]:
    """Refuse anchors that would match (nearly) any cell: a workbook of another kind would
    pass for this layout."""
    out = []
    for i, a in enumerate(data.get("detect") or []):
        if not isinstance(a, dict):
            continue
        mode = a.get("match", "exact")
        labels = a.get("labels")
        items = [labels] if isinstance(labels, str) else list(labels or [])
        where = lines.get(f"detect[{i}].labels", lines.get(f"detect[{i}]", 1))
        short = [x for x in items if not str(x).startswith("re:") and len(squash(str(x))) < 2]
        if short and mode in ("start", "contains"):
            out.append((where, f"detect[{i}] の見出し「{short[0]}」は短すぎます（match: {mode} では2文字以上"
                        "にしてください。どのブックにも当てはまってしまいます）"))
            continue
        try:
            labels = compile_labels(items, mode)
            hits = sum(labels.match(squash(t)) for t in _PROBES)
        except (ValueError, PatternError):
            continue  # reported by _check_patterns
        if hits >= len(_PROBES) - 1:
            out.append((where, f"detect[{i}] の見出しはどのセルにも当てはまります（{'／'.join(map(str, items[:3]))}）。"
                        "その様式にしかない見出しの文字を書いてください"))
    return out


def _check_parsers(data: dict, lines: dict) -> list[tuple[int, str]]:
    """Every named parser exists."""
    from xlsgen.layout.parsers import RECORD_PARSERS, VALUE_PARSERS

    out = []
    if data.get("parser") and data["parser"] not in RECORD_PARSERS:
        out.append((lines.get("parser", 1), f"parser「{data['parser']}」はありません"
                    f"（使える名前: {'、'.join(RECORD_PARSERS)}）"))
    for where in ("fields", "block"):
        fields = data.get(where) or {}
        fields = fields.get("fields", {}) if where == "block" else fields
        for key, f in fields.items():
            name = (f or {}).get("parser")
            if name and name not in VALUE_PARSERS:
                path = f"{where}.{key}.parser" if where == "fields" else f"block.fields.{key}.parser"
                out.append((lines.get(path, 1), f"parser「{name}」はありません"
                            f"（使える名前: {'、'.join(VALUE_PARSERS)}）"))
    return out


_OPTIONAL = re.compile(r"\[[^\]]*\][?*]|\\s[*+?]?|\.[*+?]|[()?]|(?<!\\)[\^$]")


def plain_label(label) -> str:
    """A label as a person reads it in a message: `re:^施策項目[:：]?$` → `施策項目`."""
    label = str(label[0] if isinstance(label, list) else label)
    if not label.startswith("re:"):
        return label
    text = _OPTIONAL.sub("", label[3:])
    return re.sub(r"\\(.)", r"\1", text).replace("|", "／")
