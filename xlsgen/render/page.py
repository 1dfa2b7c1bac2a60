"""A sheet laid out as blocks of rows and printed on A4 pages a council reads.

A writer describes its rows first (cells, merged ranges, formulas to write once the row
number is known), grouped into blocks: a section heading, a table, a text. `Layout.emit`
then measures every row (its text in its column widths), chooses the orientation and the
print scale from the sheet's width (xlsgen.render.theme.choose_print: one page when the
whole sheet fits at a readable scale), writes the rows, and breaks pages between blocks: a
block that does not fit the rest of a page starts a new one (with the section heading
before it), and a table taller than a page is cut between rows with its header rows written
again at the top of the next page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from xlsgen.render import theme


@dataclass
class Put:
    """One cell or merged range of a row. `value`: str, number, None (blank) or a callable
    `(row, col) -> None` that writes the cell itself (formulas, links); `shown`: its text for the
    row height when `value` is a callable."""

    c1: int
    c2: int
    value: object
    fmt: object
    shown: str | None = None
    span: int = 1  # rows the cell covers (a header cell over two header rows)


@dataclass
class Row:
    puts: list[Put] = field(default_factory=list)
    min_height: float = 0.0  # points
    at: int | None = None  # the sheet row once written
    keep_with_next: bool = False  # no page break between this row and the next
    h: float = 0.0  # points, measured
    after: list[Callable[[int], None]] = field(default_factory=list)  # comments, validations

    def put(self, c1: int, c2: int, value, fmt, shown: str | None = None, span: int = 1) -> Row:
        self.puts.append(Put(c1, c2, value, fmt, shown, span))
        return self


@dataclass
class Block:
    """Rows that belong together. `head`: how many leading rows are the table's header
    (written again where the table goes on to another page); `keep_with_next`: a heading
    that stays on the page of the block after it; `drawing`: a chart's height in points,
    drawn by `draw(row)` at the block's first row."""

    rows: list[Row] = field(default_factory=list)
    head: int = 0
    keep_with_next: bool = False
    drawing: float = 0.0
    draw: Callable[[int], None] | None = None
    optional: bool = False  # left out when the sheet fits one page only without it

    def row(self, min_height: float = 0.0) -> Row:
        r = Row(min_height=min_height)
        self.rows.append(r)
        return r

    def text(self, lay: Layout, label_cols: tuple[int, int], label: str, label_fmt,
             text_cols: tuple[int, int], text: str, text_fmt) -> None:
        """A labelled text; a text taller than a row can be (409 pt) goes on over rows of
        its own, cut between lines (its label on the first)."""
        width = sum(lay.col_px[text_cols[0]:text_cols[1] + 1])
        size = getattr(text_fmt, "font_size", None) or theme.FONT_SIZE
        limit = theme.MAX_ROW_PT - theme.lines_height(2, size)
        parts, current = [], []
        for line in (text or "").split("\n"):
            trial = "\n".join(current + [line])
            need = theme.lines_height(theme.text_lines(trial, width, size), size)
            if current and need > limit:
                parts.append("\n".join(current))
                current = [line]
            else:
                current.append(line)
        parts.append("\n".join(current))
        for i, part in enumerate(parts):
            self.row().put(*label_cols, label if i == 0 else "", label_fmt) \
                .put(*text_cols, part, text_fmt)


class Layout:
    """The rows of one sheet, top to bottom, in blocks."""

    def __init__(self, ws, widths: list[float], strings: Callable[[object], None] | None = None):
        self.ws, self.widths = ws, widths
        self.blocks: list[Block] = []
        for c, w in enumerate(widths):
            ws.set_column(c, c, w)
        self.col_px = [theme.sheet_width_px(ws, c, c) for c in range(len(widths))]

    @property
    def last_col(self) -> int:
        return len(self.widths) - 1

    def block(self, **kw) -> Block:
        b = Block(**kw)
        self.blocks.append(b)
        return b

    # --- measuring ------------------------------------------------------------------
    def _need(self, p: Put) -> float:
        text = p.shown if callable(p.value) else p.value
        if text is None or text == "":
            return 0.0
        text = text if isinstance(text, str) else "0" * len(f"{text:,}")
        size = getattr(p.fmt, "font_size", None) or theme.FONT_SIZE
        wrap = bool(getattr(p.fmt, "text_wrap", False))
        width = sum(self.col_px[p.c1:p.c2 + 1])
        return theme.lines_height(theme.text_lines(text, width, size, wrap), size)

    def _measure(self) -> None:
        """Each row's height: its cells' text wrapped in their (merged) widths; a cell over
        several rows adds what it lacks to the last of them."""
        for b in self.blocks:
            for row in b.rows:
                need = max([row.min_height, theme.lines_height(1)]
                           + [self._need(p) for p in row.puts if p.span == 1])
                row.h = min(theme.MAX_ROW_PT, need)
            for i, row in enumerate(b.rows):
                for p in row.puts:
                    if p.span > 1:
                        rows = b.rows[i:i + p.span]
                        lack = self._need(p) - sum(x.h for x in rows)
                        if lack > 0:
                            rows[-1].h = min(theme.MAX_ROW_PT, rows[-1].h + lack)

    def height(self, row: Row) -> float:
        """Points the row needs (after `_measure`)."""
        return row.h

    def total_height(self, blocks: list[Block] | None = None) -> float:
        blocks = self.blocks if blocks is None else blocks
        return sum(self.height(r) for b in blocks for r in b.rows) + sum(b.drawing for b in blocks)

    # --- writing --------------------------------------------------------------------
    def emit(self, title: str, year: str, label: str, first_row: int = 0,
             one_page: bool = True, repeat_title: bool = True) -> theme.Print:
        """Write every block from `first_row`, set the print area, scale, page breaks and
        running header; returns how the sheet prints. `repeat_title`: the first block's rows
        are printed again at the top of every page (print titles)."""
        self.repeat_title = repeat_title
        ws = self.ws
        self._measure()
        width = sum(self.col_px)
        how = theme.choose_print(width, self.total_height(), one_page=one_page)
        if one_page and any(b.optional for b in self.blocks) and \
                how.page_height < self.total_height():
            needed = [b for b in self.blocks if not b.optional]
            slim = theme.choose_print(width, self.total_height(needed), one_page=True)
            if slim.page_height >= self.total_height(needed):
                self.blocks, how = needed, slim
        theme.apply_print(ws, how)
        theme.running_header(ws, title, year, label)
        page = how.page_height
        r, used, breaks = first_row, 0.0, []
        repeat = sum(self.height(x) for x in self.blocks[0].rows) if self.repeat_title else 0.0

        def new_page() -> float:
            breaks.append(r)
            return repeat  # the title rows printed again at the top

        for i, b in enumerate(self.blocks):
            size = sum(self.height(x) for x in b.rows) + b.drawing
            if b.keep_with_next and i + 1 < len(self.blocks):
                nxt = self.blocks[i + 1]
                whole = sum(self.height(x) for x in nxt.rows) + nxt.drawing
                size += whole if whole <= page - repeat else \
                    sum(self.height(x) for x in _unit(nxt.rows, nxt.head + 1))
            if used and used + size > page and size <= page - repeat:
                used = new_page()
            if b.drawing:
                if used and used + b.drawing > page:
                    used = new_page()
                b.draw(r)
                r += int(b.drawing * 4 / 3 / ws.default_row_height) + 1
                used += b.drawing
            heads = b.rows[:b.head]
            n = 0
            while n < len(b.rows):
                unit = _unit(b.rows, n + 1)[n:] if b.rows[n].keep_with_next else [b.rows[n]]
                h = sum(self.height(x) for x in unit)
                if used and used + h > page:
                    used = new_page()
                    if n >= b.head and heads:  # the table goes on: its header again
                        for hr in heads:
                            hh = self.height(hr)
                            self._write(hr, r, hh, repeat=True)
                            r, used = r + 1, used + hh
                for row in unit:
                    hh = self.height(row)
                    self._write(row, r, hh)
                    r, used = r + 1, used + hh
                n += len(unit)
        last = max(r - 1, first_row)
        ws.print_area(0, 0, last, self.last_col)
        if repeat_title and self.blocks:
            ws.repeat_rows(first_row, first_row + len(self.blocks[0].rows) - 1)
        if breaks:
            ws.set_h_pagebreaks(breaks)
        self.end = last
        return how

    def _write(self, row: Row, r: int, height: float, repeat: bool = False) -> None:
        ws = self.ws
        if not repeat:
            row.at = r
        for p in row.puts:
            if p.c2 > p.c1 or p.span > 1:
                ws.merge_range(r, p.c1, r + p.span - 1, p.c2, "", p.fmt)
            if callable(p.value):
                p.value(r, p.c1)
            elif p.value is None:
                ws.write_blank(r, p.c1, None, p.fmt)
            elif isinstance(p.value, str):
                ws.write_string(r, p.c1, p.value[:32767], p.fmt)
            else:
                ws.write_number(r, p.c1, p.value, p.fmt)
        if not repeat:
            for f in row.after:
                f(r)
        ws.set_row(r, height)


def _unit(rows: list[Row], n: int) -> list[Row]:
    """rows[:n] and the rows kept with the last of them (keep_with_next)."""
    out = list(rows[:n])
    while out and out[-1].keep_with_next and len(out) < len(rows):
        out.append(rows[len(out)])
    return out
