"""Drawing computational graphs: forward values in blue above each edge, gradients in red below.

First used in chapter "Computational graphs"; chapter "Automatic differentiation"
draws the graphs that ``companion.autodiff.Tensor`` records.

Describe a graph with ``Graph`` (nodes and edges carrying the numbers your
code computed), then ``draw_graph(graph)`` lays it out left to right and
draws it; no coordinates are ever written by hand::

    g = Graph()
    g.edge("apple", "×₁", value=100, grad=2.2)
    ...
    fig = draw_graph(g)

A ``Tensor`` result draws itself: ``draw_graph(loss)`` traces the operations
that produced ``loss`` (``trace(loss)`` returns that ``Graph``), and
``to_mermaid(graph_or_tensor)`` writes the same graph as mermaid text.

Layout: a node's column is the length of the longest path reaching it
(inputs sit just left of their first consumer); the output's chain of first
inputs runs along the top row and every further input branches off below,
like the hand-drawn figures in the classic textbooks. A graph more than
``wrap + 2`` columns long continues on bands below, like lines of text; an
edge that crosses to the next band ends at a lettered connector and resumes
from the same letter.
"""

import math
from dataclasses import dataclass, field

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np

from ._validate import sum_to_shape
from .autodiff import Tensor, topological_order

VALUE_COLOR = "tab:blue"
GRAD_COLOR = "tab:red"
KINDS = ("op", "input", "output")
MAX_NODES = 60
WRAP = 4          # columns per band when a graph is too long for one (more than WRAP + 2 columns)
_BAND_GAP = 0.5   # extra space between bands, in rows
_STUB = 0.6       # length of the arrow from a connector into its node, in columns
_LABEL_BOX = dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.85)


@dataclass
class Node:
    """One vertex: ``kind`` is "op" (drawn as a circle) or "input"/"output" (a bare label)."""

    name: str
    label: str
    kind: str


@dataclass
class Edge:
    """One arrow ``src -> dst`` with the value flowing forward and the gradient flowing back."""

    src: str
    dst: str
    value: object = None
    grad: object = None


@dataclass
class Graph:
    """A computational graph to draw. Nodes keep the order they were added in."""

    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)

    def node(self, name, label=None, kind=None):
        """Add (or relabel) a node. Without ``kind``: "op" if ``label`` is given, else "input"."""
        kind = kind or ("op" if label is not None else "input")
        if kind not in KINDS:
            raise ValueError(f"Graph.node: unknown kind {kind!r} for node {name!r}; expected one of {KINDS}")
        self.nodes[name] = Node(name, name if label is None else label, kind)
        return name

    def edge(self, src, dst, value=None, grad=None):
        """Add the edge ``src -> dst``; unknown endpoints are added as input nodes."""
        for name in (src, dst):
            if name not in self.nodes:
                self.node(name)
        if src == dst:
            raise ValueError(f"Graph.edge: an edge from {src!r} to itself would make a cycle")
        self.edges.append(Edge(src, dst, value, grad))

    def predecessors(self, name):
        return [e.src for e in self.edges if e.dst == name]

    def successors(self, name):
        return [e.dst for e in self.edges if e.src == name]


def format_value(v):
    """Short text for an edge label: 4 significant digits, or the shape of an array."""
    if v is None:
        return ""
    arr = np.asarray(v)
    if arr.size == 1:
        return f"{float(arr.reshape(())):.4g}"
    return "[" + "×".join(str(s) for s in arr.shape) + "]"


def trace(root, output=None):
    """The ``Graph`` of the computation that produced the ``Tensor`` ``root``.

    One op node per operation, labelled by its op (``×``, ``@``, ``σ`` ...);
    one input node per leaf tensor, labelled by its ``name`` (unnamed
    constants by their value, other unnamed leaves by their shape); and an
    output node labelled ``output`` (default: ``root.name``, else "out").
    Each edge carries the value that flows along it and, after
    ``root.backward()``, the gradient that flows back along it: where a value
    feeds several operations, each edge shows its own share, and the shares
    add up to the value's ``.grad``.
    """
    if not isinstance(root, Tensor):
        raise TypeError(f"trace: expected a companion.autodiff.Tensor, got {type(root).__name__}")
    order = topological_order(root)
    key, used = {}, set()
    graph = Graph()
    for k, t in enumerate(order):
        name = t.name if t.name and t.name not in used else f"t{k}"
        used.add(name)
        key[t] = name
        if t.parents:
            graph.node(name, t.op, kind="op")
        else:
            graph.node(name, t.name or format_value(t.data), kind="input")
    for t in order:
        if not t.parents:
            continue
        shares = t.local_backward(t.grad) if t.grad is not None else [None] * len(t.parents)
        merged = {}  # a tensor used twice by one op (x * x) gets one edge with the sum of both shares
        for parent, g in zip(t.parents, shares):
            g = sum_to_shape(np.asarray(g), parent.shape) if g is not None and parent.requires_grad else None
            if parent in merged and g is not None:
                g = merged[parent] + g
            merged[parent] = g
        for parent, g in merged.items():
            graph.edge(key[parent], key[t], value=parent.data, grad=g)
    if root.parents:
        label = output or root.name or "out"
        name = label if label not in used else f"t{len(order)}"
        graph.node(name, label, kind="output")
        graph.edge(key[root], name, value=root.data, grad=root.grad)
    return graph


def _as_graph(graph_or_tensor, owner):
    if isinstance(graph_or_tensor, Tensor):
        return trace(graph_or_tensor)
    if not isinstance(graph_or_tensor, Graph):
        raise TypeError(
            f"{owner}: expected a companion.viz.Graph or a companion.autodiff.Tensor, "
            f"got {type(graph_or_tensor).__name__}"
        )
    return graph_or_tensor


def to_mermaid(graph_or_tensor, fmt=format_value):
    """The graph as mermaid text (``graph LR``), for pages and READMEs that render mermaid.

    Same nodes (ops as circles, inputs and outputs as boxes) and edges as
    ``draw_graph``; each edge is labelled with its value, then its gradient
    when it has one (``"150; grad 1.2"``), and drawn in blue. Paste the text
    into a mermaid code block on GitHub or into mermaid.live to see it.
    """
    graph = _as_graph(graph_or_tensor, "to_mermaid")
    ids = {name: f"n{k}" for k, name in enumerate(graph.nodes)}
    lines = ["graph LR"]
    for node in graph.nodes.values():
        label = _mermaid_text(node.label)
        lines.append(f'    {ids[node.name]}(("{label}"))' if node.kind == "op" else f'    {ids[node.name]}["{label}"]')
    for e in graph.edges:
        text = fmt(e.value) if e.grad is None else f"{fmt(e.value)}; grad {fmt(e.grad)}"
        lines.append(f'    {ids[e.src]} -->|"{_mermaid_text(text)}"| {ids[e.dst]}')
    if graph.edges:
        lines.append(f"    linkStyle default stroke:{_hex(VALUE_COLOR)},color:{_hex(VALUE_COLOR)}")
    return "\n".join(lines) + "\n"


def _mermaid_text(text):
    """Label text shown literally inside mermaid's double quotes (entity codes for special characters)."""
    text = str(text) or " "
    for char, code in (("&", "#amp;"), ('"', "#quot;"), ("<", "#lt;"), (">", "#gt;")):
        text = text.replace(char, code)
    return text


def _hex(color):
    return mcolors.to_hex(color)


def _columns(graph):
    """Column of every node: longest path from a source; sources move next to their first consumer."""
    indegree = {n: 0 for n in graph.nodes}
    for e in graph.edges:
        indegree[e.dst] += 1
    order, ready = [], [n for n in graph.nodes if indegree[n] == 0]
    while ready:
        n = ready.pop(0)
        order.append(n)
        for m in graph.successors(n):
            indegree[m] -= 1
            if indegree[m] == 0:
                ready.append(m)
    if len(order) != len(graph.nodes):
        stuck = sorted(n for n in graph.nodes if indegree[n] > 0)
        raise ValueError(f"draw_graph: the graph has a cycle through {stuck}; expected a DAG")
    col = {}
    for n in order:
        col[n] = max((col[p] + 1 for p in graph.predecessors(n)), default=0)
    for n in order:
        if not graph.predecessors(n) and graph.successors(n):
            col[n] = min(col[m] for m in graph.successors(n)) - 1
    return col


def _rows(graph, col):
    """Row of every node: a node shares its first input's row; its other inputs branch off below.

    Walking back from each output: the first input's branch stays on the
    node's row, every further input's branch goes to the lowest free row
    below it (in the branch's own column), so no two nodes overlap and inputs
    sit just below-left of the node they feed, as in the hand-drawn figures.
    """
    row, taken = {}, set()

    def lowest_free(c, floor):
        while (c, floor) in taken:
            floor += 1
        return floor

    def place(n, floor):
        # iterative: a stack of (node, floor, stage) instead of recursion, so depth is unlimited
        stack = [(n, floor, 0)]
        while stack:
            n, floor, stage = stack.pop()
            if n in row and stage == 0:
                continue
            preds = list(dict.fromkeys(graph.predecessors(n)))
            if stage == 0 and preds and preds[0] not in row:
                stack.append((n, floor, 1))
                stack.append((preds[0], floor, 0))
                continue
            start = max(row[preds[0]], floor) if preds else floor
            row[n] = lowest_free(col[n], start)
            taken.add((col[n], row[n]))
            stack.extend((p, row[n] + 1, 0) for p in reversed(preds[1:]))

    for sink in [n for n in graph.nodes if not graph.successors(n)]:
        place(sink, 0)
    return row


def draw_graph(graph, ax=None, fmt=format_value, title=None, wrap=WRAP):
    """Draw ``graph`` (a ``Graph``, or a ``Tensor`` to trace) with matplotlib and return the figure.

    Each edge gets a blue arrow forward with its value above, and (when the
    edge has a gradient) a red arrow backward with the gradient below. Op
    nodes are circles with their label; input and output nodes are bare text.
    Graphs more than ``wrap + 2`` columns long continue on further bands of
    at most ``wrap`` columns (``wrap=None``: never wrap).
    """
    graph = _as_graph(graph, "draw_graph")
    if not graph.nodes:
        raise ValueError("draw_graph: the graph has no nodes")
    if len(graph.nodes) > MAX_NODES:
        raise ValueError(
            f"draw_graph: {len(graph.nodes)} nodes is too many to draw legibly; expected at most {MAX_NODES}"
        )
    if wrap is not None and (isinstance(wrap, bool) or not isinstance(wrap, int) or wrap < 1):
        raise ValueError(f"draw_graph: wrap must be a positive int (columns per band) or None, got {wrap!r}")
    col = _columns(graph)
    grid, connectors = _layout(graph, col, _rows(graph, col), wrap)
    dx, dy, radius = 2.2, 1.2, 0.32
    pos = {n: (gx * dx, -gy * dy) for n, (gx, gy) in grid.items()}
    spots = list(pos.values()) + [(gx * dx, -gy * dy) for c in connectors.values() for gx, gy in c[:2]]
    width = max(x for x, _ in spots)
    height = -min(y for _, y in spots)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(1.6 + width * 0.75, 14), min(1.0 + height * 0.75, 12)))
    else:
        fig = ax.figure

    for node in graph.nodes.values():
        x, y = pos[node.name]
        if node.kind == "op":
            ax.add_patch(plt.Circle((x, y), radius, fill=False, color="0.35", lw=1.5, gid=f"node:{node.name}"))
            size = 11 if len(node.label) <= 2 else 9 if len(node.label) == 3 else 7.5  # fit the circle
            ax.text(x, y, node.label, ha="center", va="center", fontsize=size, gid=f"label:{node.name}")
        else:
            ha = "right" if node.kind == "input" else "left"
            _side_label(ax, (x, y), node.label, ha, radius, gid=f"label:{node.name}")

    for i, edge in enumerate(graph.edges):
        tag = f"{edge.src}->{edge.dst}"
        if i not in connectors:
            _draw_edge(ax, pos[edge.src], pos[edge.dst], edge, fmt, tag, radius, radius)
            continue
        out_spot, in_spot, letter = connectors[i]
        out_xy, in_xy = (out_spot[0] * dx, -out_spot[1] * dy), (in_spot[0] * dx, -in_spot[1] * dy)
        _draw_edge(ax, pos[edge.src], out_xy, edge, fmt, tag, radius, 0.2)
        _draw_edge(ax, in_xy, pos[edge.dst], edge, None, f"{tag}:continued", 0.2, radius)  # numbers shown once
        box = dict(boxstyle="round,pad=0.2", fc="white", ec="0.5")
        ax.text(*out_xy, letter, ha="center", va="center", fontsize=10, color="0.3", bbox=box,
                gid=f"connector:{tag}")
        ax.text(*in_xy, letter, ha="center", va="center", fontsize=10, color="0.3", bbox=box,
                gid=f"connector:{tag}:continued")

    ax.set_xlim(-1.6, width + 1.6)
    ax.set_ylim(-height - 0.8, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _side_label(ax, xy, text, ha, radius, gid):
    pad = radius - 0.1  # a small gap between the text and its arrow
    x, y = xy
    ax.text(x + (pad if ha == "right" else -pad), y, text, ha=ha, va="center", fontsize=12, gid=gid)


def _draw_edge(ax, p0, p1, edge, fmt, tag, trim0, trim1):
    """Blue arrow p0 -> p1 with the value above it; red arrow back with the gradient below (no text if fmt is None)."""
    (x0, y0), (x1, y1) = p0, p1
    length = math.hypot(x1 - x0, y1 - y0)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length  # along the edge
    nx, ny = -uy, ux  # normal, pointing up for a left-to-right edge
    start = (x0 + ux * trim0, y0 + uy * trim0)
    end = (x1 - ux * trim1, y1 - uy * trim1)
    has_grad = edge.grad is not None
    off = 0.09 if has_grad else 0.0  # half the distance between the forward and the backward arrow
    _arrow(ax, start, end, (nx * off, ny * off), VALUE_COLOR, f"forward:{tag}")
    if has_grad:
        _arrow(ax, end, start, (-nx * off, -ny * off), GRAD_COLOR, f"backward:{tag}")
    slope = abs(y1 - y0) / max(abs(x1 - x0), 1e-9)
    if slope < 0.3:  # (nearly) horizontal: value above, gradient below, left of the busy target
        px, py = x0 + 0.45 * (x1 - x0), y0 + 0.45 * (y1 - y0)
        lift = 0.28
        spots = [((px + nx * lift, py + ny * lift), "center"), ((px - nx * lift, py - ny * lift), "center")]
    else:  # slanted: each label level with a point of its own arrow, beside it, at different heights
        d = 0.06 + (0.13 + off * math.hypot(1, slope)) / slope  # clear of the arrow at the text's height
        side = 1 if nx > 0 else -1  # the side the blue arrow is shifted to
        (vx, vy), (gx, gy) = [(x0 + t * (x1 - x0), y0 + t * (y1 - y0)) for t in (0.5, 0.2)]
        spots = [((vx + side * d, vy), "left" if side > 0 else "right"),
                 ((gx - side * d, gy), "right" if side > 0 else "left")]
    if fmt is None:  # arrows only
        return
    (value_xy, value_ha), (grad_xy, grad_ha) = spots
    ax.text(*value_xy, fmt(edge.value), color=VALUE_COLOR, ha=value_ha, va="center", fontsize=11,
            bbox=_LABEL_BOX, gid=f"value:{tag}")
    if has_grad:
        ax.text(*grad_xy, fmt(edge.grad), color=GRAD_COLOR, ha=grad_ha, va="center", fontsize=11,
                bbox=_LABEL_BOX, gid=f"grad:{tag}")


def _layout(graph, col, row, wrap):
    """Grid position (column, row) of every node, and the connectors of edges that cross bands.

    If there are more than ``wrap + 2`` columns of computed nodes, they are
    cut into bands of at most ``wrap`` columns (as equal as possible), stacked
    top to bottom. An input sits in the band of its first consumer,
    one column to its left (half a column when it sits on a lower row). Returns ``(grid, connectors)``: ``grid[node] =
    (x, y)`` in columns and rows, and ``connectors[edge index] = (out_spot,
    in_spot, letter)`` for each edge whose ends are in different bands.
    """
    computed = [n for n in graph.nodes if graph.predecessors(n)]
    first = min((col[n] for n in computed), default=0)
    n_cols = max((col[n] for n in computed), default=0) - first + 1
    n_bands = math.ceil(n_cols / wrap) if wrap and n_cols > wrap + 2 else 1  # short graphs never wrap
    sizes = [n_cols // n_bands + (b < n_cols % n_bands) for b in range(n_bands)]  # as even as possible
    starts = [sum(sizes[:b]) for b in range(n_bands)]
    band, local = {}, {}
    for n in computed:
        k = col[n] - first
        band[n] = max(b for b in range(n_bands) if starts[b] <= k)
        local[n] = k - starts[band[n]] + 1
    for n in graph.nodes:
        if n not in band:  # a source: left of its first consumer, or half a column left and below
            consumers = graph.successors(n)
            if consumers:
                m = min(consumers, key=lambda c: col[c])
                band[n], local[n] = band[m], local[m] - (1 if row[n] == row[m] else 0.5)
            else:
                band[n], local[n] = 0, 0
    taken = {(band[n], local[n], row[n]) for n in graph.nodes}
    rows = {b: {row[n] for n in graph.nodes if band[n] == b} for b in range(n_bands)}
    next_row = max(row.values()) + 1

    def free_spot(b, x, r):
        nonlocal next_row
        if (b, x, r) in taken:  # occupied: open a new row at the bottom of the band
            r, next_row = next_row, next_row + 1
        taken.add((b, x, r))
        rows[b].add(r)
        return b, x, r

    raw = {}
    for i, e in enumerate(graph.edges):
        if band[e.src] != band[e.dst]:
            raw[i] = (free_spot(band[e.src], local[e.src] + 1, row[e.src]),  # a full edge, with its numbers
                      free_spot(band[e.dst], local[e.dst] - _STUB, row[e.dst]))
    top, offset = 0.0, {}
    for b in range(n_bands):
        offset[b] = {r: top + k for k, r in enumerate(sorted(rows[b]))}
        top += len(rows[b]) + _BAND_GAP

    def at(b, x, r):
        return (x, offset[b][r])

    grid = {n: at(band[n], local[n], row[n]) for n in graph.nodes}
    letters = _letters()
    connectors = {i: (at(*a), at(*b), next(letters)) for i, (a, b) in raw.items()}
    return grid, connectors


def _letters():
    """A, B, ..., Z, AA, AB, ...: names for connectors."""
    k = 0
    while True:
        name, j = "", k
        while True:
            name = chr(ord("A") + j % 26) + name
            j = j // 26 - 1
            if j < 0:
                break
        yield name
        k += 1


def _arrow(ax, start, end, shift, color, gid):
    (sx, sy), (ex, ey), (ox, oy) = start, end, shift
    ax.annotate("", xy=(ex + ox, ey + oy), xytext=(sx + ox, sy + oy),
                arrowprops=dict(arrowstyle="->", color=color, lw=1.4, shrinkA=0, shrinkB=0), gid=gid)
