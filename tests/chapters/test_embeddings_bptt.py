"""Numbers stated in book/embeddings_bptt.md, recomputed with companion (independently of the chapter's code)."""

import numpy as np
import pytest

import companion
from companion import RNN, Embedding, Tensor, clip_grad_norm, tensor_rnn, xavier_normal

VOCAB = "abcdef"
IDS = np.array([[0, 1, 0, 2], [4, 3, 3, 0]])          # "abac", "edda"


def test_the_token_ids_and_the_lookup():
    assert [[VOCAB[j] for j in row] for row in IDS] == [list("abac"), list("edda")]
    emb = Embedding(6, 3, rng=0)
    X = emb.forward(IDS)
    assert X.shape == (2, 4, 3)
    onehot = np.eye(6)[IDS]                                          # (n, S, C)
    np.testing.assert_array_equal(onehot @ emb.W, X)                 # "equal to onehot @ W_emb: True"
    np.testing.assert_array_equal(X[1, 3], emb.W[0])                 # sequence 2, position 4 is "a"
    assert np.bincount(IDS.ravel(), minlength=6).tolist() == [3, 1, 1, 2, 1, 0]   # "a" three times, "f" never


def test_the_fanout_figure_of_abac():
    emb = Embedding(6, 1, rng=0)
    emb.W[:, 0] = [0.5, -1.0, 2.0, 0.0, 1.5, -0.5]
    emb.forward(IDS[:1])
    emb.backward(np.array([1.0, 2.0, 3.0, 4.0]).reshape(1, 4, 1))
    assert emb.grad_W[:, 0].tolist() == [4.0, 2.0, 4.0, 0.0, 0.0, 0.0]   # a: 1 + 3; b: 2; c: 4; d, e, f: 0


def test_the_scatter_add_checks_and_the_buffered_bug():
    emb = Embedding(6, 3, rng=0)
    dX = np.random.default_rng(1).normal(size=(2, 4, 3))
    emb.forward(IDS)
    emb.backward(dX)
    W = Tensor(emb.W.copy())
    (W[IDS] * dX).sum().backward()
    assert companion.relative_error(emb.grad_W, W.grad) == 0.0                     # printed 0e+00
    numeric = companion.numerical_parameter_gradient(lambda: np.sum(emb.forward(IDS) * dX), emb.W)
    assert companion.relative_error(emb.grad_W, numeric) < 1e-9                    # "by a wide margin"
    assert not emb.grad_W[5].any()                                                 # "f" is used nowhere
    buffered = np.zeros((6, 3))
    buffered[IDS] += dX
    np.testing.assert_array_equal(buffered[0], dX[1, 3])                           # the last write of "a" wins
    assert not np.allclose(buffered[0], emb.grad_W[0])


def test_the_rnn_forward_matches_a_loop_of_the_definition():
    rng = np.random.default_rng(0)
    rnn = RNN(3, 4, rng=2)
    X = rng.normal(size=(2, 4, 3))
    H0 = rng.normal(size=(2, 4))
    out = rnn.forward(X, H0)
    assert out.shape == (2, 4, 4)
    H = H0
    for tau in range(4):
        H = np.tanh(X[:, tau] @ rnn.W_x + H @ rnn.W_h + rnn.b)
        np.testing.assert_allclose(out[:, tau], H, rtol=1e-14)


def scalar_rnn(inputs, W_X=1.0, W_H=0.5, b=0.0):
    """The unrolled figure's layer: one number everywhere, H_0 = 0; returns the states and dL/dW_H for L = H_S."""
    rnn = RNN(1, 1, rng=0)
    rnn.W_x[...], rnn.W_h[...], rnn.b[...] = W_X, W_H, b
    out = rnn.forward(np.array(inputs, dtype=float).reshape(1, -1, 1))
    dout = np.zeros_like(out)
    dout[0, -1, 0] = 1.0
    rnn.backward(dout)
    return out.ravel(), rnn


def test_the_unrolled_figure_and_its_shares():
    states, rnn = scalar_rnn([1.0, -0.5, 2.0])
    assert states.round(4).tolist() == [0.7616, -0.1186, 0.9596]
    assert rnn.grad_W_h.item() == pytest.approx(0.020336, abs=5e-7)
    # the share of position tau is the derivative with respect to a copy of W_H used there alone
    def loss(copies):
        h = 0.0
        for x, w in zip([1.0, -0.5, 2.0], copies):
            h = np.tanh(x + h * w)
        return h
    shares = companion.numerical_gradient(loss, np.full(3, 0.5))
    assert shares.round(6).tolist() == [0.0, 0.029731, -0.009395]
    assert shares.sum() == pytest.approx(rnn.grad_W_h.item(), rel=1e-8)
    assert np.round(-0.009395 * 1e6) == -9395 and round(0.02973, 5) == 0.02973      # the caption's rounding


def test_bptt_of_the_layer_agrees_with_central_differences_and_the_engine():
    rng = np.random.default_rng(1)
    rnn = RNN(3, 4, rng=2)
    rnn.b[...] = rng.normal(scale=0.5, size=4)
    X, H0, Gamma = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4, 4))
    rnn.forward(X, H0)
    dX = rnn.backward(Gamma)

    def loss(X, W_X, W_H, b, H0):
        return float(np.sum(tensor_rnn(X, W_X, W_H, b, H0).data * Gamma))

    values = {"X": X, "W_X": rnn.W_x, "W_H": rnn.W_h, "b": rnn.b, "H0": H0}
    grads = {"X": dX, "W_X": rnn.grad_W_x, "W_H": rnn.grad_W_h, "b": rnn.grad_b, "H0": rnn.grad_h0}
    errors = companion.gradient_errors(loss, values, grads)
    assert max(errors.values()) < 1e-7                                # "better than 1e-7"
    tensors = {name: Tensor(v.copy()) for name, v in values.items()}
    (tensor_rnn(*tensors.values()) * Gamma).sum().backward()
    for name in values:
        assert companion.relative_error(grads[name], tensors[name].grad) < 1e-12, name   # round-off


def orthogonal(d, rng):
    q, r = np.linalg.qr(rng.normal(size=(d, d)))
    return q * np.sign(np.diag(r))


@pytest.fixture(scope="module")
def experiment():
    rng = np.random.default_rng(3)
    Q = orthogonal(16, rng)
    W_X = xavier_normal(16, 16, rng)
    inputs = rng.normal(size=(1, 30, 16))
    Gamma = rng.normal(size=(1, 16))
    results = {}
    for c in (0.8, 1.0, 1.2, 4.0):
        for size in (1e-4, 1.0):
            rnn = RNN(16, 16, rng=0)
            rnn.W_x[...], rnn.W_h[...] = W_X, c * Q
            out = rnn.forward(size * inputs)
            rest = RNN(16, 16, rng=0)                       # positions 2..S, started from H_1: grad_h0 = dL/dH_1
            rest.W_x[...], rest.W_h[...] = W_X, c * Q
            tail = rest.forward(size * inputs[:, 1:], out[:, 0])
            dout = np.zeros_like(tail)
            dout[:, -1] = Gamma
            rest.backward(dout)
            ratio = np.linalg.norm(rest.grad_h0) / np.linalg.norm(Gamma)
            results[c, size] = ratio, np.mean(1 - out ** 2)
    return Q, W_X, inputs, Gamma, results


def test_the_spectral_norm_experiment(experiment):
    Q, _, _, _, results = experiment
    assert np.linalg.norm(0.8 * Q, 2) == pytest.approx(0.8, abs=1e-12)
    tiny = {c: results[c, 1e-4] for c in (0.8, 1.0, 1.2, 4.0)}
    ordinary = {c: results[c, 1.0] for c in (0.8, 1.0, 1.2, 4.0)}
    assert f"{0.8 ** 29:.2g}" == "0.0015" and f"{tiny[0.8][0]:.2g}" == "0.0015"
    assert tiny[1.0][0] == pytest.approx(1.0, abs=1e-5) and tiny[1.0][0] != 1.0   # "1 to five digits"
    assert f"{1.2 ** 29:.2g}" == "2e+02" and f"{tiny[1.2][0]:.2g}" == "2e+02"   # "about 200"
    for c in (0.8, 1.0, 1.2):
        assert tiny[c][1] > 0.9995                                            # slopes 1 to three decimals
    assert f"{tiny[4.0][0]:.2g}" == "3.2e+07" and round(tiny[4.0][1], 2) == 0.40
    assert 9 <= np.log10(4.0 ** 29 / tiny[4.0][0]) < 10.5                     # "ten orders of magnitude less"
    slopes = [ordinary[c][1] for c in (0.8, 1.0, 1.2)]
    assert all(0.45 < s < 0.6 for s in slopes) and round(ordinary[4.0][1], 2) == 0.17   # "about one half"; 0.17
    ratios = [ordinary[c][0] for c in (0.8, 1.0, 1.2, 4.0)]
    assert all(r < 1 for r in ratios)                                         # all four vanish
    assert f"{ratios[0]:.2g}" == "8.6e-09" and f"{ratios[3]:.2g}" == "0.054"  # 1e-8 ... a twentieth
    assert 1 / 25 < ratios[3] < 1 / 15


def test_clipping_the_exploding_layer(experiment):
    Q, W_X, inputs, Gamma, _ = experiment
    rnn = RNN(16, 16, rng=4)
    rnn.W_h[...], rnn.W_x[...] = 4.0 * Q, W_X
    out = rnn.forward(1e-4 * inputs)
    dout = np.zeros_like(out)
    dout[:, -1] = Gamma
    rnn.backward(dout)
    before = np.concatenate([g.ravel() for _, g in rnn.parameters()])
    norm = clip_grad_norm(rnn.parameters(), 1.0)
    after = np.concatenate([g.ravel() for _, g in rnn.parameters()])
    assert norm == pytest.approx(np.linalg.norm(before)) and f"{norm:.4g}" == "1.97e+08"
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-12)
    assert before @ after / (np.linalg.norm(before) * np.linalg.norm(after)) == pytest.approx(1.0, abs=1e-12)


def test_exercise_numbers():
    states, rnn = scalar_rnn([1.0, -0.5])
    H1, H2 = states
    delta2 = 1 - H2 ** 2
    delta1 = delta2 * 0.5 * (1 - H1 ** 2)
    assert [round(v, 5) for v in (H1, -0.5 + 0.5 * H1, H2, delta2, delta2 * 0.5, 1 - H1 ** 2, delta1)] == \
        [0.76159, -0.1192, -0.11864, 0.98592, 0.49296, 0.41997, 0.20703]
    assert round(rnn.grad_W_x.item(), 5) == -0.28593 and round(rnn.grad_W_h.item(), 5) == 0.75087
    assert round(rnn.grad_b.item(), 5) == 1.19296
    assert companion.check_answer("ex-bptt-hand", (-0.28593, 0.75087, 1.19296), verbose=False)
    assert companion.check_answer("ex-bptt-scatter-bug", (4, 7), verbose=False)
    W = np.array([[0.9, 1.0], [0.0, 0.9]])
    norms = [np.linalg.norm(np.linalg.matrix_power(W.T, k), 2) for k in range(1, 101)]
    assert round(np.linalg.norm(W, 2), 4) == 1.5296 and round(max(norms), 4) == 3.9126
    assert int(np.argmax(norms)) + 1 == 9 and f"{norms[-1]:.2e}" == "2.95e-03"
    np.testing.assert_allclose(np.linalg.eigvals(W), [0.9, 0.9])
    k = 7                                                    # (W_H^T)^k: 0.9^k on the diagonal, k 0.9^(k-1) below
    np.testing.assert_allclose(np.linalg.matrix_power(W.T, k), [[0.9 ** k, 0], [k * 0.9 ** (k - 1), 0.9 ** k]])


def test_a_correct_rnn_backward_passes_the_exercise_and_a_wrong_one_fails():
    assert companion.check_answer("ex-bptt-backward", RNN, verbose=False)

    class ForgetsTheNextPosition(RNN):                       # BPTT without the fan-out term of eq-bptt-dH
        def backward(self, dout):
            H = self.H
            delta = dout.swapaxes(0, 1) * (1 - H[1:] ** 2)   # (S, n, d_H)
            self.grad_W_x[...] = np.einsum("sni,snj->ij", self.x.swapaxes(0, 1), delta)
            self.grad_W_h[...] = np.einsum("sni,snj->ij", H[:-1], delta)
            self.grad_b[...] = delta.sum(axis=(0, 1))
            return (delta @ self.W_x.T).swapaxes(0, 1)

    assert not companion.check_answer("ex-bptt-backward", ForgetsTheNextPosition, verbose=False)
