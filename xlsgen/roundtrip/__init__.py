"""The yearly round trip between the planning section and the departments.

`distribute` writes one input form per department (or per measure when the layout names
no departments) for an edition of a book; `collect` reads the returned forms, checks them
and applies the accepted values to the master through the lossless package edit the
roll-forward uses; `diff` compares two books by label through the model.

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
| `distribute`  | book → forms in a folder                                            | via `inputs`   |
| `collect`     | master + forms → new master, status table, change log               | via `inputs`   |
| `diff`        | two books → changes by label                                        | via `inputs`   |

The workbook writers are in `xlsgen/render/form.py` and `xlsgen/render/diff_report.py`.
"""
