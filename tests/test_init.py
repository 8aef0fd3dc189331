"""companion.init: He and Xavier initialisers, seeded and scaled, and their errors."""

import numpy as np
import pytest

from companion import he_normal, xavier_normal
from companion.init import get_initializer


@pytest.mark.parametrize("init", [he_normal, xavier_normal], ids=lambda f: f.__name__)
def test_same_seed_or_generator_state_gives_the_same_weights(init):
    np.testing.assert_array_equal(init(4, 3, rng=7), init(4, 3, rng=7))
    np.testing.assert_array_equal(init(4, 3, rng=np.random.default_rng(7)), init(4, 3, rng=7))
    assert not np.array_equal(init(4, 3, rng=7), init(4, 3, rng=8))
    rng = np.random.default_rng(0)
    first, second = init(4, 3, rng=rng), init(4, 3, rng=rng)  # a Generator advances
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (1, 7), (9, 1), (400, 300)])
def test_shapes_and_standard_deviations(fan_in, fan_out):
    he, xavier = he_normal(fan_in, fan_out, rng=1), xavier_normal(fan_in, fan_out, rng=1)
    assert he.shape == xavier.shape == (fan_in, fan_out)
    assert he.dtype == xavier.dtype == np.float64
    if fan_in * fan_out > 10_000:  # enough samples for the spread to show
        assert he.std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.02)
        assert xavier.std() == pytest.approx(np.sqrt(2 / (fan_in + fan_out)), rel=0.02)
        assert abs(he.mean()) < 0.1 * he.std()


def test_he_keeps_the_scale_of_relu_activations_through_many_layers():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 256))
    for _ in range(10):
        x = np.maximum(0.0, x @ he_normal(256, 256, rng=rng))
    assert 0.5 < np.sqrt(np.mean(x ** 2)) < 2.0  # neither vanished nor exploded


def test_lookup_by_name():
    assert get_initializer("he") is he_normal and get_initializer("xavier") is xavier_normal


@pytest.mark.parametrize("init", [he_normal, xavier_normal], ids=lambda f: f.__name__)
@pytest.mark.parametrize("fan_in, fan_out, bad", [(0, 3, "fan_in must be a positive integer, got 0"),
                                                 (3, 2.5, "fan_out must be a positive integer, got 2.5"),
                                                 (True, 3, "fan_in must be a positive integer, got True")])
def test_bad_sizes_are_refused(init, fan_in, fan_out, bad):
    with pytest.raises(ValueError, match=f"^{init.__name__}: {bad}"):
        init(fan_in, fan_out, rng=0)


def test_bad_rng_and_unknown_name_are_refused():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, an int seed or None, got str"):
        he_normal(2, 2, rng="seed")
    with pytest.raises(ValueError, match=r"unknown initialiser 'glorot'; expected one of \['he', 'standard_normal', 'xavier'\] or a function"):
        get_initializer("glorot")


def test_standard_normal_has_unit_variance_whatever_the_size_and_callables_are_initialisers():
    from companion.init import standard_normal
    w = standard_normal(400, 300, rng=1)
    assert w.shape == (400, 300) and w.std() == pytest.approx(1.0, rel=0.02)
    np.testing.assert_array_equal(get_initializer("standard_normal")(3, 2, 5), standard_normal(3, 2, rng=5))
    small = lambda fan_in, fan_out, rng: 0.01 * standard_normal(fan_in, fan_out, rng)  # noqa: E731
    assert get_initializer(small) is small
    from companion import Linear
    np.testing.assert_array_equal(Linear(3, 2, init=small, rng=4).W, 0.01 * standard_normal(3, 2, rng=4))
    with pytest.raises(ValueError, match="^standard_normal: fan_in must be a positive integer, got 0"):
        standard_normal(0, 2)
