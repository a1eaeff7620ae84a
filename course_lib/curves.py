"""Synthetic training curves, one kind per training problem, for diagnosis exercises.

``make_curves(kind, epochs, seed, noise)`` returns a ``(train_loss, val_loss)`` pair of
per-epoch cross-entropy losses that look like what a real 10-class run with that problem
produces. The same seed always gives the same curves, so a notebook's visible examples
and the grader's hidden tests can draw from one generator with different seeds and noise
levels. NumPy only.

The kinds:

- ``healthy``: both losses fall fast and level off low; validation stays close to training.
- ``lr_too_high_exploding``: the loss grows, often until it is NaN or infinite.
- ``lr_too_low``: the loss barely moves from where it started.
- ``lr_too_high_oscillating``: the loss zig-zags up and down by a large amount.
- ``overfitting``: training loss keeps falling towards 0 while validation loss reaches
  a minimum and then climbs.
- ``underfitting``: both losses fall at first, then stay high and close together.
"""

from __future__ import annotations

import numpy as np

KINDS = (
    "healthy",
    "lr_too_high_exploding",
    "lr_too_low",
    "lr_too_high_oscillating",
    "overfitting",
    "underfitting",
)

#: Largest accepted noise level (the standard deviation of the log-normal jitter).
MAX_NOISE = 0.2
MIN_EPOCHS = 10


def _decay(t: np.ndarray, start: float, floor: float, rate: float) -> np.ndarray:
    """Exponential approach from ``start`` to ``floor``; ``t`` runs from 0 to 1."""
    return floor + (start - floor) * np.exp(-rate * t)


def _zigzag(rng: np.random.Generator, epochs: int, amplitude: float) -> np.ndarray:
    """Alternating up/down factors around 1, each step between 0.6 and 1 times ``amplitude``."""
    sign = np.where(np.arange(epochs) % 2 == 0, 1.0, -1.0) * rng.choice([-1.0, 1.0])
    return 1.0 + sign * amplitude * rng.uniform(0.6, 1.0, epochs)


def _exploding(rng: np.random.Generator, t: np.ndarray, start: float) -> np.ndarray:
    epochs = len(t)
    turn = int(round(rng.uniform(0.1, 0.35) * epochs))
    growth = rng.uniform(0.35, 0.8)  # log-loss increase per epoch after the turn
    loss = _decay(t, start, 0.7 * start, rng.uniform(2.0, 4.0))
    steps = np.maximum(np.arange(epochs) - turn, 0)
    loss = loss * np.exp(growth * steps)
    if rng.random() < 0.5:  # half of the runs overflow: NaN from the first huge value on
        first_huge = np.flatnonzero(loss > 50 * start)
        if first_huge.size:
            loss[first_huge[0]:] = np.nan
    return loss


def make_curves(kind: str, epochs: int = 50, seed: int = 0, noise: float = 0.02):
    """Per-epoch ``(train_loss, val_loss)`` float arrays of one ``kind`` (see ``KINDS``).

    ``noise`` is the standard deviation of a multiplicative log-normal jitter applied to
    every value (0 gives smooth curves; the course uses 0 to 0.05). Exploding curves may
    contain NaN after the loss overflows.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown curve kind {kind!r}; choose one of {list(KINDS)}.")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < MIN_EPOCHS:
        raise ValueError(f"epochs should be a whole number of at least {MIN_EPOCHS}, not {epochs!r}.")
    if not 0 <= noise <= MAX_NOISE:
        raise ValueError(f"noise should be between 0 and {MAX_NOISE}, not {noise!r}.")
    rng = np.random.default_rng([int(seed), KINDS.index(kind)])
    t = np.linspace(0.0, 1.0, int(epochs))
    start = rng.uniform(2.0, 2.5)  # about ln(10): a 10-class model guessing at random

    if kind == "healthy":
        train = _decay(t, start, rng.uniform(0.08, 0.25), rng.uniform(4.0, 8.0))
        val = train * (1 + rng.uniform(0.05, 0.15))
    elif kind == "underfitting":
        train = _decay(t, start, rng.uniform(0.4, 0.6) * start, rng.uniform(5.0, 10.0))
        val = train * (1 + rng.uniform(0.02, 0.06))
    elif kind == "lr_too_low":
        train = start * (1 - rng.uniform(0.02, 0.08) * t)
        val = train * (1 + rng.uniform(0.01, 0.03))
    elif kind == "lr_too_high_oscillating":
        trend = start * (1 - rng.uniform(0.2, 0.5) * t)
        amplitude = rng.uniform(0.25, 0.45)
        train = trend * _zigzag(rng, len(t), amplitude)
        val = trend * _zigzag(rng, len(t), amplitude) * (1 + rng.uniform(0.02, 0.08))
    elif kind == "overfitting":
        train = _decay(t, start, rng.uniform(0.005, 0.03), rng.uniform(5.0, 9.0))
        best_at = rng.uniform(0.25, 0.45)  # where validation loss stops improving
        rise = rng.uniform(2.0, 3.5)  # about the final validation loss / its minimum
        best = np.interp(best_at, t, train)
        climb = best * (rise - 1) / (1 - best_at) ** 1.5
        val = train * (1 + rng.uniform(0.02, 0.08)) + climb * np.maximum(t - best_at, 0.0) ** 1.5
    else:  # lr_too_high_exploding
        train = _exploding(rng, t, start)
        val = train * (1 + rng.uniform(0.02, 0.1))

    with np.errstate(invalid="ignore"):
        train = train * np.exp(noise * rng.standard_normal(len(t)))
        val = val * np.exp(noise * rng.standard_normal(len(t)))
    return train, val


def example_curves(epochs: int = 50, seed: int = 0, noise: float = 0.02) -> dict:
    """``{kind: (train_loss, val_loss)}`` for every kind, in the order of ``KINDS``."""
    return {kind: make_curves(kind, epochs, seed, noise) for kind in KINDS}
