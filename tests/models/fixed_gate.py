"""A test gate with a hand-written mask, shared by the model tests."""

import torch

from surnn_neuro.models.gates import Gate


class FixedGate(Gate):
    """A gate with a hand-written (T, H) mask; give the mask requires_grad for the straight-through path."""

    def __init__(self, mask):
        super().__init__(mask.shape[1])
        self.mask = mask

    def schedule(self, T, device=None, dtype=torch.float32):
        return self.mask[:T]
