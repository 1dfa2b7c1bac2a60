"""Formula text of the survey workbook (`xlsgen simulate` with a kind: survey template)."""

from __future__ import annotations

PARTICIPANTS = "参加団体"  # named range of the participant list
N_PARTICIPANTS = "参加団体数"
N_RESPONDENTS = "回答数"
RESPONSE_RATE = "回答率"


def count_participants() -> str:
    return f"=COUNTA({PARTICIPANTS})"


def response_rate() -> str:
    return f"={N_RESPONDENTS}/{N_PARTICIPANTS}"


def share(count_ref: str) -> str:
    """An option's share of the respondents (multiple answers allowed): `=C12/回答数`."""
    return f"={count_ref}/{N_RESPONDENTS}"


def judge_equal(value_ref: str, published_ref: str) -> str:
    """`一致` when a count equals the published count."""
    return f'=IF({value_ref}={published_ref},"一致","不一致")'


def judge_rounded(value_ref: str, digits_ref: str, published_ref: str) -> str:
    """`一致` when the value rounded to the published digits equals the published figure."""
    return f'=IF(ROUND({value_ref},{digits_ref})={published_ref},"一致","不一致")'
