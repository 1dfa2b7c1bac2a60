"""What one input of a form is, independent of the model that produced it.

An `Assignment` names the master cell an answer goes to (and, for a text cell shared by
several departments, the department's part of it), who answers it, what is asked (label,
fiscal year, unit), how the answer is checked (type, range, length, list) and what the
form shows beside it (the current value to correct, last year's value, the target).

`inputs.py` builds them from a Book; everything else in `xlsgen.roundtrip` works on them.
They travel inside each form as JSON (`to_dict` / `from_dict`), so a returned form is
checked against the assignment as it was distributed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# value types
NUMBER = "number"
TEXT = "text"
CHOICE = "choice"
VALUE_TYPES = (NUMBER, TEXT, CHOICE)

# groups: which section of the form an assignment goes to
KPI = "kpi"          # a KPI's value of the year
AMOUNT = "amount"    # a budget or cost amount (事業費, 決算額, 予算額 …)
WRITING = "text"     # a Check / Action text
POLICY = "choice"    # a choice from a list (方針 …)
GROUPS = (KPI, AMOUNT, WRITING, POLICY)


@dataclass(frozen=True)
class Reference:
    """A value shown beside an input for reference (last year's actual, the target)."""

    label: str
    text: str


@dataclass
class Assignment:
    """One input: the master cell (and part of it) an answer goes to, and how to ask.

    `departments` answer it (usually one; a KPI several departments share goes to each of
    them, and different answers are a conflict). `segment` is the department heading
    (`【商工振興課】`) of a text cell shared by departments: only that part is replaced, the
    parts keep `segment_order`. `like` is a master cell whose representation a number
    copies (a number format, a percent cell, a text such as `17件`).
    """

    key: str
    sheet: str
    cell: str
    departments: list[str]
    measure_no: str
    measure: str
    group: str
    label: str
    item: str
    value_type: str
    fiscal_year: int | None = None
    unit: str | None = None
    segment: str | None = None
    segment_order: list[str] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    free_text: bool = False          # any text is a valid answer (a qualitative KPI)
    allowed_texts: list[str] = field(default_factory=list)  # texts a number may be answered with
    current: Any = None              # the value now in the master (in the unit shown)
    previous: float | None = None    # last year's number, to flag a tenfold jump
    references: list[Reference] = field(default_factory=list)
    like: str | None = None
    note: str = ""                   # shown beside the input (shared with …)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["references"] = [[r.label, r.text] for r in self.references]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Assignment:
        d = dict(d)
        d["references"] = [Reference(str(a), str(b)) for a, b in d.get("references") or []]
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def where(self) -> str:
        """`01!F16` or `01!A22（商工振興課の部分）`: the master cell as a clerk reads it."""
        part = f"（{self.segment}の部分）" if self.segment else ""
        return f"{self.sheet}!{self.cell}{part}"


@dataclass
class Owner:
    """Who gets one form: a department, or a measure when the layout names none."""

    name: str
    kind: str  # "department" | "measure"
    measures: list[str] = field(default_factory=list)  # "01 キャリア教育の推進"


@dataclass
class Roster:
    """Everything a distribution needs from a book: its identity, the year asked for,
    the owners and every assignment (an assignment may list several departments)."""

    layout: str
    layout_title: str
    title: str
    edition: int
    fiscal_year: int
    owners: list[Owner]
    assignments: list[Assignment]
    notes: list[str] = field(default_factory=list)  # what the planner should know (Japanese)

    def of(self, owner: str) -> list[Assignment]:
        return [a for a in self.assignments if owner in a.departments]


def fingerprint(value: Any) -> str:
    """A short stable hash of a value as stored in a cell (numbers and text alike)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if value == "":
        value = None
    data = json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def digest(data: Any) -> str:
    """sha256 of a JSON document (sorted keys): ties the identity of a form together."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
