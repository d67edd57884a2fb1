"""A builder that returns None."""


def build():
    return None
