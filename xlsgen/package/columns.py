"""Insert columns into one worksheet of a package (`--extend-to`), shifting every reference
at or past them: cells, formulas on every sheet, defined names, merges, column widths,
conditional formats, validations, hyperlinks, autofilter, selections, page breaks and the
calculation chain. What cannot be shifted safely (drawings, tables, charts, pivots, sparklines
and other extension lists, shared formulas, notes past the columns) is refused by name."""

from __future__ import annotations

import re

from xlsgen.errors import XlsgenError
from xlsgen.formulas import quote_sheet
from xlsgen.formulas.shift import MAX_COL, PastLastColumn, shift_formula, shift_ref
from xlsgen.package.sheet import col_index, col_letters, merges, split_addr

_FORMULA_TEXT = re.compile(
    r"(<(?:\w+:)?(?:f|formula|formula1|formula2)\b[^>]*>)(.*?)(</(?:\w+:)?(?:f|formula|formula1|formula2)>)",
    re.S)
_REF_ATTR = re.compile(r'(\s(?:ref|sqref|activeCell|topLeftCell)=")([^"]*)(")')


def _unxml(s: str) -> str:
    return s.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<").replace(
        "&gt;", ">").replace("&amp;", "&")


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mentions(text: str, sheet: str) -> bool:
    return f"{quote_sheet(sheet)}!" in _unxml(text) or f"{sheet}!" in _unxml(text)


def _blockers(wb, sheet: str, at: int) -> list[str]:
    """What in the package would be left pointing at the wrong cell."""
    pkg = wb.pkg
    part = pkg.sheets[sheet]
    xml = pkg.text(part)
    found = []
    rels = pkg.rels(part)
    if re.search(r"<(?:\w+:)?drawing\b", xml):
        found.append("図形・画像・グラフ（描画）")
    if re.search(r"<(?:\w+:)?tableParts\b", xml):
        found.append("テーブル")
    if re.search(r"<(?:\w+:)?extLst\b.*?(sqref|<xm:f>)", xml, re.S):
        found.append("スパークライン・拡張書式（extLst）")
    if re.search(r'<(?:\w+:)?f\b[^>]*\st="shared"', xml):
        found.append("共有数式")
    if any(t.endswith("/pivotTable") for _, t, _, _ in rels):
        found.append("ピボットテーブル")
    if any("threadedComment" in t for _, t, _, _ in rels):
        found.append("スレッド形式のコメント")
    comments = next((t for _, typ, t, _ in rels if typ.endswith("/comments")), None)
    if comments and any(split_addr(a)[1] >= at for a in re.findall(r'\sref="([A-Z]+[0-9]+)"', pkg.text(comments))):
        found.append("挿入位置より右のメモ")
    for name, p in pkg.sheets.items():
        if p == part or p not in pkg.parts:
            continue
        other = pkg.text(p)
        if re.search(r'<(?:\w+:)?f\b[^>]*\st="shared"[^>]*>[^<]+', other) and _mentions(other, sheet):
            found.append(f"シート「{name}」の共有数式")
        ext = re.search(r"<(?:\w+:)?extLst\b.*", other, re.S)
        if ext and _mentions(ext.group(0), sheet):
            found.append(f"シート「{name}」の拡張書式（extLst）")
    for p in pkg.parts:
        if p.startswith("xl/charts/chart") and _mentions(pkg.text(p), sheet):
            found.append(f"グラフ（{p}）")
        if p.startswith("xl/pivotCache/pivotCacheDefinition") and f'sheet="{sheet}"' in pkg.text(p):
            found.append(f"ピボットテーブルの元データ（{p}）")
    return list(dict.fromkeys(found))


def insert_columns(wb, sheet: str, at: int, n: int) -> int:
    """Insert `n` columns before column `at` (1-based) of `sheet`, or refuse; returns how many
    formulas, names and links were rewritten."""
    pkg = wb.pkg
    blockers = _blockers(wb, sheet, at)
    if blockers:
        raise XlsgenError(
            f"シート「{sheet}」の{col_letters(at)}列の前に列を挿入できません（{'、'.join(blockers)}の参照を"
            "正しくずらせないため）。Excel で年度の列を挿入してから --extend-to なしで繰り越してください",
            str(pkg.path))
    _check_room(wb, sheet, at, n)
    part = pkg.sheets[sheet]
    count = [0]
    for name, p in pkg.sheets.items():
        if p not in pkg.parts:
            continue
        xml = pkg.text(p)
        try:
            new = _shift_formulas(xml, name, sheet, at, n, count)
        except PastLastColumn as exc:
            raise _past_xfd(pkg, sheet, at, n, f"シート「{name}」の数式・リンクが参照する {exc}") from None
        if p == part:
            new = _shift_own(new, at, n)
        if new != xml:
            pkg.put(p, new)
    wbx = pkg.text(pkg.workbook_part)
    names = re.findall(r'<(?:\w+:)?sheet\b[^>]*\sname="([^"]*)"', wbx)

    def name_repl(m: re.Match) -> str:
        local = re.search(r'localSheetId="(\d+)"', m.group(1))
        host = _unxml(names[int(local.group(1))]) if local and int(local.group(1)) < len(names) else ""
        text = shift_formula(_unxml(m.group(2)), host, sheet, at, n)
        count[0] += text != _unxml(m.group(2))
        return m.group(1) + _xml(text) + m.group(3)
    try:
        new = re.sub(r"(<(?:\w+:)?definedName\b[^>]*>)(.*?)(</(?:\w+:)?definedName>)", name_repl, wbx, flags=re.S)
    except PastLastColumn as exc:
        raise _past_xfd(pkg, sheet, at, n, f"名前の定義が参照する {exc}") from None
    if new != wbx:
        pkg.put(pkg.workbook_part, new)
    _shift_calc_chain(wb, sheet, at, n)
    return count[0]


def _past_xfd(pkg, sheet: str, at: int, n: int, what: str) -> XlsgenError:
    return XlsgenError(
        f"シート「{sheet}」の{col_letters(at)}列の前に{n}列を挿入すると、{what}が最後の列（XFD）を"
        "超えるため繰り越せません。右端の列の値・数式を整理してから実行してください", str(pkg.path))


def _check_room(wb, sheet: str, at: int, n: int) -> None:
    """Refuse when a cell or a merged range would move past column XFD (Excel refuses to
    shift cells off the sheet too)."""
    pkg = wb.pkg
    _, scan = wb.scan(sheet)
    for c in scan.cells():
        if c.col >= at and c.col + n > MAX_COL:
            raise _past_xfd(pkg, sheet, at, n, f"セル {c.ref}")
    for r1, c1, r2, c2 in merges(pkg.text(pkg.sheets[sheet])):
        if c2 >= at and c2 + n > MAX_COL:
            raise _past_xfd(pkg, sheet, at, n, f"結合セル {col_letters(c1)}{r1}:{col_letters(c2)}{r2}")


def _clamped_sqref(sqref: str, at: int, n: int) -> str:
    """Ranges shifted; a range moved wholly past XFD is dropped (its end stops at XFD)."""
    out = []
    for ref in sqref.split():
        try:
            out.append(shift_ref(ref, at, n))
        except PastLastColumn:
            continue
    return " ".join(out) if out else sqref


def _shift_formulas(xml: str, host: str, sheet: str, at: int, n: int, count: list) -> str:
    """Formulas (cells, conditional formats, validations) and link locations of one sheet."""
    def shifted(text: str) -> str:
        new = shift_formula(_unxml(text), host, sheet, at, n)
        count[0] += new != _unxml(text)
        return _xml(new)
    xml = _FORMULA_TEXT.sub(lambda m: m.group(1) + shifted(m.group(2)) + m.group(3), xml)
    return re.sub(r'(<(?:\w+:)?hyperlink\b[^>]*\slocation=")([^"]*)(")',
                  lambda m: m.group(1) + shifted(m.group(2)).replace('"', "&quot;") + m.group(3), xml)


def _shift_own(xml: str, at: int, n: int) -> str:
    """Cells, ranges, widths and breaks of the sheet the columns go into."""
    head_end = xml.find("<sheetData")
    head, body = xml[:head_end], xml[head_end:]
    head = _REF_ATTR.sub(lambda m: m.group(1) + _clamped_sqref(m.group(2), at, n) + m.group(3), head)
    head = re.sub(r"<(?:\w+:)?col\b[^>]*>", lambda m: _shift_col(m.group(0), at, n), head)

    def cell(m: re.Match) -> str:
        c = col_index(m.group(2))
        return m.group(1) + (col_letters(c + n) if c >= at else m.group(2)) + m.group(3)
    body = re.sub(r'(<(?:\w+:)?c\b[^>]*?\sr=")([A-Z]+)([0-9]+")', cell, body)

    def row(m: re.Match) -> str:  # the new columns take the style of the column on their left
        text = m.group(0)
        left = re.search(rf'<((?:\w+:)?)c\b[^>]*?\sr="{col_letters(at - 1)}(\d+)"[^>]*?\ss="(\d+)"[^>]*?(?:/>|>.*?</\1c>)',
                         text, re.S)
        if not left:
            return text
        p, r, s = left.group(1), left.group(2), left.group(3)
        new = "".join(f'<{p}c r="{col_letters(at + i)}{r}" s="{s}"/>' for i in range(n))
        return text[: left.end()] + new + text[left.end():]
    body = re.sub(r"<(?:\w+:)?row\b[^>]*?(?:/>|>.*?</(?:\w+:)?row>)", row, body, flags=re.S)
    body = re.sub(r'(\sspans="\d+:)(\d+)"', lambda m: f'{m.group(1)}{min(int(m.group(2)) + n, MAX_COL)}"'
                  if int(m.group(2)) >= at - 1 else m.group(0), body)
    body = _REF_ATTR.sub(lambda m: m.group(1) + _clamped_sqref(m.group(2), at, n) + m.group(3), body)
    body = re.sub(r"(<(?:\w+:)?colBreaks\b.*?</(?:\w+:)?colBreaks>)",
                  lambda m: re.sub(r'(\sid=")(\d+)"', lambda b: f'{b.group(1)}{min(int(b.group(2)) + n, MAX_COL - 1)}"'
                                   if int(b.group(2)) >= at - 1 else b.group(0), m.group(1)), body, flags=re.S)
    return head + body


def _shift_col(tag: str, at: int, n: int) -> str:
    lo, hi = int(re.search(r'\smin="(\d+)"', tag).group(1)), int(re.search(r'\smax="(\d+)"', tag).group(1))
    if hi == at - 1:  # the new columns are as wide as the one on their left
        copy = re.sub(r'\smin="\d+"', f' min="{at}"', re.sub(r'\smax="\d+"', f' max="{at + n - 1}"', tag))
        return tag + copy
    if lo >= at:
        lo, hi = lo + n, hi + n
    elif hi >= at:
        hi += n
    else:
        return tag
    if lo > MAX_COL:  # moved off the sheet: Excel drops the columns' settings too
        return ""
    hi = min(hi, MAX_COL)
    return re.sub(r'\smax="\d+"', f' max="{hi}"', re.sub(r'\smin="\d+"', f' min="{lo}"', tag))


def _shift_calc_chain(wb, sheet: str, at: int, n: int) -> None:
    pkg = wb.pkg
    chain = next((t for _, typ, t, _ in pkg.rels(pkg.workbook_part) if typ.endswith("/calcChain")), None)
    if not chain or chain not in pkg.parts:
        return
    wbx = pkg.text(pkg.workbook_part)
    sid = {_unxml(nm): i for nm, i in re.findall(r'<(?:\w+:)?sheet\b[^>]*\sname="([^"]*)"[^>]*\ssheetId="(\d+)"', wbx)}
    target = sid.get(sheet)
    current = None

    def repl(m: re.Match) -> str:
        nonlocal current
        i = re.search(r'\si="(\d+)"', m.group(0))
        if i:
            current = i.group(1)
        if current != target:
            return m.group(0)
        return re.sub(r'(\sr=")([A-Z]+[0-9]+)(")', lambda r: r.group(1) + shift_ref(r.group(2), at, n) + r.group(3),
                      m.group(0))
    xml = pkg.text(chain)
    new = re.sub(r"<(?:\w+:)?c\b[^>]*/?>", repl, xml)
    if new != xml:
        pkg.put(chain, new)


def repeat_header_merges(wb, sheet: str, at: int, n: int, first: int, last: int,
                         rows: tuple[int, int]) -> int:
    """After `n` columns were inserted at `at` to repeat the year columns `first`..`last`
    (1-based, left of `at`): each merged header cell lying within those columns and the
    header `rows` is merged again over each repetition, and a header merged over all the
    year columns (starting before `first`, ending at `at - 1`) grows over the new ones.
    Returns how many merged ranges were added or grown."""
    pkg = wb.pkg
    part = pkg.sheets[sheet]
    xml = pkg.text(part)
    w = last - first + 1
    r_lo, r_hi = rows
    refs = re.findall(r'<(?:\w+:)?mergeCell\b[^>]*\sref="([^"]+)"[^>]*/>', xml)
    new, grown = [], {}
    for ref in refs:
        a, _, b = ref.partition(":")
        (r1, c1), (r2, c2) = split_addr(a), split_addr(b or a)
        if not (r_lo <= r1 and r2 <= r_hi):
            continue
        if first <= c1 and c2 <= last:
            for k in range(1, n // w + 1):
                new.append(f"{col_letters(c1 + k * w)}{r1}:{col_letters(c2 + k * w)}{r2}")
        elif c1 < first and c2 == at - 1:
            grown[ref] = f"{col_letters(c1)}{r1}:{col_letters(c2 + n)}{r2}"
    if not new and not grown:
        return 0
    for old, ref in grown.items():
        xml = re.sub(rf'(<(?:\w+:)?mergeCell\b[^>]*\sref="){re.escape(old)}(")', rf"\g<1>{ref}\g<2>", xml, count=1)
    if new:
        m = re.search(r"<((?:\w+:)?)mergeCells\b([^>]*)>", xml)
        p = m.group(1)
        tags = "".join(f'<{p}mergeCell ref="{ref}"/>' for ref in new)
        end = xml.index(f"</{p}mergeCells>", m.end())
        xml = xml[:end] + tags + xml[end:]
        count = len(re.findall(r"<(?:\w+:)?mergeCell\b", xml))
        head = re.sub(r'\scount="\d+"', f' count="{count}"', m.group(0))
        xml = xml[: m.start()] + head + xml[m.end():]
    pkg.put(part, xml)
    return len(new) + len(grown)
