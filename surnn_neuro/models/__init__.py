"""Selective-update recurrent models (torch): cells, gates, layers and networks by name.

>>> from surnn_neuro.models import build, MODELS
>>> sorted(MODELS)[:3]
['clockwork', 'gru', 'phased']
"""

from surnn_neuro.models.network import (MODELS, READOUTS, ModelSpec, SelectiveUpdateNetwork, build, check_options,
                                        from_config, model_options, option_specs, parse_options)

__all__ = ["MODELS", "READOUTS", "ModelSpec", "SelectiveUpdateNetwork", "build", "check_options", "from_config",
           "model_options", "option_specs", "parse_options"]
