"""Training and evaluation of a model on a task.

Loss = task loss + λ · budget, with budget = Σ_layers mean over (batch, neuron) of Σ_t g_t: the
average number of updates per neuron per sequence, as in the SA-RNN authors' code (eq. 9 of the paper
penalises the soft likelihood ũ_t instead; with identity straight-through gradients the two have the
same gradient and differ only in the logged value). Unnormalised by T, as there: λ values transfer
from the paper but scale with the sequence length.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from surnn_neuro.datasets.task import TaskData
from surnn_neuro.errors import UserError
from surnn_neuro.models import MODELS, build
from surnn_neuro.preflight import check_fits, check_value
from surnn_neuro.training.device import resolve_device, set_threads  # noqa: F401 (re-exported)
from surnn_neuro.training.losses import task_loss, task_score


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint)."""

    task: str
    model: str
    hidden: int = 64
    layers: int = 1
    epochs: int = 10
    batch_size: int = 32
    lr: float = 3e-3
    budget: float = 0.0
    seq_len: int | None = None
    seed: int = 0
    clip: float = 1.0
    options: dict = field(default_factory=dict)
    data_dir: str | None = None
    device: str = "auto"
    threads: int = 1

    def __post_init__(self):
        # the bounds are the command line's (surnn_neuro.preflight.OPTIONS): one table for both
        if self.model not in MODELS:
            raise UserError(f"--model: unknown model {self.model!r}; known: {', '.join(MODELS)}")
        for name in ("hidden", "layers", "epochs", "batch_size", "lr", "budget", "seed", "device"):
            check_value(f"--{name.replace('_', '-')}", getattr(self, name))
        # the CPUs of the machine that trains are checked there (set_threads): a config built on a
        # sweep's head node may ask for more threads than that node has
        if isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1:
            raise UserError(f"--threads: must be an integer >= 1, got {self.threads!r}")
        if self.seq_len is not None:
            check_value("--seq-len", self.seq_len)
        if isinstance(self.clip, bool) or not isinstance(self.clip, (int, float)) or not (
                math.isfinite(self.clip) and self.clip >= 0):
            raise UserError(f"clip: must be a finite number >= 0 (0: no clipping), got {self.clip!r}")
        if not isinstance(self.options, dict):
            raise UserError(f"--option: expected a dict of model options, got {type(self.options).__name__}")


class Diverged(UserError):
    """Training produced a non-finite loss, gradient or weight (nothing is saved)."""


def build_for_task(cfg: TrainConfig, task: TaskData):
    """The model of ``cfg`` sized for ``task`` (readout mode from the task)."""
    opts = dict(cfg.options)
    opts.setdefault("readout", task.readout)
    opts.setdefault("seq_len", task.seq_len)
    try:
        return build(cfg.model, task.input_size, cfg.hidden, task.output_size, layers=cfg.layers, **opts)
    except ValueError as e:
        raise UserError(f"--option: {e}") from None


#: bytes autograd keeps per (sample, step, neuron, layer) in training: 130-320 measured for the
#: GRU, LSTM and tanh models at H = 512-1024 (peak RSS minus parameters); the lower end is used so
#: that only runs that certainly do not fit are refused
ACTIVATION_BYTES = 128


def check_training_fits(cfg: TrainConfig, task: TaskData) -> None:
    """UserError before training if parameters + gradients + Adam moments (16 B per parameter,
    counting 4 weight blocks of H × (V + H + 1) per layer, the LSTM's) and the activations of one
    batch (:data:`ACTIVATION_BYTES` · B · T · H · L) exceed the memory available here."""
    h, v = cfg.hidden, task.input_size
    params = 4 * h * (v + h + 1) + (cfg.layers - 1) * 4 * h * (2 * h + 1) + h * task.output_size
    batch = min(cfg.batch_size, len(task.x_train))
    need = 16 * params + ACTIVATION_BYTES * batch * task.seq_len * h * cfg.layers
    check_fits(need, f"--hidden {h} --layers {cfg.layers} --batch-size {cfg.batch_size} (T = {task.seq_len})",
               "use a smaller --hidden, --layers or --batch-size")


def _check_finite(what: str, value: float, epoch: int, step: int, cfg: TrainConfig) -> None:
    if not math.isfinite(value):
        raise Diverged(f"training diverged: the {what} became {value} at epoch {epoch + 1}, step {step + 1}; "
                       f"nothing was saved; try a smaller --lr (now {cfg.lr:g})"
                       + (f" or --budget (now {cfg.budget:g})" if cfg.budget else ""))


def budget_term(gates) -> torch.Tensor:
    """Σ_layers mean over batch and neurons of Σ_t g (updates per neuron per sequence)."""
    return sum(g.sum(0).mean() for g in gates)


@torch.no_grad()
def evaluate(model, task: TaskData, split="test", batch_size=256, device=None, return_gates=False):
    """Score ``model`` on a split: dict(metric, value, update_rate, per-layer rates[, gates])."""
    device = device or next(model.parameters()).device
    x_all, y_all = (task.x_test, task.y_test) if split == "test" else (task.x_train, task.y_train)
    model.eval()
    total, n, ones, slots = 0.0, 0, 0.0, 0
    per_layer = None
    kept = []
    for s in range(0, len(x_all), batch_size):
        x = x_all[s:s + batch_size].to(device).transpose(0, 1)
        y = y_all[s:s + batch_size].to(device)
        out, gates = model(x)
        total += task_score(task, out, y)
        n += len(y)
        rates = [float(g.sum()) for g in gates]
        per_layer = rates if per_layer is None else [a + b for a, b in zip(per_layer, rates)]
        ones += sum(rates)
        slots += sum(g.numel() for g in gates)
        if return_gates:
            kept.append([g.transpose(0, 1).bool().cpu() for g in gates])
    value = total / n
    layer_slots = [slots / len(per_layer) for _ in per_layer]
    res = {"metric": task.metric, "value": value, "update_rate": ones / slots,
           "layer_update_rates": [a / b for a, b in zip(per_layer, layer_slots)], "n": n}
    if return_gates:
        res["gates"] = [torch.cat([k[i] for k in kept]).numpy() for i in range(len(per_layer))]
    return res


def _rng_states(device) -> dict:
    """Every random state training draws from after the model is built (for :func:`train`'s
    snapshots): torch's CPU (and CUDA) generators and numpy's legacy one (as plain lists, so that the
    snapshot loads with ``weights_only``)."""
    name, keys, pos, has_gauss, gauss = np.random.get_state()
    return {"torch": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
            "numpy": [name, keys.tolist(), int(pos), int(has_gauss), float(gauss)]}


def _set_rng_states(states: dict, device) -> None:
    torch.set_rng_state(states["torch"])
    if device.type == "cuda" and states.get("cuda") is not None:
        torch.cuda.set_rng_state(states["cuda"], device)
    name, keys, pos, has_gauss, gauss = states["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.uint32), pos, has_gauss, gauss))


def train(cfg: TrainConfig, task: TaskData, progress=True, log=None, stop=None, dist=None,
          snapshot=None, resume=None):
    """Train a model; returns (model, history). Deterministic for a given seed on a given device.

    ``log(record)`` is called after every epoch with its history record (epoch, loss, task_loss:
    the loss without the budget term, update_rate; means over the epoch's samples);
    ``stop(epoch, model)`` returning True ends training early (e.g. once the adding task is solved).

    ``dist``: a :class:`~surnn_neuro.training.distributed.DistContext` for data-parallel training:
    each rank trains on its shard of every global batch of ``cfg.batch_size`` samples, weighted by
    its share of the batch, and the gradients are summed, so the step equals the one-process step
    of the same global batch (derivation in :mod:`surnn_neuro.training.distributed`).

    ``snapshot(state)`` is called after every epoch but the last (and not after one that ``stop``
    ends) with what continuing needs: ``epoch`` (the last one done), the model's and the optimiser's
    state, the batch-order generator's and the random states (:func:`_rng_states`), the history and
    the seconds so far (live tensors: write them during the call). ``resume=state`` continues from
    such a snapshot: the epochs after its ``epoch`` run exactly as they would have in one
    uninterrupted run (same batches, same random draws: the weights are bit-identical on the same
    device).
    """
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    set_threads(cfg.threads)
    device = dist.device if dist is not None else resolve_device(cfg.device)
    model = build_for_task(cfg, task).to(device)
    if dist is not None:
        from surnn_neuro.training.distributed import broadcast_parameters, sum_gradients

        broadcast_parameters(model, dist)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    n = len(task.x_train)
    steps_per_epoch = math.ceil(n / cfg.batch_size)
    history, start, seconds_before = [], 0, 0.0
    if resume is not None:
        model.load_state_dict(resume["model"])
        opt.load_state_dict(resume["optimizer"])
        gen.set_state(resume["generator"])
        _set_rng_states(resume["rng"], device)
        history, start = list(resume["history"]), resume["epoch"] + 1
        seconds_before = resume["train_seconds"]
    # a bar on a terminal only (tqdm's disable=None); elsewhere (a log file) one line per epoch
    bar = tqdm(total=cfg.epochs * steps_per_epoch, initial=start * steps_per_epoch,
               desc=f"train {cfg.model} on {cfg.task}",
               disable=True if not progress or (dist is not None and not dist.is_main) else None, unit="batch",
               leave=False)
    log_lines = progress and bar.disable and (dist is None or dist.is_main)
    t0 = time.perf_counter() - seconds_before
    try:
        for epoch in range(start, cfg.epochs):
            model.train()
            model.set_epoch(epoch)
            perm = torch.randperm(n, generator=gen)
            tot_loss, tot_task, tot_rate = 0.0, 0.0, 0.0
            for step, s in enumerate(range(0, n, cfg.batch_size)):
                idx = perm[s:s + cfg.batch_size]
                local = idx if dist is None else dist.shard(idx)
                share = len(local) / len(idx)  # w_r = n_r / b (1 in one process)
                opt.zero_grad(set_to_none=True)
                loss_v = task_v = rate = 0.0
                if len(local):
                    x = task.x_train[local].to(device).transpose(0, 1)
                    y = task.y_train[local].to(device)
                    out, gates = model(x)
                    loss = t_loss = task_loss(task, out, y)
                    if cfg.budget > 0:
                        loss = loss + cfg.budget * budget_term(gates)
                    (loss if dist is None else share * loss).backward()
                    rate = float(sum(g.detach().mean() for g in gates) / len(gates))
                    loss_v, task_v = float(loss.detach()), float(t_loss.detach())
                if dist is not None:  # global-batch gradient and statistics
                    loss_v, task_v, rate = sum_gradients(params, dist, [share * loss_v, share * task_v,
                                                                        share * rate])
                _check_finite("loss", loss_v, epoch, step, cfg)  # the global loss: every rank stops
                if cfg.clip > 0:
                    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
                    _check_finite("gradient norm", float(norm), epoch, step, cfg)
                opt.step()
                tot_loss += loss_v * len(idx)
                tot_task += task_v * len(idx)
                tot_rate += rate * len(idx)
                bar.update(1)
                bar.set_postfix(epoch=epoch, loss=f"{loss_v:.4f}", rate=f"{rate:.2f}")
            for k, p in model.named_parameters():  # once per epoch: an update that overflowed
                if not bool(torch.isfinite(p).all()):
                    _check_finite(f"weight {k}", float(p.detach()[~torch.isfinite(p.detach())][0]), epoch,
                                  steps_per_epoch - 1, cfg)
            history.append({"epoch": epoch, "loss": tot_loss / n, "task_loss": tot_task / n,
                            "update_rate": tot_rate / n})
            if log_lines:
                print(f"train {cfg.model} on {cfg.task}: epoch {epoch + 1}/{cfg.epochs}  loss "
                      f"{history[-1]['loss']:.4f}  update rate {history[-1]['update_rate']:.3f}",
                      file=sys.stderr, flush=True)
            if log is not None:
                log(history[-1])
            if stop is not None and stop(epoch, model):
                break
            if snapshot is not None and epoch < cfg.epochs - 1:
                snapshot({"epoch": epoch, "model": model.state_dict(), "optimizer": opt.state_dict(),
                          "generator": gen.get_state(), "rng": _rng_states(device), "history": list(history),
                          "train_seconds": time.perf_counter() - t0})
    finally:
        bar.close()
    return model, {"epochs": history, "train_seconds": time.perf_counter() - t0,
                   "world_size": 1 if dist is None else dist.world_size}
