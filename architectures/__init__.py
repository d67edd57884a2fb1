"""The zoo: one YAML file per architecture, installed as the package `archcalc.architectures`."""
