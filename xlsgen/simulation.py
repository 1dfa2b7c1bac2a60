"""Business-model simulations: a YAML template of drivers → a validated model → its values.

A template (schema in xlsgen/templates/README.md) holds inputs (drivers with units and the
source's notes), derived quantities and cost lines whose `formula` is a small expression
over input names (`作付面積 * 単収 * 1000`). The same parsed expression gives the Python
value here and the Excel formula text in `xlsgen.formulas.simulation`, so the cached values
and the formulas cannot drift apart.
"""

from __future__ import annotations

import ast
import math
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.template_values import (  # noqa: F401  (excel_round, published_figure re-exported)
    MAX_NUMBER,
    excel_round,
    line_of,
    published_figure,
    read_template,
    yaml_mapping,
)

# Numbers allowed inside a formula: structural constants only (months, percent, units).
ALLOWED_CONSTANTS = frozenset({0, 1, 12, 100, 1000})
FUNCTIONS = frozenset({"SUM", "ROUND", "IF", "ABS"})
COST_CLASSES = ("変動費", "固定費")
_NAME_RE = re.compile(r"^[^\W\d]\w*$")
_CELL_LIKE = re.compile(r"^[A-Za-z]{1,3}\d+$|^[RrCc]\d*$")

# The model's standard results, in calculation order. 製造費用 and 固定費 are the sums of
# the 変動費 and 固定費 cost lines; every other result is an expression over names.
RESULTS: tuple[tuple[str, str | None], ...] = (
    ("売上高", "販売数量 * 販売単価"),
    ("製造費用", None),
    ("固定費", None),
    ("費用合計", "製造費用 + 固定費"),
    ("営業利益", "売上高 - 製造費用 - 固定費"),
    ("利益率", "営業利益 / 売上高"),
    ("限界利益", "売上高 - 製造費用"),
    ("限界利益率", "限界利益 / 売上高"),
    ("損益分岐点売上高", "ROUND(固定費 / 限界利益率, 0)"),
    ("安全余裕比率", "(売上高 - 損益分岐点売上高) / 売上高"),
    ("製造コスト単価", "製造費用 / 販売数量"),
    ("間接コスト単価", "固定費 / 販売数量"),
    ("目標利益単価", "(製造コスト単価 + 間接コスト単価) * 目標利益率"),
    ("推奨販売価格", "ROUND(製造コスト単価 + 間接コスト単価 + 目標利益単価, 0)"),
)
RESULT_NAMES = frozenset(name for name, _ in RESULTS)
RATIO_RESULTS = frozenset({"利益率", "限界利益率", "安全余裕比率"})  # shown as %, the rest in 円
REQUIRED_INPUTS = ("販売単価", "目標利益率", "時給")
REQUIRED_QUANTITIES = ("販売数量",)
SENSITIVITY = "感度変化率"
CHART_RATIOS = "グラフ数量比率"
DEFAULT_SENSITIVITY = (-0.3, -0.2, -0.1, 0.0, 0.1, 0.2, 0.3)
DEFAULT_CHART_RATIOS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
TOP_KEYS = ("kind", "id", "title", "source", "description", "sections", "quantities", "hiring",
            "costs", "published", "warnings", "analysis")
INPUT_KEYS = ("name", "label", "value", "unit", "note", "items")
QUANTITY_KEYS = ("name", "label", "formula", "unit", "note")
COST_KEYS = ("class", "account", "formula", "note")


class Expr:
    """A parsed, validated formula expression over names (inputs, quantities, results)."""

    def __init__(self, source: str, local: frozenset[str] = frozenset()):
        self.source = source
        text = unicodedata.normalize("NFKC", str(source))
        text = text.replace("×", "*").replace("÷", "/").replace("<>", "!=")
        try:
            self.node = ast.parse(text.strip(), mode="eval").body
        except SyntaxError:
            raise ValueError(f"式「{source}」を読み取れません（使える記号は + - * / ( ) と比較です）") from None
        self.names: set[str] = set()
        self.groups: set[str] = set()
        self._check(self.node)
        self.names -= local

    def _check(self, node: ast.AST) -> None:
        arithmetic = (ast.Add, ast.Sub, ast.Mult, ast.Div)
        if isinstance(node, ast.BinOp) and isinstance(node.op, arithmetic):
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            self._check(node.operand)
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            self._check(node.left)
            self._check(node.comparators[0])
        elif isinstance(node, ast.Name):
            self.names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            pass
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float):
            if node.value not in ALLOWED_CONSTANTS:
                raise ValueError(
                    f"式「{self.source}」に数値 {node.value} が直接書かれています。"
                    "前提条件に入力項目として追加し、その名前を使ってください"
                    "（式に書ける数値は 0, 1, 12, 100, 1000 だけです）")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in FUNCTIONS and not node.keywords:
            arity = {"SUM": 1, "ROUND": 2, "IF": 3, "ABS": 1}[node.func.id]
            if len(node.args) != arity:
                raise ValueError(f"式「{self.source}」の {node.func.id} の引数の数が違います")
            if node.func.id == "SUM":
                if not isinstance(node.args[0], ast.Name):
                    raise ValueError(f"式「{self.source}」: SUM には内訳のある入力項目の名前を1つ書きます")
                self.groups.add(node.args[0].id)
                return
            for arg in node.args:
                self._check(arg)
        else:
            raise ValueError(f"式「{self.source}」に使えない書き方があります"
                             "（使えるのは 名前・+ - * / ( )・比較・SUM ROUND IF ABS です）")

    def evaluate(self, env: dict[str, Any]) -> Any:
        return _eval(self.node, env)


def _eval(node: ast.AST, env: dict[str, Any]) -> Any:
    if isinstance(node, ast.BinOp):
        a, b = _eval(node.left, env), _eval(node.right, env)
        op = type(node.op)
        return a + b if op is ast.Add else a - b if op is ast.Sub else a * b if op is ast.Mult \
            else a / b
    if isinstance(node, ast.UnaryOp):
        v = _eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Compare):
        a, b = _eval(node.left, env), _eval(node.comparators[0], env)
        return {ast.Eq: a == b, ast.NotEq: a != b, ast.Lt: a < b, ast.LtE: a <= b,
                ast.Gt: a > b, ast.GtE: a >= b}[type(node.ops[0])]
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.Constant):
        return node.value
    fn, args = node.func.id, node.args
    if fn == "SUM":
        return sum(env[args[0].id])
    if fn == "ROUND":
        return excel_round(_eval(args[0], env), int(_eval(args[1], env)))
    if fn == "ABS":
        return abs(_eval(args[0], env))
    return _eval(args[1], env) if _eval(args[0], env) else _eval(args[2], env)


@dataclass
class Input:
    """A driver typed on the 前提条件 sheet: one value, or a group of items (a named range)."""

    name: str
    label: str
    unit: str = ""
    note: str = ""
    value: float | None = None
    items: list[tuple[str, float]] | None = None

    @property
    def is_group(self) -> bool:
        return self.items is not None


@dataclass
class Section:
    title: str
    inputs: list[Input]


@dataclass
class Quantity:
    name: str
    label: str
    expr: Expr
    unit: str = ""
    note: str = ""


@dataclass
class CostLine:
    cls: str  # 変動費 / 固定費
    account: str
    expr: Expr
    note: str = ""


@dataclass
class HiringType:
    label: str
    wage: str  # input name of the hourly wage
    adopted: bool = False


@dataclass
class Hiring:
    hours: str
    days: str
    line: str  # account of the cost line the adopted type must equal
    types: list[HiringType]


@dataclass
class Published:
    name: str
    value: float
    digits: int


@dataclass
class SourceWarning:
    message: str
    condition: Expr | None = None


@dataclass
class Simulation:
    """A validated simulation template."""

    path: str
    id: str
    title: str
    source: str
    description: list[str]
    sections: list[Section]
    quantities: list[Quantity]
    costs: list[CostLine]
    hiring: Hiring
    published: list[Published]
    warnings: list[SourceWarning]
    notices: list[str] = field(default_factory=list)  # problems of the template itself

    @property
    def inputs(self) -> list[Input]:
        return [i for s in self.sections for i in s.inputs]

    def input(self, name: str) -> Input:
        return next(i for i in self.inputs if i.name == name)

    def lines(self, cls: str) -> list[CostLine]:
        return [c for c in self.costs if c.cls == cls]


@dataclass
class Evaluation:
    """Every value of a simulation, computed in Python (the workbook's cached values)."""

    sim: Simulation
    env: dict[str, Any]
    lines: dict[str, float]  # account → yearly amount

    def __getitem__(self, name: str) -> Any:
        return self.env[name]

    def value(self, expr: Expr, local: dict[str, Any] | None = None) -> Any:
        """The value of an expression, with local names (cells of a grid) bound."""
        return expr.evaluate({**self.env, **(local or {})})

    def warning_active(self, w: SourceWarning) -> bool:
        return True if w.condition is None else bool(self.value(w.condition))

    def published_ok(self, p: Published) -> bool:
        return excel_round(self.env[p.name], p.digits) == p.value


# Structural formulas of the workbook, with local names bound to cells of a row or grid.
MONTHLY = Expr("年額 / 12", frozenset({"年額"}))
PRICE_GAP = Expr("販売単価 - 推奨販売価格")
BEP_VOLUME = Expr("損益分岐点売上高 / 販売単価")
SENS_PRICE = Expr("販売単価 * (1 + 変化率)", frozenset({"変化率"}))
SENS_VOLUME = Expr("販売数量 * (1 + 変化率)", frozenset({"変化率"}))
SENS_PROFIT = Expr("数量 * (価格 - 製造コスト単価) - 固定費", frozenset({"数量", "価格"}))
CHART_COLUMNS = (
    ("販売数量（kg）", Expr("販売数量 * 比率", frozenset({"比率"}))),
    ("売上高", Expr("売上高 * 比率", frozenset({"比率"}))),
    ("変動費", Expr("製造費用 * 比率", frozenset({"比率"}))),
    ("固定費", Expr("固定費")),
    ("総費用", Expr("製造費用 * 比率 + 固定費", frozenset({"比率"}))),
)
DAILY_PAY = Expr("時給 * 時間", frozenset({"時給", "時間"}))
MONTHLY_PAY = Expr("日給 * 日数", frozenset({"日給", "日数"}))
YEARLY_PAY = Expr("月額 * 12", frozenset({"月額"}))
CHECKS = (
    ("損益分岐点売上高で営業利益が 0 になる（損益分岐点売上高 × 限界利益率 － 固定費）",
     Expr("ROUND(損益分岐点売上高 * 限界利益率 - 固定費, 0)")),
    ("感度分析の基準（変化率 0%）の営業利益 － 収支の営業利益",
     Expr("ROUND(基準 - 営業利益, 0)", frozenset({"基準"}))),
    ("人件費シートの採用区分の年額 － 費用の労務費",
     Expr("ROUND(採用年額 - 労務費, 0)", frozenset({"採用年額", "労務費"}))),
)
CHECK_JUDGE = Expr('IF(差 == 0, "OK", "要確認")', frozenset({"差"}))
PUBLISHED_JUDGE = Expr('IF(ROUND(計算値, 桁数) == 公表値, "一致", "不一致")',
                       frozenset({"計算値", "桁数", "公表値"}))


def warning_state(condition: Expr) -> Expr:
    """`IF(condition, "要確認", "解消")`: the live state of a source warning."""
    return Expr(f'IF({condition.source}, "要確認", "解消")')


# --- loading -------------------------------------------------------------------------


def input_value(raw: Any, errors: list[str]) -> float | None:
    """One input value as typed on a form ("12,000", "20%", "１２"), checked as a template
    value is; the reason is appended to `errors` without any place."""
    found: list[str] = []
    value = _number(raw, "", found)
    errors += [e.lstrip(": ") for e in found]
    return value


def _number(raw: Any, where: str, errors: list[str]) -> float | None:
    """A number from YAML: 0.4, 10000, "10,000", "20%" (→ 0.2)."""
    if isinstance(raw, bool) or raw is None:
        errors.append(f"{where}: 数値がありません")
        return None
    at = line_of(raw)
    if isinstance(raw, int) and abs(raw) > MAX_NUMBER:
        errors.append(f"{where}{at}: 数値「{_short_number(raw)}」が大きすぎます"
                      f"（Excel で正確に扱えるのは 15 桁まで、上限 {MAX_NUMBER:.0e}）")
        return None
    if isinstance(raw, (int, float)):
        value = float(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).replace(",", "").strip()
        try:
            value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except (ValueError, OverflowError):
            errors.append(f"{where}{at}: 「{_short_number(raw)}」は数値ではありません")
            return None
    if not math.isfinite(value):
        errors.append(f"{where}{at}: 「{_short_number(raw)}」は有限の数値ではありません（.nan や .inf は使えません）")
        return None
    if abs(value) > MAX_NUMBER:
        errors.append(f"{where}{at}: 数値「{_short_number(raw)}」が大きすぎます"
                      f"（Excel で正確に扱えるのは 15 桁まで、上限 {MAX_NUMBER:.0e}）")
        return None
    return value


def _short_number(raw: Any) -> str:
    text = str(raw)
    return text if len(text) <= 24 else f"{text[:12]}…（{len(text)} 桁）"


def _name(raw: Any, where: str, errors: list[str]) -> str:
    from xlsgen.text import name_problem

    name = unicodedata.normalize("NFKC", str(raw or "")).strip()
    why = name_problem(name)
    if why:
        errors.append(f"{where}{line_of(raw)}: 名前「{name}」は Excel の名前に使えません（{why}）")
    elif not _NAME_RE.match(name) or _CELL_LIKE.match(name) or name.upper() in FUNCTIONS:
        errors.append(f"{where}{line_of(raw)}: 名前「{name}」は使えません（文字で始まり、文字・数字・_ だけ。"
                      "空白や記号、A1 のようなセル番地、関数名は不可）")
    return name


def _text(raw: Any) -> str:
    return "" if raw is None else str(raw).strip()


def _expr(raw: Any, where: str, errors: list[str]) -> Expr | None:
    if raw is None or str(raw).strip() == "":
        errors.append(f"{where}: formula（計算式）がありません")
        return None
    try:
        return Expr(str(raw))
    except ValueError as exc:
        errors.append(f"{where}: {exc}")
        return None


def _inputs(raw_sections: Any, errors: list[str]) -> list[Section]:
    sections = []
    if not isinstance(raw_sections, list) or not raw_sections:
        errors.append("sections: 前提条件（入力項目）の区分が1つもありません")
        return sections
    for si, raw in enumerate(raw_sections, 1):
        raw = yaml_mapping(raw, f"sections の{si}番目", errors, ("title", "inputs"))
        title = _text(raw.get("title")) or f"区分{si}"
        inputs = []
        for ii, item in enumerate(raw.get("inputs") or [], 1):
            where = f"sections「{title}」の{ii}番目の入力"
            item = yaml_mapping(item, where, errors, INPUT_KEYS)
            name = _name(item.get("name"), where, errors)
            inp = Input(name=name, label=_text(item.get("label")) or name,
                        unit=_text(item.get("unit")), note=_text(item.get("note")))
            if "items" in item:
                inp.items = []
                for k, sub in enumerate(item.get("items") or [], 1):
                    sub = yaml_mapping(sub, f"{where}「{name}」の内訳{k}", errors, ("label", "value"))
                    v = _number(sub.get("value"), f"{where}「{name}」の内訳{k}", errors)
                    inp.items.append((_text(sub.get("label")) or f"{k}", v or 0.0))
                if not inp.items:
                    errors.append(f"{where}「{name}」: items（内訳）が空です")
            else:
                inp.value = _number(item.get("value"), f"{where}「{name}」", errors)
            inputs.append(inp)
        sections.append(Section(title, inputs))
    return sections


def _analysis(raw: Any, errors: list[str]) -> Section:
    """The grid and chart settings, shown (and editable) on the 前提条件 sheet."""
    raw = yaml_mapping(raw or {}, "analysis", errors, ("sensitivity_rates", "chart_ratios"))

    def group(key: str, default, name: str, label: str, note: str) -> Input:
        values = [_number(v, f"analysis.{key}", errors) or 0.0 for v in raw.get(key, default)]
        if not values:
            errors.append(f"analysis.{key}: 値が1つもありません")
        return Input(name=name, label=label, unit="%", note=note,
                     items=[(f"{i}", v) for i, v in enumerate(values, 1)])

    return Section("分析の設定（感度分析・損益分岐点グラフ）", [
        group("sensitivity_rates", DEFAULT_SENSITIVITY, SENSITIVITY,
              "感度分析の変化率（販売単価・販売数量）", "基準値（前提条件の値）に対する増減"),
        group("chart_ratios", DEFAULT_CHART_RATIOS, CHART_RATIOS,
              "損益分岐点グラフの販売数量", "前提条件の販売数量に対する割合"),
    ])


def load_simulation(path: str | Path) -> Simulation:
    """Read and validate a simulation template; raise XlsgenError listing every problem."""
    path = str(path)
    raw = read_template(path)
    errors: list[str] = []
    raw = yaml_mapping(raw, "テンプレート全体", errors, TOP_KEYS)
    if raw and raw.get("kind", "simulation") != "simulation":
        raise XlsgenError(f"kind が simulation ではありません（{raw.get('kind')}）", path)
    sim_id = _name(raw.get("id", "M"), "id", errors)
    sections = _inputs(raw.get("sections"), errors) + [_analysis(raw.get("analysis"), errors)]
    inputs = {i.name: i for s in sections for i in s.inputs}
    names = [i.name for s in sections for i in s.inputs]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"入力項目の名前「{dup}」が重複しています")

    known = set(inputs)
    quantities = []
    for qi, q in enumerate(raw.get("quantities") or [], 1):
        q = yaml_mapping(q, f"quantities の{qi}番目", errors, QUANTITY_KEYS)
        where = f"quantities の{qi}番目"
        name = _name(q.get("name"), where, errors)
        expr = _expr(q.get("formula"), f"{where}「{name}」", errors)
        if expr:
            _check_names(expr, known, inputs, f"{where}「{name}」", errors)
            quantities.append(Quantity(name, _text(q.get("label")) or name, expr,
                                       _text(q.get("unit")), _text(q.get("note"))))
        if name in known:
            errors.append(f"{where}: 名前「{name}」は既に使われています")
        known.add(name)

    costs = []
    for ci, c in enumerate(raw.get("costs") or [], 1):
        where = f"costs の{ci}番目"
        c = yaml_mapping(c, where, errors, COST_KEYS)
        cls, account = _text(c.get("class")), _text(c.get("account")) or f"費用{ci}"
        if cls not in COST_CLASSES:
            errors.append(f"{where}「{account}」: class は 変動費 か 固定費 です（「{cls}」）")
        expr = _expr(c.get("formula"), f"{where}「{account}」", errors)
        if expr:
            _check_names(expr, known, inputs, f"{where}「{account}」", errors)
            costs.append(CostLine(cls, account, expr, _text(c.get("note"))))
    for cls in COST_CLASSES:
        if not any(c.cls == cls for c in costs):
            errors.append(f"costs: {cls}の費用項目が1つもありません")

    hiring = _hiring(raw.get("hiring"), inputs, costs, errors)
    for name in sorted(known & RESULT_NAMES):
        errors.append(f"名前「{name}」は計算結果の名前なので入力項目や数量には使えません")
    for name in REQUIRED_INPUTS:
        if name not in inputs or inputs[name].is_group:
            errors.append(f"必須の入力項目「{name}」（内訳なしの値）がありません")
    for name in REQUIRED_QUANTITIES:
        if name not in {q.name for q in quantities}:
            errors.append(f"必須の数量「{name}」が quantities にありません")

    all_names = known | RESULT_NAMES
    published = []
    for name, value in yaml_mapping(raw.get("published") or {}, "published", errors).items():
        parsed = published_figure(value)
        if name not in all_names - set(inputs):
            errors.append(f"published: 「{name}」は計算結果・数量の名前ではありません")
        elif parsed is None:
            errors.append(f"published「{name}」: 「{value}」は数値ではありません")
        else:
            published.append(Published(name, *parsed))

    warnings = []
    for wi, w in enumerate(raw.get("warnings") or [], 1):
        w = yaml_mapping(w, f"warnings の{wi}番目", errors, ("message", "condition"))
        cond = None
        if w.get("condition") not in (None, ""):
            cond = _expr(w.get("condition"), f"warnings の{wi}番目の condition", errors)
            if cond:
                _check_names(cond, all_names, inputs, f"warnings の{wi}番目", errors)
        warnings.append(SourceWarning(_text(w.get("message")) or "（内容なし）", cond))

    if errors:
        raise XlsgenError("テンプレートに誤りがあります:\n" + "\n".join(f"  - {e}" for e in errors),
                          path)
    sim = Simulation(path, sim_id, _text(raw.get("title")) or Path(path).stem,
                     _text(raw.get("source")), [_text(d) for d in raw.get("description") or []],
                     sections, quantities, costs, hiring, published, warnings)
    sim.notices = _unused_inputs(sim)
    return sim


def _check_names(expr: Expr, known: set[str], inputs: dict[str, Input], where: str,
                 errors: list[str]) -> None:
    for n in sorted(expr.names - known):
        errors.append(f"{where}: 式「{expr.source}」の名前「{n}」が定義されていません"
                      "（前提条件の入力か、前にある数量の名前を使ってください）")
    for n in sorted(expr.names & set(inputs)):
        if inputs[n].is_group:
            errors.append(f"{where}: 「{n}」は内訳のある入力です。SUM({n}) と書いてください")
    for n in sorted(expr.groups):
        if n not in inputs or not inputs[n].is_group:
            errors.append(f"{where}: SUM({n}) の「{n}」は内訳（items）のある入力項目ではありません")


def _hiring(raw: Any, inputs: dict[str, Input], costs: list[CostLine],
            errors: list[str]) -> Hiring:
    raw = yaml_mapping(raw, "hiring（人件費シミュレーション）", errors,
                   ("hours", "days", "line", "types"))
    hiring = Hiring(_text(raw.get("hours")), _text(raw.get("days")), _text(raw.get("line")), [])
    for key in ("hours", "days"):
        if getattr(hiring, key) not in inputs:
            errors.append(f"hiring.{key}: 入力項目「{getattr(hiring, key)}」がありません")
    for ti, t in enumerate(raw.get("types") or [], 1):
        t = yaml_mapping(t, f"hiring.types の{ti}番目", errors, ("label", "wage", "adopted"))
        ht = HiringType(_text(t.get("label")) or f"区分{ti}", _text(t.get("wage")),
                        bool(t.get("adopted")))
        if ht.wage not in inputs:
            errors.append(f"hiring.types「{ht.label}」: 時給の入力項目「{ht.wage}」がありません")
        hiring.types.append(ht)
    if raw and sum(t.adopted for t in hiring.types) != 1:
        errors.append("hiring.types: adopted: true（モデルで採用する雇用形態）を1つだけ指定してください")
    if raw and hiring.line not in {c.account for c in costs}:
        errors.append(f"hiring.line: 費用項目「{hiring.line}」が costs にありません")
    return hiring


def _unused_inputs(sim: Simulation) -> list[str]:
    used = {"販売単価", "目標利益率", SENSITIVITY, CHART_RATIOS, sim.hiring.hours, sim.hiring.days}
    used |= {t.wage for t in sim.hiring.types}
    exprs = [q.expr for q in sim.quantities] + [c.expr for c in sim.costs]
    exprs += [w.condition for w in sim.warnings if w.condition]
    for e in exprs:
        used |= e.names | e.groups
    return [f"入力項目「{i.name}」はどの計算式からも使われていません"
            for i in sim.inputs if i.name not in used]


# --- evaluation ------------------------------------------------------------------------


def evaluate(sim: Simulation) -> Evaluation:
    """Compute every value of the model (inputs → quantities → cost lines → results)."""
    env: dict[str, Any] = {}
    for i in sim.inputs:
        env[i.name] = [v for _, v in i.items] if i.is_group else i.value
    lines: dict[str, float] = {}
    what = ""
    try:
        for q in sim.quantities:
            what = q.name
            env[q.name] = q.expr.evaluate(env)
        for c in sim.costs:
            what = c.account
            lines[c.account] = c.expr.evaluate(env)
        for name, src in RESULTS:
            what = name
            if src is None:
                cls = "変動費" if name == "製造費用" else "固定費"
                env[name] = sum(lines[c.account] for c in sim.lines(cls))
            else:
                env[name] = result_expr(name).evaluate(env)
    except ZeroDivisionError:
        raise XlsgenError(f"「{what}」の計算で 0 による割り算になります。前提条件の値を確認してください",
                          sim.path) from None
    return Evaluation(sim, env, lines)


_RESULT_EXPRS: dict[str, Expr] = {}


def result_expr(name: str) -> Expr:
    """The parsed expression of a standard result (None-sourced sums excluded)."""
    if name not in _RESULT_EXPRS:
        _RESULT_EXPRS[name] = Expr(dict(RESULTS)[name])
    return _RESULT_EXPRS[name]


def warning_lines(ev: Evaluation) -> list[str]:
    """The warnings to print on the terminal for one evaluated model."""
    sim = ev.sim
    out = [f"[{sim.id}] {w.message}" for w in sim.warnings if ev.warning_active(w)]
    units = {q.name: q.unit for q in sim.quantities} | {n: "%" if n in RATIO_RESULTS else "円"
                                                         for n in RESULT_NAMES}
    out += [f"[{sim.id}] 公表値と一致しません: {p.name} 計算値 {figure(ev[p.name], p.digits, units.get(p.name))}"
            f" / 公表値 {figure(p.value, p.digits, units.get(p.name))}"
            for p in sim.published if not ev.published_ok(p)]
    out += [f"[{sim.id}] {n}" for n in sim.notices]
    return out


def template_kind(path: str | Path) -> str:
    """`simulation` or `survey`, from the template's `kind:` (default simulation)."""
    try:
        raw = read_template(path)
    except XlsgenError:
        return "simulation"  # load_simulation reports the problem in Japanese
    return str(raw.get("kind", "simulation")) if isinstance(raw, dict) else "simulation"



def figure(value: float, digits: int = 0, unit: str | None = None) -> str:
    """A number for a message: separators, never an exponent (28,800,000,000,000円 rather
    than 2.88e+13); `digits` decimals at most, trailing zeros dropped; a "%" unit shows
    the ratio as a percentage (0.107 → 10.7%), any other unit follows the number."""
    if unit == "%":
        value, digits = value * 100, max(int(digits) - 2, 0)
    text = f"{value:,.{max(int(digits), 0)}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return f"{text}{unit or ''}"


def summary_line(ev: Evaluation) -> str:
    return (f"[{ev.sim.id}] {ev.sim.title}: 売上高 {ev['売上高']:,.0f}円 / 営業利益 "
            f"{ev['営業利益']:,.0f}円 / 利益率 {ev['利益率']:.1%} / 損益分岐点売上高 "
            f"{ev['損益分岐点売上高']:,.0f}円 / 推奨販売価格 {ev['推奨販売価格']:,.0f}円/kg")
