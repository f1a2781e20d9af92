"""Energy profiles: per-operation energies of one platform, with their source.

A profile holds the constants of the energy model (docs/energy.md, :mod:`surnn_neuro.metrics.energy`)

    E = events·e_spike + ACs·e_ac + MACs·e_mac
        + active neuron updates·e_neuron_update_active
        + inactive state slots·e_neuron_update_inactive
        (+ synaptic ops·e_weight_fetch, memory-inclusive variant)

All energies are in picojoules (pJ) per operation. Built-in profiles (the table ``PROFILES``):

==================  ======  ======  ==========  ==========  =======  ============  =====================
name                e_ac    e_mac   nu active   nu inactive e_spike  weight fetch  source
==================  ======  ======  ==========  ==========  =======  ============  =====================
``loihi1_table2``   23.6    23.6    81          52          1.7      0 (incl.)     Davies 2018 Table 2
``spinnaker2``      450     450     2190        2190        0        0 (incl.)     KerasSpiking table
``cmos45_fp32``     0.9     4.6     29.4 (der.) 0           0        5             Horowitz 2014
``cmos45_int8``     0.03    0.23    1.44 (der.) 0           0        1.25 (der.)   Horowitz 2014 (unconf.)
==================  ======  ======  ==========  ==========  =======  ============  =====================

"der." = derived here (see the ``notes`` of each profile and docs/energy.md); "incl." = the per-synop
figure already contains the synaptic-memory read. ``loihi1_table2`` is also the Loihi 2 proxy: Intel
published no per-operation energy table for Loihi 2.

User profiles are read from TOML or JSON with :func:`load_profile_file`.

>>> p = get_profile("cmos45_fp32")
>>> p.e_mac, p.units
(4.6, 'pJ')
>>> sorted(PROFILES)
['cmos45_fp32', 'cmos45_int8', 'loihi1_table2', 'spinnaker2']
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from surnn_neuro.errors import UserError

#: Per-operation energy fields, all in pJ.
ENERGY_FIELDS = (
    "e_ac",
    "e_mac",
    "e_neuron_update_active",
    "e_neuron_update_inactive",
    "e_spike",
    "e_weight_fetch",
)

#: Units a profile file may use; values are converted to pJ on reading.
UNIT_TO_PJ = {"fJ": 1e-3, "pJ": 1.0, "nJ": 1e3, "uJ": 1e6, "µJ": 1e6}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


@dataclass(frozen=True)
class EnergyProfile:
    """Per-operation energies (pJ) of one platform, with the citation they come from.

    Fields
    ------
    name : str
        Registry key, e.g. ``"loihi1_table2"`` (letters, digits, ``_ . -``).
    label : str
        Human-readable name for tables and plots.
    citation : str
        Where the numbers come from (paper, table, page).
    e_ac : float
        Energy of one accumulate (synaptic op triggered by a binary/ternary event), pJ.
    e_mac : float
        Energy of one multiply-accumulate (synaptic op triggered by a graded event), pJ.
    e_neuron_update_active : float
        Energy of one neuron whose candidate state is computed (its gate spiked), pJ.
    e_neuron_update_inactive : float
        Energy of one state slot that is *not* updated in a step (gate closed), pJ.
    e_spike : float
        Energy of sending one event (input event or delta event), pJ.
    e_weight_fetch : float
        Energy of one weight read, charged once per synaptic op in the memory-inclusive variant, pJ.
        0 where the synop energy already includes the synaptic-memory read.
    units : str
        Always ``"pJ"``; :func:`load_profile_file` converts other units.
    is_proxy : bool
        The numbers stand in for another platform (Loihi 1 for Loihi 2).
    unconfirmed : bool
        The constants could not be checked verbatim against the primary source.
    notes : str
        Derivations and caveats.

    >>> EnergyProfile("x", "X", "me", -1.0, 2, 3, 0, 0, 0)
    Traceback (most recent call last):
    ValueError: EnergyProfile.e_ac: must be a finite number >= 0 (pJ), got -1.0
    """

    name: str
    label: str
    citation: str
    e_ac: float
    e_mac: float
    e_neuron_update_active: float
    e_neuron_update_inactive: float
    e_spike: float
    e_weight_fetch: float
    units: str = "pJ"
    is_proxy: bool = False
    unconfirmed: bool = False
    notes: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(
                f"EnergyProfile.name: must be letters, digits, '_', '.' or '-' (got {self.name!r})"
            )
        for f in ("label", "citation"):
            v = getattr(self, f)
            if not isinstance(v, str) or not v.strip():
                raise ValueError(f"EnergyProfile.{f}: must be a non-empty string (got {v!r})")
        if not isinstance(self.notes, str):
            raise ValueError(f"EnergyProfile.notes: must be a string (got {self.notes!r})")
        if self.units != "pJ":
            raise ValueError(
                f"EnergyProfile.units: profiles hold pJ only (got {self.units!r}); "
                "load_profile_file converts fJ/nJ/uJ"
            )
        for f in ENERGY_FIELDS:
            v = getattr(self, f)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                raise ValueError(f"EnergyProfile.{f}: must be a finite number >= 0 (pJ), got {v!r}")
            object.__setattr__(self, f, float(v))
        for f in ("is_proxy", "unconfirmed"):
            if not isinstance(getattr(self, f), bool):
                raise ValueError(f"EnergyProfile.{f}: must be true or false (got {getattr(self, f)!r})")

    @property
    def flags(self) -> str:
        """Short caveat tag for tables: ``"proxy"``, ``"unconfirmed"``, both, or ``""``."""
        return ", ".join(t for t, on in (("proxy", self.is_proxy), ("unconfirmed", self.unconfirmed)) if on)

    def to_dict(self) -> dict:
        """Plain dict of every field (JSON-ready; energies in pJ)."""
        return asdict(self)


# --- built-in profiles --------------------------------------------------------------------------

# GRU state update, per neuron, from docs/semantics.md §1 (reset-after; biases live in the
# accumulators S = W·h + b, so they cost nothing per step):
#   a_r = gi_r + gh_r, a_z = gi_z + gh_z                 2 adds
#   r = σ(a_r), z = σ(a_z), n = tanh(gi_n + r·gh_n)      3 nonlinearities, 1 mult, 1 add
#   f = (1 − z)·n + z·h                                  2 mults, 2 adds (1 − z, the sum)
# = 3 mults + 5 adds + 3 nonlinearities; a nonlinearity is charged as one MAC (piecewise-linear or
# table-plus-interpolation evaluation). fp32: 3·3.7 + 5·0.9 + 3·4.6 = 11.1 + 4.5 + 13.8 = 29.4 pJ;
# int8: 3·0.2 + 5·0.03 + 3·0.23 = 0.6 + 0.15 + 0.69 = 1.44 pJ.
_GRU_UPDATE_NOTE = (
    "Active neuron update derived from one reset-after GRU state update: 3 mults + 5 adds + "
    "3 nonlinearities (sigma, sigma, tanh), each nonlinearity charged as one MAC; biases are folded "
    "into the accumulators. Inactive slots cost 0 (the state stays in place). Event sending and "
    "control overhead are not modelled (e_spike = 0)."
)

_HOROWITZ = (
    "M. Horowitz, 'Computing's energy problem (and what we can do about it)', ISSCC 2014, "
    "45 nm, 0.9 V; values as tabulated in PMC8934428 Table 3"
)

_BUILTIN = (
    EnergyProfile(
        name="loihi1_table2",
        label="Loihi 1 (Table 2; Loihi 2 proxy)",
        citation=(
            "M. Davies et al., 'Loihi: A Neuromorphic Manycore Processor with On-Chip Learning', "
            "IEEE Micro 38(1), 2018, Table 2 (p. 96), values at 0.75 V from pre-silicon SDF and "
            "SPICE simulation"
        ),
        e_ac=23.6,
        e_mac=23.6,
        e_neuron_update_active=81.0,
        e_neuron_update_inactive=52.0,
        e_spike=1.7,
        e_weight_fetch=0.0,
        is_proxy=True,
        notes=(
            "Also used as Loihi 2 proxy: Intel published no per-op table. One synaptic op "
            "(synop, 23.6 pJ, the table's minimum) for both ACs and MACs; the synaptic-memory read "
            "is part of the synop, so the memory-inclusive variant adds nothing. e_spike is the "
            "within-tile spike energy; tile hops (3.0 / 4.0 pJ E-W / N-S) are not modelled."
        ),
    ),
    EnergyProfile(
        name="spinnaker2",
        label="SpiNNaker 2 (KerasSpiking table)",
        citation=(
            "KerasSpiking device energy table (spinnaker2: 450 pJ per synop, 2.19 nJ per neuron "
            "update) as reproduced in AndrzejKucik/SNN4Space:energy_estimations.py, citing "
            "arXiv 1903.08941 for SpiNNaker"
        ),
        e_ac=450.0,
        e_mac=450.0,
        e_neuron_update_active=2190.0,
        e_neuron_update_inactive=2190.0,
        e_spike=0.0,
        e_weight_fetch=0.0,
        notes=(
            "One synop energy for ACs and MACs. KerasSpiking charges every neuron every time step, "
            "so inactive = active here (conservative: an implementation that skips closed neurons "
            "would pay less). Spike transport is folded into the synop figure (e_spike = 0)."
        ),
    ),
    EnergyProfile(
        name="cmos45_fp32",
        label="45 nm CMOS, fp32 (Horowitz)",
        citation=_HOROWITZ,
        e_ac=0.9,
        e_mac=4.6,
        e_neuron_update_active=29.4,
        e_neuron_update_inactive=0.0,
        e_spike=0.0,
        e_weight_fetch=5.0,
        notes=(
            "AC = fp32 add 0.9 pJ; MAC = fp32 mult 3.7 + add 0.9 = 4.6 pJ; weight fetch = 5 pJ per "
            "32-bit load from an 8 kB SRAM (10 pJ per 64-bit access). " + _GRU_UPDATE_NOTE
        ),
    ),
    EnergyProfile(
        name="cmos45_int8",
        label="45 nm CMOS, int8 (Horowitz, unconfirmed)",
        citation=_HOROWITZ + " (8-bit figures widely transcribed from the same figure)",
        e_ac=0.03,
        e_mac=0.23,
        e_neuron_update_active=1.44,
        e_neuron_update_inactive=0.0,
        e_spike=0.0,
        e_weight_fetch=1.25,
        unconfirmed=True,
        notes=(
            "Unconfirmed verbatim: the int8 add 0.03 pJ / mult 0.2 pJ (MAC 0.23 pJ) are the widely "
            "transcribed values, not checked against the paper. Weight fetch = 10 pJ per 64-bit "
            "8 kB-SRAM access / 8 weights = 1.25 pJ (derived). " + _GRU_UPDATE_NOTE
        ),
    ),
)


class UnknownProfileError(ValueError, KeyError):
    """Unknown profile name; a ValueError (house style) that is also a KeyError (Mapping protocol)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class ProfileTable(Mapping):
    """Read-only name → :class:`EnergyProfile` table that fails loudly with the known names.

    >>> PROFILES["loihi2"]
    Traceback (most recent call last):
    surnn_neuro.metrics.profiles.UnknownProfileError: unknown energy profile 'loihi2'; known: cmos45_fp32, cmos45_int8, loihi1_table2, spinnaker2
    """  # noqa: E501 (a doctest's expected traceback line)

    def __init__(self, profiles):
        table = {}
        for p in profiles:
            if p.name in table:
                raise ValueError(f"ProfileTable: duplicate profile name {p.name!r}")
            table[p.name] = p
        self._table = table

    def __getitem__(self, name):
        try:
            return self._table[name]
        except (KeyError, TypeError):
            raise UnknownProfileError(
                f"unknown energy profile {name!r}; known: {', '.join(sorted(self._table))}"
            ) from None

    def __contains__(self, name) -> bool:
        return isinstance(name, str) and name in self._table

    def __iter__(self):
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def __repr__(self) -> str:
        return f"ProfileTable({', '.join(self._table)})"


#: The built-in profiles.
PROFILES = ProfileTable(_BUILTIN)


def get_profile(name_or_profile) -> EnergyProfile:
    """Return a built-in profile by name (or pass an :class:`EnergyProfile` through)."""
    if isinstance(name_or_profile, EnergyProfile):
        return name_or_profile
    return PROFILES[name_or_profile]


# --- user profile files -------------------------------------------------------------------------

_REQUIRED = ("name", "citation", "e_ac", "e_mac", "e_neuron_update_active",
             "e_neuron_update_inactive", "e_spike")
_OPTIONAL = {"label": None, "e_weight_fetch": 0.0, "units": "pJ", "is_proxy": False,
             "unconfirmed": False, "notes": ""}


def _load_toml(path: Path) -> dict:
    try:
        import tomllib  # Python >= 3.11
    except ModuleNotFoundError:  # pragma: no cover - depends on the interpreter
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise UserError(f"{path}: reading TOML on Python < 3.11 needs 'tomli' (pip install tomli)") from None
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise UserError(f"{path}: not valid TOML: {e}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not valid TOML (not UTF-8 text: {e.reason})") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4300 digits
        raise UserError(f"{path}: not valid TOML ({' '.join(str(e).split())[:120] or 'nested too deeply'})") from None


def _load_json(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not valid JSON (not UTF-8 text: {e.reason})") from None
    except (ValueError, RecursionError) as e:  # e.g. an integer of more than 4300 digits
        raise UserError(f"{path}: not valid JSON ({' '.join(str(e).split())[:120] or 'nested too deeply'})") from None


def profile_from_dict(data, source: str = "<dict>") -> EnergyProfile:
    """Build a profile from plain data, raising :class:`UserError` naming ``source`` and the field.

    Required keys: ``name``, ``citation``, ``e_ac``, ``e_mac``, ``e_neuron_update_active``,
    ``e_neuron_update_inactive``, ``e_spike``. Optional: ``label`` (default: the name),
    ``e_weight_fetch`` (0), ``units`` (``"pJ"``; also fJ, nJ, uJ, µJ, converted to pJ),
    ``is_proxy``, ``unconfirmed`` (false), ``notes`` (""). A ``[profile]`` table (TOML) or
    ``{"profile": {...}}`` (JSON) wrapping the keys is accepted too.

    >>> p = profile_from_dict({"name": "chip", "citation": "datasheet", "e_ac": 1, "e_mac": 2,
    ...     "e_neuron_update_active": 3, "e_neuron_update_inactive": 0, "e_spike": 0.5, "units": "nJ"})
    >>> p.e_mac, p.e_spike, p.units
    (2000.0, 500.0, 'pJ')
    """
    if isinstance(data, Mapping) and set(data) == {"profile"} and isinstance(data["profile"], Mapping):
        data = data["profile"]
    if not isinstance(data, Mapping):
        raise UserError(f"{source}: expected a table of profile fields, got {type(data).__name__}")
    known = set(_REQUIRED) | set(_OPTIONAL)
    for key in data:
        if key not in known:
            raise UserError(
                f"{source}: field {key!r}: unknown field; known: {', '.join(sorted(known))}"
            )
    for key in _REQUIRED:
        if key not in data:
            raise UserError(f"{source}: field {key!r}: missing (required: {', '.join(_REQUIRED)})")
    values = {**_OPTIONAL, **dict(data)}
    units = values["units"]
    if units not in UNIT_TO_PJ:
        raise UserError(
            f"{source}: field 'units': unknown unit {units!r}; known: {', '.join(UNIT_TO_PJ)}"
        )
    scale = UNIT_TO_PJ[units]
    for key in ENERGY_FIELDS:
        v = values[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise UserError(f"{source}: field {key!r}: must be a number (energy in {units}), got {v!r}")
        try:
            pj = float(v) * scale
        except OverflowError:  # an integer beyond the float range
            pj = math.inf
        if not math.isfinite(pj) or v < 0:
            shown = f"{v!r}" if isinstance(v, float) or abs(v) < 10 ** 30 else "a number beyond the float range"
            raise UserError(f"{source}: field {key!r}: must be a finite energy >= 0, got {shown}")
        # 12 significant digits drop the float noise of the unit conversion (2.19 nJ -> 2190 pJ)
        values[key] = float(f"{pj:.12g}")
    for key in ("name", "citation", "label", "notes"):
        v = values[key]
        if key == "label" and v is None:
            continue
        if not isinstance(v, str) or (key != "notes" and not v.strip()):
            raise UserError(f"{source}: field {key!r}: must be a non-empty string, got {v!r}")
    if not _NAME_RE.match(values["name"]):
        raise UserError(
            f"{source}: field 'name': use letters, digits, '_', '.' or '-' (got {values['name']!r})"
        )
    for key in ("is_proxy", "unconfirmed"):
        if not isinstance(values[key], bool):
            raise UserError(f"{source}: field {key!r}: must be true or false, got {values[key]!r}")
    if values["label"] is None:
        values["label"] = values["name"]
    values["units"] = "pJ"
    names = {f.name for f in fields(EnergyProfile)}
    return EnergyProfile(**{k: v for k, v in values.items() if k in names})


def load_profile_file(path) -> EnergyProfile:
    """Read a user energy profile from a ``.toml`` or ``.json`` file.

    Raises :class:`UserError` naming the file (and the field) on a missing file, a parse error,
    a missing or unknown field, a negative or non-numeric energy, or an unknown unit.

    Example ``my_chip.toml``::

        name = "my_chip"
        label = "My chip (datasheet)"
        citation = "My chip datasheet rev 2, Table 5"
        units = "pJ"
        e_ac = 1.0
        e_mac = 3.0
        e_neuron_update_active = 10.0
        e_neuron_update_inactive = 0.5
        e_spike = 2.0
        e_weight_fetch = 0.0
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such energy profile file")
    suffix = path.suffix.lower()
    if suffix == ".toml":
        data = _load_toml(path)
    elif suffix == ".json":
        data = _load_json(path)
    else:
        raise UserError(f"{path}: unknown profile file type {suffix or '(none)'!r}; use .toml or .json")
    return profile_from_dict(data, source=str(path))
