"""A builder that returns an int."""


def build():
    return 3
