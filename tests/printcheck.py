"""The print check: a workbook printed to PDF by LibreOffice, read back with poppler's
pdftotext. Overprinted words (boxes overlapping by more than 30% of the smaller one) and
cell text missing from the PDF (cut by a short row or a narrow column)."""

from __future__ import annotations

import re
import subprocess
from collections import Counter

from openpyxl import load_workbook

WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>')


def _pdftotext(*args) -> str:
    return subprocess.run(["pdftotext", *args], capture_output=True, text=True, check=True).stdout


def overprints(pdf) -> list[tuple[int, str, str]]:
    """(page, word, word) for every pair of words drawn over each other."""
    found = []
    for pno, page in enumerate(_pdftotext("-bbox", str(pdf), "-").split("<page ")[1:], 1):
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(page)]
        words.sort()
        for i, a in enumerate(words):
            for b in words[i + 1:]:
                if b[0] >= a[2]:
                    break  # sorted by left edge: no later word starts inside a
                ix = min(a[2], b[2]) - max(a[0], b[0])
                iy = min(a[3], b[3]) - max(a[1], b[1])
                if ix <= 0 or iy <= 0:
                    continue
                small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
                if small > 0 and ix * iy > 0.3 * small:
                    found.append((pno, a[4], b[4]))
    return found


def clipped(xlsx, pdf) -> tuple[list[str], int]:
    """Text cells of visible sheets whose text (whitespace ignored) is not in the PDF's text
    in drawing order; and how many text cells there are."""
    squash = lambda t: re.sub(r"\s+", "", t)  # noqa: E731
    text = squash(_pdftotext("-raw", str(pdf), "-"))
    wb = load_workbook(xlsx, read_only=True)
    missing, total = [], 0
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        for row in ws.iter_rows():
            for c in row:
                v = getattr(c, "value", None)
                if isinstance(v, str) and not v.startswith("=") and squash(v):
                    total += 1
                    if squash(v)[:300] not in text:
                        missing.append(f"{ws.title}!{c.coordinate}")
    wb.close()
    return missing, total


def pages(pdf) -> list[str]:
    """The text of each page (layout kept)."""
    return _pdftotext("-layout", str(pdf), "-").split("\f")[:-1]


def sheet_numbers(pdf) -> Counter:
    """How many pages carry each `シート№ X` of the page header."""
    out = Counter()
    for text in pages(pdf):
        m = re.search(r"シート№\s*(\S+)", text)
        if m:
            out[m.group(1)] += 1
    return out


def _words(pdf) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: its width, height and words (xMin, yMin, xMax, yMax, text)."""
    out = []
    for page in _pdftotext("-bbox", str(pdf), "-").split("<page ")[1:]:
        w, h = (float(x) for x in re.search(r'width="([\d.]+)" height="([\d.]+)"', page).groups())
        words = [(float(a), float(b), float(c), float(d), t) for a, b, c, d, t in WORD.findall(page)]
        out.append((w, h, words))
    return out


def type_sizes(pdf) -> list[tuple[float, float]]:
    """Per page with text: the median and the 5th percentile of its words' heights (points),
    the measure of type size as printed (8 pt type at 100 % is about 7.4 pt)."""
    import statistics

    out = []
    for _, _, words in _words(pdf):
        hs = sorted(d - b for _, b, _, d, _ in words)
        if hs:
            out.append((statistics.median(hs), hs[len(hs) // 20]))
    return out


def edges(pdf) -> list[tuple[str, str]]:
    """Per page: the text of its top and bottom tenth (running header and footer)."""
    out = []
    for _, h, words in _words(pdf):
        top = " ".join(t for _, b, _, d, t in words if d < 0.1 * h)
        bottom = " ".join(t for _, b, _, d, t in words if b > 0.9 * h)
        out.append((top, bottom))
    return out


def rows_before_header(pdf, names: set[str], header: str = "指標名") -> list[int]:
    """Pages (1-based) where a word that is exactly one of `names` appears above the first
    `header` of the page (or the page has none): a table continued without its header."""
    import unicodedata

    norm = lambda s: unicodedata.normalize("NFKC", s).replace(" ", "")  # noqa: E731
    wanted = {norm(n) for n in names if len(norm(n)) >= 6}
    bad = []
    for i, (_, _, words) in enumerate(_words(pdf), 1):
        rows = [b for _, b, _, _, t in words if norm(t) in wanted]
        heads = [b for _, b, _, _, t in words if header in t]
        if rows and (not heads or min(heads) > min(rows)):
            bad.append(i)
    return bad
