"""xlsgen: read, validate, roll forward, report, simulate and audit municipal Excel workbooks."""

__version__ = "0.1.0"
