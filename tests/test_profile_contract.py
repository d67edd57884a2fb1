"""Every registered layer type has a rule (a count or an explicit 0) in every count profile, so a
new type or family cannot silently count 0; and the profiles name no layer type."""

import re
from pathlib import Path

import pytest

from archcalc.layers import registered_types
from archcalc.layers.family import Family
from archcalc.profiles.tools import PROFILES


def uncovered(profile) -> list[str]:
    """The registered types (by name, aliases included) `profile` has no rule for."""
    return sorted(name for name, cls in registered_types().items() if cls.family not in profile.rules)


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_type_is_counted_or_explicitly_zero(name):
    assert uncovered(PROFILES[name]) == []


@pytest.mark.parametrize("name", sorted(n for n, p in PROFILES.items() if p.counts_backward))
def test_every_type_has_a_backward_rule_where_a_profile_counts_backward(name):
    families = {cls.family for cls in registered_types().values()}
    assert families <= set(PROFILES[name].backward_rules)


def test_the_training_profiles_count_backward():
    assert {n for n, p in PROFILES.items() if p.counts_backward} == {"archcalc", "torch-train"}


def test_every_type_declares_a_family():
    assert all(isinstance(cls.family, Family) for cls in registered_types().values())


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_removing_any_rule_is_found(name):
    profile = PROFILES[name]
    used = {cls.family for cls in registered_types().values()}
    for family in used:
        stripped = type("Stripped", (type(profile),), {"rules": {f: r for f, r in profile.rules.items()
                                                                  if f is not family}})()
        assert uncovered(stripped), f"{name} without its rule for {family} still covers every type"


def test_profiles_name_no_layer_type():
    names = set(registered_types())
    source = "\n".join(p.read_text() for p in (Path(__file__).parent.parent / "archcalc" / "profiles").glob("*.py"))
    quoted = set(re.findall(r"""["']([a-z0-9_]+)["']""", source))
    assert not quoted & names
