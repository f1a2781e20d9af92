"""NIR interchange: export → read round trips for every gate and cell kind, nir.read type-checks our
files, standard graphs (braille.nir, snnTorch export, nested subgraphs) import, bad files → UserError."""

import importlib.util
from pathlib import Path

import h5py
import nir
import numpy as np
import pytest

from surnn_neuro.converters.nir_io import (
    DEFAULT_DT,
    NIR_FORMAT_VERSION,
    import_nir,
    read_nir,
    to_nir,
    write_nir,
)
from surnn_neuro.errors import UserError
from surnn_neuro.ir import EventGraph, InputNode, ReadoutNode, graphs_equal
from surnn_neuro.ir.examples import GATE_KINDS, random_graph
from surnn_neuro.ir.nodes import SpikingLayerNode
from surnn_neuro.simulators import reference

_norse = importlib.util.find_spec("norse")
BRAILLE = Path(_norse.submodule_search_locations[0]) / "torch/utils/test/braille.nir" if _norse else None
needs_braille = pytest.mark.skipif(BRAILLE is None or not BRAILLE.exists(),
                                   reason="braille.nir ships in the norse wheel")


# ------------------------------------------------------------------------------------------------
# export → read
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("gate", GATE_KINDS)
@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_round_trip_every_gate_and_cell(tmp_path, cell, gate):
    g = random_graph(cells=(cell, "rnn"), gate=(gate, "oscillator"), hidden=(4, 3), encoding="delta",
                     readout=("last", "mean", "all")[len(gate) % 3], seed=len(cell) + len(gate))
    biases = [getattr(n, f) for n in g.nodes for f in ("b_ih", "b_hh", "bias") if hasattr(n, f)]
    assert all(np.all(np.asarray(b) != 0) for b in biases)  # zero biases hide bugs
    path = tmp_path / "g.nir"
    write_nir(g, path, allow_surnn_only=True)  # gated layers: refused without it (issue 13)
    checked = nir.read(path, type_check=True)  # nir's own reader and type check accept the file
    kinds = {type(n).__name__ for n in checked.nodes.values()}
    assert kinds == {"Input", "Affine", "I", "Output"}
    G = {"gru": 3, "rnn": 1, "lstm": 4}[cell]
    assert len([n for n in checked.nodes if n.startswith("layer1.w_ih")]) == G
    assert checked.nodes["layer1"].metadata["surnn"]["gate"]["kind"] == gate
    back = read_nir(path)
    assert graphs_equal(back, g)
    assert back.node_names == g.node_names


def spiking_graph(readout_identity: bool):
    rng = np.random.default_rng(7)
    l1 = SpikingLayerNode("rec", neuron="cubalif", weight=rng.normal(size=(5, 3)), bias=rng.normal(size=5),
                          tau_mem=rng.uniform(1e-3, 2e-3, 5), tau_syn=rng.uniform(2e-4, 5e-4, 5),
                          r=rng.uniform(5, 10, 5), w_in=rng.uniform(1, 2, 5), v_leak=rng.normal(0, .1, 5),
                          v_threshold=np.ones(5), v_reset=rng.normal(0, .1, 5), dt=1e-4,
                          w_rec=rng.normal(size=(5, 5)))
    l2 = SpikingLayerNode("ff", neuron="lif", weight=rng.normal(size=(4, 5)), bias=rng.normal(size=4),
                          tau_mem=np.full(4, 5e-4), r=np.full(4, 5.0), v_leak=np.zeros(4),
                          v_threshold=np.full(4, 0.5), dt=1e-4)
    ro = ReadoutNode("out", weight=np.eye(4), bias=np.zeros(4), mode="all") if readout_identity else \
        ReadoutNode("ro", weight=rng.normal(size=(2, 4)), bias=rng.normal(size=2), mode="mean")
    return EventGraph.sequential(InputNode("in", size=3, encoding="spikes"), [l1, l2], ro, metadata={"k": [1, None]})


@pytest.mark.parametrize("identity", [True, False])
def test_round_trip_spiking(tmp_path, identity):
    g = spiking_graph(identity)
    write_nir(g, tmp_path / "s.nir")
    checked = nir.read(tmp_path / "s.nir", type_check=True)
    assert type(checked.nodes["rec"]).__name__ == "CubaLIF" and type(checked.nodes["ff"]).__name__ == "LIF"
    assert ("rec", "rec.w_rec") in checked.edges and ("rec.w_rec", "rec") in checked.edges
    assert ("ff.w_rec" in checked.nodes) is False  # no recurrence, no node
    assert type(checked.nodes["out" if identity else "ro"]).__name__ == ("Output" if identity else "Affine")
    assert graphs_equal(read_nir(tmp_path / "s.nir"), g)
    # the file is also a standard graph: the generic import gives the same layers
    std = import_nir(nir.read(tmp_path / "s.nir"))
    std_layers = {ly.name: ly for ly in std.layers}
    for ly in g.layers:
        for f in ("weight", "bias", "w_rec", "tau_mem", "tau_syn", "r", "w_in", "v_leak", "v_reset"):
            np.testing.assert_array_equal(getattr(std_layers[ly.name], f), getattr(ly, f), err_msg=f)


def test_export_name_clash_is_a_user_error():
    g = random_graph(cells=("rnn",), gate="always", hidden=(2,), seed=0)
    nodes = [n if n.name != "readout" else ReadoutNode("layer1.w_ih", weight=n.weight, bias=n.bias) for n in g.nodes]
    edges = [(s, "layer1.w_ih" if d == "readout" else d) for s, d in g.edges]
    with pytest.raises(UserError, match="node name 'layer1.w_ih' occurs twice"):
        to_nir(EventGraph(tuple(nodes), tuple(edges)))


# ------------------------------------------------------------------------------------------------
# import of standard graphs
# ------------------------------------------------------------------------------------------------


@needs_braille
def test_braille_import_structure():
    raw = nir.read(BRAILLE)
    g = read_nir(BRAILLE)
    assert g.spiking and g.node_names == ("input", "lif1.lif", "lif2", "output")
    l1, l2 = g.layers
    assert (l1.neuron, l1.weight.shape, l1.w_rec.shape, l1.recurrent) == ("cubalif", (38, 12), (38, 38), True)
    assert (l2.neuron, l2.weight.shape, l2.recurrent) == ("cubalif", (7, 38), False)
    np.testing.assert_array_equal(l1.weight, raw.nodes["fc1"].weight.astype(np.float64))
    np.testing.assert_array_equal(l1.w_rec, raw.nodes["lif1.w_rec"].weight.astype(np.float64))
    # the recurrent Affine's bias is a constant drive too: it adds to the input Affine's
    np.testing.assert_array_equal(l1.bias, raw.nodes["fc1"].bias.astype(np.float64)
                                  + raw.nodes["lif1.w_rec"].bias.astype(np.float64))
    assert l1.dt == DEFAULT_DT == 1e-4
    k1, k2 = l1.constants(), l2.constants()
    # braille: tau_syn = 2.22e-4, tau_mem = 1e-3, r ≈ 10, w_in ≈ 2.22 → du = 0.45, dv = 0.1, s ≈ 1 (snnTorch α, β)
    np.testing.assert_allclose([k1.du[0], k1.dv[0], k1.scale[0]], [0.45, 0.1, 1.0], rtol=1e-6)
    np.testing.assert_allclose([k2.du[0], k2.dv[0], k2.scale[0]], [0.5, 0.45, 1.0], rtol=1e-6)
    ro = g.readout  # the graph ends on lif2: an identity readout passes its spikes through
    assert ro.mode == "all" and np.array_equal(ro.weight, np.eye(7)) and not ro.bias.any()
    assert g.input.encoding == "spikes"
    assert g.metadata["nir"]["layers"]["lif1.lif"] == {"type": "CubaLIF", "input": ["fc1"],
                                                       "recurrent": ["lif1.w_rec"]}
    # dt = 1e-3 would give dt/τ_syn = 4.5 (unstable, refused since issue 13): a stable other dt instead
    assert read_nir(BRAILLE, dt=2e-4).layers[0].dt == 2e-4


@needs_braille
def test_nested_subgraph_imports_like_flat():
    flat = nir.read(BRAILLE)
    n = flat.nodes
    sub = nir.NIRGraph(nodes={"input": nir.Input(input_type={"input": np.array([38])}), "lif": n["lif1.lif"],
                              "w_rec": n["lif1.w_rec"], "output": nir.Output(output_type={"output": np.array([38])})},
                       edges=[("input", "lif"), ("lif", "w_rec"), ("w_rec", "lif"), ("lif", "output")])
    nested = nir.NIRGraph(nodes={"input": n["input"], "fc1": n["fc1"], "lif1": sub, "fc2": n["fc2"],
                                 "lif2": n["lif2"], "output": n["output"]},
                          edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "lif2"),
                                 ("lif2", "output")])
    a, b = import_nir(flat), import_nir(nested)
    assert b.layer_names == ("lif1.lif", "lif2")
    for la, lb in zip(a.layers, b.layers):
        for f in ("weight", "bias", "w_rec", "tau_mem", "tau_syn", "r", "w_in", "v_threshold"):
            np.testing.assert_array_equal(getattr(la, f), getattr(lb, f))


def test_affine_chains_compose_and_readout_affine():
    rng = np.random.default_rng(1)
    w1, b1, w2, b2, w3 = rng.normal(size=(4, 3)), rng.normal(size=4), rng.normal(size=(2, 4)), rng.normal(size=2), \
        rng.normal(size=(3, 2))
    lif = nir.LIF(tau=np.full(2, 1e-3), r=np.full(2, 10.0), v_leak=np.zeros(2), v_threshold=np.ones(2))
    g = nir.NIRGraph(nodes={"i": nir.Input(input_type={"input": np.array([3])}), "a": nir.Affine(weight=w1, bias=b1),
                            "b": nir.Affine(weight=w2, bias=b2), "lif": lif, "ro": nir.Linear(weight=w3),
                            "o": nir.Output(output_type={"output": np.array([3])})},
                     edges=[("i", "a"), ("a", "b"), ("b", "lif"), ("lif", "ro"), ("ro", "o")], metadata={"dt": 2e-4})
    eg = import_nir(g)
    layer = eg.layers[0]
    np.testing.assert_allclose(layer.weight, w2 @ w1, rtol=1e-12)
    np.testing.assert_allclose(layer.bias, w2 @ b1 + b2, rtol=1e-12)
    assert layer.neuron == "lif" and layer.dt == 2e-4 and not layer.recurrent  # dt from the graph's metadata
    assert eg.readout.name == "ro" and eg.readout.mode == "all"
    np.testing.assert_array_equal(eg.readout.weight, w3)
    assert reference.run(eg, np.ones((1, 5, 3))).outputs.shape == (1, 5, 3)


def test_snntorch_rleaky_rsynaptic_export_imports():
    torch = pytest.importorskip("torch")
    snn = pytest.importorskip("snntorch")
    from snntorch.export_nir import export_to_nir

    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = torch.nn.Linear(5, 4)
            self.rsyn = snn.RSynaptic(alpha=0.8, beta=0.9, linear_features=4)
            self.fc2 = torch.nn.Linear(4, 3)
            self.rlif = snn.RLeaky(beta=torch.full((3,), 0.7), all_to_all=False, V=torch.full((3,), 0.5))

        def forward(self, x):
            spk, _, _ = self.rsyn(self.fc1(x))
            spk2, _ = self.rlif(self.fc2(spk))
            return spk2

    exported = export_to_nir(Net(), torch.randn(5))  # unbatched sample (a batched one fails, facts §1.3)
    g = import_nir(exported)
    assert g.node_names == ("input", "rsyn.lif", "rlif.lif", "output")
    syn, lif = g.layers
    assert syn.neuron == "cubalif" and lif.neuron == "lif" and syn.recurrent and lif.recurrent
    ks, kl = syn.constants(), lif.constants()
    # snnTorch: tau = dt/(1−β), r = tau/dt, w_in = tau_syn/dt with dt = 1e-4 → du = 1−α, dv = 1−β, s = 1
    np.testing.assert_allclose([ks.du[0], ks.dv[0], ks.scale[0]], [0.2, 0.1, 1.0], rtol=1e-6)
    np.testing.assert_allclose([kl.du[0], kl.dv[0], kl.scale[0]], [1.0, 0.3, 1.0], rtol=1e-6)
    np.testing.assert_allclose(lif.w_rec, 0.5 * np.eye(3))  # all_to_all=False: Linear(diag(V))
    t = reference.run(g, (np.random.default_rng(0).random((2, 30, 5)) < 0.5).astype(float))
    assert t.outputs.shape == (2, 30, 3)


@needs_braille
def test_reference_matches_norse_from_nir_on_braille():
    """Norse's CubaLIF (LIBox synapse, then LIFBox, reset to value) is our update; nirtorch's executor
    feeds a recurrent node only outputs of the previous step, so at t = 0 the recurrent Affine's bias
    (its output for z_{−1} = 0) is missing. Seeded with that output, Norse's spikes are identical."""
    torch = pytest.importorskip("torch")
    norse = pytest.importorskip("norse.torch")
    from nirtorch.graph_executor import GraphExecutorState

    raw = nir.read(BRAILLE)
    g = import_nir(raw)
    x = (np.random.default_rng(0).random((2, 100, 12)) < 0.2).astype(float)
    ours = reference.run(g, x)
    module = norse.from_nir(raw, dt=1e-4)
    b_rec = torch.tensor(np.broadcast_to(raw.nodes["lif1.w_rec"].bias, (2, 38)).copy())
    state = GraphExecutorState(cache={"lif1_w_rec": b_rec})
    z1, z2 = [], []
    with torch.no_grad():
        for t in range(100):
            out, state = module(torch.tensor(x[:, t], dtype=torch.float32), state)
            z1.append(state.cache["lif1_lif"].numpy() > 0)
            z2.append(out.numpy() > 0)
    np.testing.assert_array_equal(np.stack(z1, 1), ours.gate_spikes["lif1.lif"])
    np.testing.assert_array_equal(np.stack(z2, 1), ours.gate_spikes["lif2"])
    assert ours.gate_spikes["lif2"].sum() > 100  # a real test: the network is active


# ------------------------------------------------------------------------------------------------
# bad and foreign files
# ------------------------------------------------------------------------------------------------


def test_missing_and_non_hdf5_files(tmp_path):
    with pytest.raises(UserError, match=r"nope.nir: no such file"):
        read_nir(tmp_path / "nope.nir")
    (tmp_path / "text.nir").write_text("not hdf5")
    with pytest.raises(UserError, match=r"text.nir: not a readable HDF5/NIR file"):
        read_nir(tmp_path / "text.nir")
    with pytest.raises(UserError, match="is a directory"):
        read_nir(tmp_path)
    with h5py.File(tmp_path / "other.h5", "w") as f:
        f["x"] = 1
    with pytest.raises(UserError, match=r"other.h5: not a NIR file \(HDF5 without a 'node' group\)"):
        read_nir(tmp_path / "other.h5")


def test_truncated_file(tmp_path):
    g = random_graph(cells=("rnn",), gate="schedule", hidden=(3,), seed=2)
    write_nir(g, tmp_path / "g.nir", allow_surnn_only=True)
    data = (tmp_path / "g.nir").read_bytes()
    (tmp_path / "cut.nir").write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="cut.nir: "):
        read_nir(tmp_path / "cut.nir")


def test_custom_node_type_is_named(tmp_path):
    g = random_graph(cells=("rnn",), gate="always", hidden=(2,), seed=3)
    write_nir(g, tmp_path / "g.nir", allow_surnn_only=True)
    with h5py.File(tmp_path / "g.nir", "r+") as f:
        del f["node/nodes/layer1/type"]
        f["node/nodes/layer1/type"] = np.bytes_("GatedDelta")
    with pytest.raises(UserError, match="g.nir: unknown NIR node type.s. GatedDelta"):
        read_nir(tmp_path / "g.nir")


def test_missing_field_and_newer_version(tmp_path):
    g = random_graph(cells=("gru",), gate="global", hidden=(2,), seed=4)
    write_nir(g, tmp_path / "g.nir", allow_surnn_only=True)
    with h5py.File(tmp_path / "g.nir", "r+") as f:
        del f["node/nodes/layer1.w_ih.r/bias"]
    with pytest.raises(UserError, match="g.nir: malformed NIR file: TypeError: .*missing .*'bias'"):
        read_nir(tmp_path / "g.nir")
    write_nir(g, tmp_path / "v.nir", allow_surnn_only=True)
    with h5py.File(tmp_path / "v.nir", "r+") as f:
        del f["node/metadata/surnn_neuro/format_version"]
        f["node/metadata/surnn_neuro/format_version"] = NIR_FORMAT_VERSION + 1
    with pytest.raises(UserError, match="v.nir: written by a newer surnn-neuro"):
        read_nir(tmp_path / "v.nir")


def test_graphs_outside_the_import_are_user_errors(tmp_path):
    def lif(n):
        return nir.LIF(tau=np.full(n, 1e-3), r=np.ones(n), v_leak=np.zeros(n), v_threshold=np.ones(n))

    def graph(nodes, edges):
        return nir.NIRGraph(nodes=nodes, edges=edges, type_check=False)  # our checks, not nir's

    inp = nir.Input(input_type={"input": np.array([3])})
    out = nir.Output(output_type={"output": np.array([2])})
    aff = nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2))
    li = nir.LI(tau=np.ones(2), r=np.ones(2), v_leak=np.zeros(2))
    cases = [
        (graph({"i": inp, "a": aff, "li": li, "o": out}, [("i", "a"), ("a", "li"), ("li", "o")]),
         "node 'li': NIR type LI is not supported by the import"),
        (graph({"i": inp, "a": aff, "l1": lif(2), "l2": lif(2), "o": out},
               [("i", "a"), ("a", "l1"), ("a", "l2"), ("l1", "o"), ("l2", "o")]),
         "node 'a': expected exactly one forward successor"),
        (graph({"i": inp, "a": aff, "o": out}, [("i", "a"), ("a", "o")]),
         "no LIF or CubaLIF node between Input and Output"),
        (graph({"i": inp, "a": aff, "l": lif(3), "o": out}, [("i", "a"), ("a", "l"), ("l", "o")]),
         "node 'l' .LIF.: parameter r has shape .3,., the layer has 2 neurons"),
    ]
    for g, fragment in cases:
        with pytest.raises(UserError, match="NIR graph: " + fragment):
            import_nir(g)
    path = tmp_path / "li.nir"
    nir.write(path, cases[0][0])
    with pytest.raises(UserError, match=f"{path}: node 'li': NIR type LI"):
        read_nir(path)
    with pytest.raises(UserError, match="NIR graph: dt: expected a time step > 0"):
        import_nir(graph({"i": inp, "a": aff, "l": lif(2), "o": out}, [("i", "a"), ("a", "l"), ("l", "o")]),
                   dt=-1.0)


def test_scalar_parameters_of_foreign_files_are_broadcast(tmp_path):
    # Norse's to_nir writes 0-d parameters (norse#412): nir.write needs compression=None and nir.read
    # fails its type check, but our reader maps them (one value for every neuron)
    g = nir.NIRGraph(nodes={"i": nir.Input(input_type={"input": np.array([3])}),
                            "a": nir.Affine(weight=np.ones((2, 3)), bias=np.zeros(2)),
                            "l": nir.LIF(tau=np.array(1e-3), r=np.array(2.0), v_leak=np.array(0.0),
                                         v_threshold=np.array(1.0)),
                            "o": nir.Output(output_type={"output": np.array([2])})},
                     edges=[("i", "a"), ("a", "l"), ("l", "o")], type_check=False)
    nir.write(tmp_path / "s.nir", g, compression=None)
    layer = read_nir(tmp_path / "s.nir").layers[0]
    np.testing.assert_array_equal(layer.r, [2.0, 2.0])
    np.testing.assert_array_equal(layer.tau_mem, [1e-3, 1e-3])


def test_write_error_names_the_path(tmp_path):
    (tmp_path / "f").write_text("a file, not a directory")
    with pytest.raises(UserError, match="cannot write NIR file"):
        write_nir(random_graph(seed=0), tmp_path / "f" / "g.nir", allow_surnn_only=True)
