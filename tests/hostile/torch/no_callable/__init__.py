"""A module whose `build` is not callable."""

build = 42
