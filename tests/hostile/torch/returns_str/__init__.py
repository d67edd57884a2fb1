"""A builder that returns text that looks like a path."""


def build():
    return "../secret.txt"
