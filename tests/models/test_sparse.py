"""Sparse training (models.functional.sparse): the same values and gradients as the dense loop."""

import pytest
import torch

from surnn_neuro.models import MODELS, build
from surnn_neuro.models import layer as layer_mod
from surnn_neuro.models.functional import candidate, candidate_parts, candidate_vjp, sparse_plan
from surnn_neuro.models.layer import SelectiveUpdateLayer
from surnn_neuro.training.loop import budget_term

from fixed_gate import FixedGate

#: every model whose gate is shared by the batch (the ones that train sparsely)
SHARED = sorted(n for n in MODELS if build(n, 1, 8, 1).layers[0].gate.input_independent)


def test_shared_gate_models_are_the_input_independent_ones():
    # the README's list: the coordinator (sarnn) and skip gates decide per sample and stay dense
    assert SHARED == ["clockwork", "gru", "phased", "random", "sugru", "surnn"]


def test_plan_hand_derived():
    # step 0 opens neurons 1, 3; step 1 none; step 2 neuron 0. G = 3, H = 4: rows of neuron i are
    # i, 4 + i, 8 + i, so step 0 reads rows [1, 3, 5, 7, 9, 11]; k_max = 2, pads are 0
    mask = torch.tensor([[0, 1, 0, 1], [0, 0, 0, 0], [1, 0, 0, 0]], dtype=torch.float32)
    p = sparse_plan(mask, 3)
    assert p.counts == [2, 0, 1]
    assert p.idx.tolist() == [[1, 3], [0, 0], [0, 0]]
    assert p.rows.tolist() == [[1, 3, 5, 7, 9, 11], [0] * 6, [0, 4, 8, 0, 0, 0]]


@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_candidate_vjp_equals_autograd(cell):
    torch.manual_seed(0)
    G = {"gru": 3, "rnn": 1, "lstm": 4}[cell]
    B, k = 3, 5
    dd = dict(dtype=torch.float64)
    gi, gh, h = (torch.randn(B, G * k, **dd, requires_grad=True), torch.randn(B, G * k, **dd, requires_grad=True),
                 torch.randn(B, k, **dd, requires_grad=True))
    c = torch.randn(B, k, **dd, requires_grad=True) if cell == "lstm" else None
    df = torch.randn(B, k, **dd)
    dc = torch.randn(B, k, **dd) if cell == "lstm" else None
    f, c_new = candidate(cell, gi, gh, h, c)
    outs, cots, ins = [f], [df], [gi, gh, h]
    if c is not None:
        outs, cots, ins = outs + [c_new], cots + [dc], ins + [c]
    ref = torch.autograd.grad(outs, ins, cots, allow_unused=True)
    _, _, parts = candidate_parts(cell, gi.detach(), gh.detach(), h.detach(), None if c is None else c.detach())
    dgi, dgh, dh, dc_old = candidate_vjp(cell, parts, gh.detach(), h.detach(),
                                         None if c is None else c.detach(), df, dc)
    torch.testing.assert_close(dgi, ref[0], rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(dgh, ref[1], rtol=1e-12, atol=1e-14)
    if cell == "gru":  # f = (1 − z) n + z h: ∂f/∂h = z directly
        torch.testing.assert_close(dh, ref[2], rtol=1e-12, atol=1e-14)
    else:  # rnn and lstm see h only through gh
        assert dh is None and ref[2] is None
    if cell == "lstm":
        torch.testing.assert_close(dc_old, ref[3], rtol=1e-12, atol=1e-14)


def _grads(model, x, y, mode, seed):
    for ly in model.layers:
        ly.sparse = mode
    torch.manual_seed(seed)  # the random gate draws its training mask here: the same in both modes
    out, gates = model(x)
    loss = ((out - y) ** 2).mean() + 1e-2 * budget_term(gates)
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    return out.detach(), dict(zip([n for n, _ in named], torch.autograd.grad(loss, [p for _, p in named])))


def _rel(a, b):
    return float((a - b).norm() / b.norm().clamp_min(1e-300))


@pytest.mark.parametrize("name", SHARED)
@pytest.mark.parametrize("layers,readout", [(1, "last"), (2, "all")])
def test_sparse_gradients_equal_dense_float64(name, layers, readout):
    # float64, random data: every parameter's gradient within relative 1e-6 of the dense-then-select
    # loop (the gate parameters included: they learn through su_step's select gradient); the two
    # differ only by the rounding of the sums (~1e-15 here)
    torch.manual_seed(1)
    m = build(name, 3, 9, 2, layers=layers, readout=readout, seq_len=25).double().train()
    x = torch.randn(25, 4, 3, dtype=torch.float64)
    y = torch.randn(25, 4, 2, dtype=torch.float64) if readout == "all" else torch.randn(4, 2, dtype=torch.float64)
    out_s, g_s = _grads(m, x, y, "on", 7)
    out_d, g_d = _grads(m, x, y, "off", 7)
    assert _rel(out_s, out_d) < 1e-12
    assert g_s.keys() == g_d.keys()
    for n in g_d:
        assert g_d[n].abs().sum() > 0, f"{n}: the test needs a gradient to compare"
        assert _rel(g_s[n], g_d[n]) < 1e-6, n


@pytest.mark.parametrize("name", SHARED)
def test_sparse_gradients_float32_at_the_rounding_of_the_dense_path(name):
    # in float32 both loops round: the sparse one must be as close to the dense one as the dense one
    # is to exact (float64) arithmetic, and within the contract's 1e-6 where that floor allows
    torch.manual_seed(2)
    m = build(name, 3, 16, 2, seq_len=40).train()
    x, y = torch.randn(40, 8, 3), torch.randn(8, 2)
    _, g_s = _grads(m, x, y, "on", 3)
    _, g_d = _grads(m, x, y, "off", 3)
    _, g_64 = _grads(m.double(), x.double(), y.double(), "off", 3)
    for n in g_d:
        floor = _rel(g_d[n].double(), g_64[n])
        assert _rel(g_s[n].double(), g_d[n].double()) <= max(1e-6, 3 * floor), n


@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_sparse_closed_neurons_pass_the_gradient_as_identity(cell):
    # as test_models.test_closed_gate_gradient_is_identity, on the sparse loop: neuron 1 never
    # updates, so h_T[1] = h0[1] and row 1 of ∂h_T/∂h0 is exactly e_1; neuron 3 is closed on steps
    # 2..4, so over that span ∂h_4[3]/∂h_1 is exactly e_3
    torch.manual_seed(2)
    T, H = 6, 4
    mask = torch.zeros(T, H)
    mask[:, 0] = 1
    mask[::2, 2] = 1
    mask[:2, 3] = 1
    mask[5, 3] = 1
    layer = SelectiveUpdateLayer(cell, 2, H, FixedGate(mask))
    layer.sparse = "on"
    x, h0 = torch.randn(T, 1, 2), torch.randn(1, H)
    jac = torch.autograd.functional.jacobian(lambda h: layer(x, h0=h)[0][-1], h0)[0, :, 0, :]
    assert torch.equal(jac[1], torch.tensor([0.0, 1.0, 0.0, 0.0]))
    if cell == "lstm":  # the cell state flows too; the pure-h check is for gru and rnn
        return
    span = SelectiveUpdateLayer(cell, 2, H, FixedGate(mask[2:5]))
    span.load_state_dict(layer.state_dict())
    span.sparse = "on"
    h1 = layer(x[:2], h0=h0)[0][-1].detach()
    jac_span = torch.autograd.functional.jacobian(lambda h: span(x[2:5], h0=h)[0][-1], h1)[0, :, 0, :]
    assert torch.equal(jac_span[3], torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert torch.equal(jac_span[1], torch.tensor([0.0, 1.0, 0.0, 0.0]))


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_sparse_initial_state_and_mask_gradients(cell):
    # h0, c0 and a mask that carries a gradient (a hand-written one, as a learnable gate's)
    torch.manual_seed(4)
    T, H = 12, 6
    mask = (torch.rand(T, H) < 0.4).double().requires_grad_()
    h0 = torch.randn(3, H, dtype=torch.float64, requires_grad=True)
    c0 = torch.randn(3, H, dtype=torch.float64, requires_grad=True) if cell == "lstm" else None
    x = torch.randn(T, 3, 2, dtype=torch.float64, requires_grad=True)
    ly = SelectiveUpdateLayer(cell, 2, H, FixedGate(mask)).double()
    w = torch.randn(T, 3, H, dtype=torch.float64)
    res = {}
    for mode in ("on", "off"):
        ly.sparse = mode
        h, _, c = ly(x, h0=h0, c0=c0, return_cell=True)
        loss = (h * w).sum() + (c.pow(2).sum() if c is not None else 0)
        ins = [x, h0, mask] + ([c0] if c0 is not None else [])
        res[mode] = torch.autograd.grad(loss, ins)
    for a, b in zip(res["on"], res["off"]):
        assert b.abs().sum() > 0 and _rel(a, b) < 1e-10


def test_closed_neurons_copied_bit_for_bit_on_the_sparse_loop():
    torch.manual_seed(5)
    m = build("sugru", 2, 8, 3, seq_len=40, duty=0.2)
    layer = m.layers[0]
    layer.sparse = "on"
    h, g = layer(torch.randn(40, 4, 2))
    prev = torch.cat([torch.zeros(1, 4, 8), h[:-1]])
    closed = g.detach() == 0
    assert closed.any()
    assert torch.equal(h.detach()[closed].view(torch.int32), prev.detach()[closed].view(torch.int32))


def test_auto_mode_takes_the_sparse_loop_below_the_crossover(monkeypatch):
    calls = []
    real = layer_mod.su_loop_sparse
    monkeypatch.setattr(layer_mod, "su_loop_sparse", lambda *a, **k: calls.append(1) or real(*a, **k))
    x = torch.randn(30, 2, 1)
    build("sugru", 1, 8, 2, seq_len=30, duty=0.3)(x)  # 30 % open ≤ SPARSE_CROSSOVER
    assert len(calls) == 1
    build("gru", 1, 8, 2)(x)  # always open: dense
    build("sarnn", 1, 8, 2)(x)  # per-sample gate: dense
    assert len(calls) == 1
    m = build("sugru", 1, 8, 2, seq_len=30, duty=0.3)
    m.layers[0].sparse = "off"
    m(x)
    assert len(calls) == 1


def test_sparse_mode_is_validated():
    ly = build("sugru", 1, 4, 2).layers[0]
    with pytest.raises(ValueError, match="unknown mode 'fast'; known: auto, on, off"):
        ly.sparse = "fast"


def test_sparse_inference_without_grad_equals_dense():
    torch.manual_seed(6)
    m = build("phased", 3, 10, 2, seq_len=30, layers=2).eval()
    x = torch.randn(30, 5, 3)
    with torch.no_grad():
        outs = {}
        for mode in ("on", "off"):
            for ly in m.layers:
                ly.sparse = mode
            outs[mode] = m(x)
    torch.testing.assert_close(outs["on"][0], outs["off"][0], rtol=1e-5, atol=1e-6)
    for a, b in zip(outs["on"][1], outs["off"][1]):
        assert torch.equal(a, b)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_sparse_on_cuda_matches_cpu():
    torch.manual_seed(7)
    m = build("sugru", 3, 12, 2, seq_len=20)
    x, y = torch.randn(20, 4, 3), torch.randn(4, 2)
    _, g_cpu = _grads(m, x, y, "on", 1)
    _, g_gpu = _grads(m.cuda(), x.cuda(), y.cuda(), "on", 1)
    for n in g_cpu:
        assert _rel(g_gpu[n].cpu().double(), g_cpu[n].double()) < 1e-5, n
