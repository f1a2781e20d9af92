"""NIR import that knows its producers (issue 13, deliverable 3): graphs written by snnTorch's and
Norse's own exporters, imported with the producer's conventions, give the spikes of those frameworks'
own simulations of the same networks; what a file cannot carry is warned about in one line; unstable
discretisations are refused in one line; the command takes the declarations."""

import subprocess
import sys
import warnings

import nir
import numpy as np
import pytest

from surnn_neuro.converters.nir_io import NIRConventionWarning, NIRProducer, import_nir, read_nir
from surnn_neuro.errors import UserError
from surnn_neuro.simulators import reference

torch = pytest.importorskip("torch")
snn = pytest.importorskip("snntorch")
norse = pytest.importorskip("norse.torch")

V, H1, H2, T, B = 5, 7, 4, 150, 3


def ours(graph, x):
    """Reference spikes of every layer, time-first like the frameworks: [(T, B, H)]."""
    tr = reference.run(graph, x.numpy().transpose(1, 0, 2).astype(np.float64))
    return [tr.gate_spikes[n].transpose(1, 0, 2) for n in graph.layer_names]


def quiet_import(g, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NIRConventionWarning)
        graph = import_nir(g, **kw)
    return graph, [str(w.message) for w in caught if issubclass(w.category, NIRConventionWarning)]


# ------------------------------------------------------------------------------------------------
# snnTorch: export_to_nir, then snnTorch's own run of the same modules
# ------------------------------------------------------------------------------------------------


class SnnNet(torch.nn.Module):
    """Linear → Synaptic (or Leaky) → Linear → Leaky, or the recurrent RSynaptic → RLeaky."""

    def __init__(self, mechanism, delay, kind="synaptic"):
        super().__init__()
        kw = dict(reset_mechanism=mechanism, reset_delay=delay)
        full = lambda h, v: torch.full((h,), v)  # noqa: E731 (per-neuron: snnTorch's export needs vectors)
        self.fc1, self.fc2 = torch.nn.Linear(V, H1), torch.nn.Linear(H1, H2)
        self.kind = kind
        if kind == "recurrent":
            self.n1 = snn.RSynaptic(alpha=0.8, beta=0.9, linear_features=H1, threshold=0.5, **kw)
            self.n2 = snn.RLeaky(beta=full(H2, 0.7), all_to_all=False, V=full(H2, 0.4), threshold=0.5, **kw)
        elif kind == "synaptic":
            self.n1 = snn.Synaptic(alpha=full(H1, 0.8), beta=full(H1, 0.9), threshold=full(H1, 0.5), **kw)
            self.n2 = snn.Leaky(beta=full(H2, 0.7), threshold=full(H2, 0.5), **kw)
        else:
            self.n1 = snn.Leaky(beta=full(H1, 0.85), threshold=full(H1, 0.5), **kw)
            self.n2 = snn.Leaky(beta=full(H2, 0.7), threshold=full(H2, 0.5), **kw)

    def forward(self, x):  # what export_to_nir traces (internal states)
        return self.n2(self.fc2(self.n1(self.fc1(x))[0]))[0]

    @torch.no_grad()
    def simulate(self, x):
        """snnTorch's own run of x: (T, B, V), explicit states from zero; spikes of both layers."""
        zeros = lambda h: torch.zeros(x.shape[1], h)  # noqa: E731
        spk1, syn1, mem1, spk2, mem2 = zeros(H1), zeros(H1), zeros(H1), zeros(H2), zeros(H2)
        z1, z2 = [], []
        for t in range(x.shape[0]):
            if self.kind == "recurrent":
                spk1, syn1, mem1 = self.n1(self.fc1(x[t]), spk1, syn1, mem1)
                spk2, mem2 = self.n2(self.fc2(spk1), spk2, mem2)
            elif self.kind == "synaptic":
                spk1, syn1, mem1 = self.n1(self.fc1(x[t]), syn1, mem1)
                spk2, mem2 = self.n2(self.fc2(spk1), mem2)
            else:
                spk1, mem1 = self.n1(self.fc1(x[t]), mem1)
                spk2, mem2 = self.n2(self.fc2(spk1), mem2)
            z1.append(spk1)
            z2.append(spk2)
        return [torch.stack(z).numpy() > 0 for z in (z1, z2)]


def snn_case(mechanism, delay, kind):
    torch.manual_seed(1)
    net = SnnNet(mechanism, delay, kind)
    torch.manual_seed(0)
    x = (torch.rand(T, B, V) < 0.25).float()
    with torch.no_grad():
        exported = export_to_nir()(net, torch.rand(V))  # unbatched sample (a batched one fails)
    return net.simulate(x), exported, x


def export_to_nir():
    from snntorch.export_nir import export_to_nir as f

    return f


# (reset_mechanism, reset_delay, network): snnTorch's RSynaptic with reset_delay=False fails in
# snnTorch 1.0.0 itself (its forward subtracts None), so the recurrent net is run with the default only
SNN_CASES = [("subtract", True, "synaptic"), ("subtract", False, "synaptic"), ("zero", False, "synaptic"),
             ("zero", True, "leaky"), ("subtract", True, "recurrent")]


@pytest.mark.parametrize("mechanism, delay, kind", SNN_CASES)
def test_snntorch_export_with_its_reset_gives_snntorchs_spikes(mechanism, delay, kind):
    theirs, exported, x = snn_case(mechanism, delay, kind)
    g, said = quiet_import(exported, producer=NIRProducer("snntorch", reset=mechanism, reset_delay=delay))
    assert said == []  # everything declared, nothing assumed
    assert g.layers[0].dt == 1e-4
    for z_ours, z_theirs in zip(ours(g, x), theirs):
        np.testing.assert_array_equal(z_ours, z_theirs)
        assert 0.1 < z_theirs.mean() < 0.9  # active, not saturated: a real comparison
    # Leaky's zero reset with its delay zeroes the previous membrane before it decays: NIR's reset
    want = {("subtract", True): "subtract-delayed", ("subtract", False): "subtract"}.get((mechanism, delay), "value")
    assert {ly.reset for ly in g.layers} == {want}
    assert g.metadata["nir"]["conventions"] == {"producer": "snntorch", "resets": [want]}


def test_snntorch_default_reset_unstated_is_warned_and_differs():
    theirs, exported, x = snn_case("subtract", True, "synaptic")
    # without a producer: NIR's reset, one warning line that the file follows snnTorch's export
    g, said = quiet_import(exported)
    assert len(said) == 1 and "follow snnTorch's export" in said[0] and "\n" not in said[0]
    agree = np.mean(ours(g, x)[1] == theirs[1])
    assert agree < 0.9  # measured 79.6 % of layer-2 slots (issue 13: "about 10 %" on its network)
    # producer declared, reset not: snnTorch's default is assumed, and said so
    g, said = quiet_import(exported, producer="snntorch")
    assert len(said) == 1 and "assuming snnTorch's reset_mechanism='subtract', reset_delay=True" in said[0]
    np.testing.assert_array_equal(ours(g, x)[1], theirs[1])


def test_snntorch_synaptic_zero_with_delay_is_refused():
    _, exported, _ = snn_case("zero", True, "synaptic")
    with pytest.raises(UserError, match="Synaptic with reset_mechanism 'zero' and reset_delay=True"):
        import_nir(exported, producer=NIRProducer("snntorch", reset="zero", reset_delay=True))


# ------------------------------------------------------------------------------------------------
# Norse: to_nir, then Norse's own run of the same modules
# ------------------------------------------------------------------------------------------------


def norse_case(cell: str, dt=1e-3):
    """Linear → neuron → Linear → neuron with Norse's LIFBoxCell (→ NIR LIF) or LIFCell (→ CubaLIF);
    τ_mem = 10 ms, τ_syn = 5 ms at dt = 1 ms (dv = 0.1, du = 0.2), float64."""
    f64 = dict(dtype=torch.float64)

    def neuron():
        if cell == "box":
            return norse.LIFBoxCell(norse.LIFBoxParameters(tau_mem_inv=torch.tensor(100.0, **f64),
                                                           v_th=torch.tensor(0.3, **f64)), dt=dt)
        return norse.LIFCell(norse.LIFParameters(tau_mem_inv=torch.tensor(100.0, **f64),
                                                 tau_syn_inv=torch.tensor(200.0, **f64),
                                                 v_th=torch.tensor(0.3, **f64)), dt=dt)

    torch.manual_seed(0)
    model = norse.SequentialState(torch.nn.Linear(V, H1), neuron(), torch.nn.Linear(H1, H2), neuron()).double()
    with torch.no_grad():  # stronger synapses: both layers active
        model[0].weight.mul_(3.0)
        model[2].weight.mul_(6.0)
    x = (torch.rand(T, B, V, **f64) < 0.3).double()
    z1, z2, s1, s2 = [], [], None, None
    with torch.no_grad():
        for t in range(T):  # Norse's own simulation, every layer recorded
            a, s1 = model[1](model[0](x[t]), s1)
            b, s2 = model[3](model[2](a), s2)
            z1.append(a)
            z2.append(b)
        exported = norse.to_nir(model, x[0, 0], dt=dt)  # an unbatched sample: NIR's input shape
    return [torch.stack(z).numpy() > 0 for z in (z1, z2)], exported, x


@pytest.mark.parametrize("cell", ["box", "cell"])
def test_norse_export_with_its_conventions_gives_norses_spikes(cell, tmp_path):
    theirs, exported, x = norse_case(cell)
    kinds = {type(n).__name__ for n in exported.nodes.values()}
    assert kinds == {"Input", "Affine", "LIF" if cell == "box" else "CubaLIF", "Output"}
    # τ as written: dt·τ (norse#411): 1e-3 · 1e-2 = 1e-5
    tau = exported.nodes["1"].tau if cell == "box" else exported.nodes["1"].tau_mem
    np.testing.assert_allclose(np.asarray(tau, dtype=float), 1e-5, rtol=1e-6)
    g, said = quiet_import(exported, producer="norse")
    assert said == []
    k = g.layers[0].constants()
    np.testing.assert_allclose(k.dv, 0.1, rtol=1e-6)  # dt/τ_mem with τ = τ_file/dt = 10 ms
    if cell == "cell":
        np.testing.assert_allclose(k.du, 0.2, rtol=1e-6)
        np.testing.assert_allclose(g.layers[0].w_in, 5.0, rtol=1e-6)  # τ_syn/dt: Norse's jump i += input
    for z_ours, z_theirs in zip(ours(g, x), theirs):
        np.testing.assert_array_equal(z_ours, z_theirs)
        assert 0.03 < z_theirs.mean() < 0.9  # active: box 3.6 % and 3.2 %, cell 19 % and 65 %
    # the same through a file (Norse's 0-d parameters need nir.write without compression, norse#412)
    nir.write(tmp_path / "norse.nir", exported, compression=None)
    g2 = read_nir(tmp_path / "norse.nir", producer="norse")
    np.testing.assert_array_equal(ours(g2, x)[1], theirs[1])


def test_norse_file_read_as_plain_nir_is_refused_in_one_line():
    _, exported, _ = norse_case("box")
    # docs/nir.md used to advise dt = 1e-3 for Norse files: dt/τ = 1e-3/1e-5 = 100, refused now
    for dt in (None, 1e-3):
        with pytest.raises(UserError) as e:
            import_nir(exported, dt=dt)
        msg = str(e.value)
        assert "\n" not in msg and "dt/tau_mem = " in msg and "> 1" in msg and "producer 'norse'" in msg
    assert "dt/tau_mem = 100 > 1 at dt = 0.001 s" in _message(lambda: import_nir(exported, dt=1e-3))


def _message(f):
    try:
        f()
    except UserError as e:
        return str(e)
    raise AssertionError("no UserError")


def test_producer_declarations_are_checked():
    with pytest.raises(ValueError, match="producer: unknown 'lava'; known: nir, snntorch, norse"):
        NIRProducer("lava")
    with pytest.raises(ValueError, match="reset: an snnTorch setting; producer 'norse'"):
        NIRProducer("norse", reset="zero")
    with pytest.raises(ValueError, match="reset: expected snnTorch's reset_mechanism subtract or zero"):
        NIRProducer("snntorch", reset="none")
    with pytest.raises(ValueError, match="dt: expected a time step > 0"):
        NIRProducer("snntorch", dt=-1.0)
    with pytest.raises(UserError, match="producer: unknown 'spinnaker'"):
        import_nir(norse_case("box")[1], producer="spinnaker")


def test_convert_command_takes_the_producer(tmp_path):
    theirs, exported, x = snn_case("subtract", True, "synaptic")
    nir.write(tmp_path / "snn.nir", exported)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "surnn_neuro.cli", "convert", str(tmp_path / "snn.nir"),
                               "--out", str(tmp_path / "g.h5"), *args], capture_output=True, text=True)

    r = cli()
    assert r.returncode == 0
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("surnn-neuro: warning: ") and "snnTorch's export" in lines[0]
    r = cli("--producer", "snntorch", "--reset", "subtract", "--reset-delay")
    assert r.returncode == 0 and r.stderr.strip() == "", r.stderr
    from surnn_neuro.ir.io import read_graph

    g = read_graph(tmp_path / "g.h5")
    assert {ly.reset for ly in g.layers} == {"subtract-delayed"}
    np.testing.assert_array_equal(ours(g, x)[1], theirs[1])
    r = cli("--producer", "norse", "--reset", "zero")
    assert r.returncode == 2 and r.stderr.count("\n") == 1 and "--reset: an snnTorch setting" in r.stderr
