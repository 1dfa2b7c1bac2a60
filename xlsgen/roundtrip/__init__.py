"""The yearly round trip between the planning section and the departments: what an input
is, how a book's facts become inputs, forms as data, typed answers and the diff by label.
The two steps that write files sit above the writers, as `xlsgen.rollforward` does:
`xlsgen.distribute` writes one input form per department (or per measure when the layout names
no departments) for an edition of a book; `xlsgen.collect` reads the returned forms, checks them
and applies the accepted values to the master through the lossless package edit the
roll-forward uses; `diff` (here) compares two books by label through the model.

Modules:

| module        | what it does                                                        | reads the Book |
|---------------|---------------------------------------------------------------------|----------------|
| `assignment`  | what one input is: master cell, owner, type, unit, constraints      | no             |
| `inputs`      | the adapter: Book → assignments and facts (the only module that     | yes            |
|               | knows the model's shape)                                            |                |
| `segments`    | a text cell split into `【…課】` parts and put back together          | no             |
| `form`        | a form's content as data (sheets, cells, validations, identity) and |  no            |
|               | the reader of a returned form                                       |                |
| `values`      | one typed answer checked against its assignment                     | no             |
| `diff`        | two books → changes by label                                        | via `inputs`   |

Above this package: `xlsgen/distribute.py` (book → forms in a folder) and
`xlsgen/collect.py` (master + forms → new master, status table, change log), both via
`inputs`. The workbook writers are in `xlsgen/render/form.py` and `xlsgen/render/diff_report.py`.
"""
