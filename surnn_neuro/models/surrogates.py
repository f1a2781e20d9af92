"""Surrogate gradients for the Heaviside step, as small picklable classes.

Forward: ``H(a) = 1 if a > 0 else 0`` (strict, so the decision matches the event graph's threshold
neurons). Backward: ``dL/da = dL/dH · s(a)`` with ``s`` a smooth pseudo-derivative. Each surrogate is a
plain class with ``__call__`` returning s(a) (not a closure: closures break ``torch.save(model)``).

>>> import torch
>>> a = torch.tensor([-1.0, 0.0, 0.5], requires_grad=True)
>>> g = heaviside(a, Gaussian(sigma=0.5))
>>> g.tolist()
[0.0, 0.0, 1.0]
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def _normal(a: torch.Tensor, mu: float, sigma: float) -> torch.Tensor:
    return torch.exp(-0.5 * ((a - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))


@dataclass(frozen=True)
class MultiGaussian:
    """s(a) = γ·[(1+h)·N(a;0,σ) − h·N(a;σ,sσ) − h·N(a;−σ,sσ)].

    The default (σ 0.5, h 0.15, s 6, γ 0.5) is the suRNN first author's earlier SNN surrogate
    (reference/surnn_models.md §2.5); the suRNN paper's own form is unknown.
    """

    sigma: float = 0.5
    height: float = 0.15
    scale: float = 6.0
    gamma: float = 0.5

    def __post_init__(self):
        if self.sigma <= 0 or self.scale <= 0 or self.gamma <= 0:
            raise ValueError("MultiGaussian: sigma, scale and gamma must be > 0")

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        s, h, k = self.sigma, self.height, self.scale
        return self.gamma * (
            (1 + h) * _normal(a, 0.0, s) - h * _normal(a, s, k * s) - h * _normal(a, -s, k * s)
        )


@dataclass(frozen=True)
class Gaussian:
    """s(a) = N(a; 0, σ)."""

    sigma: float = 0.5

    def __post_init__(self):
        if self.sigma <= 0:
            raise ValueError("Gaussian: sigma must be > 0")

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        return _normal(a, 0.0, self.sigma)


@dataclass(frozen=True)
class FastSigmoid:
    """s(a) = 1 / (1 + k|a|)² (SuperSpike; snnTorch's default ``fast_sigmoid`` with slope k)."""

    slope: float = 25.0

    def __post_init__(self):
        if self.slope <= 0:
            raise ValueError("FastSigmoid: slope must be > 0")

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        return 1.0 / (1.0 + self.slope * a.abs()) ** 2


@dataclass(frozen=True)
class StraightThrough:
    """s(a) = 1 inside |a| ≤ width, else 0 (boxcar straight-through estimator)."""

    width: float = 1.0

    def __post_init__(self):
        if self.width <= 0:
            raise ValueError("StraightThrough: width must be > 0")

    def __call__(self, a: torch.Tensor) -> torch.Tensor:
        return (a.abs() <= self.width).to(a.dtype)


SURROGATES = {
    "multi-gaussian": MultiGaussian,
    "gaussian": Gaussian,
    "fast-sigmoid": FastSigmoid,
    "straight-through": StraightThrough,
}


def get_surrogate(name: str):
    """Surrogate instance by name; ValueError listing the known names otherwise."""
    try:
        return SURROGATES[name]()
    except KeyError:
        raise ValueError(f"unknown surrogate {name!r}; known: {', '.join(SURROGATES)}") from None


class _Heaviside(torch.autograd.Function):
    @staticmethod
    def forward(ctx, a, surrogate):
        ctx.save_for_backward(a)
        ctx.surrogate = surrogate
        return (a > 0).to(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad * ctx.surrogate(a), None


def heaviside(a: torch.Tensor, surrogate) -> torch.Tensor:
    """H(a) = [a > 0] in the forward pass, ``surrogate(a)`` as its derivative in the backward pass."""
    return _Heaviside.apply(a, surrogate)


class _RoundSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, p):
        return (p > 0.5).to(p.dtype)

    @staticmethod
    def backward(ctx, grad):
        return grad


def round_ste(p: torch.Tensor) -> torch.Tensor:
    """Binarise a probability: 1 iff p > 0.5 (as ``torch.round``, which rounds 0.5 to 0); identity
    gradient (SA-RNN eq. 8, Skip RNN)."""
    return _RoundSTE.apply(p)
