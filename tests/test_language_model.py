"""companion.language_model (LearnedPositions, sample) and the language-model loop of companion.training.

The loop and the sampler are tested on a bigram model written here (logits = a
table row per character), so these tests need no recurrent or attention layer;
tests/test_models.py trains the book's char_rnn and char_transformer.
"""

import numpy as np
import pytest

import companion
from companion import Adam, CharVocab, SoftmaxCrossEntropy
from companion.language_model import LearnedPositions, sample
from companion.training import evaluate_language_model, fit_language_model


class Bigram:
    """logits[i, tau] = table[ids[i, tau]]: the next character from the current one only. A layer of our own."""

    def __init__(self, classes, seed=0):
        self.table = 0.1 * np.random.default_rng(seed).standard_normal((classes, classes))
        self.grad_table = np.zeros_like(self.table)
        self.ids = None

    def forward(self, ids):
        self.ids = np.asarray(ids)
        return self.table[self.ids]                       # (n, S, C)

    def backward(self, dout):
        self.grad_table[...] = 0.0
        np.add.at(self.grad_table, self.ids, dout)
        return None

    def named_parameters(self):
        return [("table", self.table, self.grad_table)]

    def parameters(self):
        return [(p, g) for _, p, g in self.named_parameters()]


# --- LearnedPositions --------------------------------------------------------------------------------

def test_learned_positions_add_one_vector_per_position_and_sum_their_gradient_over_the_samples():
    layer = LearnedPositions(5, 3, rng=0)
    assert repr(layer) == "LearnedPositions(5, 3)" and layer.W.shape == (5, 3)
    np.testing.assert_array_equal(layer.W, 0.1 * np.random.default_rng(0).standard_normal((5, 3)))
    x = np.random.default_rng(1).normal(size=(2, 4, 3))
    out = layer.forward(x)
    np.testing.assert_array_equal(out, x + layer.W[:4])
    dout = np.random.default_rng(2).normal(size=(2, 4, 3))
    layer.grad_W[...] = 7.0
    dx = layer.backward(dout)
    np.testing.assert_array_equal(dx, dout)
    np.testing.assert_allclose(layer.grad_W[:4], dout.sum(axis=0))
    assert np.all(layer.grad_W[4] == 0.0)                     # an unused position: no gradient
    errors = companion.layer_gradient_errors(layer, x, rng=3)
    assert max(errors.values()) < 1e-8
    assert [name for name, _, _ in layer.named_parameters()] == ["W"]
    assert LearnedPositions(5, 3).forward(np.zeros((1, 5, 3)), checked=True).shape == (1, 5, 3)


def test_learned_positions_errors():
    layer = LearnedPositions(4, 2)
    with pytest.raises(RuntimeError, match=r"LearnedPositions\(4, 2\): backward\(\) called before forward"):
        layer.backward(np.zeros((1, 1, 2)))
    with pytest.raises(ValueError, match=r"LearnedPositions\(4, 2\): input x has shape \(1, 5, 2\), expected \(n, S, 2\) "
                                         r"with S <= 4"):
        layer.forward(np.zeros((1, 5, 2)))
    with pytest.raises(ValueError, match=r"input x has shape \(3, 2\), expected \(n, S, 2\)"):
        layer.forward(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="LearnedPositions.*input x contains NaN"):
        layer.forward(np.full((1, 1, 2), np.nan))
    layer.forward(np.zeros((2, 3, 2)))
    with pytest.raises(ValueError, match=r"upstream gradient dout has shape \(2, 2, 2\), expected \(2, 3, 2\)"):
        layer.backward(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="LearnedPositions: max_length must be a positive integer, got 0"):
        LearnedPositions(0, 2)


def test_learned_positions_format_their_name_only_when_raising():
    class Counted(LearnedPositions):
        calls = 0

        def __repr__(self):
            Counted.calls += 1
            return super().__repr__()

    layer = Counted(4, 2, rng=0)
    layer.backward(layer.forward(np.ones((2, 3, 2))))
    assert Counted.calls == 0


# --- sample ------------------------------------------------------------------------------------------

def test_sample_is_seeded_and_greedy_at_temperature_zero():
    vocab = CharVocab("abc")
    model = Bigram(3)
    model.table[...] = [[0, 5, 0], [0, 0, 5], [5, 0, 0]]      # a -> b -> c -> a, almost surely
    assert sample(model, vocab, "a", 5, temperature=0) == "abcabc"
    first = sample(model, vocab, "ab", 20, rng=1, temperature=3.0)
    assert first == sample(model, vocab, "ab", 20, rng=1, temperature=3.0) and first.startswith("ab") and len(first) == 22
    assert first != sample(model, vocab, "ab", 20, rng=2, temperature=3.0)
    sharp = sample(model, vocab, "a", 60, rng=0, temperature=0.2)
    assert sharp == "abc" * 20 + "a"                           # a low temperature follows the likeliest path
    seen = []
    model.forward = lambda ids, original=model.forward: seen.append(np.shape(ids)) or original(ids)
    sample(model, vocab, "abcab", 3, context=4, rng=0)
    assert seen == [(1, 4), (1, 4), (1, 4)]                    # only the last `context` characters are read


def test_sample_probabilities_follow_the_softmax_of_the_logits_over_the_temperature():
    vocab = CharVocab("ab")
    model = Bigram(2)
    model.table[...] = [[0.0, np.log(3.0)], [0.0, np.log(3.0)]]  # P(b) = 3/4 at temperature 1, 9/10 at 1/2
    for temperature, p_b in ((1.0, 0.75), (0.5, 0.9), (2.0, np.sqrt(3) / (1 + np.sqrt(3)))):
        text = sample(model, vocab, "a", 4000, rng=0, temperature=temperature)
        assert abs(text[1:].count("b") / 4000 - p_b) < 0.025


def test_sample_errors():
    vocab = CharVocab("ab")
    with pytest.raises(ValueError, match="sample: prompt must be a non-empty str"):
        sample(Bigram(2), vocab, "", 3)
    with pytest.raises(ValueError, match="CharVocab.encode: character 'z' at position 0 is not in the vocabulary"):
        sample(Bigram(2), vocab, "z", 3)
    with pytest.raises(ValueError, match="sample: temperature must be a number in \\[0, inf\\), got -1"):
        sample(Bigram(2), vocab, "a", 3, temperature=-1)
    with pytest.raises(ValueError, match="sample: length must be a positive integer, got 0"):
        sample(Bigram(2), vocab, "a", 0)
    with pytest.raises(ValueError, match="sample: context must be a positive integer"):
        sample(Bigram(2), vocab, "a", 1, context=0)
    with pytest.raises(ValueError, match=r"sample: the model returned logits of shape \(1, 1, 3\) for ids of shape "
                                         r"\(1, 1\); expected \(1, 1, 2\)"):
        sample(Bigram(3), vocab, "a", 2)


def test_sample_runs_a_model_with_modes_in_evaluation_mode_and_puts_it_back():
    class Modal(Bigram):
        training, modes = True, []

        def train(self, mode=True):
            self.training = mode
            self.modes.append(mode)

        def eval(self):
            self.train(False)

    model = Modal(2)
    sample(model, CharVocab("ab"), "a", 2)
    assert model.modes == [False, True] and model.training


# --- fit_language_model, evaluate_language_model -----------------------------------------------------

def text_ids():
    vocab = CharVocab("abcd")
    return vocab, vocab.encode("abcd" * 60 + "abdc" * 10)


def test_the_loop_learns_a_bigram_text_and_records_both_curves():
    vocab, ids = text_ids()
    model = Bigram(vocab.size)
    history = fit_language_model(model, ids[:200], optimizer=Adam(model.parameters(), lr=0.1), steps=40, length=8,
                                 batch_size=4, validation=ids[200:], eval_every=10, max_norm=5.0, rng=0)
    assert history["step"] == [0, 10, 20, 30, 40] and len(history["batch_loss"]) == 40
    assert history["loss"][0] == pytest.approx(evaluate_language_model(Bigram(4), ids[:200], 8), rel=1e-12)
    assert history["loss"][0] > 1.3 and history["loss"][-1] < 0.1     # "abcd" repeated: every next char is certain
    assert history["val_loss"][-1] > history["loss"][-1]                 # "abdc" breaks the pattern
    assert history["loss"][-1] == pytest.approx(evaluate_language_model(model, ids[:200], 8), rel=1e-12)
    again = Bigram(vocab.size)
    same = fit_language_model(again, ids[:200], optimizer=Adam(again.parameters(), lr=0.1), steps=40, length=8,
                              batch_size=4, validation=ids[200:], eval_every=10, max_norm=5.0, rng=0)
    assert same == history
    other = Bigram(vocab.size)
    default = fit_language_model(other, ids, optimizer=Adam(other.parameters(), lr=0.1), steps=25, length=8, rng=0)
    assert default["step"] == [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 25] and "val_loss" not in default


def test_the_loop_clips_the_gradient_norm():
    vocab, ids = text_ids()
    norms = []
    model = Bigram(vocab.size)

    class Recording(Adam):
        def step(self):
            norms.append(np.sqrt(sum(float(np.sum(g * g)) for _, g in self.parameters)))
            super().step()

    fit_language_model(model, ids, optimizer=Recording(model.parameters(), lr=0.01), steps=5, length=8,
                       max_norm=1e-3, rng=0)
    assert max(norms) == pytest.approx(1e-3)


def test_evaluate_language_model_is_the_mean_loss_over_evenly_spread_windows():
    vocab, ids = text_ids()
    model = Bigram(vocab.size, seed=4)
    starts = np.linspace(0, len(ids) - 9, 5).astype(int)
    rows = starts[:, None] + np.arange(8)
    expected = SoftmaxCrossEntropy().forward(model.table[ids[rows]], ids[rows + 1])
    assert evaluate_language_model(model, ids, 8, windows=5) == pytest.approx(expected, rel=1e-14)


def test_language_model_loop_errors():
    vocab, ids = text_ids()
    model = Bigram(vocab.size)
    opt = Adam(model.parameters())
    fit = fit_language_model
    with pytest.raises(ValueError, match=r"fit_language_model: training ids have shape \(2, 3\) and dtype int64; expected"):
        fit(model, np.zeros((2, 3), dtype=np.int64), optimizer=opt, steps=1, length=2)
    with pytest.raises(ValueError, match="fit_language_model: 5 training ids are too few for one window of length 8"):
        fit(model, ids[:5], optimizer=opt, steps=1, length=8)
    with pytest.raises(ValueError, match=r"fit_language_model: training ids contain 4, but the model scores 4 "
                                         r"characters \(ids 0..3\)"):
        fit(model, np.r_[ids, 4], optimizer=opt, steps=1, length=8)
    with pytest.raises(ValueError, match="fit_language_model: validation ids contain -1; expected ids >= 0"):
        fit(model, ids, optimizer=opt, steps=1, length=8, validation=np.r_[ids, -1])
    with pytest.raises(ValueError, match="fit_language_model: steps must be a positive integer, got 0"):
        fit(model, ids, optimizer=opt, steps=0, length=8)
    with pytest.raises(ValueError, match="fit_language_model: eval_every must be a positive integer, got 0"):
        fit(model, ids, optimizer=opt, steps=1, length=8, eval_every=0)
    with pytest.raises(ValueError, match=r"fit_language_model: max_norm must be a number in \(0, inf\), got 0"):
        fit(model, ids, optimizer=opt, steps=1, length=8, max_norm=0)
    with pytest.raises(TypeError, match="fit_language_model: optimizer must be an optimizer"):
        fit(model, ids, optimizer=None, steps=1, length=8)
    with pytest.raises(ValueError, match="fit_language_model: the optimizer does not update this model's parameters"):
        fit(model, ids, optimizer=Adam(Bigram(4).parameters()), steps=1, length=8)
    flat = companion.Linear(4, 4)
    with pytest.raises(ValueError, match=r"fit_language_model: the model cannot take a window of 8 training ids: "
                                         r"Linear\(4, 4\): input x has shape \(1, 8\), expected \(n, 4\)"):
        fit(flat, ids, optimizer=Adam(flat.parameters()), steps=1, length=8)
    square = companion.Linear(8, 4)
    with pytest.raises(ValueError, match=r"fit_language_model: the model returned shape \(1, 4\) for ids of shape "
                                         r"\(1, 8\); expected logits \(1, 8, C\)"):
        fit(square, ids, optimizer=Adam(square.parameters()), steps=1, length=8)
    with pytest.raises(ValueError, match="evaluate_language_model: windows must be a positive integer, got 0"):
        evaluate_language_model(model, ids, 8, windows=0)

    class Exploding(Bigram):
        def forward(self, ids):
            return np.full((*np.shape(ids), 4), 1e308) * (2.0 if len(ids) > 1 or np.ndim(ids) > 2 else 1.0)

    boom = Exploding(4)
    with pytest.raises(FloatingPointError, match="fit_language_model: numbers overflowed .* in step 1: training diverged"):
        fit(boom, ids, optimizer=Adam(boom.parameters()), steps=1, length=8, eval_windows=1, batch_size=2)
