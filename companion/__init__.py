"""companion: the small numpy library of *Backpropagation from the Ground Up*.

One module per idea, in the order the book introduces them:

==================  ============================================  =====================================
module              what it holds                                 chapter
==================  ============================================  =====================================
``functions``       one-input nodes: Plus1, Square, Exp, Log,     The chain rule; Local derivative rules;
                    Reciprocal, Power, ReLU, Sigmoid, Tanh, ...   A two-layer network, edge by edge
``layers``          two-input nodes (MulLayer, AddLayer, ...),    Computational graphs;
                    Linear, Sequential;                           Matrix gradients for a minibatch;
                    mlp (deep networks)                           Initialisation and the depth problem
``viz``             Graph, draw_graph, trace, to_mermaid:         Computational graphs;
                    graph figures (of Tensors too)                Automatic differentiation
``gradcheck``       numerical_gradient, gradient_check,           Local derivative rules;
                    layer_gradient_errors, gradient_errors,       Checking gradients numerically;
                    step_size_errors,                             Automatic differentiation
                    numerical_parameter_gradient,
                    tensor_gradient_errors;                       Backward as vector-Jacobian products
                    numerical_jacobian
``init``            he_normal, xavier_normal;                     Matrix gradients for a minibatch;
                    standard_normal                               Initialisation and the depth problem
``losses``          MSELoss;                                      Matrix gradients for a minibatch;
                    softmax, log_softmax, SoftmaxCrossEntropy,    Softmax and cross-entropy;
                    softmax_backward                              Self-attention, derived by hand
``metrics``         accuracy, confusion_matrix                    Softmax and cross-entropy;
                                                                  Training a digit classifier
``optim``           SGD, Momentum, AdaGrad, RMSProp, Adam;        Optimizers;
                    weight_decay, AdamW, clip_grad_norm           Regularisation; Initialisation ...
``datasets``        load_digits, load_mnist, download_mnist,      Training a digit classifier;
                    read_idx, split; load_devils_dictionary,      A tiny character-level language
                    split_text, CharVocab, text_windows           model
``training``        fit, evaluate;                                Training a digit classifier;
                    fit_language_model, evaluate_language_model   A tiny character-level language model
``plots``           plot_history, plot_confusion_matrix,          Optimizers;
                    plot_digits;                                  Training a digit classifier;
                    plot_activation_histograms,                   Initialisation and the depth problem
                    plot_gradient_norms, plot_layer_statistics,
                    plot_runs; plot_loss_curves                   A tiny character-level language model
``checks``          check_layer, check_gradient, check_answer:    Preface ("Using companion");
                    homework checkers that print a verdict        every chapter's exercises
``answers``         the registered answers of the exercises       every chapter's exercises
``autodiff``        Tensor: reverse-mode automatic                Automatic differentiation;
                    differentiation (softmax, masked_fill for     Self-attention, derived by hand
                    attention)
``diagnostics``     layer_statistics: activations and gradient    Initialisation and the depth problem;
                    norms of every layer                          Normalisation
``normalization``   BatchNorm, LayerNorm (train/eval)             Normalisation
``regularization``  Dropout (train/eval)                          Regularisation
``conv``            Conv2d, MaxPool2d, AvgPool2d, Flatten,        Convolution backward by hand;
                    im2col, col2im: layers on images              im2col: convolution as a matrix
                    (n, c, h, w)                                  product; A CNN on the digits
``language_model``  LearnedPositions, sample: learned position    A tiny character-level language model
                    vectors; text drawn from a model
``models``          digits_mlp, digits_cnn: the book's networks   Training a digit classifier;
                    for the 8x8 digits;                           A CNN on the digits;
                    char_rnn, char_transformer                    A tiny character-level language model
``sequence``        Embedding, RNN, tensor_rnn: token lookup      Embeddings and backpropagation
                    and a tanh recurrent layer over sequences     through time
                    (n, S, d), with BPTT; (autodiff: stack,
                    concat)
``attention``       scaled_dot_product_attention (and its         Self-attention, derived by hand
                    _backward), SelfAttention, TransformerBlock
==================  ============================================  =====================================

Conventions: float64 everywhere; a minibatch is row-major, shape ``(n, features)``
(images: ``(n, channels, height, width)``; sequences: ``(n, S, features)``);
``forward`` caches what ``backward(dout)`` needs; bad input raises ``TypeError``
or ``ValueError`` naming the layer, what it got and what it expected;
``backward`` before ``forward`` raises ``RuntimeError``.
"""

from .autodiff import Tensor, concat, stack
from .checks import CheckResult, check_answer, check_gradient, check_layer, register_answer
from .functions import Exp, Function, Identity, Log, Plus1, Power, Reciprocal, ReLU, Sigmoid, Square, Tanh
from .gradcheck import (gradient_check, gradient_errors, layer_gradient_errors, numerical_gradient,
                        numerical_jacobian, numerical_parameter_gradient, relative_error, step_size_errors,
                        tensor_gradient_errors)
from .init import he_normal, standard_normal, xavier_normal
from .layers import AddLayer, DivLayer, Linear, MulLayer, Sequential, SubLayer, mlp
from .losses import MSELoss, SoftmaxCrossEntropy, log_softmax, softmax, softmax_backward
from .metrics import accuracy, confusion_matrix
from .optim import SGD, AdaGrad, Adam, AdamW, Momentum, Optimizer, RMSProp, clip_grad_norm
from .datasets import (CharVocab, download_mnist, load_devils_dictionary, load_digits, load_mnist, read_idx, split_text,
                       text_windows)
from .training import evaluate, evaluate_language_model, fit, fit_language_model
from .plots import (plot_activation_histograms, plot_confusion_matrix, plot_digits, plot_gradient_norms, plot_history,
                    plot_layer_statistics, plot_loss_curves, plot_runs)
from .viz import Graph, draw_graph, to_mermaid, trace
from .normalization import BatchNorm, LayerNorm
from .regularization import Dropout
from .diagnostics import layer_statistics
from .conv import AvgPool2d, Conv2d, Flatten, MaxPool2d, col2im, im2col  # part VI
from .models import char_rnn, char_transformer, digits_cnn, digits_mlp
from .sequence import RNN, Embedding, tensor_rnn  # part VII
from .attention import (SelfAttention, TransformerBlock, scaled_dot_product_attention,  # part VII
                        scaled_dot_product_attention_backward)
from .language_model import LearnedPositions, sample  # part VII
from . import answers  # noqa: F401  (registers every exercise's answer for check_answer)

__version__ = "0.1.0"

__all__ = [
    "AddLayer", "DivLayer", "Exp", "Function", "Graph", "Identity", "Linear", "Log", "MSELoss",
    "MulLayer", "Plus1", "Power", "ReLU", "Reciprocal", "Sequential", "Sigmoid", "Square", "SubLayer",
    "Tanh", "Tensor", "draw_graph", "gradient_check", "gradient_errors", "he_normal", "layer_gradient_errors",
    "numerical_gradient", "numerical_parameter_gradient", "relative_error", "step_size_errors",
    "tensor_gradient_errors", "to_mermaid", "trace", "xavier_normal",
    "CheckResult", "check_answer", "check_gradient", "check_layer", "register_answer",  # checks
    # classification, optimizers, data and training (part III)
    "AdaGrad", "Adam", "Momentum", "Optimizer", "RMSProp", "SGD", "SoftmaxCrossEntropy", "accuracy",
    "confusion_matrix", "download_mnist", "evaluate", "fit", "load_digits", "load_mnist", "log_softmax",
    "plot_confusion_matrix", "plot_digits", "plot_history", "read_idx", "softmax",
    # deep networks (part V)
    "AdamW", "BatchNorm", "Dropout", "LayerNorm", "clip_grad_norm", "layer_statistics", "mlp", "numerical_jacobian",
    "plot_activation_histograms", "plot_gradient_norms", "plot_layer_statistics", "plot_runs", "standard_normal",
    "BatchNorm", "Dropout", "LayerNorm",
    # convolution (part VI)
    "AvgPool2d", "Conv2d", "Flatten", "MaxPool2d", "col2im", "digits_cnn", "digits_mlp", "im2col",
    # sequences and attention (part VII)
    "Embedding", "RNN", "concat", "stack", "tensor_rnn",
    "SelfAttention", "TransformerBlock", "scaled_dot_product_attention", "scaled_dot_product_attention_backward",
    "softmax_backward",
    # a character-level language model (part VII)
    "CharVocab", "LearnedPositions", "char_rnn", "char_transformer", "evaluate_language_model", "fit_language_model",
    "load_devils_dictionary", "plot_loss_curves", "sample", "split_text", "text_windows",
]
