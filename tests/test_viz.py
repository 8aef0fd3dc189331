"""companion.viz: automatic layout, and the artists draw_graph creates."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pytest

from companion.viz import GRAD_COLOR, VALUE_COLOR, Graph, _columns, _rows, draw_graph


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
    assert 0 < row["Number"] < row["Tax"]


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
