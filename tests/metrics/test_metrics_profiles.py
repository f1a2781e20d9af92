"""Built-in profile constants against reference/neuromorphic_facts.md §3, and user profile files."""

import json

import pytest

from surnn_neuro.errors import UserError
from surnn_neuro.metrics.profiles import (
    PROFILES,
    EnergyProfile,
    UnknownProfileError,
    get_profile,
    load_profile_file,
)


def test_builtin_constants():
    loihi = PROFILES["loihi1_table2"]
    assert (loihi.e_ac, loihi.e_mac, loihi.e_neuron_update_active, loihi.e_neuron_update_inactive,
            loihi.e_spike) == (23.6, 23.6, 81.0, 52.0, 1.7)
    assert loihi.is_proxy and "Loihi 2 proxy" in loihi.notes and "no per-op table" in loihi.notes
    s2 = PROFILES["spinnaker2"]
    assert (s2.e_ac, s2.e_mac, s2.e_neuron_update_active) == (450.0, 450.0, 2190.0)
    assert "1903.08941" in s2.citation
    fp32 = PROFILES["cmos45_fp32"]
    assert (fp32.e_ac, fp32.e_mac, fp32.e_weight_fetch) == (0.9, 4.6, 5.0)
    # 3 mults + 5 adds + 3 nonlinearities (one MAC each): 3·3.7 + 5·0.9 + 3·4.6
    assert fp32.e_neuron_update_active == pytest.approx(3 * 3.7 + 5 * 0.9 + 3 * 4.6)
    int8 = PROFILES["cmos45_int8"]
    assert (int8.e_ac, int8.e_mac) == (0.03, 0.23) and int8.unconfirmed
    assert int8.e_neuron_update_active == pytest.approx(3 * 0.2 + 5 * 0.03 + 3 * 0.23)
    assert int8.e_weight_fetch == 10 / 8
    for p in PROFILES.values():
        assert p.units == "pJ" and p.citation


def test_registry_fails_loudly():
    with pytest.raises(ValueError, match="unknown energy profile 'loihi2'; known: cmos45_fp32, cmos45_int8, "
                                         "loihi1_table2, spinnaker2"):
        get_profile("loihi2")
    assert "loihi2" not in PROFILES and PROFILES.get("loihi2") is None
    with pytest.raises(KeyError):
        PROFILES["nope"]
    assert isinstance(UnknownProfileError("x"), ValueError)


def test_dataclass_validation():
    ok = dict(name="x", label="X", citation="c", e_ac=1, e_mac=1, e_neuron_update_active=1,
              e_neuron_update_inactive=0, e_spike=0, e_weight_fetch=0)
    assert EnergyProfile(**ok).e_ac == 1.0
    for field, bad in [("e_mac", -1.0), ("e_spike", float("nan")), ("e_ac", True), ("e_ac", "1")]:
        with pytest.raises(ValueError, match=f"EnergyProfile.{field}"):
            EnergyProfile(**{**ok, field: bad})
    with pytest.raises(ValueError, match="EnergyProfile.units"):
        EnergyProfile(**ok, units="nJ")
    with pytest.raises(ValueError, match="EnergyProfile.citation"):
        EnergyProfile(**{**ok, "citation": " "})
    with pytest.raises(ValueError, match="EnergyProfile.name"):
        EnergyProfile(**{**ok, "name": "has space"})


TOML = """
name = "mychip"
label = "My chip"
citation = "My chip datasheet, Table 5"
units = "nJ"
e_ac = 0.001
e_mac = 0.004
e_neuron_update_active = 0.02
e_neuron_update_inactive = 0.0
e_spike = 0.0015
e_weight_fetch = 0.002
is_proxy = true
"""


def test_load_toml(tmp_path):
    f = tmp_path / "chip.toml"
    f.write_text(TOML)
    p = load_profile_file(f)
    # nJ -> pJ: ×1000
    assert (p.name, p.label, p.units, p.is_proxy) == ("mychip", "My chip", "pJ", True)
    assert (p.e_ac, p.e_mac, p.e_neuron_update_active, p.e_spike, p.e_weight_fetch) == (1.0, 4.0, 20.0, 1.5, 2.0)


def test_load_json_wrapped_and_defaults(tmp_path):
    f = tmp_path / "chip.json"
    f.write_text(json.dumps({"profile": {
        "name": "j", "citation": "paper", "e_ac": 2, "e_mac": 3,
        "e_neuron_update_active": 4, "e_neuron_update_inactive": 1, "e_spike": 0.5}}))
    p = load_profile_file(f)
    assert (p.label, p.e_weight_fetch, p.e_mac, p.notes) == ("j", 0.0, 3.0, "")


def _write(tmp_path, name, text):
    f = tmp_path / name
    f.write_text(text)
    return f


@pytest.mark.parametrize("edit, field, message", [
    (lambda t: t.replace('e_mac = 0.004\n', ''), "e_mac", "missing"),
    (lambda t: t.replace('citation = "My chip datasheet, Table 5"\n', ''), "citation", "missing"),
    (lambda t: t.replace('e_ac = 0.001', 'e_ac = -0.001'), "e_ac", ">= 0"),
    (lambda t: t.replace('units = "nJ"', 'units = "kWh"'), "units", "unknown unit 'kWh'"),
    (lambda t: t.replace('e_spike = 0.0015', 'e_spike = "cheap"'), "e_spike", "must be a number"),
    (lambda t: t + 'e_synop = 1.0\n', "e_synop", "unknown field"),
    (lambda t: t.replace('is_proxy = true', 'is_proxy = "yes"'), "is_proxy", "true or false"),
])
def test_bad_toml_names_file_and_field(tmp_path, edit, field, message):
    f = _write(tmp_path, "bad.toml", edit(TOML))
    with pytest.raises(UserError) as e:
        load_profile_file(f)
    text = str(e.value)
    assert str(f) in text and f"field '{field}'" in text and message in text
    assert "\n" not in text


def test_bad_json_names_file_and_field(tmp_path):
    good = {"name": "j", "citation": "paper", "e_ac": 2, "e_mac": 3, "e_neuron_update_active": 4,
            "e_neuron_update_inactive": 1, "e_spike": 0.5}
    f = _write(tmp_path, "neg.json", json.dumps({**good, "e_neuron_update_inactive": -2}))
    with pytest.raises(UserError, match=r"neg\.json: field 'e_neuron_update_inactive': must be a finite energy >= 0"):
        load_profile_file(f)
    f = _write(tmp_path, "miss.json", json.dumps({k: v for k, v in good.items() if k != "e_spike"}))
    with pytest.raises(UserError, match=r"miss\.json: field 'e_spike': missing"):
        load_profile_file(f)
    f = _write(tmp_path, "unit.json", json.dumps({**good, "units": "mJ"}))
    with pytest.raises(UserError, match=r"unit\.json: field 'units': unknown unit 'mJ'"):
        load_profile_file(f)


def test_bad_files(tmp_path):
    with pytest.raises(UserError, match="no such energy profile file"):
        load_profile_file(tmp_path / "absent.toml")
    with pytest.raises(UserError, match="not valid TOML"):
        load_profile_file(_write(tmp_path, "x.toml", "name = [unclosed"))
    with pytest.raises(UserError, match="not valid JSON"):
        load_profile_file(_write(tmp_path, "x.json", "{"))
    with pytest.raises(UserError, match="use .toml or .json"):
        load_profile_file(_write(tmp_path, "x.yaml", "name: x"))
    with pytest.raises(UserError, match="expected a table"):
        load_profile_file(_write(tmp_path, "list.json", "[1, 2]"))
