"""companion.diagnostics: layer_statistics records every activation and every weight gradient's norm."""

import numpy as np
import pytest

import companion
from companion import layer_statistics


def test_layer_statistics_records_activations_and_gradient_norms_of_one_pass():
    rng = np.random.default_rng(0)
    x, t = rng.normal(size=(6, 5)), rng.integers(0, 3, size=6)
    model = companion.mlp([5, 4, 4, 3], "sigmoid", rng=1)
    stats = layer_statistics(model, x, t)
    z1 = model[1].forward(model[0].forward(x))
    np.testing.assert_array_equal(stats["activations"][0], z1)
    assert [a.shape for a in stats["activations"]] == [(6, 4), (6, 4)]
    loss = companion.SoftmaxCrossEntropy()
    assert stats["loss"] == pytest.approx(loss.forward(model.forward(x), t), rel=1e-15)
    model.backward(loss.backward())
    expected = [np.linalg.norm(layer.grad_W) for layer in model if isinstance(layer, companion.Linear)]
    np.testing.assert_allclose(stats["grad_norms"], expected, rtol=1e-15)
    with pytest.raises(TypeError, match="layer_statistics: expected a Sequential model, got Linear"):
        layer_statistics(companion.Linear(5, 3), x, t)
