"""The region names table: every region phonenumbers knows is named, as Qt names it (the
table was generated from Qt; when either library changes, regenerate it)."""

from __future__ import annotations

import phonenumbers

from dialer.core.numbers import region_name
from dialer.core.region_names import NAMES


def test_every_region_phonenumbers_knows_has_a_name() -> None:
    assert set(NAMES) == set(phonenumbers.SUPPORTED_REGIONS)
    assert all(name.strip() for name in NAMES.values())


def test_the_table_is_what_the_generator_writes_today() -> None:
    import importlib.util
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "packaging" / "region_names.py"
    spec = importlib.util.spec_from_file_location("region_names_generator", script)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.region_names() == NAMES, "run: python packaging/region_names.py"


def test_a_region_is_named_in_a_sentence_without_the_geocoder() -> None:
    import sys

    assert region_name("IN") == "India (IN)"
    assert region_name("KR") == "South Korea (KR)"
    assert region_name(None) == "an unknown country"
    assert region_name("ZZ") == "ZZ"
    assert "phonenumbers.geocoder" not in sys.modules
