"""Fitted scikit-learn linear classifiers (LinearSVC, LogisticRegression) kept as NumPy arrays and a JSON index
entry, never pickles, so a saved run loads without running code from its files."""

from pathlib import Path

import numpy as np


def save_linear(folder: Path, n: int, model) -> dict:
    """Write the model's weights as coef_<n>.npy and intercept_<n>.npy; returns its index entry."""
    np.save(folder / f"coef_{n}.npy", model.coef_)
    np.save(folder / f"intercept_{n}.npy", model.intercept_)
    return {"n": n, "classes": [str(c) for c in model.classes_]}


def load_linear(folder: Path, entry: dict, cls):
    """An unfitted `cls()` given the saved weights and classes: ready to predict."""
    model = cls()
    model.coef_ = np.load(Path(folder) / f"coef_{entry['n']}.npy")
    model.intercept_ = np.load(Path(folder) / f"intercept_{entry['n']}.npy")
    model.classes_ = np.array(entry["classes"], dtype=object)
    return model
