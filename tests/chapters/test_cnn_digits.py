"""Numbers stated in book/cnn_digits.md, recomputed with companion.

The chapter's targets are pinned here: with the seed of "Training a digit classifier", the CNN's test
accuracy beats the MLP's 98.33%, and the three seeds the chapter reports.
"""

import re
from pathlib import Path

import numpy as np
import pytest

import companion
from companion import Adam, SoftmaxCrossEntropy, Tensor, digits_cnn, digits_mlp, evaluate, fit, load_digits

N_TEST = 359
BOOK = Path(__file__).resolve().parent.parent.parent / "book"


@pytest.fixture(scope="module")
def digits():
    (x_train, t_train), (x_test, t_test) = load_digits()
    return x_train, t_train, x_test, t_test


def train(model, x, t, seed):
    fit(model, x, t, optimizer=Adam(model.parameters(), lr=0.001), epochs=40, batch_size=32, rng=seed,
        progress=False)
    return model


@pytest.fixture(scope="module")
def trained(digits):
    """The six networks of the chapter: {(name, seed): model}."""
    x_train, t_train, _, _ = digits
    models = {}
    for seed in (0, 1, 2):
        models["MLP", seed] = train(digits_mlp(seed), x_train, t_train, seed)
        models["CNN", seed] = train(digits_cnn(seed), x_train.reshape(-1, 1, 8, 8), t_train, seed)
    return models


def mistakes(model, x, t):
    return round((1 - evaluate(model, x, t)[1]) * N_TEST)


def test_the_network_and_its_parameters():
    cnn = digits_cnn(0)
    counts = [sum(p.size for p, _ in layer.parameters()) for layer in cnn.layers if hasattr(layer, "parameters")]
    assert counts == [160, 4640, 8256, 650] and sum(counts) == 13_706
    assert sum(p.size for p, _ in digits_mlp(0).parameters()) == 50_826
    assert round(13_706 / 50_826, 2) == 0.27                          # "about a quarter"
    assert 160 + 4640 < 5000 and 8256 > 13_706 / 2                    # most in the first Linear layer
    x = np.zeros((32, 1, 8, 8))
    shapes = []
    for layer in cnn.layers:
        x = layer.forward(x)
        shapes.append(x.shape[1:])
    assert shapes == [(16, 8, 8), (16, 8, 8), (16, 4, 4), (32, 4, 4), (32, 4, 4), (32, 2, 2), (128,), (64,), (64,),
                      (10,)]


def test_digits_mlp_is_the_network_of_the_digit_classifier_chapter():
    """The chapter's own make_network, read from its source and run, draws the same weights."""
    source = (BOOK / "digit_classifier.md").read_text()
    cell = re.search(r"```\{code-cell\} ipython3\n(def make_network\(seed=0\):.*?)```", source, re.DOTALL).group(1)
    namespace = {"np": np, "Sequential": companion.Sequential, "Linear": companion.Linear, "ReLU": companion.ReLU}
    exec(cell.split("\nmodel = ")[0], namespace)
    mine, theirs = digits_mlp(3), namespace["make_network"](3)
    assert repr(mine) == repr(theirs)
    for (_, a, _), (_, b, _) in zip(mine.named_parameters(), theirs.named_parameters()):
        np.testing.assert_array_equal(a, b)


def test_the_spot_check_of_the_assembled_network():
    cnn = digits_cnn(0)
    x = np.random.default_rng(0).uniform(size=(2, 1, 8, 8))
    errors = companion.layer_gradient_errors(cnn, x, rng=1)
    assert errors["x"] < 1e-7 and errors["0.W"] < 1e-7 and errors["9.b"] < 1e-7


def test_the_cnn_beats_the_mlp_for_the_pinned_seed_and_for_each_of_three_seeds(digits, trained):
    _, _, x_test, t_test = digits
    images_test = x_test.reshape(-1, 1, 8, 8)
    cnn_wrong = [mistakes(trained["CNN", s], images_test, t_test) for s in (0, 1, 2)]
    mlp_wrong = [mistakes(trained["MLP", s], x_test, t_test) for s in (0, 1, 2)]
    assert mlp_wrong == [6, 9, 10] and cnn_wrong == [5, 7, 7]
    assert f"{1 - 6 / N_TEST:.2%}" == "98.33%" and f"{1 - 5 / N_TEST:.2%}" == "98.61%"
    assert evaluate(trained["CNN", 0], images_test, t_test)[1] > 0.9833
    assert (round(np.mean(cnn_wrong), 1), round(np.mean(mlp_wrong), 1)) == (6.3, 8.3)
    assert round(np.mean(mlp_wrong) - np.mean(cnn_wrong)) == 2                     # "two test images on average"
    assert max(cnn_wrong) - min(cnn_wrong) == 2 and max(mlp_wrong) - min(mlp_wrong) == 4   # "two to four"
    assert round(100 / N_TEST, 2) == 0.28
    assert -(-1438 // 32) == 45                                                     # minibatches per epoch


def test_the_engine_agrees_with_the_layers_to_round_off(digits, trained):
    _, _, x_test, t_test = digits
    cnn = trained["CNN", 0]
    params = {name: Tensor(param.copy()) for name, param, _ in cnn.named_parameters()}
    x, t = x_test[:32].reshape(-1, 1, 8, 8), t_test[:32]
    h = Tensor(x, requires_grad=False).conv2d(params["0.W"], params["0.b"], padding=1).relu().max_pool2d(2)
    h = h.conv2d(params["3.W"], params["3.b"], padding=1).relu().max_pool2d(2).reshape(32, -1)
    logits = (h @ params["7.W"] + params["7.b"]).relu() @ params["9.W"] + params["9.b"]
    shift = logits.data.max(axis=1, keepdims=True)
    loss = ((logits - shift).exp().sum(axis=1).log() - (logits - shift)[np.arange(32), t]).mean()
    loss.backward()
    loss_fn = SoftmaxCrossEntropy()
    assert loss.item() == pytest.approx(loss_fn.forward(cnn.forward(x), t), rel=1e-13)
    cnn.backward(loss_fn.backward())
    worst = max(np.abs(params[name].grad - grad).max() / np.abs(grad).max() for name, _, grad in cnn.named_parameters())
    assert worst < 1e-12


def test_the_learned_kernels_have_opposite_signs_side_by_side(trained):
    kernels = trained["CNN", 0][0].W[:, 0]
    limit = np.abs(kernels).max()
    strong_both = sum(k.max() > 0.5 * limit and k.min() < -0.5 * limit for k in kernels)
    assert strong_both >= 4                                            # "several"


def test_exercise_numbers(digits, trained):
    _, _, x_test, t_test = digits
    assert companion.check_answer("ex-cnn-params", (160, 4640, 8256, 650), verbose=False)
    assert 32 * 8 * 8 * 64 + 64 == 131_136 and 131_136 > 9 * 13_706                # "ten times the whole network"
    assert companion.check_answer("ex-cnn-receptive", (8, 10), verbose=False)
    images = x_test.reshape(-1, 1, 8, 8)
    for rows, cols in [(0, 1), (0, -1), (1, 0), (-1, 0)]:
        moved = np.zeros_like(images)
        moved[:, :, max(rows, 0):8 + min(rows, 0), max(cols, 0):8 + min(cols, 0)] = \
            images[:, :, max(-rows, 0):8 + min(-rows, 0), max(-cols, 0):8 + min(-cols, 0)]
        cnn_acc = evaluate(trained["CNN", 0], moved, t_test)[1]
        mlp_acc = evaluate(trained["MLP", 0], moved.reshape(-1, 64), t_test)[1]
        assert 0.45 < mlp_acc < 0.55                                    # "about half of its accuracy"
        assert 0.5 < cnn_acc < 0.77 and cnn_acc > mlp_acc              # "between half and three quarters"


def test_the_two_networks_misread_the_same_difficult_images(digits, trained):
    _, _, x_test, t_test = digits
    wrong_cnn = set(np.flatnonzero(trained["CNN", 0].forward(x_test.reshape(-1, 1, 8, 8)).argmax(axis=1) != t_test))
    wrong_mlp = set(np.flatnonzero(trained["MLP", 0].forward(x_test).argmax(axis=1) != t_test))
    both = wrong_cnn & wrong_mlp
    assert sorted((int(t_test[i]), i) for i in both) == [(3, 145), (5, 16), (7, 179), (8, 34)]
    assert [int(t_test[i]) for i in sorted(wrong_mlp - wrong_cnn)] == [8, 9]      # one of two 8s, the 9
    assert [(int(t_test[i])) for i in wrong_cnn - wrong_mlp] == [0]                 # a 0 ...
    assert trained["CNN", 0].forward(x_test[252].reshape(1, 1, 8, 8)).argmax() == 4  # ... read as 4
