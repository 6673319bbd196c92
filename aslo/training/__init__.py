"""Training the classifiers: config, loop, checkpoint store, device choice."""

from aslo.training.checkpoints import load_checkpoint, run_directory, save_checkpoint, weights_fingerprint
from aslo.training.config import (TRAINING_RECIPES, TrainConfig, default_train_config, paper_train_config,
                                  recipe_train_config)
from aslo.training.device import DEVICES, check_device_name, resolve_device
from aslo.training.loop import predict, train_model
from aslo.training.trained import get_trained_model

__all__ = [
    "DEVICES",
    "TRAINING_RECIPES",
    "TrainConfig",
    "recipe_train_config",
    "default_train_config",
    "paper_train_config",
    "train_model",
    "get_trained_model",
    "check_device_name",
    "resolve_device",
    "predict",
    "run_directory",
    "save_checkpoint",
    "load_checkpoint",
    "weights_fingerprint",
]
