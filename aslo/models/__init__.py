"""The four classifiers attacked in the paper: Inception, ResNet18, MACNN, LSTMFCN."""

from aslo.models.registry import MODEL_NAMES, build_model, count_parameters, validate_model_name

__all__ = ["MODEL_NAMES", "build_model", "count_parameters", "validate_model_name"]
