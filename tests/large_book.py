"""A city workbook with a large pasted data sheet that no layout reads.

`with_data_sheet(src, dst, rows)` copies the package of `src` and adds one worksheet
(「データ」 by default) holding a header row and `rows` rows of pasted records: a running
number, a date, a category and a unique item name (shared strings, as Excel stores them),
quantities and amounts. The package is edited as bytes, like a clerk's Excel save would
leave it; the added sheet sits last, after every sheet of the city's layout.

    python -m tests.large_book OUT.xlsx [--rows 260000]
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

HEADERS = ("番号", "日付", "区分", "品名", "数量", "単価", "金額", "担当", "備考", "確認")
CATEGORIES = ("消耗品", "備品", "委託料", "使用料", "修繕料", "燃料費", "印刷製本費", "通信運搬費")
STAFF = ("総務課", "企画政策課", "商工観光課", "農林課", "建設課", "福祉課")


def _col(c: int) -> str:
    s = ""
    c += 1
    while c:
        c, r = divmod(c - 1, 26)
        s = chr(65 + r) + s
    return s


def _sheet_xml(rows: int, sst_base: int, n_fixed: int) -> bytes:
    """The data sheet: shared-string indexes from `sst_base` (headers, categories, staff,
    then one unique item name per row)."""
    head = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            f'<dimension ref="A1:J{rows + 1}"/><sheetData>')
    parts = [head, '<row r="1">']
    parts += [f'<c r="{_col(c)}1" t="s"><v>{sst_base + c}</v></c>' for c in range(len(HEADERS))]
    parts.append("</row>")
    cat0 = sst_base + len(HEADERS)
    staff0 = cat0 + len(CATEGORIES)
    item0 = sst_base + n_fixed
    for i in range(1, rows + 1):
        r = i + 1
        qty, price = i % 97 + 1, (i * 37) % 5000 + 100
        parts.append(
            f'<row r="{r}"><c r="A{r}"><v>{i}</v></c><c r="B{r}"><v>{44287 + i % 365}</v></c>'
            f'<c r="C{r}" t="s"><v>{cat0 + i % len(CATEGORIES)}</v></c>'
            f'<c r="D{r}" t="s"><v>{item0 + i - 1}</v></c>'
            f'<c r="E{r}"><v>{qty}</v></c><c r="F{r}"><v>{price}</v></c>'
            f'<c r="G{r}"><v>{qty * price}</v></c>'
            f'<c r="H{r}" t="s"><v>{staff0 + i % len(STAFF)}</v></c>'
            f'<c r="I{r}"><v>{(i * 7) % 1000 / 10}</v></c><c r="J{r}" t="b"><v>{i % 2}</v></c></row>')
    parts.append("</sheetData></worksheet>")
    return "".join(parts).encode("utf-8")


def with_data_sheet(src: Path, dst: Path, rows: int = 260_000, name: str = "データ") -> Path:
    """`src` plus a pasted data sheet of `rows` records, written to `dst`."""
    src, dst = Path(src), Path(dst)
    with zipfile.ZipFile(src) as z:
        infos = z.infolist()
        parts = {i.filename: z.read(i.filename) for i in infos}
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in parts:
        n += 1
    part = f"xl/worksheets/sheet{n}.xml"
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    ids = {int(x) for x in re.findall(r'Id="rId(\d+)"', rels)}
    rid = f"rId{max(ids) + 1}"
    rels = rels.replace("</Relationships>",
                        f'<Relationship Id="{rid}" Type="http://schemas.openxmlformats.org/'
                        f'officeDocument/2006/relationships/worksheet" '
                        f'Target="worksheets/sheet{n}.xml"/></Relationships>')
    wb = parts["xl/workbook.xml"].decode("utf-8")
    sheet_id = max(int(x) for x in re.findall(r'sheetId="(\d+)"', wb)) + 1
    wb = wb.replace("</sheets>", f'<sheet name="{name}" sheetId="{sheet_id}" state="visible" '
                                 f'r:id="{rid}"/></sheets>')
    ct = parts["[Content_Types].xml"].decode("utf-8")
    ct = ct.replace("</Types>", f'<Override PartName="/{part}" ContentType="application/'
                                f'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
    sst = parts["xl/sharedStrings.xml"].decode("utf-8")
    base = int(re.search(r'uniqueCount="(\d+)"', sst).group(1))
    fixed = [*HEADERS, *CATEGORIES, *STAFF]
    added = fixed + [f"品目{i:06d}" for i in range(1, rows + 1)]
    count = int(re.search(r'\bcount="(\d+)"', sst).group(1)) + len(HEADERS) + 3 * rows
    sst = re.sub(r'\bcount="\d+"', f'count="{count}"', sst, count=1)
    sst = re.sub(r'uniqueCount="\d+"', f'uniqueCount="{base + len(added)}"', sst, count=1)
    sst = sst.replace("</sst>", "".join(f"<si><t>{t}</t></si>" for t in added) + "</sst>")
    parts.update({"xl/_rels/workbook.xml.rels": rels.encode("utf-8"), "xl/workbook.xml": wb.encode("utf-8"),
                  "[Content_Types].xml": ct.encode("utf-8"), "xl/sharedStrings.xml": sst.encode("utf-8"),
                  part: _sheet_xml(rows, base, len(fixed))})
    order = [i.filename for i in infos] + [part]
    dst.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name_ in order:
            z.writestr(name_, parts[name_])
    return dst


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output", type=Path)
    ap.add_argument("--rows", type=int, default=260_000)
    ap.add_argument("--source", type=Path,
                    default=Path(__file__).resolve().parent.parent / "inputs" / "ojiya_進行管理シート_R3.xlsx")
    args = ap.parse_args()
    with_data_sheet(args.source, args.output, args.rows)
