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
TEXT_ROLES = ("plan", "do", "check", "action", "other")
COLUMN_PARSERS = ("series", "target_expression")

# key -> (type, sub-schema). A sub-schema is a dict for a mapping, or for a list the schema
# of each item. `str|list` keys take one string or a list of strings.
_LABELS = "labels"  # str or list of str (label variants)
_YEAR = "year"  # a fiscal year: 2019, H31 or R1
_CODE_CELL = {"label": _LABELS, "at": str, "nth": int}
_FIELD = {"label": _LABELS, "at": str, "nth": int, "parser": str, "required": bool,
          "type": str, "holds": str, "role": str, "reason": str, "code": _CODE_CELL,
          "fiscal_year": str, "unit_in_name": bool, "join": str}
_COLUMN = {"label": _LABELS, "role": str, "carry_down": bool, "warn_blank": bool, "required": bool,
           "parser": str, "type": str, "holds": str, "unit_in_name": bool, "under": _LABELS,
           "nth": int}


class Either:
    """A key that takes one of two shapes: a mapping (checked against `mapping`) or the
    `other` schema (labels, a string)."""

    def __init__(self, mapping: dict, other):
        self.mapping, self.other = mapping, other


# where a table ends: labels (as before), or {labels, blank_rows}
_END = Either({"labels": _LABELS, "blank_rows": int}, _LABELS)
_UNIT = {"label": _LABELS, "default": str}  # a cell near the table saying 千円 / 円
_TABLE = {"header": _LABELS, "header_rows": int, "years": str, "group_roles": dict,
          "columns": {"*": _COLUMN}, "skip_rows": _LABELS, "end": _END,
          "row_roles": {"column": str, "roles": dict}, "text_rows": {"labels": _LABELS, "field": str},
          "section": {"column": str, "labels": _LABELS, "field": str}}
# a further table of a record (`tables:`): project lines or a cost block
_TABLES = {"holds": str, "header": _LABELS, "header_rows": int, "after": _LABELS,
           "columns": {"*": _COLUMN}, "skip_rows": _LABELS, "end": _END, "total": _LABELS,
           # holds: kpis — read as `table` is
           "years": str, "group_roles": dict, "row_roles": {"column": str, "roles": dict},
           "text_rows": {"labels": _LABELS, "field": str},
           "section": {"column": str, "labels": _LABELS, "field": str},
           "amounts": {"unit": _UNIT, "kinds": _LABELS},
           "unit": _UNIT, "kinds": _LABELS,
           "lines": {"*": Either({"label": _LABELS, "unit": str, "funding": bool}, _LABELS)},
           "unit_cost": {"label": _LABELS, "indicator": _LABELS}}
_ANCHOR = {"id": str, "labels": _LABELS, "sheets": _LABELS, "match": str, "required": bool}
SCHEMA: dict[str, Any] = {
    "name": str, "title": str, "document_title": str, "description": str, "record": str, "parser": str,
    "city": str, "plan_years": {"from": _YEAR, "to": _YEAR},
    "report": {"measure_label": str, "category_label": str},
    "project_lines": {"name": str, "department": str, "content": str, "tags": _LABELS},
    "detect": [_ANCHOR],
    "sheets": {"read": _LABELS, "skip": _LABELS, "group": _LABELS,
               "roles": [{"role": str, "name": _LABELS, "when": _LABELS, "when_any": _LABELS}]},
    "block": {"start": _LABELS, "end": _LABELS, "fields": {"*": _FIELD}},
    # record: sheet — several measures stacked on one sheet, each from a `start` row
    "stacked": {"start": _LABELS, "end": _LABELS},
    "group_by": str,
    "fields": {"*": _FIELD},
    "table": _TABLE,
    "tables": {"*": _TABLES},
    "text_blocks": {"*": {"label": _LABELS, "split": str, "until": _LABELS, "role": str,
                          "by_year": str, "fiscal_year": str, "at": str}},
    "values": {"none_marks": _LABELS, "status": _LABELS, "percent": str, "down_marks": _LABELS,
               "baseline_cumulative": bool, "qualitative": {"met": _LABELS, "unmet": _LABELS}},
    "direction": {"down_words": _LABELS},
    "target_kinds": {"cumulative": _LABELS, "running_total": _LABELS, "per_year": _LABELS,
                     "at_year": _LABELS},
    "achievement": {"rule": str, "tolerance": float, "basis": str, "no_target": _LABELS},
    "grades": {"scale": [{"grade": str, "min": float, "above": float, "max": float,
                          "at_most": float}],
               "no_target": _LABELS},
    "rollforward": {"next_input": str, "history": _LABELS, "supported": bool,
                    # a rolling window of year columns; `keep`: columns that stay where they are
                    "window": Either({"keep": [str]}, bool)},
    "labels": {"*": _LABELS},
    # the round trip (xlsgen distribute / collect): tags such as 区分 商工 → 商工振興課
    "departments": {"aliases": {"*": str}},
    "distribute": {"text_limit": int, "choices": {"*": _LABELS}, "texts": _LABELS},
}
# what a column holds (besides values) and what a further table holds
COLUMN_HOLDS = ("text", "note")
TABLE_HOLDS = ("projects", "cost", "kpis", "texts")
ENUMS = {"record": RECORDS, "at": ("right", "below", "inside", "block", "same"),
         "years": ("columns", "rows"), "match": ("exact", "start", "contains"),
         "percent": ("fraction", "points"), "split": ("department", "none"),
         "rule": ("ratio", "ratio_inverse_when_down", "progress", "prorated", "none"),
         "next_input": ("first_empty_actual", "none"), "type": ("text", "quantity", "year", "level"),
         "role": ("baseline", "actual", "target", "estimate", "achievement", "grade"),
         "reason": ("right", "below"), "by_year": ("rows",), "fiscal_year": ("from_label",),
         "basis": ("per_year", "final", "per_year_else_final")}
# columns a rolling window leaves where they are: the plan's baseline year, its final target year
WINDOW_KEEP = ("baseline", "target")
# what a field holds when it is not a value of the model's own
FIELD_HOLDS = ("evaluation", "text", "departments", "note")
GRADE_BOUNDS = ("min", "above", "max", "at_most")


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
    (mode exact), at the start (start), at the start after a heading's number too
    (heading: 「２　事業費の推移」) or anywhere (contains); `re:` entries are regexes,
    run with a time budget (`xlsgen.patterns`): a label list with one is compiled by the
    `regex` module, one without stays with `re` (its pattern is escaped text)."""
    items = [items] if isinstance(items, str) else list(items or [])
    key = (tuple(map(str, items)), mode)
    done = _COMPILED.get(key)
    if done is not None:
        return done
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
                          "heading": f"{_DECOR}(?:\\d{{1,2}})?{s}", "contains": s}[mode])
    pattern = "|".join(parts) if parts else r"(?!x)x"
    if len(_COMPILED) > 4096:
        _COMPILED.clear()
    done = _COMPILED[key] = Labels(items, compile_user(pattern, simple) if user else _compiled(pattern))
    return done


# label lists compiled once per process (the readers ask for the same lists on every sheet)
_COMPILED: dict[tuple, Labels] = {}


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

    def plan_years(self) -> list[int]:
        """The years `plan_years: {from, to}` declares (empty when it does not)."""
        from xlsgen.wareki import FiscalYear

        py = self.data.get("plan_years") or {}
        if not py.get("from") or not py.get("to"):
            return []
        first, last = (FiscalYear.parse(str(py[k])).year for k in ("from", "to"))
        return list(range(first, last + 1))

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


_BOOL_TAG = "tag:yaml.org,2002:bool"


def _lines(node, path: str, out: dict[str, int], bool_keys: list | None = None) -> None:
    """The line of every key path; keys YAML reads as true/false (`no:`, `yes:`, `on:`)
    go to `bool_keys` as (line, path, the key as written)."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = f"{path}.{k.value}" if path else str(k.value)
            out[key] = k.start_mark.line + 1
            if bool_keys is not None and getattr(k, "tag", None) == _BOOL_TAG:
                bool_keys.append((k.start_mark.line + 1, path, k.value))
            _lines(v, key, out, bool_keys)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _lines(v, f"{path}[{i}]", out, bool_keys)


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
    bool_keys: list[tuple[int, str, str]] = []
    _lines(node, "", lines, bool_keys)
    spec = Spec(data, str(path), lines)
    errors: list[tuple[int, str]] = []
    for line, where, written in bool_keys:
        value = "true" if yaml.safe_load(written) else "false"
        errors.append((line, f"キー「{written}」は YAML では {value}（真偽値）と読まれます。"
                             f"{where or '最上位'} の名前にするには \"{written}\" のように引用符で囲んでください"))
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
    if data.get("stacked") is not None and (data.get("record") or "sheet") != "sheet":
        errors.append((lines.get("stacked", 1), "stacked は record: sheet の様式でだけ使えます"))
    if data.get("stacked") is not None and not (data.get("stacked") or {}).get("start"):
        errors.append((lines.get("stacked", 1), "stacked には start（ブロックの最初の行の見出し）が必要です"))
    for i, g in enumerate((data.get("grades") or {}).get("scale") or []):
        if isinstance(g, dict) and not any(k in g for k in GRADE_BOUNDS):
            errors.append((lines.get(f"grades.scale[{i}]", 1),
                           f"grades.scale[{i}]（{g.get('grade', '')}）に範囲（min 以上・above より大きい・"
                           "max 未満・at_most 以下）がありません"))
    table = data.get("table") if isinstance(data.get("table"), dict) else {}
    section = table.get("section") if isinstance(table.get("section"), dict) else None
    if section is not None:
        where = lines.get("table.section", 1)
        columns = table.get("columns") if isinstance(table.get("columns"), dict) else {}
        if data.get("record") == "block":
            errors.append((where, "table.section（見出し行）は record: block の表では使えません。"
                                  "record: sheet か record: row で使ってください"))
        elif section.get("column", "name") not in {*columns, "name"}:
            errors.append((where, f"table.section.column「{section.get('column')}」は table.columns に"
                                  f"ない列です（書ける列: {'・'.join(dict.fromkeys(['name', *columns]))}）"))
        if not section.get("labels"):
            errors.append((where, "table.section に labels（見出し行の文字）がありません"))
    roll = data.get("rollforward") if isinstance(data.get("rollforward"), dict) else {}
    history = roll.get("history")
    if history and not data.get("parser"):  # a record parser names its own blocks
        names = set()
        for key in ("text_blocks", "fields", "tables"):
            names.update(data.get(key) or {} if isinstance(data.get(key), dict) else {})
        block = data.get("block") if isinstance(data.get("block"), dict) else {}
        names.update(block.get("fields") or {} if isinstance(block.get("fields"), dict) else {})
        for i, name in enumerate([history] if isinstance(history, str) else history if isinstance(history, list) else []):
            if str(name) not in names:
                errors.append((lines.get(f"rollforward.history[{i}]", lines.get("rollforward.history", 1)),
                               f"rollforward.history の「{name}」は text_blocks・fields・tables のどれにもありません"
                               f"（書ける名前: {'・'.join(sorted(names)) or 'なし'}）"))
    window = roll.get("window") if isinstance(roll.get("window"), dict) else {}
    for i, word in enumerate(window.get("keep") or [] if isinstance(window.get("keep"), list) else []):
        if word not in WINDOW_KEEP:
            errors.append((lines.get(f"rollforward.window.keep[{i}]", lines.get("rollforward.window", 1)),
                           f"rollforward.window.keep の「{word}」は使えません（使える値: {'、'.join(WINDOW_KEEP)}）"))
    for name, t in (data.get("tables") or {}).items() if isinstance(data.get("tables"), dict) else ():
        where = lines.get(f"tables.{name}", 1)
        if not isinstance(t, dict):
            continue
        if not t.get("holds"):
            errors.append((where, f"tables.{name} に holds（projects・cost・kpis・texts）がありません"))
        if not t.get("header"):
            errors.append((where, f"tables.{name} に header（表の見出し）がありません"))
        if t.get("holds") == "cost" and not t.get("lines"):
            errors.append((where, f"tables.{name}（holds: cost）に lines（行の見出し）がありません"))
        if t.get("holds") == "projects" and "name" not in (t.get("columns") or {}):
            errors.append((where, f"tables.{name}（holds: projects）に columns.name（事業名の列）がありません"))
        if t.get("holds") == "texts" and not set(t.get("columns") or {}) - {"department", "fiscal_year"}:
            errors.append((where, f"tables.{name}（holds: texts）に文章の列（columns）がありません"))
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
    if isinstance(schema, Either):
        schema = schema.mapping if isinstance(value, dict) else schema.other
    if schema is _YEAR:
        from xlsgen.wareki import FiscalYear

        try:
            FiscalYear.parse(str(value))
        except ValueError:
            errors.append((line, f"{path} は年度（2019、H31、R1 など）で書いてください"))
        return
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
            if isinstance(k, bool):  # reported with the key as written (see _lines)
                continue
            sub = f"{path}.{k}" if path else str(k)
            if k in schema:
                _check(v, schema[k], sub, lines, errors)
            elif "*" in schema:
                _check(v, schema["*"], sub, lines, errors)
            else:
                known = "、".join(x for x in schema if x != "*")
                errors.append((lines.get(sub, line), f"知らないキー「{k}」があります（{path or '最上位'} に書けるキー: {known}）"))
            allowed = _allowed(k, path, value)
            if allowed and isinstance(v, str) and v not in allowed and schema.get(k) is str \
                    and not (k == "role" and path.startswith("sheets")):  # sheet roles are free
                errors.append((lines.get(sub, line),
                               f"{sub} の値「{v}」は使えません（使える値: {'、'.join(allowed)}）"))
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


def _allowed(key: str, path: str, value: dict) -> tuple | None:
    """The values a key may take where it is: `role` is a text's place in the PDCA cycle in
    text blocks, fields and text columns (`holds: text`), a value role in other columns;
    `holds` is what a field, a column or a further table holds."""
    if key == "role" and (path.startswith(("text_blocks", "fields", "block.fields"))
                          or value.get("holds") == "text"):
        return TEXT_ROLES
    if key == "role" and path.startswith("tables."):  # a text table's columns take PDCA roles
        return ENUMS["role"] + TEXT_ROLES
    if key == "holds" and path.startswith(("fields", "block.fields")):
        return FIELD_HOLDS
    if key == "holds" and ".columns." in f".{path}":
        return COLUMN_HOLDS
    if key == "holds" and path.startswith("tables."):
        return TABLE_HOLDS
    return ENUMS.get(key)


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
    for key, col in ((data.get("table") or {}).get("columns") or {}).items():
        name = (col or {}).get("parser") if isinstance(col, dict) else None
        if name and name not in COLUMN_PARSERS:
            out.append((lines.get(f"table.columns.{key}.parser", 1), f"parser「{name}」は表の列には使えません"
                        f"（使える名前: {'、'.join(COLUMN_PARSERS)}）"))
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
