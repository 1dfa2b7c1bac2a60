"""The 数式一覧 sheet every xlsgen output carries: each formula pattern once, with a plain
Japanese explanation of what it computes and what it reads.

Writers with their own explanations build the notes themselves:

    notes = [FormulaNote("01", "F5:F20", "=D5/E5", "実績値を目標値で割った達成率です。")]
    write_formula_map(xlsxwriter_workbook, notes)        # xlsxwriter, before close()
    add_formula_map_openpyxl(openpyxl_workbook, notes)   # openpyxl, before save()

Or derive them from the formulas already in a workbook (one note per R1C1 pattern,
explanation generated from the functions, operators and cells read):

    notes = notes_from_workbook(openpyxl_workbook_or_path)

Each row links to the first cell of its pattern. Formula text is written as a string.
"""

from __future__ import annotations

from dataclasses import dataclass

from xlsgen.formulas import quote_sheet
from xlsgen.model import FORMULA_MAP_SHEET
from xlsgen.render import theme
from xlsgen.render.theme import FONT, Styles, list_sheet

SHEET_NAME = FORMULA_MAP_SHEET
SAME = "〃"  # the same formula as the row above, in R1C1 terms
SAME_TEXT = "上と同じ数式です（R1C1 形式で同じ: 相対参照を移しただけ）。"
HEADERS = ("シート", "セル", "数式（例）", "説明")
WIDTHS = (20, 22, 40, 70)

_FUNCTIONS_JA = {
    "SUM": "合計", "AVERAGE": "平均", "MAX": "最大値", "MIN": "最小値", "COUNT": "数値の個数",
    "COUNTA": "入力済みセルの個数", "COUNTIF": "条件に合うセルの個数", "COUNTIFS": "条件に合うセルの個数",
    "SUMIF": "条件に合う値の合計", "SUMIFS": "条件に合う値の合計", "SUMPRODUCT": "掛け合わせた値の合計",
    "IF": "条件による切り替え", "IFERROR": "エラー時の代わりの値", "IFNA": "見つからない時の代わりの値",
    "AND": "すべての条件", "OR": "いずれかの条件", "NOT": "条件の否定", "ROUND": "四捨五入",
    "ROUNDDOWN": "切り捨て", "ROUNDUP": "切り上げ", "INT": "整数化", "ABS": "絶対値",
    "VLOOKUP": "表からの検索", "HLOOKUP": "表からの検索", "XLOOKUP": "表からの検索",
    "INDEX": "表からの取り出し", "MATCH": "位置の検索", "ISBLANK": "空欄かどうかの判定",
    "ISNUMBER": "数値かどうかの判定", "TEXT": "書式付きの文字列化", "CONCATENATE": "文字列の連結",
    "POWER": "べき乗", "SQRT": "平方根", "YEAR": "年の取り出し", "DATE": "日付の作成",
}
_OPERATORS_JA = {"+": "足し算", "-": "引き算", "*": "掛け算", "/": "割り算", "^": "べき乗",
                 "&": "文字列の連結", "%": "百分率", "=": "比較", "<>": "比較", "<": "比較",
                 ">": "比較", "<=": "比較", ">=": "比較"}


@dataclass
class FormulaNote:
    """One formula pattern: where it is (A1 range text), one example, what it means."""

    sheet: str
    cells: str
    formula: str
    explanation: str

    @property
    def first_cell(self) -> str:
        return self.cells.split(",")[0].split(":")[0]

    @property
    def location(self) -> str:
        return f"{quote_sheet(self.sheet)}!{self.first_cell}"


def write_formula_map(workbook, notes: list[FormulaNote], sheet_name: str = SHEET_NAME,
                      title: str | None = None, year: str = ""):
    """Add the sheet to an xlsxwriter Workbook; returns the worksheet. Its pages are headed
    `title` (default: the workbook's title) and `year`, as 参考資料 (a reference sheet)."""
    ws = workbook.add_worksheet(sheet_name)
    ws.set_tab_color(theme.NA_FILL)
    st = Styles(workbook)
    head, text, link = st.head(align="left", valign="top"), st.text(), st.link()
    book = title if title is not None else \
        (getattr(workbook, "doc_properties", None) or {}).get("title") or ""
    list_sheet(ws, book or sheet_name, list(zip(HEADERS, WIDTHS)), head, year=year,
               label=f"参考資料　{sheet_name}")
    if not notes:
        ws.merge_range(1, 0, 1, len(HEADERS) - 1, "このブックには数式がありません。", text)
    r = 1
    for note in notes:
        # the formula belongs to the first cell of its line: a head line names one range, the
        # others follow on 〃 lines (a link cell does not wrap: one line a row)
        parts = note.cells.replace(" ", "").split(",")
        lines = parts[:1]
        lines += theme.chunk_line(parts[1:], WIDTHS[1]) if len(parts) > 1 else []
        for i, line in enumerate(lines):
            first = line.split(",")[0].split(":")[0]
            ws.write_url(r, 1, f"internal:{quote_sheet(note.sheet)}!{first}", link, string=line)
            # a line of its own names its sheet; 〃: the same formula in R1C1 terms
            ws.write_string(r, 0, note.sheet, text)
            if i == 0:
                ws.write_string(r, 2, note.formula, text)
                ws.write_string(r, 3, note.explanation, text)
            else:
                ws.write_string(r, 2, SAME, text)
                ws.write_blank(r, 3, None, text)
            r += 1
    return ws


def add_formula_map_openpyxl(wb, notes: list[FormulaNote], sheet_name: str = SHEET_NAME):
    """Add the sheet to an openpyxl Workbook; returns the worksheet."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.hyperlink import Hyperlink

    ws = wb.create_sheet(sheet_name)
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape"
    ws.print_title_rows = "1:1"
    ws.freeze_panes = "A2"
    thin = Side(style="thin")
    border = Border(left=thin, right=thin, top=thin, bottom=thin)
    wrap = Alignment(wrap_text=True, vertical="top")
    for c, w in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(c)].width = w
    for r, values in enumerate([HEADERS] + [(n.sheet, n.cells, n.formula, n.explanation) for n in notes],
                               start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(r, c)
            cell.value = value
            cell.data_type = "s"  # a formula example stays text, never a live formula
            cell.font = Font(name=FONT, size=10, bold=r == 1)
            cell.alignment, cell.border = wrap, border
            if r == 1:
                cell.fill = PatternFill("solid", fgColor=theme.HEAD_FILL.lstrip("#"))
        if r > 1:
            link = ws.cell(r, 2)
            link.hyperlink = Hyperlink(ref=link.coordinate, location=notes[r - 2].location)
            link.font = Font(name=FONT, size=10, color="0000FF", underline="single")
    return ws


def notes_from_workbook(source) -> list[FormulaNote]:
    """One note per formula pattern of an openpyxl Workbook (or a .xlsx path)."""
    from xlsgen.audit import load_inventory
    from xlsgen.audit.inventory import Inventory

    inv = load_inventory(source) if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__") \
        else Inventory(source)
    notes = []
    for g in inv.groups:
        first = inv.formulas[g.members[0]]
        notes += group_notes(g, explain(first, len(g.cells)))
    return notes


def group_notes(group, explanation: str) -> list[FormulaNote]:
    """The notes of one formula group: a row per sheet, the formula and its explanation on
    the first, 「〃」 on the others (the same formula in R1C1 terms: the group's very
    meaning)."""
    from xlsgen.audit.inventory import compress_cells

    sheets = group.by_sheet
    if len(sheets) > 1:
        explanation += f"（同じ数式が {len(sheets)} シートの {len(group.cells)} セルにあります）"
    return [FormulaNote(sheet, compress_cells(cells), group.formula if i == 0 else SAME,
                        explanation if i == 0 else SAME_TEXT)
            for i, (sheet, cells) in enumerate(sheets.items())]


def explain(f, count: int = 1) -> str:
    """Plain Japanese: what the formula computes and which cells and names it reads."""
    how = [f"{_FUNCTIONS_JA[n]}（{n}）" if n in _FUNCTIONS_JA else n for n in f.parsed.functions]
    how += [_OPERATORS_JA[o] for o in f.parsed.operators if o in _OPERATORS_JA]
    how = list(dict.fromkeys(how))
    reads = [a.text.split("!")[-1] if a.sheet == f.sheet else a.text for a in f.areas]
    text = ("、".join(how) + "で求めます。") if how else "参照先の値をそのまま表示します。"
    if reads:
        text += "読み取るセル: " + "、".join(dict.fromkeys(reads)) + "。"
    if f.names:
        text += "使う名前: " + "、".join(dict.fromkeys(f.names)) + "。"
    if count > 1:
        text += f"同じ形の数式が {count} セルにあります（説明は {f.cell} の場合）。"
    return text


def explain_text(formula: str, row: int, col: int) -> str:
    """`explain` for a formula not read from a saved workbook (row and col 1-based)."""
    from xlsgen.audit.formula import parse_formula

    parsed = parse_formula(formula, row, col)
    how = [f"{_FUNCTIONS_JA[n]}（{n}）" if n in _FUNCTIONS_JA else n for n in parsed.functions]
    how += [_OPERATORS_JA[o] for o in parsed.operators if o in _OPERATORS_JA]
    how = list(dict.fromkeys(how))
    text = ("、".join(how) + "で求めます。") if how else "参照先の値をそのまま表示します。"
    reads = [r.text for r in parsed.refs if r.name is None]
    names = [r.name for r in parsed.refs if r.name is not None]
    if reads:
        text += "読み取るセル: " + "、".join(dict.fromkeys(reads)) + "。"
    if names:
        text += "使う名前: " + "、".join(dict.fromkeys(names)) + "。"
    return text


def written_formulas(workbook) -> list[tuple[str, int, int, str]]:
    """Every formula written so far to an xlsxwriter Workbook: (sheet, row, col, formula),
    1-based, in workbook order."""
    out = []
    for ws in workbook.worksheets():
        if getattr(ws, "is_chartsheet", False):
            continue
        for r in sorted(ws.table):
            for c in sorted(ws.table[r]):
                cell_ = ws.table[r][c]
                if type(cell_).__name__ in ("Formula", "ArrayFormula"):
                    text = cell_.formula
                    out.append((ws.name, r + 1, c + 1, text if text.startswith("=") else "=" + text))
    return out


def notes_of_workbook(workbook, known: list[FormulaNote] = ()) -> list[FormulaNote]:
    """The notes of every formula of an xlsxwriter Workbook (before close), grouped the
    audit's way (R1C1 equality across sheets); a group whose first cell a `known` note
    names takes that note's explanation, any other is explained from its formula."""
    from openpyxl.utils.cell import range_boundaries

    from xlsgen.audit.inventory import pattern_groups

    texts = {}
    for note in known:
        for part in note.cells.replace(" ", "").split(","):
            c1, r1, c2, r2 = range_boundaries(part if ":" in part else f"{part}:{part}")
            for r in range(r1, r2 + 1):
                for c in range(c1, c2 + 1):
                    texts.setdefault((note.sheet, r, c), note.explanation)
    notes = []
    for g in pattern_groups((s, r, c, f, None) for s, r, c, f in written_formulas(workbook)):
        sheet, r, c = g.members[0]
        notes += group_notes(g, texts.get((sheet, r, c)) or explain_text(g.formula, r, c))
    return notes
