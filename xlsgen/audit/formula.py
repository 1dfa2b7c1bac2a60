"""One formula taken apart: references, names, functions, number literals, error literals
and its relative R1C1 form (the key that groups cells sharing one pattern)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from openpyxl.formula import Tokenizer
from openpyxl.formula.tokenizer import Token, TokenizerError
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from openpyxl.utils.formulas import FORMULAE

from xlsgen.formulas import MAX_COL, MAX_ROW, area_text  # noqa: F401  (re-exported)

PLAIN_NUMBERS = frozenset({0.0, 1.0, 12.0, 100.0, 1000.0})
ERROR_CODES = ("#REF!", "#DIV/0!", "#NAME?", "#VALUE!", "#N/A", "#NUM!", "#NULL!")

# Functions added to Excel after openpyxl's list (stored as _xlfn.NAME in files).
_MODERN = {
    "IFNA", "IFS", "SWITCH", "MAXIFS", "MINIFS", "CONCAT", "TEXTJOIN", "XLOOKUP", "XMATCH",
    "FILTER", "SORT", "SORTBY", "UNIQUE", "SEQUENCE", "RANDARRAY", "LET", "DAYS", "AGGREGATE",
    "ISOWEEKNUM", "NUMBERVALUE", "SHEET", "SHEETS", "FORMULATEXT", "ISFORMULA", "IFERROR",
    "STDEV.S", "STDEV.P", "VAR.S", "VAR.P", "RANK.EQ", "RANK.AVG", "PERCENTILE.INC",
    "PERCENTILE.EXC", "QUARTILE.INC", "QUARTILE.EXC", "MODE.SNGL", "CEILING.MATH",
    "FLOOR.MATH", "FORECAST.LINEAR", "NORM.DIST", "NORM.INV", "NORM.S.DIST", "SINGLE",
    "ANCHORARRAY", "TEXTBEFORE", "TEXTAFTER", "TEXTSPLIT", "VSTACK", "HSTACK", "TAKE", "DROP",
    "CHOOSECOLS", "CHOOSEROWS", "TOCOL", "TOROW", "WRAPROWS", "WRAPCOLS", "EXPAND", "BITAND",
    "BITOR", "BITXOR", "ARABIC", "BASE", "DECIMAL", "DAYS360", "SUBTOTAL", "PHONETIC",
}
KNOWN_FUNCTIONS = frozenset(FORMULAE) | _MODERN
# Functions whose later arguments are structural (digits, column index, position), not data.
_STRUCTURAL_ARGS = {
    "ROUND", "ROUNDUP", "ROUNDDOWN", "TRUNC", "FIXED", "INDEX", "MATCH", "XMATCH", "VLOOKUP",
    "HLOOKUP", "OFFSET", "LEFT", "RIGHT", "MID", "LARGE", "SMALL", "RANK", "RANK.EQ",
    "WEEKDAY", "DATE", "EDATE", "EOMONTH", "TEXT", "CHOOSE", "SUBTOTAL", "AGGREGATE",
}
_FIRST_ARG_STRUCTURAL = {"CHOOSE", "SUBTOTAL", "AGGREGATE", "DATE"}

_CELL = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)$")
_COL = re.compile(r"^(\$?)([A-Za-z]{1,3})$")
_ROW = re.compile(r"^(\$?)([0-9]+)$")


class RefText:
    """A reference operand: sheet as written (None: the formula's own sheet) and address,
    or `name` when the operand is a defined name; `bounds` (r1, c1, r2, c2) for addresses.
    `text` of a reference moved by `shifted` is spelled only when asked for."""

    __slots__ = ("_text", "sheet", "bounds", "name", "external", "prefix", "parts")

    def __init__(self, text: str | None, sheet: str | None,
                 bounds: tuple[int, int, int, int] | None = None, name: str | None = None,
                 external: bool = False, prefix: str = "", parts: tuple = ()):
        self._text, self.sheet, self.bounds, self.name = text, sheet, bounds, name
        self.external, self.prefix = external, prefix
        self.parts = parts  # per `:` part: (row, row absolute, col, col absolute), None = whole

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = self.prefix + ":".join(_part_text(p) for p in self.parts)
        return self._text

    def __repr__(self) -> str:
        return f"RefText({self.text!r}, {self.sheet!r}, {self.bounds!r}, {self.name!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RefText) and (self.text, self.sheet, self.bounds, self.name,
                                               self.external) == (other.text, other.sheet,
                                                                  other.bounds, other.name,
                                                                  other.external)

    __hash__ = None

    def shifted(self, dr: int, dc: int) -> RefText:
        """The same reference written `dr` rows and `dc` columns further (relative parts
        move, `$` parts stay), as Excel copies a formula."""
        if self.bounds is None or not self.parts or (dr == 0 and dc == 0):
            return self
        parts = tuple((r if r is None or ra else r + dr, ra, c if c is None or ca else c + dc, ca)
                      for r, ra, c, ca in self.parts)
        if parts == self.parts:
            return self
        if len(parts) == 1:
            r, _, c, _ = parts[0]
            bounds = (r or 1, c or 1, r or MAX_ROW, c or MAX_COL)
        else:
            (ra_, _, ca_, _), (rb, _, cb, _) = parts[0], parts[-1]
            r1, r2 = (1, MAX_ROW) if ra_ is None else (min(ra_, rb), max(ra_, rb))
            c1, c2 = (1, MAX_COL) if ca_ is None else (min(ca_, cb), max(ca_, cb))
            bounds = (r1, c1, r2, c2)
        return RefText(None, self.sheet, bounds, None, self.external, self.prefix, parts)


@dataclass
class ParsedFormula:
    refs: list[RefText] = field(default_factory=list)
    functions: list[str] = field(default_factory=list)
    unknown_functions: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)  # literals a reader should question
    errors: list[str] = field(default_factory=list)
    operators: list[str] = field(default_factory=list)
    r1c1: str = ""
    broken: bool = False  # the tokenizer could not read it


def _part_text(part) -> str:
    r, ra, c, ca = part
    col = "" if c is None else ("$" if ca else "") + get_column_letter(c)
    row = "" if r is None else ("$" if ra else "") + str(r)
    return col + row


def _parts(addr: str) -> tuple:
    out = []
    for p in addr.split(":"):
        m = _CELL.match(p)
        if m:
            out.append((int(m.group(4)), bool(m.group(3)),
                        column_index_from_string(m.group(2).upper()), bool(m.group(1))))
            continue
        m = _COL.match(p)
        if m:
            # whole columns/rows stay put: `pattern_key` keeps them verbatim
            out.append((None, True, column_index_from_string(m.group(2).upper()), True))
            continue
        m = _ROW.match(p)
        if m:
            out.append((int(m.group(2)), True, None, True))
            continue
        return ()
    return tuple(out)


def split_sheet(operand: str) -> tuple[str | None, str]:
    """`'My Sheet'!A1` → ("My Sheet", "A1"); `A1` → (None, "A1")."""
    if operand.startswith("'"):
        end = 1
        while True:
            end = operand.index("'", end)
            if operand[end + 1:end + 2] == "'":
                end += 2
                continue
            break
        return operand[1:end].replace("''", "'"), operand[end + 2:]
    if "!" in operand:
        sheet, _, addr = operand.partition("!")
        return sheet, addr
    return None, operand


def parse_address(addr: str) -> tuple[int, int, int, int] | None:
    """`A1:B3` → (1, 1, 3, 2); whole columns/rows span the sheet; None if not an address."""
    parts = addr.split(":")
    if len(parts) > 2:
        return None
    cells = [_CELL.match(p) for p in parts]
    if all(cells):
        rows = [int(m.group(4)) for m in cells]
        cols = [column_index_from_string(m.group(2).upper()) for m in cells]
        if not all(1 <= r <= MAX_ROW for r in rows) or not all(c <= MAX_COL for c in cols):
            return None
        return min(rows), min(cols), max(rows), max(cols)
    if len(parts) == 2 and all(_COL.match(p) for p in parts):
        cols = [column_index_from_string(_COL.match(p).group(2).upper()) for p in parts]
        return 1, min(cols), MAX_ROW, max(cols)
    if len(parts) == 2 and all(_ROW.match(p) for p in parts):
        rows = [int(_ROW.match(p).group(2)) for p in parts]
        return min(rows), 1, max(rows), MAX_COL
    return None


def _r1c1_part(part: str, row: int, col: int) -> str:
    m = _CELL.match(part)
    if m:
        r, c = int(m.group(4)), column_index_from_string(m.group(2).upper())
        return _axis("R", m.group(3), r, row) + _axis("C", m.group(1), c, col)
    m = _COL.match(part)
    if m:
        return _axis("C", m.group(1), column_index_from_string(m.group(2).upper()), col)
    m = _ROW.match(part)
    if m:
        return _axis("R", m.group(1), int(m.group(2)), row)
    return part


def _axis(letter: str, absolute: str, value: int, origin: int) -> str:
    if absolute:
        return f"{letter}{value}"
    return letter if value == origin else f"{letter}[{value - origin}]"


def function_name(raw: str) -> tuple[str, bool]:
    """Upper-case name without `_xlfn.`/`_xlws.` prefixes, and whether Excel knows it."""
    name = raw.upper()
    if name.startswith("_XLUDF."):  # a user-defined (macro) function
        return name[7:], False
    excel_future = name.startswith("_XLFN.")  # Excel writes this only for its own functions
    for prefix in ("_XLFN.", "_XLWS."):
        if name.startswith(prefix):
            name = name[len(prefix):]
    if name.startswith(("ORG.OPENOFFICE.", "ORG.LIBREOFFICE.", "COM.SUN.")):
        return name, False  # LibreOffice-only: Excel shows #NAME?
    return name, excel_future or name in KNOWN_FUNCTIONS


def parse_formula(formula: str, row: int, col: int) -> ParsedFormula:
    """Take `=...` apart as written in the cell at (row, col), 1-based."""
    out = ParsedFormula()
    try:
        tokens = Tokenizer(formula).items
    except (TokenizerError, ValueError, IndexError):
        out.broken, out.r1c1 = True, formula
        return out
    stack: list[list] = []  # [function name or None, argument index]
    pieces = []
    for tok in tokens:
        value = tok.value
        if tok.type == Token.FUNC and tok.subtype == Token.OPEN:
            name, known = function_name(value[:-1])
            out.functions.append(name)
            if not known:
                out.unknown_functions.append(name)
            stack.append([name, 0])
        elif tok.type in (Token.FUNC, Token.PAREN) and tok.subtype == Token.CLOSE:
            if stack:
                stack.pop()
        elif tok.type == Token.PAREN and tok.subtype == Token.OPEN:
            stack.append([None, 0])
        elif tok.type == Token.SEP and tok.subtype == Token.ARG and stack:
            stack[-1][1] += 1
        elif tok.type in (Token.OP_IN, Token.OP_PRE, Token.OP_POST):
            out.operators.append(value)
        elif tok.type == Token.OPERAND and tok.subtype == Token.ERROR:
            out.errors.append(value)
        elif tok.type == Token.OPERAND and tok.subtype == Token.NUMBER:
            if not _plain_number(value, stack[-1] if stack else None):
                out.numbers.append(value)
        elif tok.type == Token.OPERAND and tok.subtype == Token.RANGE:
            value = _reference(value, row, col, out)
        pieces.append(value)
    out.r1c1 = "=" + "".join(pieces)
    return out


# A1 references outside string literals and quoted sheet names, not function names
_KEY_TOKEN = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|(?<![A-Za-z0-9_.$\\])(\$?)([A-Za-z]{1,3})(\$?)'
                        r'([0-9]+)(?![A-Za-z0-9_(.!])')


_WHOLE = re.compile(r"(?<![A-Za-z0-9_.])\$?[0-9]+:\$?[0-9]+|(?<![A-Za-z0-9_.])\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}(?![0-9A-Za-z(])")


_COLUMNS: dict[str, int] = {}


def _column(letters: str) -> int:
    c = _COLUMNS.get(letters)
    if c is None:
        c = _COLUMNS[letters] = column_index_from_string(letters.upper())
    return c


def pattern_key(formula: str, row: int, col: int) -> str:
    """A cheap relative form of `formula` at (row, col): cells sharing it are copies of one
    formula (string literals and sheet names kept verbatim)."""
    def rel(m):
        letters = m.group(2)
        if letters is None:
            return m.group(0)
        c = _COLUMNS.get(letters) or _column(letters)
        r = int(m.group(4))
        return (f"C{c}" if m.group(1) else f"C[{c - col}]") + (f"R{r}" if m.group(3) else f"R[{r - row}]")
    return _KEY_TOKEN.sub(rel, formula)


class PatternParser:
    """`parse_formula` once per distinct pattern: a copy of a parsed formula gets the first
    cell's result with its relative references moved (tokenizing is the audit's main cost)."""

    def __init__(self):
        self._seen: dict[str, tuple[int, int, ParsedFormula]] = {}
        self._shapes: dict[str, tuple[bool, tuple[bool, ...]] | None] = {}
        self._by_shape: dict[tuple, str] = {}

    def parse(self, formula: str, row: int, col: int) -> ParsedFormula:
        if _WHOLE.search(formula):  # whole rows/columns: their R1C1 form moves too
            return parse_formula(formula, row, col)
        try:
            key = pattern_key(formula, row, col)
        except (ValueError, IndexError):
            return parse_formula(formula, row, col)
        hit = self._seen.get(key)
        if hit is None:
            parsed = parse_formula(formula, row, col)
            self._seen[key] = (row, col, parsed)
            return parsed
        r0, c0, first = hit
        dr, dc = row - r0, col - c0
        return ParsedFormula([ref.shifted(dr, dc) for ref in first.refs], first.functions,
                             first.unknown_functions, first.numbers, first.errors,
                             first.operators, first.r1c1, first.broken)

    def r1c1(self, formula: str, row: int, col: int) -> str:
        """Only the R1C1 form (what groups formulas). A copy of a formula seen before costs
        a split at its digits: formulas of one shape (the text with every run of digits
        taken out) tokenize alike, so the shape says once which runs are relative rows, and
        the shape, the runs (relative rows less the row) and the column where a column is
        relative fix the pattern key, hence the R1C1 form."""
        shape = _DIGITS.sub("#", formula)
        roles = self._shapes.get(shape, False)
        if roles is False:
            roles = self._shapes[shape] = _digit_roles(formula)
        if roles is None:
            return self._r1c1(formula, row, col)
        relative_col, relative_rows = roles
        key = (shape, col if relative_col else 0,
               tuple(int(n) - row if rel else n for n, rel in zip(_DIGITS.findall(formula), relative_rows)))
        r1c1 = self._by_shape.get(key)
        if r1c1 is None:
            r1c1 = self._by_shape[key] = self._r1c1(formula, row, col)
        return r1c1

    def _r1c1(self, formula: str, row: int, col: int) -> str:
        if _WHOLE.search(formula):
            return parse_formula(formula, row, col).r1c1
        try:
            key = pattern_key(formula, row, col)
        except (ValueError, IndexError):
            return parse_formula(formula, row, col).r1c1
        hit = self._seen.get(key)
        if hit is None:
            parsed = parse_formula(formula, row, col)
            self._seen[key] = (row, col, parsed)
            return parsed.r1c1
        return hit[2].r1c1


_DIGITS = re.compile(r"[0-9]+")


def _digit_roles(formula: str) -> tuple[bool, tuple[bool, ...]] | None:
    """For `PatternParser.r1c1`: whether a reference has a relative column, and for each
    run of digits whether it is a relative row (its value moves with the cell); None for a
    formula the shape cannot stand for (whole rows or columns, or no pattern key)."""
    if _WHOLE.search(formula):
        return None
    try:
        pattern_key(formula, 1, 1)
    except (ValueError, IndexError):
        return None
    rows, relative_col = set(), False
    for m in _KEY_TOKEN.finditer(formula):
        if m.group(2) is None:
            continue
        relative_col |= not m.group(1)
        if not m.group(3):
            rows.add(m.start(4))
    return relative_col, tuple(m.start() in rows for m in _DIGITS.finditer(formula))


def _plain_number(text: str, frame: list | None) -> bool:
    try:
        number = float(text)
    except ValueError:
        return True
    if number in PLAIN_NUMBERS:
        return True
    if frame and frame[0] in _STRUCTURAL_ARGS:
        return frame[1] > 0 or frame[0] in _FIRST_ARG_STRUCTURAL
    return False


def _reference(operand: str, row: int, col: int, out: ParsedFormula) -> str:
    """Record the operand in `out.refs`; return its R1C1 spelling."""
    if "#REF!" in operand.upper():
        out.errors.append("#REF!")
        return operand
    try:
        sheet, addr = split_sheet(operand)
    except ValueError:
        return operand
    external = sheet is not None and sheet.startswith("[")
    bounds = parse_address(addr)
    if bounds is None:
        if "[" not in addr and not external:  # structured table refs are left alone
            out.refs.append(RefText(operand, sheet, name=addr))
        return operand
    prefix = operand[: len(operand) - len(addr)]
    out.refs.append(RefText(operand, sheet, bounds, external=external, prefix=prefix,
                            parts=_parts(addr)))
    return prefix + ":".join(_r1c1_part(p, row, col) for p in addr.split(":"))


