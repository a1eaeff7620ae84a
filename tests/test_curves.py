"""course_lib.curves: each synthetic curve kind has the shape its name promises."""

from __future__ import annotations

import numpy as np
import pytest

from course_lib import curves

SEEDS = range(40)


def ends(loss: np.ndarray) -> tuple[float, float]:
    """Median of the first three and of the last three epochs."""
    return float(np.median(loss[:3])), float(np.median(loss[-3:]))


def each(kind: str, epochs: int = 50, noise: float = 0.0):
    for seed in SEEDS:
        yield curves.make_curves(kind, epochs, seed, noise)


@pytest.mark.parametrize("kind", curves.KINDS)
def test_curves_are_float_arrays_of_the_requested_length(kind):
    train, val = curves.make_curves(kind, epochs=37, seed=3, noise=0.02)
    assert train.shape == val.shape == (37,)
    assert train.dtype == val.dtype == np.float64
    finite = np.isfinite(train)
    assert finite[:3].all() and (train[finite] > 0).all()


@pytest.mark.parametrize("kind", curves.KINDS)
def test_same_seed_same_curves_other_seed_other_curves(kind):
    a, b, c = (curves.make_curves(kind, 30, seed, 0.02) for seed in (5, 5, 6))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.allclose(np.nan_to_num(a[0]), np.nan_to_num(c[0]))


def test_noise_zero_is_smooth_and_noise_adds_jitter():
    smooth, _ = curves.make_curves("healthy", 50, seed=1, noise=0.0)
    noisy, _ = curves.make_curves("healthy", 50, seed=1, noise=0.05)
    assert (np.diff(smooth) < 0).all()
    assert (np.diff(noisy) > 0).any()
    assert np.allclose(noisy, smooth, rtol=0.25)


def test_healthy_ends_low_with_validation_close_to_training():
    for train, val in each("healthy", noise=0.02):
        start, end = ends(train)
        assert end < 0.15 * start
        assert np.all(val[-5:] < 1.3 * train[-5:])


def test_exploding_grows_or_overflows_to_nan():
    nan_runs = 0
    for train, _ in each("lr_too_high_exploding"):
        if np.isnan(train).any():
            nan_runs += 1
        else:
            assert train[-1] > 10 * train[0]
    assert 0 < nan_runs < len(SEEDS), "some exploding runs should end in NaN, others not"


def test_lr_too_low_barely_moves():
    for train, _ in each("lr_too_low", noise=0.0):
        start, end = ends(train)
        assert 0.9 * start < end < start


def test_oscillating_zigzags_with_large_steps():
    for train, _ in each("lr_too_high_oscillating", noise=0.0):
        rises = np.diff(train) / train[:-1] > 0.15
        assert 0.4 < rises.mean() < 0.6
        assert train[-6:].mean() < train[:6].mean()


def test_overfitting_validation_turns_up_while_training_falls():
    for train, val in each("overfitting", noise=0.0):
        start, end = ends(train)
        assert end < 0.05 * start
        assert val[-1] > 1.5 * val.min()
        assert 0.15 * len(val) < np.argmin(val) < 0.7 * len(val)


def test_underfitting_levels_off_high():
    for train, val in each("underfitting", noise=0.0):
        start, end = ends(train)
        assert 0.35 * start < end < 0.65 * start
        assert abs(train[-10:] - train[-1]).max() < 0.05 * start
        assert np.all(val[-5:] < 1.1 * train[-5:])


def test_example_curves_has_every_kind_in_order():
    examples = curves.example_curves(epochs=20, seed=2)
    assert tuple(examples) == curves.KINDS
    np.testing.assert_array_equal(examples["overfitting"][1], curves.make_curves("overfitting", 20, 2)[1])


@pytest.mark.parametrize("kwargs, words", [
    ({"kind": "bumpy"}, "Unknown curve kind"),
    ({"kind": "healthy", "epochs": 5}, "at least 10"),
    ({"kind": "healthy", "epochs": 20.5}, "whole number"),
    ({"kind": "healthy", "epochs": True}, "whole number"),
    ({"kind": "healthy", "noise": -0.1}, "noise should be"),
    ({"kind": "healthy", "noise": 1.0}, "noise should be"),
])
def test_bad_arguments_get_a_clear_error(kwargs, words):
    with pytest.raises(ValueError, match=words):
        curves.make_curves(**kwargs)
