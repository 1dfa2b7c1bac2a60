"""The only place that opens input workbooks: safety checks before any parser
(`safety.py`), the fast grid of values, merges and number formats (`grid.py`), and the rule
that a failed read produces no output (`refuse.py`). Layouts are read from these grids by
`xlsgen.layout` (`xlsgen.layout.read_book`).
"""
