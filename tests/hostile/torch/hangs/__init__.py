"""A builder that never returns (busy)."""


def build():
    while True:
        pass
