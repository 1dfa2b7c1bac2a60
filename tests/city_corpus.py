"""A corpus of city workbooks of kinds xlsgen had not seen (issue 17), each with every fact it
holds pinned.

Each `write_<kind>(path)` writes one workbook the way a city keeps it (merged cells, number
formats, 千円/円 headers, formulas with cached values, labels as clerks type them, full-width
digits, 和暦) and returns its fact list: every value, text, note, project amount, cost line
value, evaluation, level number and name and department it holds, as

    {"sheet", "cell", "what", "value" (a number) | "text" (as typed), ...}

The fact list also gives the book's edition (`fiscal_year`). With, where they apply: `fiscal_year`, `kind` (決算額/予算額), `unit` (千円/円 of an amount),
`key` (the cost line, evaluation or level key), `department`, `owner` (the KPI, project or
measure the fact belongs to), `none` (a none-mark such as 「－」), `percent` (a % cell: the
value is stored as a fraction), `also` (other spellings of the same fact: 2019 for 「R元」).

The books are valid: `findings_due` lists the only finding codes `validate` may give on
one (e.g. `sheet-skipped` for a cover sheet); any other finding is a false one.

Cells that hold something but are not facts (legends, totals of a column, a heading
repeated on a continuation sheet) are listed under `not_facts` with the reason, and input
cells left blank (years not reported yet) under `blanks`.

The facts are generated from the same data as the workbook and pinned in
`tests/corpus_facts/<book>.json` (`python tests/city_corpus.py --pin` rewrites them;
tests check the generator still gives the pinned facts and that every fact is in its cell).

    python tests/city_corpus.py OUT_DIR        # write the workbooks (and their facts) to OUT_DIR
"""

from __future__ import annotations

import json
import re
import sys
import zipfile
from pathlib import Path

import xlsxwriter
from xlsxwriter.utility import xl_cell_to_rowcol, xl_rowcol_to_cell

HERE = Path(__file__).resolve().parent
FACTS_DIR = HERE / "corpus_facts"
LAYOUTS_DIR = HERE / "layouts" / "corpus"

# number formats as cities use them
N0 = "#,##0"
N1 = "#,##0.0"
N2 = "0.00"
PCT = "0.0%"


def _display(value, num: str | None) -> str:
    """The text Excel shows for a number in a format (for the fact list's `text`)."""
    if isinstance(value, str):
        return value
    if num == PCT:
        return f"{value * 100:.1f}%"
    if num == N1:
        return f"{value:,.1f}"
    if num == N2:
        return f"{value:.2f}"
    if num == N0 or num is None:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    m = re.fullmatch(r'0"(.+)"', num or "")
    if m:
        return f"{value:g}{m.group(1)}"
    return str(value)


class Book:
    """One workbook being written, with its facts."""

    def __init__(self, path: Path, name: str, kind: str, layout: str, fiscal_year: int):
        self.path = Path(path)
        self.name = name
        self.wb = xlsxwriter.Workbook(str(self.path))
        self.facts: list[dict] = []
        self.not_facts: list[dict] = []
        self.blanks: list[dict] = []
        self.findings_due: list[str] = []  # a valid book: `validate` owes no finding but these codes
        # fiscal_year: the edition (the year being reported on and filled in, as the title says)
        self.meta = {"book": name, "kind": kind, "layout": layout, "fiscal_year": fiscal_year}
        self._formats: dict[tuple, object] = {}

    def fmt(self, style: str = "value", num: str | None = None):
        key = (style, num)
        if key not in self._formats:
            props = {"border": 1, "text_wrap": True, "valign": "top", "font_name": "ＭＳ Ｐゴシック",
                     "font_size": 10}
            if style == "label":
                props.update(bg_color="#D9E1F2", valign="vcenter")
            elif style == "title":
                props.update(bold=True, font_size=14, border=0)
            elif style == "heading":
                props.update(bold=True, border=0)
            elif style == "plain":
                props.update(border=0)
            if num:
                props["num_format"] = num
            if style == "value" and num:
                props["align"] = "right"
            self._formats[key] = self.wb.add_format(props)
        return self._formats[key]

    def sheet(self, name: str) -> Sheet:
        ws = self.wb.add_worksheet(name)
        ws.set_paper(9)  # A4 landscape, one page wide, as cities print them
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        return Sheet(self, ws, name)

    def close(self) -> dict:
        self.wb.close()
        return {**self.meta, "fact_count": len(self.facts), "facts": self.facts,
                "not_facts": self.not_facts, "blanks": self.blanks,
                "findings_due": self.findings_due}


class Sheet:
    """Writes cells of one worksheet; `fact` records what a cell means."""

    def __init__(self, book: Book, ws, name: str):
        self.book, self.ws, self.name = book, ws, name
        self.owner: str | None = None  # the KPI / project / measure facts belong to

    def _write(self, ref: str, value, style: str, num: str | None, merge: str | None,
               formula: str | None) -> None:
        f = self.book.fmt(style, num)
        r, c = xl_cell_to_rowcol(ref)
        if merge:
            r2, c2 = xl_cell_to_rowcol(merge)
            self.ws.merge_range(r, c, r2, c2, "" if formula else value, f)
        if formula:
            self.ws.write_formula(r, c, formula, f, value)
        elif value is None:
            self.ws.write_blank(r, c, None, f)
        elif not merge:
            self.ws.write(r, c, value, f)

    def label(self, ref: str, text: str, merge: str | None = None, style: str = "label") -> None:
        """A label (heading, column header, row header): not a fact."""
        self._write(ref, text, style, None, merge, None)

    def blank(self, ref: str, num: str | None = None, merge: str | None = None) -> None:
        """An input cell left empty (a year not reported yet): not a fact, but a reader may
        record it (as the cell next year's value goes to)."""
        self._write(ref, None, "value", num, merge, None)
        self.book.blanks.append({"sheet": self.name, "cell": ref})

    def other(self, ref: str, value, why: str, merge: str | None = None, num: str | None = None,
              formula: str | None = None, style: str = "value") -> None:
        """A cell that holds something but is not a fact (a legend, a column total)."""
        self._write(ref, value, style, num, merge, formula)
        self.book.not_facts.append({"sheet": self.name, "cell": ref,
                                    "text": _display(value, num), "why": why})

    def fact(self, ref: str, value, what: str, *, num: str | None = None, merge: str | None = None,
             formula: str | None = None, means=None, style: str = "value", owner: str | None = "",
             **meta) -> dict:
        """Write `value` at `ref` and record it as a fact. `means`: the number a text cell
        stands for (「１２０」 → 120); `meta`: fiscal_year, kind, unit, key, department, also."""
        self._write(ref, value, style, num, merge, formula)
        fact: dict = {"sheet": self.name, "cell": ref, "what": what}
        if isinstance(value, bool) or value is None:
            raise ValueError(f"{self.name}!{ref}: a fact needs a value")
        if isinstance(value, (int, float)):
            fact["value"] = value
            fact["text"] = _display(value, num)
            if num == PCT:
                fact["percent"] = True
        else:
            fact["text"] = value
            if means is not None:
                fact["value"] = means
            if _is_none_mark(value):
                fact["none"] = True
        if formula:
            fact["formula"] = formula
        owner = self.owner if owner == "" else owner
        if owner:
            fact["owner"] = owner
        fact.update({k: v for k, v in meta.items() if v is not None})
        self.book.facts.append(fact)
        return fact

    def row_facts(self, row: int, first_col: str, values, what: str, years, *, num=None,
                  formulas=None, **meta) -> None:
        """One fact per year along a row: values[i] at column first_col+i for years[i]
        (None: an empty input cell, not a fact)."""
        c0 = xl_cell_to_rowcol(f"{first_col}1")[1]
        for i, (v, fy) in enumerate(zip(values, years)):
            ref = xl_rowcol_to_cell(row - 1, c0 + i)
            formula = formulas[i] if formulas else None
            if v is None:
                self.blank(ref, num)
                continue
            cell_num = num if not isinstance(v, str) else None
            self.fact(ref, v, what, num=cell_num, fiscal_year=fy, formula=formula, **meta)

    def widths(self, **cols: float) -> None:
        for col, w in cols.items():
            self.ws.set_column(f"{col}:{col}", w)


def _is_none_mark(text: str) -> bool:
    return text.strip() in {"-", "－", "—", "―", "‐", "ー", "–", "−"}


def col(letter: str, offset: int) -> str:
    """The column `offset` columns right of `letter`."""
    c = xl_cell_to_rowcol(f"{letter}1")[1] + offset
    return xl_rowcol_to_cell(0, c).rstrip("0123456789")


def rate(actual, target, down: bool = False) -> float | None:
    """A city's 達成率 as its formula caches it (a fraction)."""
    if not isinstance(actual, (int, float)) or not isinstance(target, (int, float)):
        return None
    if down:
        return round(target / actual, 6) if actual else None
    return round(actual / target, 6) if target else None


# =========================================================================================
# a. 事務事業評価シート, one sheet per project: KPI rows by kind (目標値/実績値/達成率),
#    a cost block by year (事業費, 財源内訳, 職員人工 × 平均職員費 = 人件費, 総事業費, 単位コスト),
#    the city's evaluations, 方向性, per-year texts. One sheet in 円, the others in 千円.
# =========================================================================================

A_YEARS = [2019, 2020, 2021, 2022]
A_YEAR_LABELS = ["R1年度", "R2年度", "R3年度", "R4年度"]
A_KINDS = ["決算額", "決算額", "決算額", "予算額"]

A_PROJECTS = [
    {
        "sheet": "事業01", "no": "0101", "name": "地域子育て支援センター運営事業",
        "bu": "こども未来部", "ka": "子育て支援課", "kakari": "子育て支援係",
        "levels": [("基本目標", "basic_goal", "Ⅰ", "子どもを産み育てやすいまちづくり"),
                   ("施策", "measure", "1-1", "子育て支援の充実"),
                   ("基本事業", "basic_project", "（１）", "地域の子育て力の向上")],
        "period": "平成18年度～", "law": "子ども・子育て支援法",
        "account": "一般会計", "budget_item": "3款2項1目　児童福祉総務費",
        "target_group": "市内在住の就学前児童とその保護者",
        "intent": "子育ての不安や孤立感を軽減し、安心して子育てができるようにする。",
        "content": "市内3か所の地域子育て支援センターで、親子の交流の場の提供、子育て相談、"
                   "子育て情報の提供、子育て講座の開催を行う。",
        "kpis": [
            ("活動指標", "センター開設日数", "日", [290, 290, 290, 290], [288, 245, 281, None],
             "R2は緊急事態宣言に伴い4月・5月を臨時休館"),
            ("成果指標", "センター利用者数（延べ）", "人", [12000, 12000, 12000, 12000],
             [11482, 6935, 8120, None], None),
            ("成果指標", "子育て支援アプリの導入", "－", ["－", "仕様検討", "導入", "運用開始"],
             ["－", "仕様検討", "完了", None], "R3.11から運用"),
        ],
        "qual_rates": {2: ["－", "達成", "達成"]},
        "unit": "千円",
        "cost": {"project_cost": [24518, 21034, 23776, 25100],
                 "national": [8172, 7011, 7925, 8366], "prefectural": [8172, 7011, 7925, 8366],
                 "bond": ["－", "－", "－", "－"], "other": [150, 96, 110, 120],
                 "staff": [1.50, 1.50, 1.40, 1.40], "staff_unit_cost": [7920, 7850, 7810, 7810]},
        "unit_cost_kpi": 1,  # the KPI the 単位コスト divides by (センター利用者数)
        "evals": [("必要性", "necessity", "A", "核家族化が進み、身近な相談先としてのセンターの必要性は高い。"),
                  ("有効性", "effectiveness", "B",
                   "利用者アンケートの満足度は9割を超えるが、利用者数はコロナ禍前の水準に戻っていない。"),
                  ("効率性", "efficiency", "B",
                   "会計年度任用職員を中心に運営しており、単位コストは利用者数の回復に伴い下がっている。"),
                  ("総合評価", "overall", "B", "引き続き事業を実施し、利用者数の回復に努める。")],
        "policy": "継続",
        "improve": "オンラインでの子育て相談を定着させ、アプリと連携した情報発信を強化する。",
        "year_texts": ["3センターで親子交流事業を実施した。新たに父親向け講座を開設した。",
                       "緊急事態宣言に伴い4～5月を臨時休館した。オンライン相談を開始した。",
                       "予約制による定員管理のもと開館した。子育て支援アプリの導入を完了した。"],
    },
    {
        "sheet": "事業02", "no": "0305", "name": "空き家バンク推進事業",
        "bu": "都市整備部", "ka": "都市計画課", "kakari": "住宅政策係",
        "levels": [("基本目標", "basic_goal", "Ⅲ", "快適で住みよいまちづくり"),
                   ("施策", "measure", "3-2", "住環境の整備"),
                   ("基本事業", "basic_project", "（２）", "空き家対策の推進")],
        "period": "平成29年度～", "law": "空家等対策の推進に関する特別措置法",
        "account": "一般会計", "budget_item": "8款5項1目　住宅管理費",
        "target_group": "市内の空き家の所有者と、市内への移住・住み替えを希望する人",
        "intent": "空き家の流通を促し、管理不全な空き家の発生を防ぐ。",
        "content": "空き家バンクの運営（物件の登録・公開、内覧の調整）と、成約した物件の改修費の一部を補助する。",
        "kpis": [
            ("活動指標", "空き家バンク新規登録件数", "件", [20, 20, 25, 25], [14, 18, 27, None], None),
            ("成果指標", "空き家バンクを通じた成約件数", "件", [10, 10, 12, 12], [6, 9, 13, None],
             "R3から改修費補助の上限を引き上げ"),
            ("成果指標", "空家等対策計画の改定", "－", ["－", "－", "改定", "－"],
             ["－", "－", "未着手", None], "国の指針改正を待って改定する"),
        ],
        "qual_rates": {2: ["－", "－", "未達成"]},
        "unit": "円",
        "cost": {"project_cost": [3482610, 4105200, 3957431, 4560000],
                 "national": [1160000, 1368000, 1319000, 1520000], "prefectural": [0, 0, 0, 0],
                 "bond": ["－", "－", "－", "－"], "other": ["－", "－", "－", "－"],
                 "staff": [0.80, 0.80, 1.00, 1.00],
                 "staff_unit_cost": [7920000, 7850000, 7810000, 7810000]},
        "unit_cost_kpi": 1,
        "evals": [("必要性", "necessity", "A", "空き家は年々増加しており、流通の促進は喫緊の課題である。"),
                  ("有効性", "effectiveness", "B", "成約件数は増えたが、登録物件の多くは改修が必要な状態である。"),
                  ("効率性", "efficiency", "A", "登録事務を宅地建物取引業協会と連携して行い、経費を抑えている。"),
                  ("総合評価", "overall", "B", "改修費補助と組み合わせ、登録と成約をさらに増やす。")],
        "policy": "拡充",
        "improve": "相続登記の相談会と連携して所有者への周知を強化し、登録件数を増やす。",
        "year_texts": ["登録件数14件、成約6件。宅地建物取引業協会と協定を締結した。",
                       "オンライン内覧を導入した。成約9件。",
                       "改修費補助の上限を50万円に引き上げた。成約13件で目標を上回った。"],
    },
    {
        "sheet": "事業03", "no": "0412", "name": "ふるさと納税推進事業",
        "bu": "企画財政部", "ka": "企画政策課", "kakari": "シティプロモーション係",
        "levels": [("基本目標", "basic_goal", "Ⅴ", "持続可能な行財政運営"),
                   ("施策", "measure", "5-3", "財源の確保"),
                   ("基本事業", "basic_project", "（１）", "自主財源の確保")],
        "period": "平成20年度～", "law": "地方税法",
        "account": "一般会計", "budget_item": "2款1項6目　企画費",
        "target_group": "市外の個人（寄附者）と返礼品を提供する市内事業者",
        "intent": "寄附による財源を確保し、返礼品を通じて市の特産品を全国に広める。",
        "content": "ふるさと納税ポータルサイトへの掲載、返礼品の調達・発送、寄附者への受領証明書の送付を行う。",
        "kpis": [
            ("活動指標", "返礼品取扱事業者数", "者", [40, 45, 50, 55], [38, 47, 52, None], None),
            ("成果指標", "寄附件数", "件", [6000, 7000, 8000, 9000], [5214, 8930, 10485, None], None),
            ("成果指標", "寄附額", "千円", [90000, 100000, 120000, 140000],
             [78420, 131560, 158230, None], "寄附額は基金に積み立て"),
        ],
        "qual_rates": {},
        "unit": "千円",
        "cost": {"project_cost": [39210, 65780, 79115, 70000],
                 "national": ["－", "－", "－", "－"], "prefectural": ["－", "－", "－", "－"],
                 "bond": ["－", "－", "－", "－"], "other": [39210, 65780, 79115, 70000],
                 "staff": [1.20, 1.50, 1.50, 1.50], "staff_unit_cost": [7920, 7850, 7810, 7810]},
        "unit_cost_kpi": 1,
        "evals": [("必要性", "necessity", "B", "自主財源の確保に寄与するが、制度改正の影響を受けやすい。"),
                  ("有効性", "effectiveness", "A", "寄附件数・寄附額とも目標を上回った。"),
                  ("効率性", "efficiency", "B", "経費率は国の基準（5割以下）を満たしているが、ポータル手数料が増えている。"),
                  ("総合評価", "overall", "A", "返礼品の開発と事業者の参加を進める。")],
        "policy": "改善",
        "improve": "ポータルサイトの手数料を比較し、掲載サイトを見直して経費率を下げる。",
        "year_texts": ["返礼品の見直しを行い、事業者説明会を開催した。",
                       "ポータルサイトを2サイト追加した。巣ごもり需要で寄附件数が大きく伸びた。",
                       "定期便の返礼品を新設した。寄附額は過去最高となった。"],
    },
]

A_COST_LINES = [("①事業費", "project_cost"), ("国庫支出金", "national"), ("県支出金", "prefectural"),
                ("地方債", "bond"), ("その他", "other"), ("一般財源", "general"),
                ("②職員人工（人）", "staff"), ("③平均職員費", "staff_unit_cost"),
                ("④人件費（②×③）", "personnel"), ("⑤総事業費（①＋④）", "total")]


def _num(v) -> float:
    return v if isinstance(v, (int, float)) else 0


def write_project_sheets(path) -> dict:
    """a. 事務事業評価シート, one sheet per project (a cover sheet first)."""
    book = Book(path, Path(path).name, "事務事業評価シート（事業ごとに1シート、コスト表つき）",
                "project_cost_sheets", 2022)
    book.findings_due = ["sheet-skipped"]  # the cover sheet, skipped by the layout
    cover = book.sheet("表紙")
    cover.other("A2", "令和4年度　事務事業評価シート", "cover title", style="title")
    cover.other("A4", "（令和3年度実施事業）", "cover", style="plain")
    for i, p in enumerate(A_PROJECTS):
        cover.other(f"A{6 + i}", f"{p['no']}　{p['name']}", "table of contents", style="plain")
    for p in A_PROJECTS:
        _project_sheet(book, p)
    return book.close()


def _project_sheet(book: Book, p: dict) -> None:
    s = book.sheet(p["sheet"])
    s.widths(A=10, B=14, C=8, D=10, E=8, F=12, G=12, H=12, I=12, J=24)
    unit = p["unit"]
    yen = unit == "円"
    s.owner = p["name"]
    s.fact("A1", "令和4年度　事務事業評価シート", "title", merge="H1", style="title")
    s.label("I1", "評価年度")
    s.fact("J1", "令和4年度", "edition", also=[2022])
    s.label("A3", "事業番号")
    s.fact("B3", p["no"], "measure.number")
    s.label("C3", "事業名")
    s.fact("D3", p["name"], "measure.name", merge="J3")
    s.label("A4", "担当部")
    s.fact("B4", p["bu"], "measure.division")
    s.label("C4", "担当課")
    s.fact("D4", p["ka"], "measure.department", merge="E4")
    s.label("F4", "担当係")
    s.fact("G4", p["kakari"], "measure.section", merge="J4")
    s.label("A5", "総合計画上の位置付け", merge="A7")
    for r, (lab, key, code, name) in enumerate(p["levels"], start=5):
        s.label(f"B{r}", lab)
        s.fact(f"C{r}", code, "level.code", key=key)
        s.fact(f"D{r}", name, "level.name", key=key, merge=f"J{r}")
    s.label("A8", "事業期間")
    s.fact("B8", p["period"], "measure.period", merge="D8")
    s.label("E8", "根拠法令等")
    s.fact("F8", p["law"], "measure.law", merge="J8")
    s.label("A9", "会計区分")
    s.fact("B9", p["account"], "measure.account")
    s.label("C9", "予算科目")
    s.fact("D9", p["budget_item"], "measure.budget_item", merge="J9")
    s.label("A10", "事業の目的", merge="A11")
    s.label("B10", "対象")
    s.fact("C10", p["target_group"], "measure.target_group", merge="J10")
    s.label("B11", "意図")
    s.fact("C11", p["intent"], "measure.purpose", merge="J11")
    s.label("A12", "事業の内容")
    s.fact("B12", p["content"], "measure.content", merge="J12")
    s.ws.set_row(11, 30)

    # 1 指標: each KPI on three rows 目標値 / 実績値 / 達成率
    s.label("A14", "１　指標", style="heading")
    s.label("A15", "区分")
    s.label("B15", "指標名", merge="C15")
    s.label("D15", "単位")
    s.label("E15", "項目")
    for j, y in enumerate(A_YEAR_LABELS):
        s.label(f"{col('F', j)}15", y)
    s.label("J15", "備考")
    r = 16
    kinds = [k[0] for k in p["kpis"]]
    for n, (kind, name, kunit, targets, actuals, note) in enumerate(p["kpis"]):
        s.owner = name
        first_of_kind = kinds.index(kind) == n
        if first_of_kind:
            span = kinds.count(kind) * 3
            s.fact(f"A{r}", kind, "kpi.category", merge=f"A{r + span - 1}")
        s.fact(f"B{r}", name, "kpi.name", merge=f"C{r + 2}")
        s.fact(f"D{r}", kunit, "kpi.unit", merge=f"D{r + 2}")
        s.label(f"E{r}", "目標値")
        s.label(f"E{r + 1}", "実績値")
        s.label(f"E{r + 2}", "達成率")
        s.row_facts(r, "F", targets, "kpi.target", A_YEARS, num=N0)
        s.row_facts(r + 1, "F", actuals, "kpi.actual", A_YEARS, num=N0)
        rates, formulas = [], []
        for j, (t, a) in enumerate(zip(targets, actuals)):
            c = col("F", j)
            rr = rate(a, t)
            if rr is not None:
                rates.append(rr)
                formulas.append(f"={c}{r + 1}/{c}{r}")
            else:
                q = p["qual_rates"].get(n)
                rates.append(q[j] if q and j < len(q) else None)
                formulas.append(None)
        s.row_facts(r + 2, "F", rates, "kpi.achievement", A_YEARS, num=PCT, formulas=formulas)
        if note:
            s.fact(f"J{r}", note, "kpi.note", merge=f"J{r + 2}")
        else:
            s.blank(f"J{r}", merge=f"J{r + 2}")
        r += 3
    s.owner = p["name"]

    # 2 事業費の推移: lines by year, in 千円 or 円
    top = r + 1
    s.label(f"A{top}", "２　事業費の推移", style="heading")
    s.fact(f"J{top}", f"（単位：{unit}）", "cost.unit", style="plain", also=[unit])
    h = top + 1
    s.label(f"A{h}", "項目", merge=f"E{h + 1}")
    for j, (y, k) in enumerate(zip(A_YEAR_LABELS, A_KINDS)):
        c = col("F", j)
        s.label(f"{c}{h}", y)
        s.label(f"{c}{h + 1}", k)
    cost = dict(p["cost"])
    cost["general"] = [_num(pc) - sum(_num(cost[k][j]) for k in ("national", "prefectural", "bond", "other"))
                       for j, pc in enumerate(cost["project_cost"])]
    cost["personnel"] = [round(st * su) for st, su in zip(cost["staff"], cost["staff_unit_cost"])]
    cost["total"] = [pc + pe for pc, pe in zip(cost["project_cost"], cost["personnel"])]
    rows = {}
    r = h + 2
    s.label(f"A{r + 1}", "財源内訳", merge=f"B{r + 5}")
    for lab, key in A_COST_LINES:
        rows[key] = r
        if key in ("national", "prefectural", "bond", "other", "general"):
            s.label(f"C{r}", lab, merge=f"E{r}")
        else:
            s.label(f"A{r}", lab, merge=f"E{r}")
        r += 1
    for _lab, key in A_COST_LINES:
        rr = rows[key]
        for j, fy in enumerate(A_YEARS):
            c = col("F", j)
            v = cost[key][j]
            formula = None
            if key == "general":
                formula = (f"={c}{rows['project_cost']}-SUM({c}{rows['national']}:{c}{rows['other']})")
            elif key == "personnel":
                formula = f"={c}{rows['staff']}*{c}{rows['staff_unit_cost']}"
            elif key == "total":
                formula = f"={c}{rows['project_cost']}+{c}{rows['personnel']}"
            line_unit = "人" if key == "staff" else unit
            s.fact(f"{c}{rr}", v, f"cost.{key}", num=N2 if key == "staff" else N0, formula=formula,
                   fiscal_year=fy, kind=A_KINDS[j], unit=line_unit, key=key)
    # 単位コスト: 総事業費 ÷ the named output indicator's actual (円 per unit)
    kpi_name, kpi_unit = p["kpis"][p["unit_cost_kpi"]][1], p["kpis"][p["unit_cost_kpi"]][2]
    kpi_row = 16 + p["unit_cost_kpi"] * 3 + 1
    s.label(f"A{r}", f"単位コスト（⑤÷{kpi_name}）（円／{kpi_unit}）", merge=f"E{r}")
    for j, fy in enumerate(A_YEARS):
        c = col("F", j)
        actual = p["kpis"][p["unit_cost_kpi"]][4][j]
        if actual is None:
            s.blank(f"{c}{r}", N0)
            continue
        value = round(cost["total"][j] * (1 if yen else 1000) / actual)
        mult = "" if yen else "*1000"
        s.fact(f"{c}{r}", value, "cost.unit_cost", num=N0,
               formula=f"=ROUND({c}{rows['total']}{mult}/{c}{kpi_row},0)", fiscal_year=fy,
               unit=f"円/{kpi_unit}", key="unit_cost", indicator=kpi_name)

    # 3 評価
    r += 2
    s.label(f"A{r}", "３　評価", style="heading")
    s.label(f"A{r + 1}", "評価項目")
    s.label(f"B{r + 1}", "評価")
    s.label(f"C{r + 1}", "評価の理由", merge=f"J{r + 1}")
    r += 2
    for lab, key, grade, why in p["evals"]:
        s.label(f"A{r}", lab)
        s.fact(f"B{r}", grade, "evaluation", key=key)
        s.fact(f"C{r}", why, "evaluation.reason", key=key, merge=f"J{r}")
        r += 1
    s.other(f"A{r}", "（評価　A：高い　B：普通　C：低い）", "legend", merge=f"J{r}", style="plain")
    r += 2
    s.label(f"A{r}", "４　今後の方向性", style="heading", merge=f"B{r}")
    s.fact(f"C{r}", p["policy"], "measure.policy")
    s.other(f"D{r}", "（拡充・継続・改善・縮小・統合・廃止）", "legend", merge=f"J{r}", style="plain")
    r += 1
    s.label(f"A{r}", "改善の内容・今後の取組", merge=f"B{r}")
    s.fact(f"C{r}", p["improve"], "text", key="action", role="action", merge=f"J{r}")
    r += 2
    s.label(f"A{r}", "５　年度ごとの取組実績", style="heading", merge=f"C{r}")
    r += 1
    for fy, label, text in zip(A_YEARS, A_YEAR_LABELS, p["year_texts"]):
        s.label(f"A{r}", label)
        s.fact(f"B{r}", text, "text", key="do", role="do", fiscal_year=fy, merge=f"J{r}")
        r += 1


# =========================================================================================
# b. One KPI per sheet, years as columns: 従前値(H26), H27…R2, 目標値(R2); rows 目標値 / 実績値 /
#    達成率 / 評価 (「－」 where a year has no target); then rows that must end the table:
#    数値の基準年度, 実績値の計算方法, 評価基準 (a scale with 「100%より大きい」「0以下」), the
#    committee's comment and 備考. KPI1-1 is cumulative with a single-year 従前値 above its
#    first cumulative actual (4 → 3 is not a fall).
# =========================================================================================

B_YEARS = [2015, 2016, 2017, 2018, 2019, 2020]
B_HEADERS = ["H27年度", "H28年度", "H29年度", "H30年度", "平成31年度(令和元年度)", "R2年度"]
B_SCALE = ("S：100%より大きい　A：80%以上100%以下　B：50%以上80%未満　"
           "C：0%より大きく50%未満　D：0以下　－：当該年度の目標値なし")

B_KPIS = [
    {"sheet": "KPI1-1", "final_on_actual_row": True, "goal": ("1", "安定した雇用を創出する"), "measure": ("1-(1)", "創業・起業の支援"),
     "name": "新規創業者数（累計）", "unit": "件", "dept": "商工観光課", "num": N0, "down": False,
     "baseline": 4, "actuals": [3, 7, 12, 18, 25, 31], "targets": ["－", "－", "－", "－", 32, 40],
     "final": 40, "basis": ("H26年度", 2014, "R2年度", 2020),
     "method": "創業支援事業計画に基づく特定創業支援等事業の支援を受けて創業した件数の累計（H27からの累計）",
     "grade": "B",
     "comment": "創業件数は着実に増えているが、目標には届かなかった。第2期では女性・若者の創業支援を強化すべきである。",
     "note": "従前値はH26年度単年の創業件数"},
    {"sheet": "KPI1-2", "final_on_actual_row": False, "goal": ("1", "安定した雇用を創出する"), "measure": ("1-(2)", "若者の地元就職の促進"),
     "name": "市内高校卒業者の市内就職率", "unit": "%", "dept": "商工観光課", "num": PCT, "down": False,
     "baseline": 0.185, "actuals": [0.179, 0.192, 0.204, 0.210, 0.201, 0.223],
     "targets": ["－", "－", "－", "－", 0.24, 0.25], "final": 0.25,
     "basis": ("H26年度", 2014, "R2年度", 2020),
     "method": "市内の高等学校を卒業し就職した者のうち、市内の事業所に就職した者の割合（各年3月卒業者）",
     "grade": "A", "comment": "企業説明会の開催により地元就職率は上昇傾向にある。",
     "note": "ハローワーク調べ"},
    {"sheet": "KPI2-1", "final_on_actual_row": True, "goal": ("2", "新しいひとの流れをつくる"), "measure": ("2-(1)", "観光交流の推進"),
     "name": "観光入込客数", "unit": "千人", "dept": "観光交流課", "num": N0, "down": False,
     "baseline": 1250, "actuals": [1281, 1302, 1344, 1360, 1388, 812],
     "targets": [1300, 1350, 1400, 1430, 1470, 1500], "final": 1500,
     "basis": ("H26年度", 2014, "R2年度", 2020),
     "method": "県観光入込客統計調査による市内観光地点の入込客数（暦年）",
     "grade": "C",
     "comment": "R元年度までは概ね順調であったが、R2年度は新型コロナウイルス感染症の影響で大きく減少した。",
     "note": "R2年度は緊急事態宣言による施設休館を含む"},
    {"sheet": "KPI2-2", "final_on_actual_row": False, "goal": ("2", "新しいひとの流れをつくる"), "measure": ("2-(2)", "移住・定住の促進"),
     "name": "転出超過数", "unit": "人", "dept": "企画政策課", "num": N0, "down": True,
     "baseline": 312, "actuals": [298, 275, 301, 264, 240, 226],
     "targets": ["－", "－", "－", 200, 180, 150], "final": 150,
     "basis": ("H26年度", 2014, "R2年度", 2020),
     "method": "住民基本台帳人口移動報告による転出者数から転入者数を引いた数（暦年）",
     "grade": "B", "comment": "転出超過は縮小しているが、若い世代の転出が続いている。",
     "note": "数値が小さいほど良い指標"},
]


def _grade_b(r: float) -> str:
    """The scale of B_SCALE applied to a 達成率 (a fraction)."""
    p = r * 100
    if p > 100:
        return "S"
    if p >= 80:
        return "A"
    if p >= 50:
        return "B"
    if p > 0:
        return "C"
    return "D"


def write_kpi_sheets(path) -> dict:
    """b. One KPI per sheet, years as columns (a 第1期総合戦略 KPI検証シート)."""
    book = Book(path, Path(path).name, "KPI検証シート（1指標1シート、年度は列）", "kpi_sheet_year_columns", 2021)
    for k in B_KPIS:
        s = book.sheet(k["sheet"])
        s.widths(A=16, B=11, C=9, D=9, E=9, F=9, G=12, H=9, I=11)
        s.owner = k["name"]
        s.fact("A1", "第1期まち・ひと・しごと創生総合戦略　重要業績評価指標（KPI）検証シート", "title",
               merge="I1", style="title", owner=None)
        s.label("A3", "基本目標")
        s.fact("B3", k["goal"][0], "level.code", key="basic_goal", owner=None)
        s.fact("C3", k["goal"][1], "level.name", key="basic_goal", merge="I3", owner=None)
        s.label("A4", "具体的な施策")
        s.fact("B4", k["measure"][0], "level.code", key="measure", owner=None)
        s.fact("C4", k["measure"][1], "level.name", key="measure", merge="I4", owner=None)
        s.label("A5", "KPI")
        s.fact("B5", k["name"], "kpi.name", merge="I5")
        s.label("A6", "担当課")
        s.fact("B6", k["dept"], "kpi.department", merge="D6")
        s.label("E6", "単位")
        s.fact("F6", k["unit"], "kpi.unit")
        s.label("A8", "区分")
        s.label("B8", "従前値(H26)")
        for j, h in enumerate(B_HEADERS):
            s.label(f"{col('C', j)}8", h)
        s.label("I8", "目標値(R2)")
        num = k["num"]
        # the final target under 目標値(R2): on the 実績値 row beside the 従前値 (as most sheets
        # have it), or on the 目標値 row
        final_row, other_row = (10, 9) if k["final_on_actual_row"] else (9, 10)
        s.label("A9", "目標値")
        s.blank("B9", num)
        s.row_facts(9, "C", k["targets"], "kpi.target", B_YEARS, num=num)
        s.label("A10", "実績値")
        s.fact("B10", k["baseline"], "kpi.baseline", num=num, fiscal_year=2014)
        s.row_facts(10, "C", k["actuals"], "kpi.actual", B_YEARS, num=num)
        s.fact(f"I{final_row}", k["final"], "kpi.final_target", num=num, fiscal_year=2020)
        s.blank(f"I{other_row}", num)
        s.label("A11", "達成率")
        s.blank("B11", PCT)
        s.label("A12", "評価")
        s.blank("B12")
        for j, (t, a) in enumerate(zip(k["targets"], k["actuals"])):
            c = col("C", j)
            rr = rate(a, t, k["down"])
            if rr is None:
                s.fact(f"{c}11", "－", "kpi.achievement", fiscal_year=B_YEARS[j])
                s.fact(f"{c}12", "－", "kpi.grade", fiscal_year=B_YEARS[j])
            else:
                formula = f"={c}9/{c}10" if k["down"] else f"={c}10/{c}9"
                s.fact(f"{c}11", rr, "kpi.achievement", num=PCT, formula=formula, fiscal_year=B_YEARS[j])
                s.fact(f"{c}12", _grade_b(rr), "kpi.grade", fiscal_year=B_YEARS[j])
        s.blank("I11", PCT)
        s.blank("I12")
        # rows below the table that are not KPI rows
        s.label("A13", "数値の基準年度")
        base_text, base_fy, target_text, target_fy = k["basis"]
        s.fact("B13", base_text, "kpi.baseline_year", also=[base_fy])
        s.label("C13", "目標年度", merge="D13")
        s.fact("E13", target_text, "kpi.target_year", also=[target_fy], merge="F13")
        s.label("A14", "実績値の計算方法")
        s.fact("B14", k["method"], "kpi.method", merge="I14")
        s.ws.set_row(13, 30)
        s.label("A15", "評価基準")
        s.other("B15", B_SCALE, "legend (the grade scale)", merge="I15")
        s.ws.set_row(14, 30)
        s.label("A16", "総合評価")
        s.fact("B16", k["grade"], "kpi.evaluation", key="overall")
        s.label("A17", "外部有識者会議の意見")
        s.fact("B17", k["comment"], "kpi.text", key="committee", role="check", merge="I17")
        s.ws.set_row(16, 30)
        s.label("A18", "備考")
        s.fact("B18", k["note"], "kpi.note", merge="I18")
    return book.close()


# =========================================================================================
# c. 施策評価シート over two sheets per measure (「施策1その1」「施策1その2」): その1 holds the
#    levels, departments, purpose and the KPI table (基準値 / 目標値 each with 値 and 年度
#    sub-columns, 実績値 by year, 実績の分析・要因 by year, 備考); その2 the 事務事業 table
#    (決算額/予算額 by year in 千円), the evaluations, 方向性, 課題 and 今後の取組.
# =========================================================================================

C_ACTUAL_YEARS = [2019, 2020, 2021]
C_TEXT_YEARS = [2019, 2020]

C_MEASURES = [
    {"no": "1", "policy_level": ("Ⅱ", "健康でいきいきと暮らせるまち"), "measure": ("2-1", "健康づくりの推進"),
     "main": "健康増進課", "related": ["保険年金課", "スポーツ振興課"],
     "aim": "市民一人ひとりが健康に関心を持ち、生涯を通じて健康づくりに取り組んでいる。",
     "kpis": [
         ("特定健康診査受診率", "%", 0.382, "H30", 2018, 0.60, "R5", 2023, [0.395, 0.331, None],
          ["受診勧奨はがきの送付により前年度より上昇した。",
           "新型コロナウイルス感染症の影響による受診控えで大きく低下した。"], "国の目標値に合わせて設定"),
         ("がん検診受診率（胃がん）", "%", 0.124, "H30", 2018, 0.20, "R5", 2023, [0.129, 0.098, None],
          ["休日検診の回数を増やした。", "集団検診の定員を減らしたため低下した。"], "40～69歳"),
         ("週1回以上運動する市民の割合", "%", 0.410, "H30", 2018, 0.50, "R5", 2023, ["－", 0.446, None],
          ["市民意識調査は隔年実施のため実績なし。", "在宅時間が増え、ウォーキングをする市民が増えた。"],
          "市民意識調査（隔年）"),
     ],
     "projects": [
         ("特定健康診査事業", "保険年金課", "40～74歳の国民健康保険加入者を対象に特定健康診査を実施する。",
          [58420, 49815, 60210]),
         ("がん検診事業", "健康増進課", "胃・肺・大腸・子宮・乳がん検診を実施する。", [72306, 61977, 75480]),
         ("健康マイレージ事業", "健康増進課", "健康づくりの取組にポイントを付与し、特典と交換する。",
          [3120, 2845, 3300]),
         ("地域健康づくり推進員活動支援事業", "健康増進課", "地区の健康づくり推進員の研修と活動を支援する。",
          [1080, 412, 1050]),
         ("総合型地域スポーツクラブ支援事業", "スポーツ振興課", "総合型地域スポーツクラブの運営費を補助する。",
          [2400, 2400, 2400]),
     ],
     "evals": [("成果指標の達成状況", "kpi_progress", "C", "コロナ禍で健診の受診率が低下し、目標の達成が難しくなっている。"),
               ("事務事業の貢献度", "contribution", "B", "健康マイレージ事業の参加者は増えており、運動習慣の定着に寄与している。"),
               ("総合評価", "overall", "C", "健診・検診の受診率の回復が最優先の課題である。")],
     "direction": "拡充",
     "issue": "受診控えにより、生活習慣病の発見が遅れるおそれがある。",
     "next": "AIを活用した受診勧奨と、休日・夜間の検診枠の拡大により受診率の回復を図る。"},
    {"no": "2", "policy_level": ("Ⅱ", "健康でいきいきと暮らせるまち"), "measure": ("2-2", "地域医療体制の充実"),
     "main": "地域医療課", "related": ["消防本部警防課"],
     "aim": "必要なときに身近な地域で適切な医療を受けられる。",
     "kpis": [
         ("かかりつけ医を持つ市民の割合", "%", 0.652, "H30", 2018, 0.75, "R5", 2023, ["－", 0.671, None],
          ["市民意識調査は隔年実施のため実績なし。", "医師会と連携した啓発により上昇した。"], None),
         ("休日当番医の受診者数", "人", 4820, "H30", 2018, 4000, "R5", 2023, [4755, 2910, None],
          ["インフルエンザの流行で増加した。", "受診控えにより大きく減少した。"], "適正受診の啓発により減少を目指す"),
         ("救急搬送の平均所要時間", "分", 41.2, "H30", 2018, 38.0, "R5", 2023, [40.6, 43.5, None],
          ["医療機関との連携が進み短縮した。", "感染症対応で受入れ照会に時間を要した。"], "覚知から病院収容まで"),
     ],
     "projects": [
         ("休日夜間急患診療所運営事業", "地域医療課", "休日・夜間の初期救急医療を医師会に委託して実施する。",
          [46210, 47380, 47900]),
         ("在宅医療・介護連携推進事業", "地域医療課", "医療・介護関係者の研修と、在宅医療の相談窓口を運営する。",
          [5630, 4120, 5800]),
         ("救急救命士養成事業", "消防本部警防課", "救急救命士の養成と、気管挿管等の認定研修を行う。",
          [8450, 6270, 8900]),
     ],
     "evals": [("成果指標の達成状況", "kpi_progress", "B", "かかりつけ医を持つ市民の割合は上昇したが、救急搬送時間が延びた。"),
               ("事務事業の貢献度", "contribution", "B", "在宅医療の相談件数は増加している。"),
               ("総合評価", "overall", "B", "概ね順調であるが、救急医療の受入れ体制の強化が必要である。")],
     "direction": "継続",
     "issue": "救急医療機関の受入れ体制がひっ迫している。",
     "next": "近隣市と連携し、二次救急医療機関の輪番体制を見直す。"},
]


def write_measure_two_sheets(path) -> dict:
    """c. 施策評価シート split over 「施策Nその1」「施策Nその2」."""
    book = Book(path, Path(path).name, "施策評価シート（1施策を2シートに分割、事務事業の表つき）",
                "measure_two_sheets", 2021)
    for m in C_MEASURES:
        _measure_sheet_1(book, m)
        _measure_sheet_2(book, m)
    return book.close()


def _measure_sheet_1(book: Book, m: dict) -> None:
    s = book.sheet(f"施策{m['no']}その1")
    s.widths(A=24, B=6, C=8, D=6, E=8, F=6, G=8, H=8, I=8, J=26, K=26, L=16)
    s.owner = m["measure"][1]
    s.fact("A1", "令和3年度　施策評価シート（令和2年度実績）", "title", merge="K1", style="title")
    s.other("L1", "その1", "page marker", style="plain")
    s.label("A3", "政策")
    s.fact("B3", m["policy_level"][0], "level.code", key="basic_goal")
    s.fact("C3", m["policy_level"][1], "level.name", key="basic_goal", merge="L3")
    s.label("A4", "施策")
    s.fact("B4", m["measure"][0], "level.code", key="measure")
    s.fact("C4", m["measure"][1], "level.name", key="measure", merge="L4")
    s.label("A5", "主担当課")
    s.fact("B5", m["main"], "measure.department", merge="E5")
    s.label("F5", "関係課", merge="G5")
    related = "、".join(m["related"])
    for d in m["related"]:
        s.book.facts.append({"sheet": s.name, "cell": "H5", "what": "measure.department", "text": d,
                             "owner": s.owner, "part_of": related})
    s._write("H5", related, "value", None, "L5", None)
    s.label("A6", "施策の目指す姿")
    s.fact("B6", m["aim"], "measure.purpose", merge="L6")
    s.label("A8", "１　成果指標の状況", style="heading")
    s.label("A9", "指標名", merge="A10")
    s.label("B9", "単位", merge="B10")
    s.label("C9", "基準値", merge="D9")
    s.label("C10", "値")
    s.label("D10", "年度")
    s.label("E9", "目標値", merge="F9")
    s.label("E10", "値")
    s.label("F10", "年度")
    s.label("G9", "実績値", merge="I9")
    for j, y in enumerate(["R元年度", "R2年度", "R3年度"]):
        s.label(f"{col('G', j)}10", y)
    s.label("J9", "実績の分析・要因", merge="K9")
    s.label("J10", "R元年度")
    s.label("K10", "R2年度")
    s.label("L9", "備考", merge="L10")
    r = 11
    for name, unit, base, by, by_fy, target, ty, ty_fy, actuals, texts, note in m["kpis"]:
        s.owner = name
        num = PCT if unit == "%" else (N1 if isinstance(base, float) else N0)
        s.fact(f"A{r}", name, "kpi.name")
        s.fact(f"B{r}", unit, "kpi.unit")
        s.fact(f"C{r}", base, "kpi.baseline", num=num, fiscal_year=by_fy)
        s.fact(f"D{r}", by, "kpi.baseline_year", also=[by_fy])
        s.fact(f"E{r}", target, "kpi.final_target", num=num, fiscal_year=ty_fy)
        s.fact(f"F{r}", ty, "kpi.target_year", also=[ty_fy])
        s.row_facts(r, "G", actuals, "kpi.actual", C_ACTUAL_YEARS, num=num)
        for j, (fy, t) in enumerate(zip(C_TEXT_YEARS, texts)):
            s.fact(f"{col('J', j)}{r}", t, "kpi.text", key="analysis", role="check", fiscal_year=fy)
        if note:
            s.fact(f"L{r}", note, "kpi.note")
        else:
            s.blank(f"L{r}")
        s.ws.set_row(r - 1, 40)
        r += 1


def _measure_sheet_2(book: Book, m: dict) -> None:
    s = book.sheet(f"施策{m['no']}その2")
    s.widths(A=5, B=14, C=14, D=14, E=14, F=14, G=14, H=11, I=11, J=11)
    s.owner = m["measure"][1]
    s.other("A1", "令和3年度　施策評価シート（令和2年度実績）", "title repeated on the continuation sheet",
            merge="I1", style="title")
    s.other("J1", "その2", "page marker", style="plain")
    s.label("A3", "施策", merge="B3")
    s.other("C3", f"{m['measure'][0]}　{m['measure'][1]}", "measure repeated on the continuation sheet",
            merge="J3")
    s.label("A5", "２　施策を構成する事務事業", style="heading", merge="E5")
    s.fact("J5", "（単位：千円）", "project.unit", style="plain", also=["千円"])
    s.label("A6", "No.", merge="A7")
    s.label("B6", "事務事業名", merge="C7")
    s.label("D6", "担当課", merge="D7")
    s.label("E6", "事業の内容", merge="G7")
    s.label("H6", "決算額", merge="I6")
    s.label("H7", "R元年度")
    s.label("I7", "R2年度")
    s.label("J6", "予算額")
    s.label("J7", "R3年度")
    r = 8
    kinds = ["決算額", "決算額", "予算額"]
    for n, (name, dept, content, amounts) in enumerate(m["projects"], start=1):
        s.owner = name
        s.other(f"A{r}", n, "line number")
        s.fact(f"B{r}", name, "project.name", merge=f"C{r}")
        s.fact(f"D{r}", dept, "project.department")
        s.fact(f"E{r}", content, "project.content", merge=f"G{r}")
        for j, (fy, kind, v) in enumerate(zip(C_ACTUAL_YEARS, kinds, amounts)):
            s.fact(f"{col('H', j)}{r}", v, "project.amount", num=N0, fiscal_year=fy, kind=kind, unit="千円")
        s.ws.set_row(r - 1, 28)
        r += 1
    s.owner = m["measure"][1]
    s.label(f"A{r}", "合計", merge=f"G{r}")
    for j in range(3):
        c = col("H", j)
        total = sum(p[3][j] for p in m["projects"])
        s.other(f"{c}{r}", total, "column total", num=N0, formula=f"=SUM({c}8:{c}{r - 1})")
    r += 2
    s.label(f"A{r}", "３　施策の評価", style="heading", merge=f"E{r}")
    r += 1
    for lab, key, grade, why in m["evals"]:
        s.label(f"A{r}", lab, merge=f"C{r}")
        s.fact(f"D{r}", grade, "evaluation", key=key)
        s.fact(f"E{r}", why, "evaluation.reason", key=key, merge=f"J{r}")
        r += 1
    s.other(f"A{r}", "（A：順調　B：概ね順調　C：やや遅れ　D：遅れ）", "legend", merge=f"J{r}", style="plain")
    r += 2
    s.label(f"A{r}", "４　今後の方向性", style="heading", merge=f"C{r}")
    s.fact(f"D{r}", m["direction"], "measure.policy")
    s.other(f"E{r}", "（拡充・継続・見直し・縮小）", "legend", merge=f"J{r}", style="plain")
    r += 1
    s.label(f"A{r}", "課題", merge=f"C{r}")
    s.fact(f"D{r}", m["issue"], "text", key="issue", role="check", merge=f"J{r}")
    r += 1
    s.label(f"A{r}", "今後の取組", merge=f"C{r}")
    s.fact(f"D{r}", m["next"], "text", key="next", role="action", merge=f"J{r}")


# =========================================================================================
# d. KPI 一覧, one row per KPI: 基本目標 and 施策 (「1-(1)　地域産業の振興」) merged down, No.,
#    KPI, 単位, 基準値/基準年度, per year 目標値/実績値 (「－」 where no target was set), 最終目標値,
#    達成度 and 評価 of the latest year (columns without a year; typed for a qualitative KPI),
#    担当課 (the measure's departments come from it) and 備考.
# =========================================================================================

D_YEARS = [2020, 2021, 2022]
D_GOALS = [
    ("基本目標１\nしごとをつくり、安心して働けるまち", "1", "しごとをつくり、安心して働けるまち", [
        ("1-(1)　地域産業の振興", "1-(1)", "地域産業の振興", [
            (1, "製造品出荷額等", "億円", 1245, "H30", 2018, [("－", 1102), (1300, 1268), (1320, "集計中")],
             1400, "商工振興課", "工業統計調査（R3から経済構造実態調査）"),
            (2, "市の支援による新規雇用者数", "人", ("１２０", 120), "R元", 2019,
             [(130, 98), (140, 151), (150, None)], 160, "商工振興課", None),
        ]),
        ("1-(2)　農業の振興", "1-(2)", "農業の振興", [
            (3, "新規就農者数（累計）", "人", 8, "R元", 2019, [(3, 2), (6, 5), (9, None)], 15, "農政課",
             "R2からの累計"),
            (4, "農産物直売所の売上額", "百万円", 412, "R元", 2019, [(420, 455), (430, 471), (440, None)], 460,
             "農政課", None),
        ]),
    ]),
    ("基本目標２\n新しいひとの流れをつくる", "2", "新しいひとの流れをつくる", [
        ("2-(1)　観光の振興", "2-(1)", "観光の振興", [
            (5, "観光入込客数", "千人", 2310, "R元", 2019, [("－", 1204), ("－", 1498), (2000, None)], 2500,
             "観光課", "R2・R3はコロナ禍のため目標値を設定せず"),
            (6, "観光案内所の外国人利用者数", "人", 3420, "R元", 2019, [("－", 120), ("－", 85), (1000, None)],
             4000, "観光課", None),
        ]),
        ("2-(2)　移住・定住の促進", "2-(2)", "移住・定住の促進", [
            (7, "移住相談件数", "件", 86, "R元", 2019, [(100, 132), (110, 168), (120, None)], 150, "企画政策課",
             None),
            (8, "空き家バンク成約件数", "件", 5, "R元", 2019, [(8, 11), (10, 9), (12, None)], 15, "都市計画課",
             "R4から担当課変更（旧：建築課）"),
            (9, "移住・定住ポータルサイトの開設", "－", "－", "－", None,
             [("開設", "完了"), ("運用", "運用中"), ("運用", None)], "運用", "企画政策課", "定性指標"),
        ]),
    ]),
    ("基本目標３\n結婚・出産・子育ての希望をかなえる", "3", "結婚・出産・子育ての希望をかなえる", [
        ("3-(1)　子育て支援の充実", "3-(1)", "子育て支援の充実", [
            (10, "保育所等待機児童数", "人", 14, "R2", 2020, [("－", 14), (7, 3), (0, None)], 0, "保育課",
             "各年4月1日現在"),
            (11, "子育て支援センター利用者数", "人", 24500, "R元", 2019,
             [(25000, 11230), (25000, 15860), (25000, None)], 26000, "子育て支援課", None),
        ]),
        ("3-(2)　結婚・出産の希望の実現", "3-(2)", "結婚・出産の希望の実現", [
            (12, "合計特殊出生率", "－", 1.41, "H30", 2018, [(1.45, 1.38), (1.47, 1.35), (1.49, None)], 1.55,
             "子育て支援課", "人口動態統計（暦年）"),
            (13, "婚活イベントによる成婚数（累計）", "組", 0, "R元", 2019, [(3, 2), (6, 5), (9, None)], 15,
             "企画政策課", None),
        ]),
    ]),
]


def _dnum(v) -> str | None:
    return None if isinstance(v, str) else N2 if isinstance(v, float) else N0


def _grade_d(r: float) -> str:
    return "◎" if r >= 1 else "○" if r >= 0.8 else "△"


def write_kpi_list(path) -> dict:
    """d. A KPI 一覧 with a 担当課 column per KPI."""
    book = Book(path, Path(path).name, "KPI一覧（1行1指標、担当課の列つき）", "kpi_list_departments", 2022)
    s = book.sheet("KPI一覧")
    s.widths(A=16, B=18, C=5, D=26, E=7, F=9, G=8, H=8, I=8, J=8, K=8, L=8, M=8, N=10, O=8, P=6, Q=12,
             R=26)
    s.fact("A1", "第2期まち・ひと・しごと創生総合戦略　重要業績評価指標（KPI）一覧", "title", merge="R1",
           style="title", owner=None)
    s.other("P2", "令和4年9月現在", "date of the list", merge="R2", style="plain")
    for c, text in (("A", "基本目標"), ("B", "施策"), ("C", "No."), ("D", "重要業績評価指標（KPI）"),
                    ("E", "単位"), ("F", "基準値"), ("G", "基準年度"), ("N", "最終目標値(R6)"),
                    ("O", "達成度"), ("P", "評価"), ("Q", "担当課"), ("R", "備考")):
        s.label(f"{c}3", text, merge=f"{c}4")
    for j, y in enumerate(["R2年度", "R3年度", "R4年度"]):
        c = col("H", 2 * j)
        s.label(f"{c}3", y, merge=f"{col(c, 1)}3")
        s.label(f"{c}4", "目標値")
        s.label(f"{col(c, 1)}4", "実績値")
    r = 5
    for goal_text, goal_code, goal_name, measures in D_GOALS:
        n_goal = sum(len(ms[3]) for ms in measures)
        s._write(f"A{r}", goal_text, "value", None, f"A{r + n_goal - 1}", None)
        for what, v in (("level.code", goal_code), ("level.name", goal_name)):
            s.book.facts.append({"sheet": s.name, "cell": f"A{r}", "what": what, "text": v,
                                 "key": "basic_goal", "part_of": goal_text})
        for m_text, m_code, m_name, kpis in measures:
            s._write(f"B{r}", m_text, "value", None, f"B{r + len(kpis) - 1}" if len(kpis) > 1 else None, None)
            for what, v in (("level.code", m_code), ("level.name", m_name)):
                s.book.facts.append({"sheet": s.name, "cell": f"B{r}", "what": what, "text": v,
                                     "key": "measure", "part_of": m_text})
            for no, name, unit, base, by, by_fy, years, final, dept, note in kpis:
                s.owner = name
                s.fact(f"C{r}", no, "kpi.number")
                s.fact(f"D{r}", name, "kpi.name")
                s.fact(f"E{r}", unit, "kpi.unit")
                if isinstance(base, tuple):
                    s.fact(f"F{r}", base[0], "kpi.baseline", means=base[1], fiscal_year=by_fy)
                else:
                    s.fact(f"F{r}", base, "kpi.baseline", num=_dnum(base), fiscal_year=by_fy)
                s.fact(f"G{r}", by, "kpi.baseline_year", also=[by_fy] if by_fy else None)
                for j, (fy, (t, a)) in enumerate(zip(D_YEARS, years)):
                    c = col("H", 2 * j)
                    s.fact(f"{c}{r}", t, "kpi.target", num=_dnum(t), fiscal_year=fy)
                    if a is None:
                        s.blank(f"{col(c, 1)}{r}", N0)
                    else:
                        s.fact(f"{col(c, 1)}{r}", a, "kpi.actual", num=_dnum(a), fiscal_year=fy)
                s.fact(f"N{r}", final, "kpi.final_target", num=_dnum(final), fiscal_year=2024)
                t3, a3 = years[1]  # 達成度 and 評価 are of R3, the latest year with actuals
                got = rate(a3, t3, down=name.endswith("待機児童数"))
                if got is not None:
                    formula = f"=J{r}/K{r}" if name.endswith("待機児童数") else f"=K{r}/J{r}"
                    s.fact(f"O{r}", got, "kpi.achievement", num=PCT, formula=formula, fiscal_year=2021)
                    s.fact(f"P{r}", _grade_d(got), "kpi.grade", fiscal_year=2021)
                elif isinstance(a3, str) and a3 not in ("－", "集計中"):
                    s.fact(f"O{r}", "達成", "kpi.achievement", fiscal_year=2021)
                    s.fact(f"P{r}", "◎", "kpi.grade", fiscal_year=2021)
                else:
                    s.fact(f"O{r}", "－", "kpi.achievement", fiscal_year=2021)
                    s.fact(f"P{r}", "－", "kpi.grade", fiscal_year=2021)
                s.fact(f"Q{r}", dept, "kpi.department")
                if note:
                    s.fact(f"R{r}", note, "kpi.note")
                else:
                    s.blank(f"R{r}")
                r += 1
    s.other(f"A{r + 1}", "※ 「－」は目標値を設定していない年度。実績値は各年度末現在（待機児童数は4月1日現在）。"
            "達成度・評価はR3年度の実績値による（◎：100%以上　○：80%以上100%未満　△：80%未満）。",
            "footnote", merge=f"R{r + 1}", style="plain")
    return book.close()


# =========================================================================================
# e. KPI blocks on a measure sheet, years as rows (年度 | 目標値 | 実績値 | 達成率 | 評価 |
#    実績の説明): numeric KPIs with the city's 達成率 formulas, qualitative KPIs (完了/未着手)
#    whose 達成率 and 評価 are typed per year, a unit cell 「－」, a year whose target is 「－」.
# =========================================================================================

E_YEARS = [("R2", 2020), ("R3", 2021), ("R4", 2022), ("R5", 2023), ("R6", 2024)]
E_SCALE = "（評価）A：100%以上　B：80%以上100%未満　C：50%以上80%未満　D：50%未満　－：目標値なし"


def _grade_e(r: float) -> str:
    p = r * 100
    return "A" if p >= 100 else "B" if p >= 80 else "C" if p >= 50 else "D"


E_MEASURES = [
    {"sheet": "施策1-1", "code": "1-1", "name": "公共交通ネットワークの維持・確保",
     "depts": "【都市計画課】【企画課】", "dept_list": ["都市計画課", "企画課"],
     "blocks": [
         {"name": "コミュニティバス年間利用者数", "unit": "人", "dir": "↑", "base": 48200, "base_y": ("R元", 2019),
          "final": 52000, "final_y": ("R6", 2024), "down": False,
          "rows": [(49000, 31540, None, None, "コロナ禍による外出自粛で大幅に減少した。"),
                   (49500, 36870, None, None, "回復傾向にあるが、コロナ禍前の水準には戻っていない。"),
                   (50000, None, None, None, None), (51000, None, None, None, None),
                   (52000, None, None, None, None)]},
         {"name": "地域公共交通計画の策定", "unit": "－", "dir": "－", "base": "未策定", "base_y": ("R元", 2019),
          "final": "計画に基づく事業の実施", "final_y": ("R6", 2024), "down": False,
          "rows": [("策定に着手", "着手", 1.0, "A", "地域公共交通会議を設置し、計画の策定に着手した。"),
                   ("計画策定", "完了", 1.0, "A", "地域公共交通計画を策定した。"),
                   ("事業実施", None, None, None, None), ("事業実施", None, None, None, None),
                   ("事業実施", None, None, None, None)]},
         {"name": "デマンド交通の実証運行", "unit": "－", "dir": "－", "base": "未実施", "base_y": ("R元", 2019),
          "final": "本格運行", "final_y": ("R6", 2024), "down": False,
          "rows": [("－", "－", "－", "－", "R3からの取組"),
                   ("実証運行開始", "未着手", 0.0, "D", "運行事業者との調整が難航し、実証運行に着手できなかった。"),
                   ("実証運行", None, None, None, None), ("本格運行", None, None, None, None),
                   ("本格運行", None, None, None, None)]},
     ],
     "analysis": "【都市計画課】\nバス利用者数はコロナ禍前の7割台にとどまっている。\n【企画課】\n"
                 "デマンド交通は運行事業者の確保が課題である。",
     "next": "【都市計画課】\n地域公共交通計画に基づき、路線の再編を進める。\n【企画課】\n"
             "近隣市の事業者も含めて運行事業者を募る。"},
    {"sheet": "施策1-2", "code": "1-2", "name": "交通安全の推進",
     "depts": "【市民安全課】【道路課】", "dept_list": ["市民安全課", "道路課"],
     "blocks": [
         {"name": "交通事故発生件数", "unit": "件", "dir": "↓", "base": 312, "base_y": ("R元", 2019),
          "final": 250, "final_y": ("R6", 2024), "down": True,
          "rows": [(300, 248, None, None, "外出機会の減少もあり大きく減った。"),
                   (290, 263, None, None, "前年より増えたが目標は達成した。"),
                   (280, None, None, None, None), (265, None, None, None, None), (250, None, None, None, None)]},
         {"name": "高齢者の運転免許自主返納者数", "unit": "人", "dir": "↑", "base": 165, "base_y": ("R元", 2019),
          "final": 250, "final_y": ("R6", 2024), "down": False,
          "rows": [("－", 182, "－", "－", "R3から指標に追加したため目標値なし"),
                   (200, 215, None, None, "返納者へのタクシー券の交付を始めた。"),
                   (210, None, None, None, None), (230, None, None, None, None), (250, None, None, None, None)]},
         {"name": "通学路合同点検に基づく対策の実施", "unit": "－", "dir": "－", "base": "点検のみ",
          "base_y": ("R元", 2019), "final": "全対策箇所の完了", "final_y": ("R6", 2024), "down": False,
          "rows": [("対策実施", "完了", 1.0, "A", "R2点検の12か所の対策を完了した。"),
                   ("対策実施", "完了", 1.0, "A", "R3点検の9か所の対策を完了した。"),
                   ("対策実施", None, None, None, None), ("対策実施", None, None, None, None),
                   ("対策完了", None, None, None, None)]},
     ],
     "analysis": "【市民安全課】\n交通事故は減少傾向にある。\n【道路課】\n通学路の対策は計画どおり進んでいる。",
     "next": "【市民安全課】\n高齢者向けの交通安全教室を増やす。"},
]


def write_kpi_blocks_years_rows(path) -> dict:
    """e. KPI blocks with years as rows, qualitative KPIs among them."""
    book = Book(path, Path(path).name, "施策の進捗評価シート（KPIブロック、年度は行、定性指標つき）",
                "kpi_blocks_qualitative", 2022)
    for m in E_MEASURES:
        s = book.sheet(m["sheet"])
        s.widths(A=12, B=14, C=12, D=10, E=8, F=30, G=10)
        s.owner = m["name"]
        s.fact("A1", "令和4年度　施策の進捗評価シート", "title", merge="G1", style="title")
        s.label("A2", "施策番号")
        s.fact("B2", m["code"], "level.code", key="measure")
        s.label("C2", "施策名")
        s.fact("D2", m["name"], "level.name", key="measure", merge="G2")
        s.label("A3", "担当課")
        for d in m["dept_list"]:
            book.facts.append({"sheet": s.name, "cell": "B3", "what": "measure.department", "text": d,
                               "owner": m["name"], "part_of": m["depts"]})
        s._write("B3", m["depts"], "value", None, "G3", None)
        r = 5
        for b in m["blocks"]:
            s.owner = b["name"]
            s.label(f"A{r}", "指標名")
            s.fact(f"B{r}", b["name"], "kpi.name", merge=f"G{r}")
            s.label(f"A{r + 1}", "単位")
            s.fact(f"B{r + 1}", b["unit"], "kpi.unit")
            s.label(f"C{r + 1}", "方向")
            if b["dir"] == "－":
                s.other(f"D{r + 1}", b["dir"], "no direction: a qualitative KPI")
            else:
                s.fact(f"D{r + 1}", b["dir"], "kpi.direction", also=["up" if b["dir"] == "↑" else "down"])
            s.label(f"A{r + 2}", "基準値")
            s.fact(f"B{r + 2}", b["base"], "kpi.baseline", num=N0, fiscal_year=b["base_y"][1])
            s.label(f"C{r + 2}", "基準年度")
            s.fact(f"D{r + 2}", b["base_y"][0], "kpi.baseline_year", also=[b["base_y"][1]])
            s.label(f"A{r + 3}", "最終目標値")
            s.fact(f"B{r + 3}", b["final"], "kpi.final_target", num=N0, fiscal_year=b["final_y"][1])
            s.label(f"C{r + 3}", "目標年度")
            s.fact(f"D{r + 3}", b["final_y"][0], "kpi.target_year", also=[b["final_y"][1]])
            h = r + 4
            for c, text in zip("ABCDEF", ("年度", "目標値", "実績値", "達成率", "評価", "実績の説明")):
                s.label(f"{c}{h}", text, merge=f"G{h}" if c == "F" else None)
            for i, ((ylab, fy), (t, a, rr, g, text)) in enumerate(zip(E_YEARS, b["rows"])):
                row = h + 1 + i
                s.label(f"A{row}", ylab)
                s.fact(f"B{row}", t, "kpi.target", num=N0, fiscal_year=fy)
                if a is None:
                    s.blank(f"C{row}", N0)
                else:
                    s.fact(f"C{row}", a, "kpi.actual", num=N0, fiscal_year=fy)
                computed = rate(a, t, b["down"])
                if computed is not None:
                    formula = f"=B{row}/C{row}" if b["down"] else f"=C{row}/B{row}"
                    s.fact(f"D{row}", computed, "kpi.achievement", num=PCT, formula=formula, fiscal_year=fy)
                    s.fact(f"E{row}", _grade_e(computed), "kpi.grade", fiscal_year=fy)
                elif rr is not None:
                    s.fact(f"D{row}", rr, "kpi.achievement", num=None if isinstance(rr, str) else PCT,
                           fiscal_year=fy)
                    s.fact(f"E{row}", g, "kpi.grade", fiscal_year=fy)
                else:
                    s.blank(f"D{row}", PCT)
                    s.blank(f"E{row}")
                if text:
                    s.fact(f"F{row}", text, "kpi.text", key="explanation", role="do", fiscal_year=fy,
                           merge=f"G{row}")
                else:
                    s.blank(f"F{row}", merge=f"G{row}")
            r = h + 1 + len(E_YEARS) + 1
        s.owner = m["name"]
        s.other(f"A{r}", E_SCALE, "legend (the grade scale)", merge=f"G{r}", style="plain")
        r += 2
        for key, lab, text in (("check_analysis", "現状と課題", m["analysis"]),
                               ("check_next", "今後の方針", m["next"])):
            s.label(f"A{r}", lab, merge=f"G{r}")
            s._write(f"A{r + 1}", text, "value", None, f"G{r + 1}", None)
            s.ws.set_row(r, 60)
            dept = None
            for line in text.split("\n"):
                if line.startswith("【"):
                    dept = line.strip("【】")
                    continue
                book.facts.append({"sheet": s.name, "cell": f"A{r + 1}", "what": "text", "text": line,
                                   "key": key, "role": "check" if key == "check_analysis" else "action",
                                   "department": dept, "owner": m["name"], "part_of": key})
            r += 3
    return book.close()


# =========================================================================================
# f. Package quirks of a valid book: a 施策進捗状況調書 whose R4 actual cells are empty and
#    written self-closing (<c r="C18" s="…"/>) right before formula cells whose cached value
#    is an empty string (<c r="D18" t="str"><f>IF(C18="","",…)</f><v></v></c>), as Excel
#    saves them. A valid book: no finding is due.
# =========================================================================================

F_MEASURES = [
    {"sheet": "施策01", "no": ("０１", "01"), "name": "商工業の振興", "goal": ("２", 2, "活力ある産業のまち"),
     "dept": "商工観光課",
     "summary": "中小企業の経営支援と創業支援により、市内の商工業の活性化を図る。",
     "done": "創業支援セミナーを年4回開催し、延べ86人が受講した。商店街の空き店舗への出店補助を3件交付した。",
     "issue": "事業承継の相談が増えており、後継者不在の事業所への支援が課題である。",
     "kpis": [("市内事業所数", 3120, 3200, "事業所", 3086, False),
              ("創業支援件数", 42, 50, "件", 35, False),
              ("商店街空き店舗数", 28, 20, "店舗", 31, True),
              ("中小企業融資あっせん件数", 188, 200, "件", 176, False),
              ("ふるさと納税返礼品の取扱事業者数", 64, 80, "者", 51, False)]},
    {"sheet": "施策02", "no": ("０２", "02"), "name": "観光の振興", "goal": ("２", 2, "活力ある産業のまち"),
     "dept": "観光交流課",
     "summary": "観光資源の磨き上げと情報発信により、交流人口の拡大を図る。",
     "done": "観光協会ウェブサイトを全面改修し、多言語対応とした。秋の祭りを3年ぶりに開催した。",
     "issue": "宿泊を伴う観光客が少なく、滞在時間の延長が課題である。",
     "kpis": [("観光入込客数", 1498, 2500, "千人", 2310, False),
              ("宿泊者数", 38450, 60000, "人", 52100, False),
              ("観光協会ウェブサイト閲覧数", 412000, 500000, "件", 356000, False),
              ("イベント来場者数", 28400, 80000, "人", 71500, False)]},
]


def write_package_quirks(path) -> dict:
    """f. A valid book with self-closing empty cells before formulas cached as ""."""
    path = Path(path)
    plain = path.with_name(path.stem + ".plain.xlsx")
    book = Book(plain, path.name, "施策進捗状況調書（空セルの自己終了タグと空文字の数式結果）",
                "measure_progress_formulas", 2022)
    for m in F_MEASURES:
        s = book.sheet(m["sheet"])
        s.widths(A=30, B=12, C=12, D=12, E=12, F=9, G=12, H=14)
        s.owner = m["name"]
        s.fact("A1", "令和4年度　施策進捗状況調書", "title", merge="H1", style="title")
        s.label("A2", "施策番号")
        s.fact("B2", m["no"][0], "measure.number", also=[m["no"][1]])
        s.label("A3", "施策名")
        s.fact("B3", m["name"], "level.name", key="measure", merge="H3")
        s.label("A4", "基本目標")
        s.fact("B4", m["goal"][0], "level.code", key="basic_goal", also=[m["goal"][1]])
        s.fact("C4", m["goal"][2], "level.name", key="basic_goal", merge="H4")
        s.label("A5", "担当課")
        s.fact("B5", m["dept"], "measure.department", merge="H5")
        s.label("A6", "施策の概要")
        s.fact("B6", m["summary"], "measure.purpose", merge="H6")
        s.label("A8", "R3年度の取組状況", merge="H8")
        s.fact("A9", m["done"], "text", key="do", role="do", fiscal_year=2021, merge="H12")
        s.label("A13", "課題", merge="H13")
        s.fact("A14", m["issue"], "text", key="issue", role="check", merge="H15")
        for c, text in zip("ABCDEFG", ("指標名", "R3年度(実績値)", "R4年度(実績値)", "R4年度(達成率)",
                                       "R6年度(目標値)", "単位", "基準値(R2)")):
            s.label(f"{c}17", text)
        for i, (name, r3, target, unit, base, down) in enumerate(m["kpis"]):
            r = 18 + i
            s.owner = name
            s.fact(f"A{r}", name, "kpi.name")
            s.fact(f"B{r}", r3, "kpi.actual", num=N0, fiscal_year=2021)
            s.blank(f"C{r}", N0)  # the R4 actual: to be filled
            formula = f'=IF(C{r}="","",E{r}/C{r})' if down else f'=IF(C{r}="","",C{r}/E{r})'
            s.other(f"D{r}", "", "a formula whose result is empty until C is filled", num=PCT,
                    formula=formula)
            s.fact(f"E{r}", target, "kpi.final_target", num=N0, fiscal_year=2024)
            s.fact(f"F{r}", unit, "kpi.unit")
            s.fact(f"G{r}", base, "kpi.baseline", num=N0, fiscal_year=2020)
        r = 18 + len(m["kpis"]) + 1
        s.owner = m["name"]
        s.label(f"A{r}", "備考")
        s.fact(f"B{r}", "達成率は実績値÷目標値（商店街空き店舗数など少ないほど良い指標は目標値÷実績値）。",
               "measure.note", merge=f"H{r}")
    facts = book.close()
    _excel_empty_string_results(plain, path)
    plain.unlink()
    return facts


def edit_parts(src: Path, dst: Path, edit) -> Path:
    """Copy the package `src` to `dst`, passing each XML part's text through `edit(name, text)`."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith((".xml", ".rels")):
                data = edit(info.filename, data.decode("utf-8")).encode("utf-8")
            zout.writestr(info, data)
    return dst


def _excel_empty_string_results(src: Path, dst: Path) -> None:
    """Write formula cells with an empty cached result as Excel does (t="str", <v></v>), and
    check every empty input cell before them is self-closing."""

    def edit(name, text):
        if not name.startswith("xl/worksheets/sheet"):
            return text
        text, n = re.subn(r'<c r="([A-Z]+\d+)"( s="\d+")?><f>([^<]*)</f><v></v></c>',
                          r'<c r="\1"\2 t="str"><f>\3</f><v></v></c>', text)
        assert n, name
        assert re.search(r'<c r="C18" s="\d+"/><c r="D18" s="\d+" t="str"><f>', text), name
        return text

    edit_parts(src, dst, edit)


# =========================================================================================
# g. 事務事業マネジメントシート of another city: a level per cell (「2-(3)　防災対策の推進」),
#    indicators with 目標/実績 rows and no 達成率, a cost block whose years are 決算/予算/計画
#    (令和5年度 計画), 国・県支出金 as one line, two staff lines and 人件費 typed, トータルコスト,
#    a cost per unit of the activity indicator, evaluations as ◎/○/△ and 総合評価 in
#    full-width Ａ, 方向性 as check boxes 「□拡充　■現状維持…」, texts by heading.
# =========================================================================================

G_YEARS = [2020, 2021, 2022, 2023]
G_HEADS = ["令和2年度\n（決算）", "令和3年度\n（決算）", "令和4年度\n（予算）", "令和5年度\n（計画）"]
G_KINDS = ["決算", "決算", "予算", "計画"]
G_CHOICES = ["拡充", "現状維持", "改善", "縮小", "休止・廃止"]

G_PROJECTS = [
    {"sheet": "No.1", "name": "自主防災組織育成事業", "dept": "危機管理課", "bu": "総務部",
     "levels": [("政策", "basic_goal", "2　安全・安心に暮らせるまち", "2", "安全・安心に暮らせるまち"),
                ("施策", "measure", "2-(3)　防災対策の推進", "2-(3)", "防災対策の推進")],
     "purpose": "地域の防災力を高めるため、自主防災組織の結成と活動を支援する。",
     "indicators": [("活動指標", "防災訓練への補助件数", "件", [40, 45, 50, 50], [21, 33, None, None]),
                    ("成果指標", "自主防災組織の結成率", "%", [0.80, 0.82, 0.85, 0.88], [0.781, 0.795, None, None])],
     "cost": {"project_cost": [3210, 4480, 5200, 5200], "grants": [1070, 1490, 1730, 1730],
              "bond": [0, 0, 0, 0], "other": [0, 0, 0, 0],
              "regular_staff": [0.6, 0.6, 0.7, 0.7], "part_time_staff": [0.2, 0.2, 0.2, 0.2],
              "personnel": [5280, 5250, 6010, 6010]},
     "per_unit": [(3210 + 5280) * 1000 // 21, (4480 + 5250) * 1000 // 33, None, None],
     "evals": [("妥当性", "relevance", "◎"), ("有効性", "effectiveness", "○"), ("効率性", "efficiency", "△")],
     "overall": ("Ａ", "A"), "choice": "現状維持",
     "done": "コロナ禍で中止していた地区防災訓練への補助を再開し、33件を交付した。",
     "result": "訓練の再開により結成率は上昇したが、役員の高齢化で活動が停滞している組織がある。",
     "plan": "防災士の資格取得費を補助し、組織の担い手を育成する。"},
    {"sheet": "No.2", "name": "木造住宅耐震改修補助事業", "dept": "建築指導課", "bu": "都市整備部",
     "levels": [("政策", "basic_goal", "2　安全・安心に暮らせるまち", "2", "安全・安心に暮らせるまち"),
                ("施策", "measure", "2-(3)　防災対策の推進", "2-(3)", "防災対策の推進")],
     "purpose": "地震による住宅の倒壊を防ぐため、旧耐震基準の木造住宅の耐震診断と改修を補助する。",
     "indicators": [("活動指標", "耐震改修補助件数", "件", [15, 15, 15, 15], [9, 12, None, None]),
                    ("成果指標", "住宅の耐震化率", "%", [0.88, 0.89, 0.90, 0.92], [0.874, 0.881, None, None])],
     "cost": {"project_cost": [14850, 19620, 22500, 22500], "grants": [7420, 9810, 11250, 11250],
              "bond": [0, 0, 0, 0], "other": [0, 0, 0, 0],
              "regular_staff": [1.0, 1.0, 1.0, 1.0], "part_time_staff": [0, 0, 0.5, 0.5],
              "personnel": [7900, 7850, 9350, 9350]},
     "per_unit": [(14850 + 7900) * 1000 // 9, (19620 + 7850) * 1000 // 12, None, None],
     "evals": [("妥当性", "relevance", "◎"), ("有効性", "effectiveness", "△"), ("効率性", "efficiency", "○")],
     "overall": ("Ｂ", "B"), "choice": "拡充",
     "done": "戸別訪問による啓発を行い、耐震改修12件、耐震診断31件に補助した。",
     "result": "補助件数は増えたが、改修費用の負担感から診断後に改修に進まない世帯が多い。",
     "plan": "低コスト工法の紹介と、改修費補助の上限の引上げを検討する。"},
]

G_LINES = [("事業費計（A）", "project_cost", N0), ("国・県支出金", "grants", N0), ("地方債", "bond", N0),
           ("その他特定財源", "other", N0), ("一般財源", "general", N0), ("正規職員（人）", "regular_staff", N2),
           ("会計年度任用職員（人）", "part_time_staff", N2), ("人件費（B）", "personnel", N0),
           ("トータルコスト（A）＋（B）", "total", N0)]


def write_project_management(path) -> dict:
    """g. 事務事業マネジメントシート (another city's project sheet)."""
    book = Book(path, Path(path).name, "事務事業マネジメントシート（別の市の様式、計画年度・チェック欄つき）",
                "project_management_sheets", 2022)
    for p in G_PROJECTS:
        s = book.sheet(p["sheet"])
        s.widths(A=22, B=12, C=12, D=12, E=12, F=12)
        s.owner = p["name"]
        s.fact("A1", "事務事業マネジメントシート（令和4年度）", "title", merge="F1", style="title")
        s.label("A2", "事務事業名")
        s.fact("B2", p["name"], "measure.name", merge="F2")
        s.label("A3", "所管部")
        s.fact("B3", p["bu"], "measure.division")
        s.label("C3", "所管課")
        s.fact("D3", p["dept"], "measure.department", merge="F3")
        for r, (lab, key, text, code, name) in enumerate(p["levels"], start=4):
            s.label(f"A{r}", lab)
            s._write(f"B{r}", text, "value", None, f"F{r}", None)
            for what, v in (("level.code", code), ("level.name", name)):
                book.facts.append({"sheet": s.name, "cell": f"B{r}", "what": what, "text": v, "key": key,
                                   "owner": p["name"], "part_of": text})
        s.label("A6", "事業の目的")
        s.fact("B6", p["purpose"], "measure.purpose", merge="F6")
        s.ws.set_row(5, 30)
        s.label("A8", "■ 指標", style="heading")
        s.label("A9", "指標名")
        s.label("B9", "区分")
        for j, h in enumerate(G_HEADS):
            s.label(f"{col('C', j)}9", h.split("\n")[0])
        s.ws.set_row(8, 16)
        r = 10
        for _kind, name, unit, targets, actuals in p["indicators"]:
            s.owner = name
            num = PCT if unit == "%" else N0
            s.fact(f"A{r}", f"{name}（{unit}）", "kpi.name", merge=f"A{r + 1}", also=[name])
            s.book.facts.append({"sheet": s.name, "cell": f"A{r}", "what": "kpi.unit", "text": unit,
                                 "owner": name, "part_of": f"{name}（{unit}）"})
            s.label(f"B{r}", "目標")
            s.label(f"B{r + 1}", "実績")
            s.row_facts(r, "C", targets, "kpi.target", G_YEARS, num=num)
            s.row_facts(r + 1, "C", actuals, "kpi.actual", G_YEARS, num=num)
            r += 2
        s.owner = p["name"]
        r += 1
        s.label(f"A{r}", "■ コスト", style="heading")
        s.fact(f"F{r}", "単位：千円", "cost.unit", style="plain", also=["千円"])
        r += 1
        s.label(f"A{r}", "区分")
        for j, h in enumerate(G_HEADS):
            s.label(f"{col('B', j)}{r}", h)
        s.ws.set_row(r - 1, 30)
        cost = dict(p["cost"])
        cost["general"] = [pc - g - b - o for pc, g, b, o in
                           zip(cost["project_cost"], cost["grants"], cost["bond"], cost["other"])]
        cost["total"] = [pc + pe for pc, pe in zip(cost["project_cost"], cost["personnel"])]
        first = r + 1
        rows = {key: first + i for i, (_, key, _) in enumerate(G_LINES)}
        for lab, key, num in G_LINES:
            rr = rows[key]
            s.label(f"A{rr}", lab)
            for j, fy in enumerate(G_YEARS):
                c = col("B", j)
                formula = None
                if key == "general":
                    formula = f"={c}{rows['project_cost']}-{c}{rows['grants']}-{c}{rows['bond']}-{c}{rows['other']}"
                elif key == "total":
                    formula = f"={c}{rows['project_cost']}+{c}{rows['personnel']}"
                unit = "人" if key.endswith("_staff") else "千円"
                s.fact(f"{c}{rr}", cost[key][j], f"cost.{key}", num=num, formula=formula, fiscal_year=fy,
                       kind=G_KINDS[j], unit=unit, key=key)
        r = first + len(G_LINES)
        act = p["indicators"][0]
        s.label(f"A{r}", "活動指標1件あたりコスト（円）")
        for j, fy in enumerate(G_YEARS):
            c = col("B", j)
            v = p["per_unit"][j]
            if v is None:
                s.blank(f"{c}{r}", N0)
                continue
            s.fact(f"{c}{r}", v, "cost.unit_cost", num=N0,
                   formula=f"=INT({c}{rows['total']}*1000/{col('C', j)}11)", fiscal_year=fy,
                   unit=f"円/{act[2]}", key="unit_cost", indicator=act[1])
        r += 2
        s.label(f"A{r}", "■ 評価", style="heading")
        r += 1
        for lab, key, mark in p["evals"]:
            s.label(f"A{r}", lab)
            s.fact(f"B{r}", mark, "evaluation", key=key)
            r += 1
        s.label(f"A{r}", "総合評価")
        s.fact(f"B{r}", p["overall"][0], "evaluation", key="overall", also=[p["overall"][1]])
        s.other(f"C{r}", "（◎：高い　○：普通　△：低い／Ａ～Ｄの4段階）", "legend", merge=f"F{r}", style="plain")
        r += 1
        s.label(f"A{r}", "今後の方向性")
        boxes = "　".join(("■" if c == p["choice"] else "□") + c for c in G_CHOICES)
        s.fact(f"B{r}", boxes, "measure.policy", merge=f"F{r}", also=[p["choice"]])
        r += 2
        for key, role, lab, text in (("do", "do", "令和3年度の実施内容", p["done"]),
                                     ("result", "check", "成果と課題", p["result"]),
                                     ("plan", "action", "改善案（今後の取組）", p["plan"])):
            s.label(f"A{r}", lab, merge=f"F{r}")
            s.fact(f"A{r + 1}", text, "text", key=key, role=role, merge=f"F{r + 2}",
                   fiscal_year=2021 if key == "do" else None)
            r += 3
    return book.close()


# =========================================================================================

BOOKS = {
    "a_事務事業評価シート_R4.xlsx": write_project_sheets,
    "b_KPI検証シート_R3.xlsx": write_kpi_sheets,
    "c_施策評価シート_R3.xlsx": write_measure_two_sheets,
    "d_KPI一覧_R4.xlsx": write_kpi_list,
    "e_施策進捗評価シート_R4.xlsx": write_kpi_blocks_years_rows,
    "f_施策進捗状況調書_R4.xlsx": write_package_quirks,
    "g_事務事業マネジメントシート_R4.xlsx": write_project_management,
}


def facts_file(book: str) -> Path:
    return FACTS_DIR / (Path(book).stem + ".json")


def write_corpus(out: Path) -> dict[str, dict]:
    """Write every workbook of the corpus to `out`; returns {book name: facts}."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return {name: write(out / name) for name, write in BOOKS.items()}


def dump(facts: dict) -> str:
    """The fact list as pinned: its header keys, then one fact (one cell) per line."""
    lines = ["{"]
    items = list(facts.items())
    for i, (k, v) in enumerate(items):
        end = "," if i < len(items) - 1 else ""
        if isinstance(v, list):
            rows = [json.dumps(x, ensure_ascii=False, sort_keys=True) for x in v]
            body = ",\n".join(f"  {r}" for r in rows)
            lines.append(f' "{k}": [\n{body}\n ]{end}' if rows else f' "{k}": []{end}')
        else:
            lines.append(f" {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}{end}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    import tempfile

    if argv[:1] == ["--pin"]:
        FACTS_DIR.mkdir(exist_ok=True)
        with tempfile.TemporaryDirectory() as d:
            for name, facts in write_corpus(Path(d)).items():
                facts_file(name).write_text(dump(facts), encoding="utf-8")
                print(f"{facts_file(name).relative_to(HERE.parent)}: {facts['fact_count']} facts")
        return 0
    if len(argv) != 1:
        print(__doc__)
        return 2
    for name, facts in write_corpus(Path(argv[0])).items():
        (Path(argv[0]) / (Path(name).stem + ".facts.json")).write_text(dump(facts), encoding="utf-8")
        print(f"{name}: {facts['fact_count']} facts")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))


def cell_problems(path, facts: dict, values_only_from=None) -> list[str]:
    """Facts that are not in their cell of the workbook at `path` (read with openpyxl, cached
    values): [] when every fact is where the list says. `values_only_from`: another copy of
    the book (e.g. recalculated by LibreOffice) to compare the numbers with."""
    import openpyxl

    wb = openpyxl.load_workbook(values_only_from or path, data_only=True)
    out = []
    for f in facts["facts"]:
        v = wb[f["sheet"]][f["cell"]].value
        where = f"{f['sheet']}!{f['cell']} {f['what']}"
        if v is None:
            out.append(f"{where}: empty, expected {f.get('text')!r}")
        elif "part_of" in f:
            if f["text"] not in str(v) and f["part_of"] != str(v):
                out.append(f"{where}: {v!r} does not hold {f['text']!r}")
        elif isinstance(v, (int, float)):
            if "value" not in f or abs(v - f["value"]) > 1e-6 * max(1, abs(f["value"])):
                out.append(f"{where}: {v!r} != {f.get('value')!r}")
        elif str(v) != f["text"]:
            out.append(f"{where}: {v!r} != {f['text']!r}")
    return out
