"""Numbers stated in book/language_model.md, recomputed with companion.

The chapter's targets: both models' held-out loss ends well below the uniform baseline log C (and below the
character frequencies); the start and end losses, the baselines and the samples' features are pinned.
"""

import hashlib
import re

import numpy as np
import pytest

import companion
from companion import (Adam, CharVocab, LearnedPositions, SoftmaxCrossEntropy, Tensor, char_rnn, char_transformer,
                       evaluate_language_model, fit_language_model, load_devils_dictionary, sample, split_text,
                       tensor_rnn, text_windows)

S = 32
PROMPT = "ABSURDITY, n. "


@pytest.fixture(scope="module")
def data():
    text = load_devils_dictionary()
    vocab = CharVocab(text)
    train_text, held_text = split_text(text, 0.9)
    return text, vocab, vocab.encode(train_text), vocab.encode(held_text)


def train(model, train_ids, held_ids, lr, steps=800, eval_every=40):
    return fit_language_model(model, train_ids, optimizer=Adam(model.parameters(), lr=lr), steps=steps, length=S,
                              batch_size=32, validation=held_ids, eval_every=eval_every, max_norm=1.0, rng=0)


@pytest.fixture(scope="module")
def trained(data):
    """The chapter's two models after training, with their histories."""
    _, vocab, train_ids, held_ids = data
    rnn = char_rnn(vocab.size, dim=32, hidden=96, seed=0)
    transformer = char_transformer(vocab.size, dim=32, heads=4, blocks=1, max_length=S, seed=0)
    histories = {"RNN": train(rnn, train_ids, held_ids, lr=0.005),
                 "transformer": train(transformer, train_ids, held_ids, lr=0.01)}
    return {"RNN": rnn, "transformer": transformer}, histories


def test_the_text_and_its_split(data):
    text, vocab, train_ids, held_ids = data
    assert len(text) == 299_526
    assert hashlib.sha256(text.encode()).hexdigest() == "fa8f91f4c94b63d48152a7bf4e064467e4cb08c3f91a981780ab0ac4cf776d26"
    assert (len(train_ids), len(held_ids)) == (269_826, 29_700)
    assert abs(len(train_ids) / len(text) - 0.9) < 0.002                           # "the first 90%"
    held_text = vocab.decode(held_ids)
    assert re.match(r"[A-Z]+, n\.", held_text) and vocab.decode(train_ids).endswith("\n\n")   # whole entries
    assert vocab.size == 81 and vocab.chars[:2] == ["\n", " "]
    assert {c for c in vocab.chars if c.isalpha()} == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def test_the_baselines(data):
    _, vocab, train_ids, held_ids = data
    pi = np.bincount(train_ids, minlength=vocab.size) / len(train_ids)
    log_c, freq = np.log(vocab.size), -np.mean(np.log(pi[held_ids]))
    assert (round(log_c, 3), round(freq, 3)) == (4.394, 3.167)
    assert vocab.chars[np.argmax(pi)] == " " and round(pi.max(), 2) == 0.15          # "a space is frequent (15%)"
    assert round(np.exp(log_c)) == 81 and round(np.exp(freq)) == 24                 # perplexities


def test_the_loss_over_positions_is_the_cross_entropy_of_n_times_s_rows():
    rng = np.random.default_rng(0)
    U, labels = rng.normal(size=(2, 5, 81)), rng.integers(0, 81, size=(2, 5))
    loss = SoftmaxCrossEntropy()
    value = loss.forward(U, labels)
    P = np.exp(U) / np.exp(U).sum(axis=-1, keepdims=True)
    assert value == pytest.approx(-np.mean(np.log(np.take_along_axis(P, labels[..., None], -1))), rel=1e-12)
    np.testing.assert_allclose(loss.backward(), (P - np.eye(81)[labels]) / 10, rtol=1e-12, atol=1e-15)
    numeric = companion.numerical_gradient(lambda u: SoftmaxCrossEntropy().forward(u, labels), U)
    assert companion.relative_error(loss.backward(), numeric) < 1e-5


def test_the_two_models(data):
    _, vocab, train_ids, held_ids = data
    rnn = char_rnn(vocab.size, dim=32, hidden=96, seed=0)
    transformer = char_transformer(vocab.size, dim=32, heads=4, blocks=1, max_length=S, seed=0)
    counts = [sum(p.size for p, _ in m.parameters()) for m in (rnn, transformer)]
    assert counts == [22_833, 18_929] and all(abs(c - 20_000) < 3_000 for c in counts)   # "about 20,000 each"
    window, changed = train_ids[None, :S], train_ids[None, :S].copy()
    changed[0, 10:] = vocab.encode("X" * (S - 10))
    for model in (rnn, transformer):
        before, after = model.forward(window), model.forward(changed)
        assert np.array_equal(before[0, :10], after[0, :10]) and not np.allclose(before[0, 10], after[0, 10])
    starts = [evaluate_language_model(m, held_ids, S) for m in (rnn, transformer)]
    assert [round(s, 3) for s in starts] == [4.542, 4.750]
    assert all(np.log(vocab.size) < s < np.log(vocab.size) + 0.5 for s in starts)    # "a little above log C"
    for model in (rnn, transformer):
        noise = sample(model, vocab, PROMPT, 60, rng=0, context=S)[len(PROMPT):]
        assert " the " not in noise and not re.search(r"[a-z]{4} [a-z]{3}", noise)


def test_learned_positions_gradient():
    positions = LearnedPositions(S, 4, rng=0)
    x = np.random.default_rng(1).normal(size=(3, 5, 4))
    errors = companion.layer_gradient_errors(positions, x, rng=2)
    assert set(errors) == {"x", "W"} and max(errors.values()) < 1e-8


def test_training_ends_well_below_log_c(data, trained):
    _, vocab, train_ids, held_ids = data
    _, histories = trained
    rnn, tf = histories["RNN"], histories["transformer"]
    assert rnn["step"] == list(range(0, 801, 40))
    assert (round(rnn["val_loss"][0], 3), round(rnn["val_loss"][-1], 3)) == (4.542, 2.025)
    assert (round(tf["val_loss"][0], 3), round(tf["val_loss"][-1], 3)) == (4.750, 2.178)
    assert (round(rnn["loss"][-1], 3), round(tf["loss"][-1], 3)) == (1.887, 2.039)
    log_c = np.log(vocab.size)
    assert rnn["val_loss"][-1] < log_c - 2 and tf["val_loss"][-1] < log_c - 2       # well below log C
    assert rnn["val_loss"][1] < 3.167 and tf["val_loss"][1] < 3.167                   # past the frequencies at step 40
    assert round(np.exp(2.025), 1) == 7.6 and round(np.exp(rnn["val_loss"][-1])) == 8
    for history in (rnn, tf):                                                        # held-out above training
        assert all(v > t for v, t in zip(history["val_loss"][1:], history["loss"][1:]))
    lingering = [tf["val_loss"][tf["step"].index(step)] for step in (80, 120, 160, 200, 240)]
    assert all(2.45 < v < 2.6 for v in lingering)                                    # "near 2.5 from 80 to 240"
    assert tf["val_loss"][tf["step"].index(320)] < 2.4                               # then it descends
    assert rnn["val_loss"][-1] < tf["val_loss"][-1]                                  # the RNN ends lower


def test_samples_after_training(data, trained):
    _, vocab, _, _ = data
    models, _ = trained
    texts = {name: sample(model, vocab, PROMPT, 240, rng=0, context=S) for name, model in models.items()}
    assert texts["RNN"] == sample(models["RNN"], vocab, PROMPT, 240, rng=0, context=S)      # seeded
    for text in texts.values():
        body = text[len(PROMPT):]
        assert " the " in body and " of " in body                                    # common words spelled right
        assert "  " not in body                                                      # single spaces
    assert re.search(r"\n[A-Z]{3,}[^\n]*, (n|adj|v\.t|v\.i)\.", texts["RNN"])        # a new entry, part of speech


def test_the_engine_agrees_with_the_layers(data, trained):
    _, _, _, held_ids = data
    rnn = trained[0]["RNN"]
    x, t = text_windows(held_ids, S)
    x, t = x[:8], t[:8]
    params = {name: Tensor(param.copy()) for name, param, _ in rnn.named_parameters()}
    states = tensor_rnn(params["0.W"][x], params["1.W_x"], params["1.W_h"], params["1.b"])
    logits = states @ params["2.W"] + params["2.b"]
    shift = logits.data.max(axis=-1, keepdims=True)
    loss = ((logits - shift).exp().sum(axis=-1).log() - (logits - shift)[np.arange(8)[:, None], np.arange(S), t]).mean()
    loss.backward()
    loss_fn = SoftmaxCrossEntropy()
    assert loss.item() == pytest.approx(loss_fn.forward(rnn.forward(x), t), rel=1e-13)
    rnn.backward(loss_fn.backward())
    worst = max(np.abs(params[name].grad - grad).max() / np.abs(grad).max() for name, _, grad in rnn.named_parameters())
    assert worst < 1e-12


def test_exercise_numbers(data, trained):
    _, vocab, train_ids, held_ids = data
    models, histories = trained
    assert companion.check_answer("ex-lm-bigram", 2.53272, verbose=False)
    bigram = companion.checks.ANSWERS["ex-lm-bigram"].expected()["held-out loss"]
    assert round(bigram, 3) == 2.533 and 3.167 - bigram > 0.5 and abs((bigram - 2.025) - 0.5) < 0.05
    lingering = [histories["transformer"]["val_loss"][k] for k in (2, 3, 4, 5, 6)]     # steps 80..240
    assert max(abs(v - bigram) for v in lingering) < 0.08                             # "the level where it stalls"
    assert companion.check_answer("ex-lm-count", (1024, 819_200, 819_200 / 269_826), verbose=False)
    assert round(819_200 / len(train_ids), 2) == 3.04
    # attention without positions: the last position ignores the order of the past
    full = char_transformer(vocab.size, dim=32, heads=4, max_length=S, seed=0)
    no_positions = companion.Sequential(*[layer for k, layer in enumerate(full.layers) if k != 1])
    window = train_ids[None, 100:100 + S]
    shuffled = window.copy()
    shuffled[0, :-1] = np.random.default_rng(0).permutation(window[0, :-1])
    a, b = no_positions.forward(window), no_positions.forward(shuffled)
    assert np.allclose(a[0, -1], b[0, -1], atol=1e-12) and not np.allclose(a[0, 4], b[0, 4])
    assert not np.allclose(full.forward(window)[0, -1], full.forward(shuffled)[0, -1])


def test_the_leaky_transformer_and_the_temperatures(data, trained):
    _, vocab, train_ids, held_ids = data
    models, histories = trained
    leaky = char_transformer(vocab.size, max_length=S, seed=0, causal=False)
    for (_, a, _), (_, b, _) in zip(leaky.named_parameters(), char_transformer(vocab.size, max_length=S,
                                                                                  seed=0).named_parameters()):
        np.testing.assert_array_equal(a, b)                                          # same initial weights
    history = train(leaky, train_ids, held_ids, lr=0.01, steps=400, eval_every=400)
    causal_400 = histories["transformer"]["val_loss"][histories["transformer"]["step"].index(400)]
    assert (round(history["val_loss"][-1], 3), round(causal_400, 3)) == (0.125, 2.292)
    leaky_text = sample(leaky, vocab, PROMPT, 60, rng=0, context=S)[len(PROMPT):]
    assert " the " not in leaky_text                                                 # garbage
    windows, _ = text_windows(held_ids, S)
    u = models["RNN"].forward(windows[:64])
    entropies = []
    for temperature in (0.5, 1.0, 1.5):
        p = companion.softmax((u / temperature).reshape(-1, vocab.size))
        entropies.append(float(-np.mean(np.sum(p * np.log(p), axis=-1))))
    assert [round(e, 2) for e in entropies] == [1.09, 2.00, 2.65]
    greedy = sample(models["RNN"], vocab, PROMPT, 120, temperature=0, context=S)[len(PROMPT):]
    assert re.search(r"(.{6,}?)\1\1", greedy)                                        # "repeats itself in a loop"
