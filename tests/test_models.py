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


# --- the character-level language models (part VII) -------------------------------------------------

from companion import (LayerNorm, LearnedPositions, RNN, Embedding, SoftmaxCrossEntropy,  # noqa: E402
                       TransformerBlock, char_rnn, char_transformer)


def test_the_character_models_map_ids_to_logits_at_every_position():
    rnn, transformer = char_rnn(11, dim=4, hidden=6, seed=0), char_transformer(11, dim=8, heads=2, max_length=5, seed=0)
    ids = np.random.default_rng(0).integers(0, 11, size=(3, 5))
    assert rnn.forward(ids).shape == (3, 5, 11) and transformer.forward(ids).shape == (3, 5, 11)
    assert [type(layer) for layer in rnn.layers] == [Embedding, RNN, Linear]
    assert [type(layer) for layer in transformer.layers] == [Embedding, LearnedPositions, TransformerBlock, LayerNorm,
                                                            Linear]
    assert len(char_transformer(11, dim=8, blocks=3).layers) == 7
    assert transformer.forward(ids[:, :1]).shape == (3, 1, 11)                     # S = 1
    with pytest.raises(ValueError, match=r"Sequential layer 1: LearnedPositions\(5, 8\): input x has shape "
                                         r"\(1, 6, 8\), expected \(n, S, 8\) with S <= 5"):
        transformer.forward(np.zeros((1, 6), dtype=int))
    with pytest.raises(ValueError, match="token id 11 at index"):
        rnn.forward(np.array([[11]]))
    assert sum(p.size for p, _ in char_rnn(81).parameters()) == 81 * 32 + 32 * 96 + 96 * 96 + 96 + 96 * 81 + 81


@pytest.mark.parametrize("build", [char_rnn, char_transformer])
def test_the_character_models_are_seeded_and_causal(build):
    for (_, a, _), (_, b, _) in zip(build(7, seed=3).named_parameters(), build(7, seed=3).named_parameters()):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(build(7, seed=3).parameters()[0][0], build(7, seed=4).parameters()[0][0])
    model = build(7, seed=0)
    ids = np.random.default_rng(1).integers(0, 7, size=(2, 6))
    later = ids.copy()
    later[:, 3:] = (later[:, 3:] + 1) % 7                                           # change positions 4..6
    before, after = model.forward(ids), model.forward(later)
    np.testing.assert_array_equal(before[:, :3], after[:, :3])
    assert not np.allclose(before[:, 3], after[:, 3])


def test_a_transformer_without_the_mask_sees_the_future_with_the_same_weights():
    causal, leaky = char_transformer(7, seed=0), char_transformer(7, seed=0, causal=False)
    for (_, a, _), (_, b, _) in zip(causal.named_parameters(), leaky.named_parameters()):
        np.testing.assert_array_equal(a, b)
    ids = np.random.default_rng(1).integers(0, 7, size=(1, 6))
    later = ids.copy()
    later[0, 5] = (later[0, 5] + 1) % 7
    assert not np.allclose(leaky.forward(ids)[0, 0], leaky.forward(later)[0, 0])


@pytest.mark.parametrize("build", [char_rnn, char_transformer])
def test_the_character_models_gradients_check(build):
    model = build(7, dim=4, hidden=6, seed=0) if build is char_rnn else build(7, dim=8, heads=2, max_length=6, seed=0)
    ids = np.random.default_rng(2).integers(0, 7, size=(2, 6))
    targets = np.random.default_rng(3).integers(0, 7, size=(2, 6))
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(ids), targets)
    model.backward(loss.backward(), input_grad=False)

    def loss_now():
        return SoftmaxCrossEntropy().forward(model.forward(ids), targets)

    for name, param, grad in model.named_parameters():
        numeric = companion.numerical_parameter_gradient(loss_now, param)
        assert companion.relative_error(grad, numeric) < 1e-6, name


def test_the_character_models_train():
    rnn = char_rnn(4, dim=4, hidden=8, seed=0)
    ids = np.tile([0, 1, 2, 3], 50)
    history = companion.fit_language_model(rnn, ids, optimizer=companion.Adam(rnn.parameters(), lr=0.05), steps=60,
                                           length=8, batch_size=4, rng=0)
    assert history["loss"][0] > 1.2 and history["loss"][-1] < 0.1
