"""A builder that exits with status 3."""


def build():
    raise SystemExit(3)
