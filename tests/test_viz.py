"""companion.viz: automatic layout, and the artists draw_graph creates."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pytest

from companion.autodiff import Tensor
from companion.viz import (GRAD_COLOR, VALUE_COLOR, WRAP, Graph, _columns, _rows, draw_graph, format_value,
                           to_mermaid, trace)


def snack_graph():
    g = Graph()
    g.node("mul1", "×")
    g.node("mul2", "×")
    g.node("total", "Total", kind="output")
    g.edge("Snack", "mul1", 30, 6.0)
    g.edge("Number", "mul1", 5, 36.0)
    g.edge("mul1", "mul2", 150, 1.2)
    g.edge("Tax", "mul2", 1.2, 150)
    g.edge("mul2", "total", 180, 1)
    return g


def test_layout_puts_the_chain_of_first_inputs_on_one_row_and_inputs_next_to_their_consumer():
    g = snack_graph()
    col = _columns(g)
    row = _rows(g, col)
    assert col == {"mul1": 1, "mul2": 2, "total": 3, "Snack": 0, "Number": 0, "Tax": 1}
    assert row["Snack"] == row["mul1"] == row["mul2"] == row["total"] == 0
    assert row["Number"] == row["Tax"] == 1  # just below-left of the node each one feeds


def test_two_consumers_of_one_value_never_overlap():
    g = Graph()
    g.node("exp", "exp")
    g.node("log", "log")
    g.node("mul", "×")
    g.edge("x", "exp")
    g.edge("x", "log")
    g.edge("exp", "mul")
    g.edge("log", "mul")
    col = _columns(g)
    row = _rows(g, col)
    positions = [(col[n], row[n]) for n in g.nodes]
    assert len(set(positions)) == len(positions)


def _texts(fig):
    return {t.get_gid(): t for t in fig.axes[0].texts if t.get_gid()}


def test_forward_values_are_blue_and_gradients_red():
    fig = draw_graph(snack_graph())
    texts = _texts(fig)
    assert texts["value:mul1->mul2"].get_text() == "150"
    assert texts["grad:mul1->mul2"].get_text() == "1.2"
    assert texts["grad:Number->mul1"].get_text() == "36"
    assert mcolors.same_color(texts["value:Tax->mul2"].get_color(), VALUE_COLOR)
    assert mcolors.same_color(texts["grad:Tax->mul2"].get_color(), GRAD_COLOR)
    assert texts["label:mul1"].get_text() == "×" and texts["label:total"].get_text() == "Total"
    value_pos = texts["value:mul1->mul2"].get_position()
    grad_pos = texts["grad:mul1->mul2"].get_position()
    assert value_pos[1] > grad_pos[1]  # value above the edge, gradient below
    plt.close(fig)


def test_edges_without_gradient_get_no_red_label():
    g = Graph()
    g.node("add", "+")
    g.edge("x", "add", 1.0, 1.0)
    g.edge("1", "add", 1.0)
    fig = draw_graph(g)
    assert "grad:1->add" not in _texts(fig) and "value:1->add" in _texts(fig)
    plt.close(fig)


def test_bad_graphs_are_refused():
    g = Graph()
    g.edge("a", "b")
    g.edge("b", "a")
    with pytest.raises(ValueError, match="cycle"):
        draw_graph(g)
    with pytest.raises(ValueError, match="unknown kind 'box'"):
        Graph().node("a", kind="box")
    with pytest.raises(ValueError, match="no nodes"):
        draw_graph(Graph())
    with pytest.raises(TypeError, match="expected a companion.viz.Graph"):
        draw_graph({"a": "b"})


# ------------------------------------------------------------- graphs of Tensors


def snack_tensor():
    snack, number, tax = Tensor(30.0, name="Snack"), Tensor(5.0, name="Number"), Tensor(1.2, name="Tax")
    total = snack * number * tax
    total.name = "Total"
    total.backward()
    return total


def _labels(fig):
    return {gid[len("label:"):]: t.get_text() for gid, t in _texts(fig).items() if gid.startswith("label:")}


def _labelled_edges(g):
    return sorted((g.nodes[e.src].label, g.nodes[e.dst].label, float(e.value), float(e.grad)) for e in g.edges)


def test_a_tensor_traces_to_the_same_graph_as_the_hand_built_snack_graph():
    g = trace(snack_tensor())
    kinds = {n.label: n.kind for n in g.nodes.values()}
    assert kinds == {"Snack": "input", "Number": "input", "×": "op", "Tax": "input", "Total": "output"}
    assert _labelled_edges(g) == _labelled_edges(snack_graph())
    assert _placed(g) == _placed(snack_graph())  # and the same layout


def _placed(g):
    col = _columns(g)
    row = _rows(g, col)
    return sorted((g.nodes[n].label, col[n], row[n]) for n in g.nodes)


def test_draw_graph_of_a_tensor_labels_ops_and_colours_values_and_gradients():
    fig = draw_graph(snack_tensor())
    texts = _texts(fig)
    assert sorted(_labels(fig).values()) == ["Number", "Snack", "Tax", "Total", "×", "×"]
    values = {t.get_text() for gid, t in texts.items() if gid.startswith("value:")}
    grads = {t.get_text() for gid, t in texts.items() if gid.startswith("grad:")}
    assert values == {"30", "5", "150", "1.2", "180"} and grads == {"6", "36", "1.2", "150", "1"}
    assert all(mcolors.same_color(t.get_color(), VALUE_COLOR) for gid, t in texts.items() if gid.startswith("value:"))
    assert all(mcolors.same_color(t.get_color(), GRAD_COLOR) for gid, t in texts.items() if gid.startswith("grad:"))
    plt.close(fig)


def test_traced_arrays_print_as_shapes_and_constants_get_no_gradient():
    x = Tensor(np.ones((4, 3)), name="X", requires_grad=False)
    w = Tensor(np.ones((3, 2)), name="W")
    loss = ((x @ w).sigmoid() * 2).sum()
    loss.backward()
    g = trace(loss, output="L")
    by_label = {g.nodes[e.src].label: e for e in g.edges}
    assert format_value(by_label["X"].value) == "[4×3]" and by_label["X"].grad is None
    assert format_value(by_label["W"].grad) == "[3×2]"
    assert by_label["2"].grad is None  # the constant is labelled by its value
    assert [n.label for n in g.nodes.values() if n.kind == "op"] == ["@", "σ", "×", "sum"]
    assert [n.label for n in g.nodes.values() if n.kind == "output"] == ["L"]


def test_each_edge_of_a_fanned_out_value_carries_its_share_and_the_shares_add_up():
    x = Tensor(2.0, name="x")
    y = x.exp() * x.tanh() + x * x
    y.backward()
    g = trace(y)
    shares = [float(e.grad) for e in g.edges if e.src == "x"]
    assert len(shares) == 3  # exp, tanh, and one merged edge for both slots of x * x
    assert sum(shares) == pytest.approx(float(x.grad), rel=1e-12)
    square_edge = [e for e in g.edges if e.src == "x" and g.nodes[e.dst].label == "×" and g.predecessors(e.dst) == ["x"]]
    assert float(square_edge[0].grad) == pytest.approx(2 * 2.0)


def test_a_tensor_before_backward_draws_values_only():
    a = Tensor(3.0, name="a")
    fig = draw_graph(a * 2 + 1)
    assert not [gid for gid in _texts(fig) if gid.startswith("grad:")]
    plt.close(fig)


def test_long_graphs_wrap_onto_bands_joined_by_lettered_connectors():
    x = Tensor(0.5, name="x")
    y = x
    for _ in range(2 * WRAP):
        y = y.tanh()
    y.backward()
    fig = draw_graph(y)
    texts = _texts(fig)
    connectors = sorted(t.get_text() for gid, t in texts.items() if gid.startswith("connector:"))
    assert connectors == ["A", "A", "B", "B"]  # 2 * WRAP + 1 columns of nodes: three bands
    heights = sorted({round(t.get_position()[1], 6) for gid, t in texts.items() if gid.startswith("label:")})
    assert len(heights) == 3
    plt.close(fig)
    fig = draw_graph(y, wrap=None)
    assert not [gid for gid in _texts(fig) if gid.startswith("connector:")]
    plt.close(fig)


def test_a_30_node_graph_has_no_overlapping_nodes():
    rng = np.random.default_rng(0)
    x = Tensor(rng.normal(size=(5, 1)), name="X", requires_grad=False)
    z = x
    for k, (d_in, d_out) in enumerate([(1, 2), (2, 3), (3, 3), (3, 1)]):
        z = z @ Tensor(rng.normal(size=(d_in, d_out)), name=f"W{k}") + Tensor(np.zeros(d_out), name=f"b{k}")
        z = z.relu() if d_out > 1 else z
    loss = ((z - rng.normal(size=(5, 1))) ** 2).mean()
    loss.backward()
    g = trace(loss)
    assert 25 <= len(g.nodes) <= 35
    fig = draw_graph(g)
    spots = [t.get_position() for gid, t in _texts(fig).items() if gid.startswith("label:")]
    assert len({(round(x, 6), round(y, 6)) for x, y in spots}) == len(spots)
    width, height = fig.get_size_inches()
    assert width <= 14 and height <= 12
    plt.close(fig)


def test_to_mermaid_writes_the_same_nodes_and_edges():
    text = to_mermaid(snack_tensor())
    lines = text.splitlines()
    assert lines[0] == "graph LR"
    assert '    n0["Snack"]' in lines and '    n2(("×"))' in lines
    assert '    n2 -->|"150; grad 1.2"| n4' in lines
    assert sum("-->" in line for line in lines) == 5
    assert lines[-1] == "    linkStyle default stroke:#1f77b4,color:#1f77b4"
    assert to_mermaid(snack_graph()).count("-->") == 5


def test_to_mermaid_escapes_quotes_and_brackets_in_labels():
    g = Graph()
    g.edge('say "hi" <b>', "out", value=1.0)
    text = to_mermaid(g)
    assert '["say #quot;hi#quot; #lt;b#gt;"]' in text
    assert '-->|"1"|' in text and "grad" not in text


def test_tracing_and_drawing_errors():
    with pytest.raises(TypeError, match="trace: expected a companion.autodiff.Tensor, got ndarray"):
        trace(np.ones(2))
    with pytest.raises(TypeError, match="to_mermaid: expected a companion.viz.Graph or a companion.autodiff.Tensor"):
        to_mermaid("graph LR")
    with pytest.raises(ValueError, match="wrap must be a positive int"):
        draw_graph(snack_graph(), wrap=0)
    x = Tensor(1.0)
    y = x
    for _ in range(40):
        y = y * 1.0
    with pytest.raises(ValueError, match="too many to draw legibly"):
        draw_graph(y)
