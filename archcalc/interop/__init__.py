"""Interoperability: archcalc networks to and from other frameworks, one module per framework, each
importing its framework lazily."""
