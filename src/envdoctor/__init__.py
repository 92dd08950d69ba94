"""envdoctor: an environment-hygiene linter for Python projects."""

__version__ = "0.1.0"
