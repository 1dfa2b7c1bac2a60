"""styles.xml: read the number format and fill of each cell style, append the styles a roll
needs (a cloned cellXfs entry with a new fill or number format). Existing entries are never
renumbered or changed; new ones go at the end of their lists."""

from __future__ import annotations

import functools
import re

from xlsgen.package.ooxml import escape_attr

INPUT_RGB = "FFFFF2CC"  # light yellow: a cell left for the clerk
HEAD_RGB = "FFD9E1F2"
LIST_FONT = "游ゴシック"
# the number formats every workbook has without declaring them (ECMA-376 18.8.30)
BUILTIN_FORMATS = {
    0: "General", 1: "0", 2: "0.00", 3: "#,##0", 4: "#,##0.00", 5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)', 7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)', 9: "0%", 10: "0.00%", 11: "0.00E+00", 12: "# ?/?",
    13: "# ??/??", 14: "mm-dd-yy", 15: "d-mmm-yy", 16: "d-mmm", 17: "mmm-yy", 18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM", 20: "h:mm", 21: "h:mm:ss", 22: "m/d/yy h:mm", 37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)", 39: "#,##0.00_);(#,##0.00)", 40: "#,##0.00_);[Red](#,##0.00)",
    41: '_(* #,##0_);_(* \\(#,##0\\);_(* "-"_);_(@_)',
    42: '_("$"* #,##0_);_("$"* \\(#,##0\\);_("$"* "-"_);_(@_)',
    43: '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)',
    44: '_("$"* #,##0.00_)_("$"* \\(#,##0.00\\)_("$"* "-"??_)_(@_)', 45: "mm:ss", 46: "[h]:mm:ss",
    47: "mmss.0", 48: "##0.0E+0", 49: "@",
}
_BUILTIN_IDS = {code: i for i, code in BUILTIN_FORMATS.items()}
_XF = re.compile(r"<(?:\w+:)?xf\b[^>]*?(?:/>|>.*?</(?:\w+:)?xf>)", re.S)
_FILL = re.compile(r"<(?:\w+:)?fill\b[^>]*?(?:/>|>.*?</(?:\w+:)?fill>)", re.S)
_NUMFMT = re.compile(r"<(?:\w+:)?numFmt\b[^>]*?/?>", re.S)


@functools.cache
def _attr_re(name: str) -> re.Pattern:
    return re.compile(rf'(\s{name}=)"([^"]*)"')


def _attr(tag: str, name: str) -> str | None:
    m = _attr_re(name).search(tag)
    return m.group(2) if m else None


def _set_attr(tag: str, name: str, value: str) -> str:
    m = _attr_re(name).search(tag)
    if m is not None:
        return tag[: m.start(2)] + value + tag[m.end(2):]
    m = re.match(r"<[\w:]+", tag)
    return tag[: m.end()] + f' {name}="{value}"' + tag[m.end():]


def _unxml(s: str) -> str:
    return (s.replace("&quot;", '"').replace("&apos;", "'").replace("&lt;", "<")
            .replace("&gt;", ">").replace("&amp;", "&"))


class Styles:
    """The styles part as text with its lists indexed."""

    def __init__(self, xml: str):
        self.xml = xml
        self.prefix = re.match(r"(?:<\?[^>]*\?>\s*)?<(\w+:)?styleSheet", xml).group(1) or ""
        self.custom = {int(_attr(t, "numFmtId")): _unxml(_attr(t, "formatCode") or "")
                       for t in _NUMFMT.findall(self._section("numFmts") or "")}
        self.xfs = _XF.findall(self._section("cellXfs") or "")
        self.fills = _FILL.findall(self._section("fills") or "")
        self.new: dict[str, list[str]] = {"numFmts": [], "fills": [], "cellXfs": [],
                                         "fonts": [], "borders": []}
        self._cache: dict[tuple, int] = {}
        self._list: dict[str, int] | None = None
        self._formats: dict[int, str] = {}
        self._fill_ids: dict[int, int] = {}
        self._input_fill: dict[int, bool] = {}

    def _section(self, name: str) -> str | None:
        p = self.prefix
        m = re.search(rf"<{p}{name}\b[^>]*?(?:/>|>(.*?)</{p}{name}>)", self.xml, re.S)
        return (m.group(1) or "") if m else None

    def _count(self, name: str) -> int:
        if name == "cellXfs":
            return len(self.xfs) + len(self.new[name])
        if name == "fills":
            return len(self.fills) + len(self.new[name])
        body = self._section(name) or ""
        tag = {"fonts": "font", "borders": "border"}[name]
        n = len(re.findall(rf"<(?:\w+:)?{tag}\b", body))
        return n + len(self.new[name])

    # --- read ---------------------------------------------------------------------

    def xf(self, s: int) -> str:
        all_xfs = self.xfs + self.new["cellXfs"]
        return all_xfs[s] if 0 <= s < len(all_xfs) else (all_xfs[0] if all_xfs else "<xf/>")

    def number_format(self, s: int) -> str:
        fmt = self._formats.get(s)
        if fmt is None:
            fid = int(_attr(self.xf(s), "numFmtId") or 0)
            fmt = self._formats[s] = self.custom.get(fid) or BUILTIN_FORMATS.get(fid, "General")
        return fmt

    def fill_id(self, s: int) -> int:
        if s not in self._fill_ids:  # entries are only ever appended, never changed
            self._fill_ids[s] = int(_attr(self.xf(s), "fillId") or 0)
        return self._fill_ids[s]

    def is_input_fill(self, s: int) -> bool:
        fid = self.fill_id(s)
        if fid not in self._input_fill:
            fills = self.fills + self.new["fills"]
            f = fills[fid] if fid < len(fills) else ""
            self._input_fill[fid] = 'patternType="solid"' in f and INPUT_RGB in f.upper().split("FGCOLOR", 1)[-1][:40]
        return self._input_fill[fid]

    # --- append -------------------------------------------------------------------

    def _add(self, section: str, xml: str) -> int:
        self.new[section].append(xml)
        return self._count(section) - 1

    def _fill(self, rgb: str) -> int:
        key = ("fill", rgb)
        if key not in self._cache:
            p = self.prefix
            self._cache[key] = self._add("fills", (
                f'<{p}fill><{p}patternFill patternType="solid"><{p}fgColor rgb="{rgb}"/>'
                f'<{p}bgColor indexed="64"/></{p}patternFill></{p}fill>'))
        return self._cache[key]

    def _numfmt(self, code: str) -> int:
        if code in _BUILTIN_IDS:
            return _BUILTIN_IDS[code]
        for i, c in self.custom.items():
            if c == code:
                return i
        i = max([163, *self.custom]) + 1
        self.custom[i] = code
        self.new["numFmts"].append(f'<{self.prefix}numFmt numFmtId="{i}" formatCode="{escape_attr(code)}"/>')
        return i

    def derive(self, s: int, *, fill_rgb: str | None = None, fill_id: int | None = None,
               number_format: str | None = None) -> int:
        """The index of a cell style like `s` with another fill and/or number format."""
        key = ("xf", s, fill_rgb, fill_id, number_format)
        if key in self._cache:
            return self._cache[key]
        tag = self.xf(s)
        if fill_rgb is not None:
            fill_id = self._fill(fill_rgb)
        if fill_id is not None and fill_id != self.fill_id(s):
            tag = _set_attr(_set_attr(tag, "fillId", str(fill_id)), "applyFill", "1")
        if number_format is not None and number_format != self.number_format(s):
            tag = _set_attr(_set_attr(tag, "numFmtId", str(self._numfmt(number_format))),
                            "applyNumberFormat", "1")
        out = s if tag == self.xf(s) else self._add("cellXfs", tag)
        self._cache[key] = out
        return out

    def list_styles(self) -> dict[str, int]:
        """Cell styles of xlsgen's list sheets: head, body, link, date (10pt, wrapped, thin box)."""
        if self._list is None:
            p = self.prefix
            font = f'<{p}sz val="10"/><{p}name val="{LIST_FONT}"/><{p}family val="3"/><{p}charset val="128"/>'
            fonts = [self._add("fonts", f"<{p}font>{extra}{font}</{p}font>") for extra in
                     ("", f"<{p}b/>", f'<{p}u/><{p}color rgb="FF0000FF"/>')]
            side = '<{0}{1} style="thin"><{0}color indexed="64"/></{0}{1}>'
            border = self._add("borders", f"<{p}border>" + "".join(
                side.format(p, s) for s in ("left", "right", "top", "bottom")) + f"<{p}diagonal/></{p}border>")
            head = self._fill(HEAD_RGB)
            align = f'<{p}alignment vertical="top" wrapText="1"/>'

            def xf(font_id: int, fill: int, fmt: int = 49) -> int:
                return self._add("cellXfs", (
                    f'<{p}xf numFmtId="{fmt}" fontId="{font_id}" fillId="{fill}" borderId="{border}" xfId="0"'
                    f' applyNumberFormat="1" applyFont="1" applyFill="1" applyBorder="1" applyAlignment="1">'
                    f"{align}</{p}xf>"))
            self._list = {"body": xf(fonts[0], 0), "head": xf(fonts[1], head), "link": xf(fonts[2], 0),
                          "date": xf(fonts[0], 0, self._numfmt("yyyy/m/d"))}
            self._list_font, self._list_border = fonts[0], border
        return self._list

    def list_number(self, number_format: str) -> int:
        """The list sheets' body style for a number: right-aligned, in `number_format`."""
        self.list_styles()
        key = ("list-number", number_format)
        if key not in self._cache:
            p = self.prefix
            self._cache[key] = self._add("cellXfs", (
                f'<{p}xf numFmtId="{self._numfmt(number_format)}" fontId="{self._list_font}" fillId="0"'
                f' borderId="{self._list_border}" xfId="0" applyNumberFormat="1" applyFont="1" applyFill="1"'
                f' applyBorder="1" applyAlignment="1"><{p}alignment horizontal="right" vertical="top"/></{p}xf>'))
        return self._cache[key]

    # --- write --------------------------------------------------------------------

    def render(self) -> str | None:
        """The new styles.xml text, or None when nothing was added."""
        if not any(self.new.values()):
            return None
        xml, p = self.xml, self.prefix
        for name in ("numFmts", "fonts", "fills", "borders", "cellXfs"):
            if not self.new[name]:
                continue
            added = "".join(self.new[name])
            count = self._count(name) if name != "numFmts" else len(self.custom)
            m = re.search(rf"<{p}{name}\b([^>]*?)(/?)>", xml)
            if m is None:  # only numFmts may be absent: it comes first
                root = re.search(rf"<{p}styleSheet\b[^>]*>", xml)
                xml = xml[: root.end()] + f'<{p}{name} count="{count}">{added}</{p}{name}>' + xml[root.end():]
                continue
            open_tag = _set_attr(f"<{p}{name}{m.group(1)}>", "count", str(count))
            if m.group(2):  # self-closed
                xml = xml[: m.start()] + open_tag + added + f"</{p}{name}>" + xml[m.end():]
            else:
                end = xml.index(f"</{p}{name}>", m.end())
                xml = xml[: m.start()] + open_tag + xml[m.end(): end] + added + xml[end:]
        return xml
