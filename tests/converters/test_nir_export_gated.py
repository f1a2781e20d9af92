"""NIR export of gated models is never silently misread (issue 13, deliverable 4): refused without an
explicit switch, because Norse's real importer runs such a file as a different network without a
word (shown here) and snnTorch's refuses it; standard spiking graphs export as they are and Norse
runs them as we do."""

import subprocess
import sys

import nir
import numpy as np
import pytest

from surnn_neuro.converters.nir_io import read_nir, to_nir, write_nir
from surnn_neuro.errors import UserError
from surnn_neuro.ir import EventGraph, InputNode, ReadoutNode, graphs_equal
from surnn_neuro.ir.nodes import SpikingLayerNode
from surnn_neuro.simulators import reference

torch = pytest.importorskip("torch")


def sugru_graph():
    from surnn_neuro.converters.torch_to_ir import to_graph
    from surnn_neuro.models import build

    torch.manual_seed(0)
    return to_graph(build("sugru", 2, 4, 3, seq_len=10))


def test_gated_graph_is_refused_in_one_line_and_nothing_is_written(tmp_path):
    g = sugru_graph()
    for call in (lambda: to_nir(g), lambda: write_nir(g, tmp_path / "su.nir")):
        with pytest.raises(UserError) as e:
            call()
        msg = str(e.value)
        assert "\n" not in msg and msg.startswith("cannot export to NIR: gated layer(s) layer0")
        assert "allow_surnn_only=True" in msg and "Norse's from_nir" in msg
    assert not (tmp_path / "su.nir").exists()


def test_the_refusal_is_warranted_by_the_real_importers(tmp_path):
    """With the switch the file is written as before (nir type-checks it, we read it back exactly),
    and the two frameworks' importers show what a silent file would do: Norse runs it as another
    network, snnTorch refuses it."""
    norse = pytest.importorskip("norse.torch")
    pytest.importorskip("snntorch")
    from snntorch.import_nir import import_from_nir

    g = sugru_graph()
    path = tmp_path / "su.nir"
    write_nir(g, path, allow_surnn_only=True)
    raw = nir.read(path, type_check=True)
    assert bool(raw.metadata["surnn_neuro"]["standard"]) is False  # said in the file, for a reader who looks
    assert graphs_equal(read_nir(path), g)

    x = np.random.default_rng(0).normal(size=(2, 10, 2))
    ours = reference.run(g, x).outputs  # (B, O) = (2, 3), readout "last"
    module = norse.from_nir(raw, dt=1e-3)  # loads: no error, no warning about the gated cell
    # nirtorch takes "the first" of the several input nodes it finds in a set (its order follows
    # PYTHONHASHSEED): the run is either another network or a shape error, never ours
    try:
        state = None
        with torch.no_grad():
            for t in range(10):
                out, state = module(torch.tensor(x[:, t], dtype=torch.float32), state)
        theirs = out.numpy()
        assert not (theirs.shape == ours.shape and np.allclose(theirs, ours, atol=1e-3)), "Norse ran our network?"
    except RuntimeError as e:
        assert "shapes cannot be multiplied" in str(e)
    with pytest.raises(ValueError, match="Unknown node type"):
        import_from_nir(raw)


def lif_graph(reset="value"):
    """Feed-forward CubaLIF, no leak (Norse's import gives its synapse the neuron's v_leak), r = 1."""
    rng = np.random.default_rng(3)
    layer = SpikingLayerNode("cuba", neuron="cubalif", weight=rng.normal(0, 1.5, (6, 4)), bias=rng.normal(0, 0.2, 6),
                             tau_mem=np.full(6, 1e-2), tau_syn=np.full(6, 5e-3), r=np.ones(6), w_in=np.full(6, 2.0),
                             v_leak=np.zeros(6), v_threshold=np.full(6, 0.2), dt=1e-3, reset=reset)
    return EventGraph.sequential(InputNode("in", size=4, encoding="spikes"), [layer],
                                 ReadoutNode("out", weight=np.eye(6), bias=np.zeros(6), mode="all"))


def test_standard_spiking_graph_exports_and_norse_runs_it_as_we_do(tmp_path):
    norse = pytest.importorskip("norse.torch")
    g = lif_graph()
    write_nir(g, tmp_path / "s.nir")  # no switch needed
    raw = nir.read(tmp_path / "s.nir", type_check=True)
    assert bool(raw.metadata["surnn_neuro"]["standard"]) is True
    x = (np.random.default_rng(1).random((2, 60, 4)) < 0.4).astype(float)
    ours = reference.run(g, x).gate_spikes["cuba"]
    module = norse.from_nir(raw, dt=1e-3)
    state, z = None, []
    with torch.no_grad():
        for t in range(60):
            out, state = module(torch.tensor(x[:, t], dtype=torch.float32), state)
            z.append(out.numpy() > 0)
    np.testing.assert_array_equal(np.stack(z, 1), ours)
    assert 0.05 < ours.mean() < 0.9


def test_a_reset_nir_cannot_carry_is_refused_too():
    with pytest.raises(UserError, match="spiking layer cuba resets by 'subtract-delayed'"):
        to_nir(lif_graph("subtract-delayed"))
    assert to_nir(lif_graph("subtract-delayed"), allow_surnn_only=True).metadata["surnn_neuro"]["standard"] is False


def test_convert_refuses_before_writing_anything(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "surnn_neuro.cli", *args], capture_output=True, text=True)

    run = tmp_path / "run"
    r = cli("train", "--task", "adding", "--seq-len", "10", "--model", "sugru", "--hidden", "3", "--epochs", "1",
            "--batch-size", "256", "--quiet", "--out", str(run))
    assert r.returncode == 0, r.stderr
    out, nir_file = tmp_path / "g.h5", tmp_path / "g.nir"
    r = cli("convert", str(run), "--out", str(out), "--nir", str(nir_file))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    assert r.stderr.startswith("surnn-neuro: error: --nir: cannot export to NIR: gated layer(s) layer0")
    assert "--nir-surnn-only" in r.stderr
    assert not out.exists() and not nir_file.exists()
    r = cli("convert", str(run), "--out", str(out), "--nir", str(nir_file), "--nir-surnn-only")
    assert r.returncode == 0, r.stderr
    assert out.exists() and nir_file.exists() and "only surnn-neuro reads it back exactly" in r.stdout
