"""course_lib.data: where MNIST is found, how it is checked, and how it is shaped."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import OFFLINE_MNIST
from course_lib import data

pytestmark = pytest.mark.skipif(not OFFLINE_MNIST.is_file(), reason="needs the offline MNIST file")


# --- where the file comes from ---------------------------------------------------------

@pytest.fixture
def no_data(tmp_path, monkeypatch):
    """No COURSE_DATA, empty caches in tmp_path, and no network (the downloader fails)."""
    monkeypatch.delenv("COURSE_DATA", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    calls = []

    def offline(url, target):  # the connection drops after a few bytes
        calls.append((url, target))
        Path(target).write_bytes(b"PK\x03\x04 half a file")
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(data.urllib.request, "urlretrieve", offline)
    return calls


def place(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.symlink_to(OFFLINE_MNIST)
    return target


def corrupt(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(OFFLINE_MNIST.read_bytes()[:1000])
    return target


def test_cache_paths_follow_environment(no_data, tmp_path):
    assert data.course_cache_path() == tmp_path / "xdg" / "course_lib" / "mnist.npz"
    assert data.keras_cache_path() == tmp_path / "keras" / "datasets" / "mnist.npz"


def test_cache_paths_default_to_home(no_data, monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.delenv("KERAS_HOME")
    home = tmp_path / "home"
    assert data.course_cache_path() == home / ".cache" / "course_lib" / "mnist.npz"
    assert data.keras_cache_path() == home / ".keras" / "datasets" / "mnist.npz"


def test_explicit_path_wins_over_everything(no_data, monkeypatch, tmp_path):
    explicit = place(tmp_path / "mine" / "mnist.npz")
    monkeypatch.setenv("COURSE_DATA", str(place(tmp_path / "env" / "mnist.npz")))
    place(data.course_cache_path())
    place(data.keras_cache_path())
    source = data.resolve_mnist(explicit)
    assert (source.path, source.origin, source.variant) == (explicit, "the path argument", "lite")


def test_course_data_wins_over_caches(no_data, monkeypatch, tmp_path):
    env = place(tmp_path / "env" / "mnist.npz")
    monkeypatch.setenv("COURSE_DATA", str(env))
    place(data.course_cache_path())
    place(data.keras_cache_path())
    source = data.resolve_mnist()
    assert (source.path, source.origin) == (env, "$COURSE_DATA")


def test_course_cache_wins_over_keras_cache(no_data):
    course = place(data.course_cache_path())
    place(data.keras_cache_path())
    source = data.resolve_mnist()
    assert (source.path, source.origin) == (course, "the course cache")


def test_keras_cache_is_used_last_before_download(no_data):
    keras = place(data.keras_cache_path())
    source = data.resolve_mnist()
    assert (source.path, source.origin) == (keras, "the Keras cache")
    assert no_data == [], "nothing should be downloaded when a cache has the file"


def test_download_goes_to_keras_cache(no_data, monkeypatch):
    def fake_download(url, target):
        assert url == data.KERAS_URL
        shutil.copyfile(OFFLINE_MNIST, target)

    monkeypatch.setattr(data.urllib.request, "urlretrieve", fake_download)
    source = data.resolve_mnist()
    assert source.origin == "the Keras download"
    assert source.path == data.keras_cache_path()
    assert source.path.is_file() and not source.path.with_suffix(".part").exists()


def test_nothing_found_and_download_fails(no_data):
    with pytest.raises(data.MnistNotFoundError) as error:
        data.resolve_mnist()
    message = str(error.value)
    assert "download failed" in message and "network is unreachable" in message
    assert "COURSE_DATA" in message
    assert len(no_data) == 1
    assert not any(data.keras_cache_path().parent.glob("*")), "a partial download was left behind"


def test_nothing_found_without_download(no_data):
    with pytest.raises(data.MnistNotFoundError, match="COURSE_DATA"):
        data.resolve_mnist(download=False)
    assert no_data == []


def test_missing_explicit_path(no_data, tmp_path):
    with pytest.raises(data.MnistNotFoundError, match="does not exist.*COURSE_DATA"):
        data.load_mnist(tmp_path / "nowhere.npz")


def test_course_data_pointing_nowhere_is_an_error(no_data, monkeypatch, tmp_path):
    place(data.keras_cache_path())
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "typo.npz"))
    with pytest.raises(data.MnistNotFoundError, match=r"\$COURSE_DATA"):
        data.resolve_mnist()


@pytest.mark.parametrize("where", ["env", "course cache", "keras cache", "path"])
def test_corrupt_file_is_rejected(no_data, monkeypatch, tmp_path, where):
    if where == "env":
        monkeypatch.setenv("COURSE_DATA", str(corrupt(tmp_path / "bad.npz")))
        arg = None
    elif where == "course cache":
        corrupt(data.course_cache_path())
        place(data.keras_cache_path())
        arg = None
    elif where == "keras cache":
        corrupt(data.keras_cache_path())
        arg = None
    else:
        arg = corrupt(tmp_path / "bad.npz")
    with pytest.raises(data.MnistChecksumError) as error:
        data.load_mnist(arg)
    message = str(error.value)
    assert "not a known MNIST file" in message and "sha256" in message
    assert "COURSE_DATA" in message


def test_unknown_but_valid_npz_is_rejected(no_data, tmp_path):
    fake = tmp_path / "fake.npz"
    np.savez(fake, x_train=np.zeros((2, 28, 28), np.uint8), y_train=np.zeros(2, np.uint8),
             x_test=np.zeros((1, 28, 28), np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(data.MnistChecksumError, match="COURSE_DATA"):
        data.mnist_variant(fake)


def test_sha256_of_matches_known_lite_file():
    assert data.KNOWN_FILES[data.sha256_of(OFFLINE_MNIST)] == "lite"


# --- what load_mnist returns -----------------------------------------------------------

def test_variant_is_lite():
    assert data.mnist_variant(OFFLINE_MNIST) == "lite"
    assert data.mnist_variant() == "lite"  # via COURSE_DATA from conftest


def test_keras_layout_dtypes_and_shapes():
    (x_train, y_train), (x_test, y_test) = data.load_mnist(OFFLINE_MNIST)
    assert x_train.shape == (10_000, 28, 28) and x_test.shape == (10_000, 28, 28)
    assert y_train.shape == (10_000,) and y_test.shape == (10_000,)
    for array in (x_train, y_train, x_test, y_test):
        assert array.dtype == np.uint8
    assert x_train.max() == 255 and x_train.min() == 0
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))


def test_returned_arrays_are_writable_copies():
    (x_train, y_train), _ = data.load_mnist(OFFLINE_MNIST)
    original = int(x_train[0, 14, 14]), int(y_train[0])
    x_train[0, 14, 14] = 255 - original[0]
    y_train[0] = (original[1] + 1) % 10
    (x_again, y_again), _ = data.load_mnist(OFFLINE_MNIST)
    assert (int(x_again[0, 14, 14]), int(y_again[0])) == original
    assert not np.shares_memory(x_train, x_again)


# --- shaping helpers -------------------------------------------------------------------

def test_scale_01():
    images = np.array([[[0, 51, 255]]], dtype=np.uint8)
    scaled = data.scale_01(images)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[[0.0, 0.2, 1.0]]], rtol=1e-6)


def test_add_channel_axis_both_layouts():
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28)
    last = data.add_channel_axis(images)
    first = data.add_channel_axis(images, channels_first=True)
    assert last.shape == (2, 28, 28, 1) and first.shape == (2, 1, 28, 28)
    np.testing.assert_array_equal(last[..., 0], images)
    np.testing.assert_array_equal(first[:, 0], images)


@pytest.mark.parametrize("shape", [(28, 28), (2, 28, 28, 1), (784,)])
def test_add_channel_axis_rejects_bad_shape(shape):
    with pytest.raises(ValueError, match=r"\(N, 28, 28\)"):
        data.add_channel_axis(np.zeros(shape))


def test_flatten():
    images = np.arange(3 * 28 * 28).reshape(3, 28, 28)
    flat = data.flatten(images)
    assert flat.shape == (3, 784)
    np.testing.assert_array_equal(flat[1], images[1].ravel())


def test_one_hot():
    encoded = data.one_hot(np.array([0, 3, 9], dtype=np.uint8))
    assert encoded.shape == (3, 10) and encoded.dtype == np.float32
    np.testing.assert_array_equal(encoded.argmax(axis=1), [0, 3, 9])
    np.testing.assert_array_equal(encoded.sum(axis=1), [1, 1, 1])
    assert data.one_hot(np.array([2]), num_classes=3).tolist() == [[0, 0, 1]]


@pytest.mark.parametrize("labels", [[0, 10], [-1, 2]])
def test_one_hot_rejects_out_of_range(labels):
    with pytest.raises(ValueError, match=r"0\.\.9"):
        data.one_hot(np.array(labels))


def test_one_hot_rejects_one_hot_input():
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        data.one_hot(np.eye(10))


# --- splits ----------------------------------------------------------------------------

def _rows(images):
    return {row.tobytes() for row in images}


def test_train_val_test_sizes_and_disjoint():
    splits = data.train_val_test(3000, 1000, 500, seed=1)
    assert splits.x_train.shape == (3000, 28, 28) and splits.y_train.shape == (3000,)
    assert splits.x_val.shape == (1000, 28, 28) and splits.y_val.shape == (1000,)
    assert splits.x_test.shape == (500, 28, 28) and splits.y_test.shape == (500,)
    assert splits.x_train.dtype == np.uint8 and splits.y_train.dtype == np.uint8
    # MNIST has (almost) no duplicate images, so shared rows would mean overlapping indices.
    (x_all, _), _ = data.load_mnist()
    duplicates = len(x_all) - len(_rows(x_all))
    assert len(_rows(splits.x_train) & _rows(splits.x_val)) <= duplicates


def test_train_val_test_uses_all_training_images_without_overlap():
    (x_all, _), _ = data.load_mnist()
    splits = data.train_val_test(8000, 2000, 10, seed=3)
    together = np.concatenate([splits.x_train, splits.x_val])
    assert _rows(together) == _rows(x_all)


def test_train_val_test_labels_match_images():
    (x_all, y_all), _ = data.load_mnist()
    lookup = {row.tobytes(): label for row, label in zip(x_all, y_all)}
    splits = data.train_val_test(200, 100, 10, seed=5)
    assert all(lookup[row.tobytes()] == label for row, label in zip(splits.x_val, splits.y_val))


def test_train_val_test_is_seeded():
    a = data.train_val_test(100, 50, 20, seed=7)
    b = data.train_val_test(100, 50, 20, seed=7)
    c = data.train_val_test(100, 50, 20, seed=8)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_train, c.x_train)


def test_train_val_test_too_large():
    with pytest.raises(ValueError, match="lite MNIST training split has only 10000"):
        data.train_val_test(9000, 2000, 10)
    with pytest.raises(ValueError, match="there are 10000"):
        data.train_val_test(10, 10, 10_001)


def test_load_mnist_data_shapes_and_one_hot():
    x_tr, y_tr, x_va, y_va, x_te, y_te = data.load_mnist_data(300, 100, 50, seed=2)
    assert x_tr.shape == (300, 28, 28, 1) and x_va.shape == (100, 28, 28, 1)
    assert x_te.shape == (50, 28, 28, 1)
    assert y_tr.shape == (300, 10) and y_va.shape == (100, 10) and y_te.shape == (50, 10)
    for x in (x_tr, x_va, x_te):
        assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0
    for y in (y_tr, y_va, y_te):
        np.testing.assert_array_equal(y.sum(axis=1), np.ones(len(y)))
    splits = data.train_val_test(300, 100, 50, seed=2)
    np.testing.assert_array_equal(y_tr.argmax(axis=1), splits.y_train)
    np.testing.assert_allclose(x_te[..., 0], splits.x_test / 255.0, rtol=1e-6)
