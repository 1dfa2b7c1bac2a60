"""The rule that a failed or partial read never produces output."""

from __future__ import annotations

from xlsgen.errors import XlsgenError
from xlsgen.model import Book, Severity


def refuse_failed_read(book: Book, what: str) -> Book:
    """`book` unchanged when its read had no error and read something; else XlsgenError
    (Japanese, naming the file and the first error) so no `what` is written."""
    errors = [f for f in book.findings if f.severity is Severity.ERROR]
    if not errors and book.measure_count:
        return book
    if errors:
        f = errors[0]
        where = f"{f.sheet}!{f.cell} " if f.sheet and f.cell else (f"{f.sheet} " if f.sheet else "")
        more = f"ほか {len(errors) - 1} 件、" if len(errors) > 1 else ""
        raise XlsgenError(f"読み取りでエラーがあったため{what}を作りません（{where}{f.message}。"
                          f"{more}xlsgen validate で確認してください）", book.path)
    raise XlsgenError(f"読み取れた施策・指標が1つもないため{what}を作りません", book.path)
