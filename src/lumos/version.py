"""The version of lumos (recorded in bench runs and zoo training records)."""

__version__ = "0.1.0"
