"""Audit rules: each takes the Inventory and yields Findings (codes: see xlsgen.audit)."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator

from openpyxl.utils.cell import get_column_letter

from xlsgen.audit.formula import ERROR_CODES
from xlsgen.audit.inventory import FormulaCell, Inventory, Key
from xlsgen.model import Finding, Severity

E, W = Severity.ERROR, Severity.WARNING

ERROR_MEANING = {
    "#REF!": "参照先のセルやシートが削除されています",
    "#DIV/0!": "0 または空欄で割っています",
    "#NAME?": "関数名または名前が正しくありません",
    "#VALUE!": "文字列など計算できない値を使っています",
    "#N/A": "検索した値が見つかりません",
    "#NUM!": "計算できない数値です",
    "#NULL!": "範囲の指定が正しくありません",
}


def _a1(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _finding(severity, code, key: Key, message: str) -> Finding:
    return Finding(severity, code, message, sheet=key[0], cell=_a1(key[1], key[2]))


def _where(key: Key, home: str) -> str:
    return _a1(key[1], key[2]) if key[0] == home else f"{key[0]}!{_a1(key[1], key[2])}"


def error_values(inv: Inventory) -> Iterator[Finding]:
    failing = {k for k, f in inv.formulas.items() if f.cached in ERROR_CODES}
    failing |= {(s, r, c) for s, cells in inv.cells.items()
                for (r, c), v in cells.items() if v in ERROR_CODES}
    for f in inv.formulas.values():
        if f.parsed.broken:
            yield _finding(E, "error-value", f.key, "数式の書き方が正しくないため読み取れません。")
        elif f.parsed.errors:
            code = f.parsed.errors[0]
            yield _finding(E, "error-value", f.key,
                           f"数式に {code} が含まれています（{ERROR_MEANING.get(code, 'エラー値')}）。")
        elif f.unresolved:
            yield _finding(E, "error-value", f.key,
                           f"存在しないシートまたは名前「{f.unresolved[0]}」を参照しています（#REF! / #NAME?）。")
        elif f.cached in ERROR_CODES:
            # report where the error starts, not every cell it spreads to
            if any(k in failing for area in f.areas for k in inv.occupied(area)):
                continue
            severity = W if f.cached == "#N/A" else E
            yield _finding(severity, "error-value", f.key,
                           f"計算結果が {f.cached} です（{ERROR_MEANING[f.cached]}）。")


def pattern_breaks(inv: Inventory) -> Iterator[Finding]:
    r1c1 = {k: f.parsed.r1c1 for k, f in inv.formulas.items()}
    for key, mine in r1c1.items():
        s, r, c = key
        around = {d: r1c1.get((s, r + d[0], c + d[1])) for d in ((0, -1), (0, 1), (-1, 0), (1, 0))}
        if mine in around.values():
            continue
        left, right, up, down = around.values()
        # two formulas taking turns (a table of two rows a record) are a layout, not a break
        turns_h = mine in (r1c1.get((s, r, c - 2)), r1c1.get((s, r, c + 2)))
        turns_v = mine in (r1c1.get((s, r - 2, c)), r1c1.get((s, r + 2, c)))
        if left and left == right and not turns_h:
            yield _finding(W, "pattern-break", key, f"左右の数式（{inv.formulas[(s, r, c - 1)].formula} と同じ形）と"
                           "形が違います。コピー漏れや上書きがないか確認してください。")
        elif up and up == down and not turns_v:
            yield _finding(W, "pattern-break", key, f"上下の数式（{inv.formulas[(s, r - 1, c)].formula} と同じ形）と"
                           "形が違います。コピー漏れや上書きがないか確認してください。")
    # a number typed over one cell of a run of identical formulas
    for (s, r, c), mine in r1c1.items():
        for dr, dc in ((0, 2), (2, 0)):
            mid = (s, r + dr // 2, c + dc // 2)
            value = inv.value(mid)
            if r1c1.get((s, r + dr, c + dc)) == mine and _is_number(value) and mid not in r1c1:
                yield _finding(W, "pattern-break", mid, f"同じ形の数式が並ぶ中に数値 {value} が直接入力されています"
                               "（数式が値で上書きされた可能性）。")


def hardcoded_numbers(inv: Inventory) -> Iterator[Finding]:
    """Once per pattern group, at its first cell."""
    for g in inv.groups:
        f = inv.formulas[(g.sheet, *g.cells[0])]
        if f.parsed.numbers:
            nums = "、".join(dict.fromkeys(f.parsed.numbers))
            where = f"（同じ形の {g.ranges} の {len(g.cells)} セル）" if len(g.cells) > 1 else ""
            yield _finding(W, "hardcoded-number", f.key, f"数式の中に数値 {nums} が直接書かれています{where}。"
                           "入力セルに分けると確認や変更がしやすくなります。")


def _awaiting_input(inv: Inventory, key) -> bool:
    """An unlocked cell on a protected sheet: an input cell left for the clerk to fill."""
    sheet, r, c = key
    if sheet not in inv.wb.sheetnames:
        return False
    ws = inv.wb[sheet]
    return bool(ws.protection.sheet) and not ws.cell(r, c).protection.locked


def empty_references(inv: Inventory) -> Iterator[Finding]:
    for f in inv.formulas.values():
        empty = [a for a in f.areas if a.single and inv.value((a.sheet, a.r1, a.c1)) is None
                 and not _awaiting_input(inv, (a.sheet, a.r1, a.c1))]
        if empty:
            cells = "、".join(dict.fromkeys(_where((a.sheet, a.r1, a.c1), f.sheet) for a in empty))
            yield _finding(W, "empty-reference", f.key, f"空のセル {cells} を参照しています（0 として計算されます）。")


def text_numbers(inv: Inventory) -> Iterator[Finding]:
    for key, readers in inv.readers.items():
        value = inv.value(key)
        if isinstance(value, str) and key not in inv.formulas and _numeric_text(value):
            yield _finding(W, "text-number", key, f"数値が文字列「{value}」として入力されていて、"
                           f"数式 {_where(readers[0], key[0])} が読み取っています（合計などに入らないことがあります）。")


def circular_references(inv: Inventory) -> Iterator[Finding]:
    if not inv.may_cycle:
        return
    for cycle in _cycles(inv.precedent_formulas):
        path = " → ".join(_where(k, cycle[0][0]) for k in cycle[:6])
        for key in cycle:
            yield _finding(E, "circular-reference", key, f"循環参照です（{path} …）。計算結果が定まりません。")


def unknown_functions(inv: Inventory) -> Iterator[Finding]:
    for f in inv.formulas.values():
        for name in dict.fromkeys(f.parsed.unknown_functions):
            yield _finding(E, "unknown-function", f.key,
                           f"関数 {name} は Excel にも LibreOffice にもありません（#NAME? になります）。")


def unlocked_formulas(inv: Inventory) -> Iterator[Finding]:
    for ws in inv.wb.worksheets:
        if not ws.protection.sheet:
            continue
        for (s, r, c), f in inv.formulas.items():
            if s == ws.title and not ws.cell(r, c).protection.locked:
                yield _finding(W, "unlocked-formula", f.key, "保護されたシートの数式セルがロックされていません"
                               "（誤って上書きされるおそれがあります）。")


def unused_inputs(inv: Inventory) -> Iterator[Finding]:
    """A number nobody reads, next to numbers that formulas do read."""
    for sheet, cells in inv.cells.items():
        for (r, c), value in cells.items():
            key = (sheet, r, c)
            if not _is_number(value) or key in inv.readers or key in inv.formulas or _looks_like_year(value):
                continue
            near = [(sheet, r + dr, c + dc) for dr, dc in ((0, -1), (0, 1), (-1, 0), (1, 0))]
            if any(n in inv.readers and n not in inv.formulas and _is_number(inv.value(n)) for n in near):
                yield _finding(W, "unused-input", key, f"入力値 {value} はどの数式からも参照されていません"
                               "（参照漏れか、不要な値の可能性）。")


def hidden_formulas(inv: Inventory) -> Iterator[Finding]:
    for ws in inv.wb.worksheets:
        hidden_rows = {r for r, d in ws.row_dimensions.items() if d.hidden}
        hidden_cols = {c for d in ws.column_dimensions.values() if d.hidden
                       for c in range(d.min or 0, (d.max or 0) + 1)}
        if ws.sheet_state == "visible" and not hidden_rows and not hidden_cols:
            continue  # nothing hidden: no need to look at the cells
        keys = sorted(k for k in set(inv.formulas) | set(inv.readers) if k[0] == ws.title)
        if not keys:
            continue
        if ws.sheet_state != "visible":
            n = sum(k in inv.formulas for k in keys)
            yield _finding(W, "hidden-formula", keys[0], f"非表示のシート「{ws.title}」に数式 {n} 個、"
                           f"数式から参照されるセル {len(keys) - n} 個があります。")
            continue
        seen = set()
        for key in keys:
            for axis, hidden, label in ((1, hidden_rows, "行"), (2, hidden_cols, "列")):
                if key[axis] in hidden and (axis, key[axis]) not in seen:
                    seen.add((axis, key[axis]))
                    name = key[1] if axis == 1 else get_column_letter(key[2])
                    what = "数式" if key in inv.formulas else "数式から参照されるセル"
                    yield _finding(W, "hidden-formula", key, f"非表示の{label} {name} に{what}があります。")


def missing_cached_values(inv: Inventory) -> Iterator[Finding]:
    """One finding per sheet whose formulas all lack a saved result (never recalculated).
    A single empty cached value is legitimate (a formula returning "")."""
    by_sheet: dict[str, list[FormulaCell]] = defaultdict(list)
    for f in inv.formulas.values():
        by_sheet[f.sheet].append(f)
    for cells in by_sheet.values():
        if all(f.cached is None for f in cells):
            yield _finding(W, "missing-cache", cells[0].key, f"このシートの数式 {len(cells)} 個に計算結果が保存されていません"
                           "（一度も再計算されていないファイル）。Excel か LibreOffice で開いて保存し直してください。")


_BUILTIN_NAMES = {"_XLNM.PRINT_AREA": "印刷範囲", "_XLNM.PRINT_TITLES": "印刷タイトル",
                  "_XLNM._FILTERDATABASE": "フィルターの範囲"}


def broken_names(inv: Inventory) -> Iterator[Finding]:
    """Defined names whose reference holds #REF! (the cells or sheet they named were
    deleted): `#REF!`, `Sheet1!#REF!`, `#REF!$A$1`, inside a formula, in print areas and
    print titles, read from workbook.xml as stored (`AuditResult.raw_names`)."""
    raw = getattr(inv, "raw_names", None)
    if raw is None:
        raw = [(dn.name, scope, dn.attr_text or "") for (scope, _), dn in inv._names.items()]
    for name, scope, text in sorted(raw, key=lambda t: (t[1] or "", t[0])):
        if "#REF!" not in _outside_strings(text).upper():
            continue
        what = _BUILTIN_NAMES.get(name.upper())
        label = f"シート「{scope}」の{what}" if what and scope else (what or f"名前「{name}」")
        where = f"（シート「{scope}」の名前）" if scope and not what else ""
        yield Finding(E, "name-ref-error",
                      f"{label}{where}の参照先が {text} です（参照先のセルやシートが削除されています）。"
                      + ("ページレイアウトで設定し直してください。" if what else
                         "名前の管理で参照先を直すか、名前を削除してください。"),
                      sheet=scope)


def _outside_strings(formula: str) -> str:
    """The formula without its string literals (a name `="#REF!"` holds text, not an error)."""
    return re.sub(r'"(?:[^"]|"")*"', '""', formula)


def external_links(inv: Inventory) -> Iterator[Finding]:
    """Links to other workbooks: each externalLink part (with its file), each defined name
    and each formula reading `[n]Sheet!A1`. The values depend on a file that may move."""
    targets = external_targets(inv.wb)
    for i, target in enumerate(targets, start=1):
        yield Finding(W, "external-link",
                      f"外部ブック [{i}]「{target or '不明'}」へのリンクがあります。"
                      "値はそのブックに依存します（移動・削除されると更新できません）。")
    for (scope, _), dn in sorted(inv._names.items(), key=lambda t: (t[0][0] or "", t[0][1])):
        if _EXTERNAL.search(dn.attr_text or ""):
            yield Finding(W, "external-link",
                          f"名前「{dn.name}」が外部ブックを参照しています（{dn.attr_text}）。", sheet=scope)
    for f in inv.formulas.values():
        refs = [r.text for r in f.parsed.refs if r.external]
        if refs:
            yield _finding(W, "external-link", f.key,
                           f"外部ブックを参照しています（{refs[0]}{_book_of(refs[0], targets)}）。"
                           "リンク先のブックが移動・削除されると値を更新できません。")


_EXTERNAL = re.compile(r"\[\d+\]|\[[^\]]+\.xls[xmb]?\]", re.I)


def external_targets(wb) -> list[str]:
    """The file each externalLink part points to, in order ([1], [2], …)."""
    out = []
    for link in getattr(wb, "_external_links", []) or []:
        target = getattr(getattr(link, "file_link", None), "Target", None)
        out.append(target or "")
    return out


def _book_of(ref: str, targets: list[str]) -> str:
    m = re.search(r"\[(\d+)\]", ref)
    if m and 0 < int(m.group(1)) <= len(targets) and targets[int(m.group(1)) - 1]:
        return f"、リンク先「{targets[int(m.group(1)) - 1]}」"
    return ""


RULES = (error_values, broken_names, external_links, circular_references, unknown_functions,
         pattern_breaks, hardcoded_numbers, empty_references, text_numbers, unlocked_formulas, unused_inputs, hidden_formulas,
         missing_cached_values)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _looks_like_year(value) -> bool:
    return float(value).is_integer() and 1900 <= value <= 2100


def _numeric_text(text: str) -> bool:
    t = unicodedata.normalize("NFKC", text).strip().replace(",", "").rstrip("%")
    if t.startswith("▲"):
        t = "-" + t[1:]
    try:
        float(t)
    except ValueError:
        return False
    return any(ch.isdigit() for ch in t)


def _cycles(graph: dict[Key, list[Key]]) -> list[list[Key]]:
    """Strongly connected components with a cycle (Tarjan, iterative)."""
    index: dict[Key, int] = {}
    low: dict[Key, int] = {}
    stack: list[Key] = []
    on_stack: set[Key] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    k = stack.pop()
                    on_stack.discard(k)
                    comp.append(k)
                    if k == node:
                        break
                real = [k for k in comp if len(k) == 3]  # drop the index's virtual nodes
                if real and (len(comp) > 1 or node in graph.get(node, ())):
                    found.append(sorted(real, key=lambda k: (k[1], k[2])))
    return found

