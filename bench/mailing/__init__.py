"""The mailing benchmark (see run.py)."""
