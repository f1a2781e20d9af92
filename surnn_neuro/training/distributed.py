"""Data-parallel training on ``torch.distributed`` (``surnn-neuro train ... --distributed`` under torchrun).

Every process (rank r of W) holds a full copy of the model and runs the same training loop: the same
seed, the same permutation of the training set and therefore the same sequence of **global** batches
of ``batch_size`` samples. Each global batch of b samples is split into W contiguous shards of
⌈b/W⌉ or ⌊b/W⌋ samples (:meth:`DistContext.shard`; the last batch of an epoch may be smaller than W,
and then some ranks get an empty shard). Rank r computes its shard's loss and gradient, scaled by
its share w_r = n_r / b, and the ranks **sum** their gradients:

    L(batch) = (1/b) Σ_i ℓ_i = Σ_r (n_r/b) · (1/n_r) Σ_{i ∈ shard r} ℓ_i = Σ_r w_r · L_r

holds for every term of the training loss, because each is a mean over the samples of the batch: the
task loss (cross-entropy or MSE per sample; per token with the same S tokens per sample) and the
update budget Σ_layers mean_{b,i} Σ_t g_t (a per-sample mean of Σ_t g; for a time-only gate every
sample has the same value). So Σ_r ∇(w_r L_r) is the one-process gradient of the same global batch,
clipping then acts on that global gradient, and Adam takes the same step on every rank. The logged
loss and update rate are reduced the same way, so the history is that of the global batch.

Design choice: one manual all-reduce (SUM) of a flat gradient buffer per step, not
``DistributedDataParallel``. DDP averages gradients over W (a mean of per-rank means, wrong whenever
shards differ in size: the uneven last batch), and it needs every rank to run forward and backward
at every step, which a rank with an empty shard cannot do without a dummy batch. The price is that
communication does not overlap the backward pass; for the recurrent models here (≤ a few million
parameters, long sequential forward) that is a small share of a step. Samples are never padded or
repeated (``DistributedSampler`` pads the epoch with repeated samples, which changes the gradient).

Only rank 0 shows progress and writes checkpoints and reports. Backend: NCCL when training on CUDA
(one device per rank, ``cuda:LOCAL_RANK``), gloo on the CPU.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as tdist

from surnn_neuro.errors import UserError

#: environment variables set by torchrun (and by ``torch.distributed.launch``)
TORCHRUN_ENV = ("RANK", "WORLD_SIZE", "LOCAL_RANK")


@dataclass(frozen=True)
class DistContext:
    """This process's place in the process group and the device it trains on."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device
    owns_group: bool = False  # True if :func:`init_distributed` created the process group

    def __post_init__(self):
        if self.world_size < 1 or not 0 <= self.rank < self.world_size:
            raise ValueError(f"DistContext: rank {self.rank} outside world size {self.world_size}")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, idx: torch.Tensor) -> torch.Tensor:
        """This rank's contiguous part of a global batch of sample indices (possibly empty).

        >>> ctx = DistContext(1, 2, 1, "gloo", torch.device("cpu"))
        >>> ctx.shard(torch.arange(5)).tolist(), ctx.shard(torch.arange(1)).tolist()
        ([3, 4], [])
        """
        return torch.tensor_split(idx, self.world_size)[self.rank]

    def close(self) -> None:
        """Destroy the process group if this context created it."""
        if self.owns_group and tdist.is_initialized():
            tdist.destroy_process_group()


def init_distributed(device: str = "auto") -> DistContext:
    """Join the process group: an existing one (e.g. created by a test with ``file://``) or the one
    torchrun describes in the environment (``env://``). UserError outside torchrun."""
    from surnn_neuro.training.device import resolve_device

    owns = False
    if not tdist.is_available():
        raise UserError("--distributed: this torch build has no torch.distributed support")
    if tdist.is_initialized():
        rank, world = tdist.get_rank(), tdist.get_world_size()
        local_rank = int(os.environ.get("LOCAL_RANK", rank))
        backend = str(tdist.get_backend())
    else:
        missing = [k for k in TORCHRUN_ENV if k not in os.environ]
        if missing:
            raise UserError("--distributed: not started by torchrun (no " + ", ".join(missing)
                            + "); run e.g. 'torchrun --nproc-per-node 2 -m surnn_neuro.cli train ... "
                              "--distributed'")
        rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        local_rank = int(os.environ["LOCAL_RANK"])
        backend = None
    dev = resolve_device(device)
    if dev.type == "cuda":
        dev = torch.device("cuda", local_rank % max(torch.cuda.device_count(), 1))
        torch.cuda.set_device(dev)
    if backend is None:
        backend = "nccl" if dev.type == "cuda" else "gloo"
        tdist.init_process_group(backend, init_method="env://", rank=rank, world_size=world)
        owns = True
    if backend == "nccl" and dev.type != "cuda":
        raise UserError("--distributed: the process group uses NCCL but training runs on the CPU; "
                        "use --device cuda or a gloo group")
    return DistContext(rank, world, local_rank, backend, dev, owns_group=owns)


@torch.no_grad()
def broadcast_parameters(model: torch.nn.Module, ctx: DistContext) -> None:
    """Copy rank 0's parameters and buffers to every rank (identical seeds make them equal already;
    this guards against device-dependent initialisation)."""
    for t in list(model.parameters()) + list(model.buffers()):
        tdist.broadcast(t.data, src=0)


@torch.no_grad()
def sum_gradients(params, ctx: DistContext, stats) -> list:
    """All-reduce (SUM) the gradients of ``params`` and the floats ``stats`` across ranks.

    A parameter whose ``.grad`` is None on a rank (an empty shard, or unused in the forward)
    contributes zeros; it keeps ``grad = None`` only if it is None on every rank, as in one process
    (Adam skips such parameters, a zero gradient would still advance its moments). One all-reduce
    per dtype present. Returns the summed ``stats``.
    """
    params = list(params)
    groups: dict = {}
    for i, p in enumerate(params):
        groups.setdefault(p.dtype, []).append(i)
    out_stats = None
    dtypes = list(groups) or [torch.float64]
    for k, dtype in enumerate(dtypes):
        idx = groups.get(dtype, [])
        parts = [params[i].grad.reshape(-1) if params[i].grad is not None
                 else torch.zeros(params[i].numel(), dtype=dtype, device=ctx.device) for i in idx]
        flags = torch.tensor([params[i].grad is not None for i in idx], dtype=dtype, device=ctx.device)
        extra = torch.tensor(list(stats) if k == 0 else [], dtype=dtype, device=ctx.device)
        buf = torch.cat(parts + [flags, extra])
        tdist.all_reduce(buf, op=tdist.ReduceOp.SUM)
        off = 0
        for i in idx:
            n = params[i].numel()
            piece = buf[off:off + n].view_as(params[i])
            if params[i].grad is None:
                params[i].grad = piece.clone()
            else:
                params[i].grad.copy_(piece)
            off += n
        for j, i in enumerate(idx):
            if buf[off + j] == 0:
                params[i].grad = None
        off += len(idx)
        if k == 0:
            out_stats = [float(v) for v in buf[off:off + len(stats)]]
    return out_stats
