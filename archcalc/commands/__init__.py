"""CLI commands, one module per feature; each module exposes `register(main)`."""
