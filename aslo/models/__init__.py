"""The four classifiers attacked in the paper: Inception, ResNet18, MACNN, LSTMFCN."""

from aslo.models.registry import (MODEL_LABELS, MODEL_NAMES, MODELS, ModelSpec, build_model, count_parameters,
                                  validate_model_name)

__all__ = ["MODELS", "MODEL_LABELS", "MODEL_NAMES", "ModelSpec", "build_model", "count_parameters",
           "validate_model_name"]
