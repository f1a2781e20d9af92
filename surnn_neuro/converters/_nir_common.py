"""Constants and helpers shared by the NIR export (:mod:`.nir_io`) and import (:mod:`._nir_import`)."""

from __future__ import annotations

from surnn_neuro.errors import UserError
from surnn_neuro.ir.cells import CELLS

#: Written into the NIR graph's ``metadata["surnn_neuro"]``; a newer version is refused on read.
NIR_FORMAT = "surnn-neuro-nir"
NIR_FORMAT_VERSION = 1
#: Time step assumed for NIR graphs that do not state one (NIR paper graphs, snnTorch export).
DEFAULT_DT = 1e-4
#: Gate-block names per cell kind, in torch order (NIR node name suffixes; none for a single block).
BLOCK_NAMES = {kind: (spec.blocks if spec.n_blocks > 1 else ("",)) for kind, spec in CELLS.items()}
#: NIR node types :func:`import_nir` maps.
IMPORTED_TYPES = ("Input", "Output", "Affine", "Linear", "LIF", "CubaLIF", "NIRGraph")

_META = "surnn"  # per-node metadata key
_GRAPH_META = "surnn_neuro"  # graph metadata key


def _nir():
    try:
        import nir
    except ImportError as e:  # pragma: no cover - nir is a dependency
        raise UserError(f"NIR support needs the 'nir' package (pip install nir==1.0.8): {e}") from e
    return nir


def _one_line(e: BaseException) -> str:
    return " ".join(str(e).split()) or type(e).__name__
