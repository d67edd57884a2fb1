"""A builder that ends its process at once, without Python's exit."""

import os


def build():
    os._exit(0)
