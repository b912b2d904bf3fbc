"""MRS: retail ML models (product insights, minority reports) run inside a dbt warehouse."""

__version__ = "0.1.0"
