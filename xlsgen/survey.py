"""Survey reports: a YAML template of counts (participants, respondents, option counts) →
a workbook where the response rate and every percentage is a formula over the counts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlsgen.errors import XlsgenError
from xlsgen.template_values import excel_round, published_figure, read_template, yaml_mapping

TOP_KEYS = ("kind", "title", "source", "event", "participants", "participants_stated",
            "respondents", "published_response_rate", "questions")


@dataclass
class Option:
    label: str
    count: int
    published: tuple[float, int] | None = None  # (value, digits) as printed in the source

    def share(self, respondents: int) -> float:
        return self.count / respondents


@dataclass
class Question:
    title: str
    options: list[Option] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)  # free-text answers


@dataclass
class Survey:
    path: str
    title: str
    source: str
    event: str
    participants: list[str]
    participants_stated: int | None
    respondents: int
    published_rate: tuple[float, int] | None
    questions: list[Question]

    @property
    def response_rate(self) -> float:
        return self.respondents / len(self.participants)

    def checks(self) -> list[tuple[str, float, float, int]]:
        """(label, computed, published, digits) for every published figure."""
        out = []
        if self.published_rate:
            out.append(("回答率", self.response_rate, *self.published_rate))
        for q in self.questions:
            for o in q.options:
                if o.published:
                    out.append((f"{q.title}：{o.label}", o.share(self.respondents), *o.published))
        return out

    def warnings(self) -> list[str]:
        out = [f"公表値と一致しません: {label} 計算値 {v:.1%} / 公表値 {p:.1%}"
               for label, v, p, d in self.checks() if excel_round(v, d) != p]
        stated = self.participants_stated
        if stated is not None and stated != len(self.participants):
            out.append(f"参加団体の一覧は {len(self.participants)} 団体ですが、資料の合計は "
                       f"{stated} 団体です")
        return out


def _count(raw: Any, where: str, errors: list[str]) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        errors.append(f"{where}: 0 以上の整数を書いてください（「{raw}」）")
        return 0
    return raw


def _pub(raw: Any, where: str, errors: list[str]) -> tuple[float, int] | None:
    if raw is None:
        return None
    parsed = published_figure(raw)
    if parsed is None:
        errors.append(f"{where}: 公表値「{raw}」は数値ではありません")
    return parsed


def load_survey(path: str | Path) -> Survey:
    """Read and validate a survey template; raise XlsgenError listing every problem."""
    path = str(path)
    raw = read_template(path)
    errors: list[str] = []
    raw = yaml_mapping(raw, "テンプレート全体", errors, TOP_KEYS)
    participants = [str(p).strip() for p in raw.get("participants") or [] if str(p).strip()]
    if not participants:
        errors.append("participants: 参加団体が1つもありません")
    respondents = _count(raw.get("respondents"), "respondents（回答数）", errors)
    if participants and respondents > len(participants):
        errors.append(f"respondents: 回答数 {respondents} が参加団体数 {len(participants)} を超えています")
    if respondents == 0:
        errors.append("respondents: 回答数が 0 では割合を計算できません")
    stated = raw.get("participants_stated")
    if stated is not None:
        stated = _count(stated, "participants_stated（資料の参加団体数）", errors)
    questions = []
    for qi, q in enumerate(raw.get("questions") or [], 1):
        where = f"questions の{qi}番目"
        q = yaml_mapping(q, where, errors, ("title", "options", "answers"))
        question = Question(str(q.get("title") or f"設問{qi}"))
        for oi, o in enumerate(q.get("options") or [], 1):
            ow = f"{where}の選択肢{oi}"
            o = yaml_mapping(o, ow, errors, ("label", "count", "published"))
            count = _count(o.get("count"), f"{ow}（count）", errors)
            if count > respondents:
                errors.append(f"{ow}: 回答数 {count} が回答団体数 {respondents} を超えています")
            question.options.append(Option(str(o.get("label") or f"選択肢{oi}"), count,
                                           _pub(o.get("published"), ow, errors)))
        question.answers = [str(a) for a in q.get("answers") or []]
        if not question.options and not question.answers:
            errors.append(f"{where}: options（選択肢）も answers（自由記述）もありません")
        questions.append(question)
    if errors:
        raise XlsgenError("テンプレートに誤りがあります:\n" + "\n".join(f"  - {e}" for e in errors),
                          path)
    return Survey(path, str(raw.get("title") or Path(path).stem), str(raw.get("source") or ""),
                  str(raw.get("event") or ""), participants, stated, respondents,
                  _pub(raw.get("published_response_rate"), "published_response_rate", errors),
                  questions)
