"""Models: shapes, the exact copy of closed neurons, gradients, gates, pickling."""

import io
import math

import pytest
import torch

from surnn_neuro.models import MODELS, build
from surnn_neuro.models.gates import ClockworkGate, PhasedGate, RandomGate, SkipGate, TemporalGate
from surnn_neuro.models.layer import SelectiveUpdateLayer, select
from surnn_neuro.models.surrogates import Gaussian, MultiGaussian, heaviside
from surnn_neuro.training.loop import budget_term

from fixed_gate import FixedGate

ALL = sorted(MODELS)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("readout", ["last", "mean", "all"])
def test_shapes_and_binary_gates(name, readout):
    torch.manual_seed(0)
    m = build(name, 3, 6, 4, layers=2, readout=readout, seq_len=20)
    out, gates = m(torch.randn(20, 5, 3))
    assert tuple(out.shape) == ((20, 5, 4) if readout == "all" else (5, 4))
    assert len(gates) == 2
    for g in gates:
        assert tuple(g.shape) == (20, 5, 6)
        assert set(torch.unique(g.detach()).tolist()) <= {0.0, 1.0}


@pytest.mark.parametrize("name", ALL)
def test_closed_gate_copies_state_bit_for_bit(name):
    torch.manual_seed(1)
    m = build(name, 2, 8, 3, seq_len=40).train()
    layer = m.layers[0]
    if name == "skiprnn":  # its init (b = 1) updates at every step; make it skip
        with torch.no_grad():
            layer.gate.bias.fill_(-1.0)
    h, g = layer(torch.randn(40, 4, 2))
    prev = torch.cat([torch.zeros(1, 4, 8), h[:-1]])
    closed = g.detach() == 0
    # identical bits, not merely close: compare the raw float32 bit patterns
    assert torch.equal(h.detach()[closed].view(torch.int32), prev.detach()[closed].view(torch.int32))
    if name != "gru":
        assert closed.any(), "the test needs closed gates to mean anything"
    assert (h.detach()[~closed] != prev.detach()[~closed]).any()


@pytest.mark.parametrize("cell", ["gru", "rnn", "lstm"])
def test_closed_gate_gradient_is_identity(cell):
    torch.manual_seed(2)
    T, H = 6, 4
    mask = torch.ones(T, H)
    mask[:, 1] = 0  # neuron 1 closed at every step
    mask[2:5, 3] = 0  # neuron 3 closed on steps 2..4
    layer = SelectiveUpdateLayer(cell, 2, H, FixedGate(mask.requires_grad_()))
    x = torch.randn(T, 1, 2)
    h0 = torch.randn(1, H)

    jac = torch.autograd.functional.jacobian(lambda h: layer(x, h0=h)[0][-1], h0)[0, :, 0, :]  # (H, H)
    # neuron 1 never updates: h_T[1] = h0[1], so row 1 of dh_T/dh0 is exactly e_1
    assert torch.equal(jac[1], torch.tensor([0.0, 1.0, 0.0, 0.0]))
    # over the closed span of neuron 3, dh_4[3]/dh_1 is exactly e_3
    h1 = layer(x[:2], h0=h0)[0][-1].detach()
    if cell == "lstm":  # the cell state also flows; only check the pure-h cells there
        return
    span = SelectiveUpdateLayer(cell, 2, H, FixedGate(mask[2:5]))  # the same layer on steps 2..4
    span.load_state_dict(layer.state_dict())
    jac_span = torch.autograd.functional.jacobian(lambda h: span(x[2:5], h0=h)[0][-1], h1)[0, :, 0, :]
    assert torch.equal(jac_span[3], torch.tensor([0.0, 0.0, 0.0, 1.0]))
    assert torch.equal(jac_span[1], torch.tensor([0.0, 1.0, 0.0, 0.0]))


def test_select_value_and_gradient():
    g = torch.tensor([[1.0, 0.0, 1.0]], requires_grad=True)
    f = torch.tensor([[0.5, 0.25, -1.0]], requires_grad=True)
    h = torch.tensor([[0.125, 2.0, 3.0]], requires_grad=True)
    out = select(g, f, h)
    assert out.tolist() == [[0.5, 2.0, -1.0]]  # exactly f where open, exactly h where closed
    out.sum().backward()
    # d/dg = f − h: (0.375, −1.75, −4); d/df = g; d/dh = 1 − g
    assert g.grad.tolist() == [[0.375, -1.75, -4.0]]
    assert f.grad.tolist() == [[1.0, 0.0, 1.0]]
    assert h.grad.tolist() == [[0.0, 1.0, 0.0]]


def test_sarnn_decision_is_strict_threshold_for_every_slope_and_diagonal():
    torch.manual_seed(3)
    m = build("sarnn", 3, 5, 2)
    gate = m.layers[0].gate
    h = torch.randn(7, 5)
    x = torch.randn(7, 3)
    logit = gate.w_self * h + gate.input_projection(x)
    for epoch in (0, 10, 100, 500):
        m.set_epoch(epoch)
        assert gate.slope == min(5.0, 1.0 + 0.04 * epoch)
        assert torch.equal(gate.decide(0, h, gate.input_projection(x), None), (logit > 0).float())
    # diagonal hidden-to-gate weights: neuron i's decision ignores h_j for j != i
    h2 = h.clone()
    h2[:, 1:] += 10.0
    g1 = gate.decide(0, h, gate.input_projection(x), None)
    g2 = gate.decide(0, h2, gate.input_projection(x), None)
    assert torch.equal(g1[:, 0], g2[:, 0])


def test_temporal_gate_duty_cycle_and_float64_drive():
    torch.manual_seed(4)
    gate = TemporalGate(50, harmonics=3, period_max=200, duty=0.3)
    g = gate.schedule(200)
    # b_i = −(0.7-quantile) of the oscillation on t = 0..199, so each neuron is open on ≈ 30 % of
    # the steps (torch.quantile interpolates; ties and the strict '>' cost at most a step or two)
    per_neuron = g.mean(0)
    assert torch.all((per_neuron - 0.3).abs() <= 2.5 / 200)
    assert gate.drive(5, dtype=torch.float64).dtype == torch.float64


@pytest.mark.parametrize("name", ["sugru", "surnn", "sarnn", "skiprnn", "phased"])
def test_budget_gradient_reaches_learnable_gates(name):
    torch.manual_seed(5)
    m = build(name, 2, 8, 2, seq_len=30)
    out, gates = m(torch.randn(30, 4, 2))
    budget_term(gates).backward()
    grads = [p.grad for n, p in m.named_parameters() if n.startswith("layers.0.gate.") and p.requires_grad]
    assert grads and any(gr is not None and gr.abs().sum() > 0 for gr in grads)


def test_budget_lowers_sugru_update_rate():
    torch.manual_seed(6)
    m = build("sugru", 1, 16, 1, seq_len=50)
    opt = torch.optim.Adam(m.parameters(), lr=0.05)
    x = torch.randn(50, 8, 1)
    before = float(m(x)[1][0].detach().mean())
    for _ in range(30):
        _, gates = m(x)
        opt.zero_grad()
        budget_term(gates).backward()  # λ-term only: it must push the rate down
        opt.step()
    after = float(m(x)[1][0].detach().mean())
    assert after < before - 0.1


def test_frozen_oscillator_keeps_its_schedule_while_the_cell_learns():
    # learn_gate=False: the same budget-plus-task training that moves the schedule above (and in
    # test_budget_lowers_sugru_update_rate) must leave every gate bit unchanged, while the cell
    # weights still receive gradients and move
    torch.manual_seed(6)
    m = build("sugru", 1, 16, 1, seq_len=50, learn_gate=False)
    opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=0.05)
    x = torch.randn(50, 8, 1)
    g0 = m(x)[1][0].detach().clone()
    w0 = m.layers[0].weight_hh.detach().clone()
    for _ in range(10):
        out, gates = m(x)
        opt.zero_grad()
        (out.pow(2).mean() + budget_term(gates)).backward()
        opt.step()
    assert torch.equal(m(x)[1][0], g0)
    assert not any(p.requires_grad for p in m.layers[0].gate.parameters())
    moved = [n for n, p in m.named_parameters() if p.requires_grad]
    assert moved and all(not n.startswith("layers.0.gate.") for n in moved)
    assert not torch.equal(m.layers[0].weight_hh, w0)


def test_skip_gate_hand_derived_pattern():
    # w = 0 and b = logit(0.2) make Δũ = σ(b) = 0.2 whatever h is. ũ_0 = 1 → u_0 = 1, ũ_1 = 0.2;
    # u_1 = 0, ũ_2 = 0.2 + min(0.2, 0.8) = 0.4; u_2 = 0, ũ_3 = 0.6; u_3 = 1, ũ_4 = 0.2; ...
    # so the updates repeat 1, 0, 0 with period 3.
    gate = SkipGate(3)
    with torch.no_grad():
        gate.weight.zero_()
        gate.bias.fill_(math.log(0.2 / 0.8))
    layer = SelectiveUpdateLayer("gru", 1, 3, gate)
    _, g = layer(torch.randn(9, 2, 1))
    assert g[:, 0, 0].tolist() == [1, 0, 0, 1, 0, 0, 1, 0, 0]
    assert torch.equal(g[:, 1, :], g[:, 0, :])  # one gate for the whole state


def test_clockwork_schedule_and_structure():
    gate = ClockworkGate(4, periods=(1, 2))  # neurons 0,1: period 1; neurons 2,3: period 2
    assert gate.schedule(3).tolist() == [[1, 1, 1, 1], [1, 1, 0, 0], [1, 1, 1, 1]]
    # recurrent weight j -> i exists iff T_j >= T_i: fast rows read everyone, slow rows only slow
    assert gate.recurrent_mask().tolist() == [[1, 1, 1, 1], [1, 1, 1, 1], [0, 0, 1, 1], [0, 0, 1, 1]]
    m = build("clockwork", 2, 4, 1, periods=(1, 2))
    w = m.layers[0].effective_weight_hh()
    assert torch.all(w[2:, :2] == 0) and torch.all(w[:2] != 0)


def test_random_gate_fresh_in_training_fixed_at_inference():
    gate = RandomGate(32, rate=0.25, period=100, seed=7)
    gate.train()
    a, b = gate.schedule(50), gate.schedule(50)
    assert not torch.equal(a, b)
    gate.eval()
    c, d = gate.schedule(150), gate.schedule(150)
    assert torch.equal(c, d) and torch.equal(c[100:], c[:50])  # periodic with period 100
    assert abs(float(c.mean()) - 0.25) < 0.05


def test_phased_gate_binary_with_gradient():
    torch.manual_seed(8)
    gate = PhasedGate(10, period_max=20, r_on=0.3).train()
    g = gate.schedule(40)
    assert set(torch.unique(g.detach()).tolist()) <= {0.0, 1.0}
    g.sum().backward()
    assert gate.shift.grad.abs().sum() > 0 and gate.r_on.grad.abs().sum() > 0
    gate.eval()
    with torch.no_grad():
        tau = gate.log_tau.double().exp()
        t = torch.arange(40, dtype=torch.float64)[:, None]
        phase = torch.remainder(t - gate.shift.double(), tau) / tau
        assert torch.equal(gate.schedule(40), (phase < gate.r_on.double()).float())


def test_surrogate_values_hand_derived():
    a = torch.tensor([0.0, 0.5], requires_grad=True)
    heaviside(a, Gaussian(0.5)).sum().backward()
    # N(0; 0, 0.5) = 1/(0.5·√(2π)) = 0.797885; N(0.5; 0, 0.5) = 0.797885·e^{-1/2} = 0.483941
    assert a.grad.tolist() == pytest.approx([0.7978846, 0.4839414], rel=1e-6)
    # multi-Gaussian at 0: γ[(1+h)N(0;0,σ) − 2h·N(0;σ,sσ)], N(0;0.5,3) = e^{-1/72}/(3√(2π)) = 0.131146
    expected = 0.5 * (1.15 * 0.7978846 - 0.3 * 0.1311465)
    assert float(MultiGaussian()(torch.tensor(0.0))) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("name", ALL)
def test_torch_save_whole_model(name):
    torch.manual_seed(9)
    m = build(name, 2, 5, 3, seq_len=12).eval()
    x = torch.randn(12, 2, 2)
    buf = io.BytesIO()
    torch.save(m, buf)  # pickles the gate objects and surrogates themselves
    buf.seek(0)
    m2 = torch.load(buf, weights_only=False).eval()
    assert torch.equal(m(x)[0], m2(x)[0])


def test_unknown_names_fail_loudly():
    with pytest.raises(ValueError, match="unknown model 'sugruu'; known: sugru"):
        build("sugruu", 1, 2, 3)
    with pytest.raises(ValueError, match="unknown option.*harmonix.*known:.*harmonics"):
        build("sugru", 1, 2, 3, harmonix=3)
    with pytest.raises(ValueError, match="unknown surrogate"):
        build("sugru", 1, 2, 3, surrogate="nope")
