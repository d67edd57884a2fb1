"""A builder that raises, with a message over several lines."""


def build():
    raise ValueError("no\nway\x1b[31m")
