"""The bridge from the experiment runner to the data, training, attack and metrics layers.

The runner only talks to a ``Backend``; tests substitute a fast stand-in. The data and training
loops are imported when first used, so that reading results stays cheap.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from typing import Any, Mapping

import numpy as np


def json_safe(value: Any) -> Any:
    """Convert dataclasses, numpy and torch scalars, tuples and paths into JSON-ready values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return json_safe(dataclasses.asdict(value))
    if hasattr(value, "to_dict") and callable(value.to_dict) and not isinstance(value, dict):
        return json_safe(value.to_dict())
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item") and callable(value.item):  # 0-d torch tensors
        try:
            return value.item()
        except (ValueError, RuntimeError):
            pass
    return str(value)


def is_l0_benchmark_attack(attack: str) -> bool:
    """Whether ``attack`` names one of the L0 benchmark's attacks (:data:`aslo.peers.l0.L0_ATTACKS`)."""
    from aslo.peers.l0 import L0_ATTACKS

    return attack in L0_ATTACKS


def resolve_attack_config(attack: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The full, validated configuration for ``attack`` with overrides: an L0 benchmark attack's
    (:func:`aslo.peers.l0.l0_attack_config`), else the attack layer's."""
    if is_l0_benchmark_attack(attack):
        from aslo.peers.l0 import l0_attack_config

        return json_safe(l0_attack_config(attack, overrides))
    from aslo.attacks import get_attack_config

    return json_safe(get_attack_config(attack, **dict(overrides)))


def resolve_train_config(model: str, overrides: Mapping[str, Any], recipe: str = "default"):
    """The training layer's ``TrainConfig``: the recipe's base for ``model``, then overrides."""
    from aslo.training import recipe_train_config

    return recipe_train_config(model, recipe, **dict(overrides))


class Backend:
    """The real layers. Subclass and override methods to run the grid on stand-ins."""

    def attack_config(self, attack: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
        """JSON-safe full attack configuration (enters the cell's config hash)."""
        return resolve_attack_config(attack, overrides)

    def train_config(self, model: str, overrides: Mapping[str, Any], recipe: str = "default") -> dict[str, Any]:
        """JSON-safe training configuration (enters the cell's config hash)."""
        return json_safe(resolve_train_config(model, overrides, recipe))

    def code_version(self) -> dict[str, str]:
        """Fingerprints of the code whose change must invalidate stored results (see
        :mod:`aslo.experiments.identity`) and the stored examples' format."""
        from aslo.experiments.examples import EXAMPLES_FORMAT
        from aslo.experiments.identity import code_fingerprints

        return {**code_fingerprints(), "examples": EXAMPLES_FORMAT}

    def attack_code(self, attack: str) -> dict[str, str]:
        """Fingerprints of the code that decides only some attacks' numbers, for ``attack``: the
        sparse extension for the exact-zero and L0-budget variants (ours in the L0 benchmark included), the peers'
        layer for every L0 benchmark attack, else nothing."""
        from aslo.attacks.registry import EXTENSION_ATTACKS, resolve_attack_name
        from aslo.experiments.identity import extension_fingerprints

        groups, registered = [], attack
        if is_l0_benchmark_attack(attack):
            from aslo.peers.l0 import L0_ATTACKS

            groups.append("peers")
            registered = L0_ATTACKS[attack].registered  # None for a peer
        if registered is not None and resolve_attack_name(registered) in EXTENSION_ATTACKS:
            groups.append("sparse")
        return extension_fingerprints(sorted(groups))

    def series_code(self, series: str) -> dict[str, str]:
        """Fingerprints of the code that draws a profile's ``series`` beyond ``select_samples``:
        the selection of correctly classified series for "correct", else nothing."""
        from aslo.experiments.identity import extension_fingerprints

        return extension_fingerprints(["correct_series"]) if series == "correct" else {}

    def predict(self, net, x, device: str):
        """The model's predicted classes of ``x`` (numpy int64), in batches of 256 series."""
        import torch

        dev = self.device(device)
        with torch.no_grad():
            parts = [net(torch.as_tensor(x[i:i + 256]).to(dev)).argmax(dim=1).cpu() for i in range(0, len(x), 256)]
        return torch.cat(parts).numpy()

    def load_dataset(self, name: str, normalize: bool):
        """A ``UCRDataset`` (needs ``x_test``, ``y_test``)."""
        from aslo.data import load_ucr

        return load_ucr(name, normalize=normalize)

    def trained_model(self, dataset, model: str, overrides: Mapping[str, Any], *, seed: int,
                      runs_dir: str, device: str, progress: bool, recipe: str = "default"):
        """(model in eval mode, JSON-safe training record), reusing a matching checkpoint."""
        from aslo.training import get_trained_model

        config = resolve_train_config(model, overrides, recipe)
        net, record = get_trained_model(dataset, model, config, seed=seed, runs_dir=runs_dir,
                                        device=self.device(device), progress=progress)
        return net, json_safe(record)

    def shipped_model(self, dataset, model: str, *, seed: int, models_dir: str, device: str):
        """(model, record) from a read-only checkpoint folder of the default recipe; never trains
        (FileNotFoundError when ``models_dir`` lacks it)."""
        from aslo.training import get_trained_model

        config = resolve_train_config(model, {}, "default")
        net, record = get_trained_model(dataset, model, config, seed=seed, runs_dir=models_dir,
                                        device=self.device(device), progress=False, train_if_missing=False)
        return net, json_safe(record)

    def weights_fingerprint(self, net) -> str:
        """SHA-256 of a trained model's weights (see :func:`aslo.training.weights_fingerprint`)."""
        from aslo.training import weights_fingerprint

        return weights_fingerprint(net)

    def run_attack(self, net, x, y, attack: str, overrides: Mapping[str, Any], *, seed: int,
                   device: str, distance: str, batch_size: int | None, progress: bool, lengths=None):
        """Run one attack; returns (summary dict, per-sample records DataFrame, delta tensor).

        The runner stores ``delta`` as the cell's examples; a backend may return only the first
        two (then the cell is stored without examples). ``lengths``: the series' observed
        lengths (see :func:`aslo.attacks.run_attack`), passed by the runner whenever the dataset
        has them."""
        import torch

        from aslo.attacks import run_attack

        kwargs = dict(overrides)
        kwargs.setdefault("seed", seed)  # a profile's own attack seed wins over the cell's
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        if is_l0_benchmark_attack(attack):
            from aslo.peers.l0 import l0_attack_config, run_l0_attack

            settings = l0_attack_config(attack, {k: v for k, v in kwargs.items() if k != "seed"})
            result = run_l0_attack(net, torch.as_tensor(x), torch.as_tensor(y), attack, steps=settings["steps"],
                                   eps=settings["eps"], seed=kwargs["seed"], lengths=lengths,
                                   pointwise=settings["pointwise"])
            return json_safe(result.summary), result.records, result.delta
        result = run_attack(net, torch.as_tensor(x), torch.as_tensor(y), attack,
                            batch_size=batch_size or None, device=self.device(device),
                            progress=progress, distance=distance, lengths=lengths, **kwargs)
        return json_safe(result.summary), result.records, result.delta

    def device(self, device: str):
        """Resolve "auto"/"cpu"/"cuda" through the training layer."""
        from aslo.training import resolve_device

        return resolve_device(device)


def canonical_hash(config: Mapping[str, Any]) -> str:
    """A stable short hash of a JSON-safe mapping."""
    text = json.dumps(json_safe(config), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]
