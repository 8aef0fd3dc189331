"""companion.regularization: Dropout's mask, its modes, its seeded generator, its gradient and errors."""

import numpy as np
import pytest

import companion
from companion import Dropout, check_layer


def test_training_forward_drops_entries_and_scales_the_rest():
    x = np.random.default_rng(0).normal(size=(200, 50))
    drop = Dropout(0.3, rng=1)
    out = drop.forward(x)
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-15)
    assert abs((~kept).mean() - 0.3) < 4 * np.sqrt(0.3 * 0.7 / x.size)  # within 4 standard deviations
    np.testing.assert_array_equal(drop.mask, kept / 0.7)


def test_the_scale_keeps_the_expected_value():
    x = np.full((1000, 100), 2.0)
    out = Dropout(0.5, rng=2).forward(x)
    assert abs(out.mean() - 2.0) < 4 * 2.0 / np.sqrt(x.size)


def test_same_seed_same_masks_and_a_new_mask_every_forward():
    x = np.ones((4, 6))
    a, b = Dropout(0.5, rng=3), Dropout(0.5, rng=np.random.default_rng(3))
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, a.forward(x))
    assert isinstance(a.rng, np.random.Generator)


def test_backward_is_dout_times_the_stored_mask():
    x, dout = np.random.default_rng(4).normal(size=(3, 5)), np.random.default_rng(5).normal(size=(3, 5))
    drop = Dropout(0.4, rng=6)
    out = drop.forward(x)
    np.testing.assert_array_equal(drop.backward(dout), dout * drop.mask)
    np.testing.assert_array_equal(out, x * drop.mask)


@pytest.mark.parametrize("shape", [(1, 3), (4, 5), (2, 3, 4), (6,)], ids=str)
def test_any_shape_and_check_layer_passes(shape):
    drop = Dropout(0.5, rng=7)
    x = np.random.default_rng(8).normal(size=shape)
    assert drop.forward(x).shape == shape
    assert check_layer(Dropout(0.5, rng=7), [shape], verbose=False)
    assert check_layer(Dropout, args=(0.25,), verbose=False)


def test_eval_mode_is_the_identity_and_draws_nothing():
    x = np.random.default_rng(9).normal(size=(3, 4))
    drop = Dropout(0.5, rng=10)
    state = drop.rng.bit_generator.state
    assert drop.eval() is drop and drop.training is False
    np.testing.assert_array_equal(drop.forward(x), x)
    np.testing.assert_array_equal(drop.backward(x * 2), x * 2)
    assert drop.rng.bit_generator.state == state
    assert drop.train() is drop and drop.training
    assert not np.array_equal(drop.forward(x), x)
    assert check_layer(Dropout(0.5, rng=0).eval(), verbose=False)


def test_rate_zero_is_the_identity():
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_array_equal(Dropout(0.0, rng=0).forward(x), x)


def test_backward_follows_the_mode_of_its_forward():
    drop = Dropout(0.5, rng=11)
    drop.forward(np.ones((2, 8)))
    mask = drop.mask.copy()
    drop.eval()
    np.testing.assert_array_equal(drop.backward(np.ones((2, 8))), mask)


def test_errors():
    with pytest.raises(ValueError, match=r"^Dropout: rate must be a number in \[0, 1\), got 1.0$"):
        Dropout(1.0)
    with pytest.raises(ValueError, match=r"^Dropout: rate must be a number in \[0, 1\), got -0.1$"):
        Dropout(-0.1)
    with pytest.raises(ValueError, match=r"^Dropout: rate must be a number in \[0, 1\), got '0.5'$"):
        Dropout("0.5")
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, an int seed or None, got str"):
        Dropout(0.5, rng="seed")
    with pytest.raises(RuntimeError, match=r"^Dropout\(rate=0.5\): backward\(\) called before forward\(\)"):
        Dropout(0.5).backward(np.ones(3))
    drop = Dropout(0.5, rng=0)
    drop.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.5\): upstream gradient dout .* expected \(2, 3\)"):
        drop.backward(np.ones((3, 2)))
    with pytest.raises(ValueError, match=r"Dropout\(rate=0.5\): input x contains NaN"):
        drop.forward(np.array([np.nan]))


def test_exported():
    assert companion.Dropout is Dropout
