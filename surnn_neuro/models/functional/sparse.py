"""The sparse form of the selective-update loop, for gates shared by the batch (docs/semantics.md §1).

When the gate of step t is the same for every sample and known before the step (the
input-independent gates: oscillator, schedule — clockwork, phased, random — and always), the set
``A_t`` of the ``k_t`` neurons that update is known too, and su_step's rule needs the candidate of
those neurons only:

    S_in[A_t]  = W_ih[rows(A_t)] x_t + b_ih[rows(A_t)]          (B, G·k_t)   rows(A) = A, H + A, …
    f, c'      = candidate(S_in[A_t], S_rec[:, rows(A_t)], h_{t−1}[:, A_t], c_{t−1}[:, A_t])
    h_t        = h_{t−1} with columns A_t replaced by f           = where(g_t, f, h_{t−1})
    S_rec     ← S_rec + Δ_t W_hh[:, A_t]ᵀ,  Δ_t = f − h_{t−1}[:, A_t]   (the event form of su_step)

with ``S_rec = W_hh h_{t−1} + b_hh`` (B, G·H) kept as a sigma fed by the delta events, so a step
costs ``B·G·k_t·(V + H)`` multiply-adds instead of ``B·G·H·(V + H)``; the input drive of all steps
is one batched product over the gathered rows (chunked in time). The values are those of
:func:`~surnn_neuro.models.functional.su_step` (dense form) up to the rounding of the sums (the
sigma accumulates k_t-column products, docs/semantics.md §3); closed neurons are copied bit for bit.

The backward pass (:class:`_SparseLoop`, written out, with the cells' derivative
:func:`~surnn_neuro.models.functional.cells.candidate_vjp`) runs the same k_t-column steps in
reverse: a closed neuron passes its gradient on as the identity, an open one through the cell;
``∂L/∂W_hh[rows(A_t)] = ∂L/∂S_rec[A_t]ᵀ h_{t−1}`` and its input twin are batched products after the
loop. Autograd would record ~20 nodes per step; at 5 % updates their overhead costs as much as the
arithmetic, hence the hand-written reverse loop.

The gradient into the gate is su_step's select gradient,
``∂L/∂g_{t,i} = Σ_b ∂L/∂h_{t,b,i} (f_{t,b,i} − h_{t−1,b,i})`` (+ the same term in ``c`` for lstm):
it needs the candidate of the *closed* neurons as well, so when the mask carries a gradient
(learnable oscillator, phased in training) the forward pass keeps the sigma ``S_rec`` of every step
and the backward pass evaluates the candidate of every neuron once, chunk by chunk (elementwise work
and the input product ``W_ih x``; no recurrence, nothing differentiated through it).
Frozen gates (``learn_gate=False``, clockwork, random) skip it: their training is sparse end to end.

Device-agnostic: index lists are built with tensor ops on the mask's device; the only host
synchronisation is reading the per-step counts ``k_t`` once per call.
"""

from __future__ import annotations

from typing import List, NamedTuple, Optional

import torch
import torch.nn.functional as F

from surnn_neuro.ir.cells import cell_spec
from surnn_neuro.models.functional.cells import candidate, candidate_parts, candidate_vjp
from surnn_neuro.models.functional.update import SUParameters

#: Elements of one gathered weight chunk (steps × G·k_max × width) in the batched input drive and
#: weight gradients: bounds the extra memory at about 4 MB (float32) whatever T is.
GATHER_ELEMENTS = 1 << 20
#: Elements of one time chunk of the dense candidate evaluated for the gate gradient (steps × B × G·H):
#: small enough to stay in cache across the dozen elementwise ops of a candidate.
GATE_GRAD_ELEMENTS = 1 << 17


class SparsePlan(NamedTuple):
    """The open neurons of every step, padded to the largest step.

    Parameters:
        counts (list): k_t, the number of neurons updating at step t (Python ints, length T)
        idx (torch.Tensor): (T, k_max) int64; ``idx[t, :k_t]`` the open neurons of step t (ascending)
        rows (torch.Tensor): (T, G·k_max) int64; ``rows[t, :G·k_t]`` = ``[A_t, H + A_t, …]``, the
            rows of the G weight blocks those neurons read
        blocks (int): G
    """

    counts: List[int]
    idx: torch.Tensor
    rows: torch.Tensor
    blocks: int

    @property
    def width(self) -> int:
        """G·k_max, the padded width of the gathered drives."""
        return self.rows.shape[1]


def sparse_plan(mask: torch.Tensor, blocks: int) -> SparsePlan:
    """The :class:`SparsePlan` of a (T, H) gate mask (open where > 0) for a cell of ``blocks`` blocks.

    >>> p = sparse_plan(torch.tensor([[0., 1., 1.], [0., 0., 0.], [1., 0., 0.]]), 2)
    >>> p.counts, p.idx.tolist(), p.rows.tolist()
    ([2, 0, 1], [[1, 2], [0, 0], [0, 0]], [[1, 2, 4, 5], [0, 0, 0, 0], [0, 3, 0, 0]])
    """
    act = mask.detach() > 0
    n_t, n_h = act.shape
    dev = act.device
    k_t = act.sum(1)
    counts = k_t.tolist()
    k_max = max(counts, default=0)
    tt, ii = act.nonzero(as_tuple=True)
    slot = act.long().cumsum(1)[tt, ii] - 1  # position of each open neuron within its step
    idx = torch.zeros(n_t, k_max, dtype=torch.long, device=dev)
    idx[tt, slot] = ii
    rows = torch.zeros(n_t, blocks * k_max, dtype=torch.long, device=dev)
    g = torch.arange(blocks, device=dev)
    # entry (t, g, j) of block g, slot j sits at g·k_t + j and holds row g·H + idx[t, j]
    pos = g[None, :, None] * k_t[:, None, None] + torch.arange(k_max, device=dev)[None, None, :]
    valid = (torch.arange(k_max, device=dev)[None, :] < k_t[:, None])[:, None, :].expand(-1, blocks, -1)
    t_of = torch.arange(n_t, device=dev)[:, None, None].expand_as(pos)
    val = g[None, :, None] * n_h + idx[:, None, :]
    rows[t_of[valid], pos[valid]] = val[valid]
    return SparsePlan(counts=counts, idx=idx, rows=rows, blocks=blocks)


def _chunks(n_t: int, per_step: int, budget: int):
    """Time chunks [a, b) of at most ``budget // per_step`` steps (at least one)."""
    step = max(1, budget // max(1, per_step))
    return [(a, min(n_t, a + step)) for a in range(0, n_t, step)]


def _gathered_input(x, w_ih, b_ih, plan: SparsePlan):
    """``S_in`` at the gathered rows of every step: (T, B, G·k_max), one batched product per chunk."""
    n_t, batch, v = x.shape
    out = x.new_empty(n_t, batch, plan.width)
    for a, b in _chunks(n_t, plan.width * v, GATHER_ELEMENTS):
        r = plan.rows[a:b]
        torch.baddbmm(b_ih[r].unsqueeze(1), x[a:b], w_ih[r].transpose(1, 2), out=out[a:b])
    return out


def _steps(plan: SparsePlan):
    """Per-step ``(k_t, idx_t, rows_t)`` views (None where no neuron updates), made once per call."""
    g = plan.blocks
    idx, rows = plan.idx.unbind(0), plan.rows.unbind(0)
    return [(k, idx[t][:k], rows[t][:g * k]) if k else None for t, k in enumerate(plan.counts)]


def _forward(cell, x, w_ih, b_ih, w_hh, b_hh, h0, c0, plan: SparsePlan, keep: bool = False):
    """The sparse loop (module doc). Returns ``(h_seq (T, B, H), c_seq or None, saved)``; ``saved``
    (if ``keep``) holds what the backward pass reads: the per-step views, per step
    ``(S_rec[A_t], candidate parts, h_{t−1}[:, A_t], c_{t−1}[:, A_t])``, and per step the whole
    recurrent sigma ``S_rec`` (B, G·H) for the gate gradient.

    Per-step tensors live in lists rather than (T, ...) buffers written step by step: a buffer of
    tens of MB is a fresh mapping on every call, and the page faults of its first write cost more
    than the arithmetic of a step at low update rates; per-step blocks come back from the
    allocator's free lists."""
    n_t, batch, _ = x.shape
    steps = _steps(plan)
    gi = _gathered_input(x, w_ih, b_ih, plan).unbind(0)
    s_rec = F.linear(h0, w_hh, b_hh)  # the sigma W_hh h_{t−1} + b_hh, (B, G·H)
    w_t = w_hh.t().contiguous()  # row j = column j of W_hh: what one delta event of neuron j adds
    hs, cs, s_all, per_step = [], [] if c0 is not None else None, [], []
    h, c = h0, c0
    for t, st in enumerate(steps):
        if keep:
            s_all.append(s_rec)
        if st is not None:
            k, idx, rows = st
            gh = s_rec.index_select(1, rows)
            h_a = h.index_select(1, idx)
            c_a = c.index_select(1, idx) if c is not None else None
            f, cf, parts = candidate_parts(cell, gi[t][:, :rows.shape[0]], gh, h_a, c_a)
            h = h.index_copy(1, idx, f)
            if c is not None:
                c = c.index_copy(1, idx, cf)
            # the delta events, acting from step t + 1 (a new tensor while the old one is kept)
            delta, w_ev = f - h_a, w_t.index_select(0, idx)
            s_rec = torch.addmm(s_rec, delta, w_ev) if keep else s_rec.addmm_(delta, w_ev)
            if keep:
                per_step.append((gh, parts, h_a, c_a))
        elif keep:
            per_step.append(None)
        hs.append(h)
        if cs is not None:
            cs.append(c)
    h_seq = torch.stack(hs)
    c_seq = torch.stack(cs) if cs is not None else None
    saved = (steps, per_step, s_all) if keep else None
    return h_seq, c_seq, saved


class _SparseLoop(torch.autograd.Function):
    """Forward :func:`_forward`; backward the reverse sparse loop (module doc)."""

    @staticmethod
    def forward(ctx, x, w_ih, b_ih, w_hh, b_hh, h0, c0, mask, plan, cell):
        h_seq, c_seq, saved = _forward(cell, x, w_ih, b_ih, w_hh, b_hh, h0, c0, plan, keep=True)
        if not ctx.needs_input_grad[7]:
            saved = saved[:2] + (None,)
        ctx.save_for_backward(x, w_ih, b_ih, w_hh, b_hh, h0, c0, mask, h_seq, c_seq)
        ctx.plan, ctx.cell, ctx.saved = plan, cell, saved
        return (h_seq, c_seq) if c_seq is not None else h_seq

    @staticmethod
    def backward(ctx, dhs, dcs=None):
        x, w_ih, b_ih, w_hh, b_hh, h0, c0, mask, h_seq, c_seq = ctx.saved_tensors
        plan, cell = ctx.plan, ctx.cell
        steps, per_step, s_all = ctx.saved  # kept: a retained graph may run backward again
        need = ctx.needs_input_grad
        n_t, batch, n_h = dhs.shape
        width = plan.width
        lstm = c_seq is not None
        need_mask = need[7]
        d_rec = dhs.new_zeros(n_t, batch, width)  # ∂L/∂S_rec at the gathered rows (padded)
        d_in = dhs.new_zeros(n_t, batch, width) if cell == "gru" else d_rec  # ∂L/∂S_in (= d_rec but gru)
        d_rec_t, d_in_t = d_rec.unbind(0), d_in.unbind(0)
        dhs_t = dhs.unbind(0)
        dcs_t = dcs.unbind(0) if lstm else None
        d_h_all, d_c_all = [], []  # ∂L/∂h_t, ∂L/∂c_t of every step (reversed), for the gate gradient
        dh = dhs_t[-1]
        dc = dcs_t[-1] if lstm else None
        for t in range(n_t - 1, -1, -1):
            if t < n_t - 1:
                dh = dh + dhs_t[t]
                if lstm:
                    dc = dc + dcs_t[t]
            if need_mask:
                d_h_all.append(dh)
                if lstm:
                    d_c_all.append(dc)
            st = steps[t]
            if st is None:  # every neuron closed: the identity
                continue
            k, idx, rows = st
            gh, parts, h_a, c_a = per_step[t]
            dgi, dgh, dh_direct, dc_prev = candidate_vjp(
                cell, parts, gh, h_a, c_a, dh.index_select(1, idx), dc.index_select(1, idx) if lstm else None)
            n = rows.shape[0]
            d_rec_t[t][:, :n] = dgh
            if d_in is not d_rec:
                d_in_t[t][:, :n] = dgi
            # open neurons: their old state reaches h_t only through the cell
            dh = dh.index_fill(1, idx, 0.0) if dh_direct is None else dh.index_copy(1, idx, dh_direct)
            dh = dh.addmm_(dgh, w_hh.index_select(0, rows))
            if lstm:
                dc = dc.index_copy(1, idx, dc_prev)

        grads = [None] * 10
        flat = plan.rows.reshape(-1)
        if need[3]:
            dw = torch.zeros_like(w_hh)
            for a, b in _chunks(n_t, width * n_h, GATHER_ELEMENTS):
                dw.index_add_(0, plan.rows[a:b].reshape(-1),
                              torch.bmm(d_rec[a:b].transpose(1, 2), _previous(h_seq, h0, a, b)).reshape(-1, n_h))
            grads[3] = dw
        if need[4]:
            grads[4] = torch.zeros_like(b_hh).index_add_(0, flat, d_rec.sum(1).reshape(-1))
        v = x.shape[2]
        if need[0] or need[1]:
            dx = torch.empty_like(x) if need[0] else None
            dw = torch.zeros_like(w_ih) if need[1] else None
            for a, b in _chunks(n_t, width * v, GATHER_ELEMENTS):
                r = plan.rows[a:b]
                if dw is not None:
                    dw.index_add_(0, r.reshape(-1), torch.bmm(d_in[a:b].transpose(1, 2), x[a:b]).reshape(-1, v))
                if dx is not None:
                    torch.bmm(d_in[a:b], w_ih[r], out=dx[a:b])
            grads[0], grads[1] = dx, dw
        if need[2]:
            grads[2] = torch.zeros_like(b_ih).index_add_(0, flat, d_in.sum(1).reshape(-1))
        if need[5]:
            grads[5] = dh
        if need[6] and lstm:
            grads[6] = dc
        if need_mask:
            grads[7] = _gate_gradient(cell, x, w_ih, b_ih, s_all, h_seq, h0,
                                      c_seq, c0,
                                      d_h_all[::-1], d_c_all[::-1]).to(mask.dtype)
        return tuple(grads)


def _previous(seq, first, a: int, b: int):
    """``seq[t − 1]`` for t in [a, b), with ``first`` as ``seq[−1]``: (b − a, B, H)."""
    if a > 0:
        return seq[a - 1:b - 1]
    return torch.cat([first.unsqueeze(0), seq[:b - 1]])


def _gate_gradient(cell, x, w_ih, b_ih, s_rec, hs, h0, cs, c0, d_h, d_c):
    """``∂L/∂g (T, H) = Σ_b ∂L/∂h_t ⊙ (f_t − h_{t−1})`` (+ ``∂L/∂c_t ⊙ (c'_t − c_{t−1})``): the select
    gradient, with the candidate of every neuron evaluated densely from the recurrent sigmas
    ``s_rec`` (T tensors (B, G·H)) kept by the forward pass (module doc), chunk by chunk."""
    n_t, batch, n_h = hs.shape
    out = hs.new_empty(n_t, n_h)
    for a, b in _chunks(n_t, batch * s_rec[0].shape[1], GATE_GRAD_ELEMENTS):
        hp = _previous(hs, h0, a, b)
        cp = _previous(cs, c0, a, b) if cs is not None else None
        f, cf = candidate(cell, F.linear(x[a:b], w_ih, b_ih), torch.stack(s_rec[a:b]), hp, cp)
        d = (torch.stack(d_h[a:b]) * (f - hp)).sum(1)
        if cp is not None:
            d += (torch.stack(d_c[a:b]) * (cf - cp)).sum(1)
        out[a:b] = d
    return out


class SparseResult(NamedTuple):
    """What :func:`su_loop_sparse` returns: ``h`` (T, B, H) and ``c`` (T, B, H) for lstm, else None."""

    h: torch.Tensor
    c: Optional[torch.Tensor]


def su_loop_sparse(x: torch.Tensor, mask: torch.Tensor, weight_ih: torch.Tensor, bias_ih: torch.Tensor,
                   p: SUParameters, h0: Optional[torch.Tensor] = None,
                   c0: Optional[torch.Tensor] = None, plan: Optional[SparsePlan] = None) -> SparseResult:
    """Run one selective-update layer over ``x: (T, B, V)`` with the gate ``mask: (T, H)`` shared by
    the batch, computing only the neurons that update (module doc). ``weight_ih (G·H, V)``,
    ``bias_ih (G·H,)``; ``p`` the cell and recurrent weights; ``h0``/``c0`` (B, H) default to 0;
    ``plan`` the mask's :class:`SparsePlan` if already made. Differentiable in every tensor argument,
    the mask included (su_step's select gradient)."""
    n_t, batch, _ = x.shape
    n_h = p.weight_hh.shape[1]
    lstm = cell_spec(p.cell).has_cell_state
    if h0 is None:
        h0 = x.new_zeros(batch, n_h)
    if lstm and c0 is None:
        c0 = x.new_zeros(batch, n_h)
    if not lstm:
        c0 = None
    if plan is None:
        plan = sparse_plan(mask, cell_spec(p.cell).n_blocks)
    args = (x, weight_ih, bias_ih, p.weight_hh, p.bias_hh, h0, c0, mask)
    if torch.is_grad_enabled() and any(a is not None and a.requires_grad for a in args):
        out = _SparseLoop.apply(*args, plan, p.cell)
        return SparseResult(*out) if lstm else SparseResult(out, None)
    hs, cs, _ = _forward(p.cell, x, weight_ih, bias_ih, p.weight_hh, p.bias_hh, h0, c0, plan)
    return SparseResult(hs, cs)
