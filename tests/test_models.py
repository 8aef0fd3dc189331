"""companion.models: the book's networks for the digits."""

import numpy as np
import pytest

import companion
from companion import Linear, Sequential, digits_cnn, digits_mlp


def test_the_mlp_and_the_cnn_shapes_and_parameters():
    mlp, cnn = digits_mlp(0), digits_cnn(0)
    assert mlp.forward(np.zeros((3, 64))).shape == (3, 10)
    assert cnn.forward(np.zeros((3, 1, 8, 8))).shape == (3, 10)
    assert sum(p.size for p, _ in mlp.parameters()) == 50_826
    assert sum(p.size for p, _ in cnn.parameters()) == 13_706
    assert [type(layer).__name__ for layer in cnn.layers] == [
        "Conv2d", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Linear", "ReLU", "Linear"]


@pytest.mark.parametrize("build", [digits_mlp, digits_cnn])
def test_the_same_seed_gives_the_same_weights(build):
    for (_, a, _), (_, b, _) in zip(build(4).named_parameters(), build(4).named_parameters()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(build(4).parameters()[0][0], build(5).parameters()[0][0])


def test_digits_mlp_draws_its_weights_layer_by_layer_from_one_generator():
    rng = np.random.default_rng(7)
    by_hand = Sequential(Linear(64, 256, rng=rng), companion.ReLU(), Linear(256, 128, rng=rng), companion.ReLU(),
                         Linear(128, 10, rng=rng))
    for (_, a, _), (_, b, _) in zip(digits_mlp(7).named_parameters(), by_hand.named_parameters()):
        np.testing.assert_array_equal(a, b)


def test_the_cnn_trains_with_fit_on_images_and_its_gradients_check():
    cnn = digits_cnn(0)
    x = np.random.default_rng(0).uniform(size=(20, 1, 8, 8))
    t = np.arange(20) % 10
    history = companion.fit(cnn, x, t, optimizer=companion.Adam(cnn.parameters(), lr=0.01), epochs=5, batch_size=5,
                            progress=False)
    assert history["loss"][-1] < history["loss"][0]
    errors = companion.layer_gradient_errors(digits_cnn(1), x[:2], rng=2)
    assert errors["x"] < 1e-7 and errors["3.b"] < 1e-7
