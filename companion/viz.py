"""Drawing computational graphs: forward values in blue above each edge, gradients in red below.

First used in chapter "Computational graphs".

Describe a graph with ``Graph`` (nodes and edges carrying the numbers your
code computed), then ``draw_graph(graph)`` lays it out left to right and
draws it; no coordinates are ever written by hand::

    g = Graph()
    g.edge("apple", "×₁", value=100, grad=2.2)
    ...
    fig = draw_graph(g)

Layout: a node's column is the length of the longest path reaching it
(inputs sit just left of their first consumer); the output's chain of first
inputs runs along the top row and every further input branches off below,
like the hand-drawn figures in the classic textbooks.
"""

import math
from dataclasses import dataclass, field

import matplotlib.pyplot as plt
import numpy as np

VALUE_COLOR = "tab:blue"
GRAD_COLOR = "tab:red"
KINDS = ("op", "input", "output")
MAX_NODES = 60
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
    """Row of every node: a node shares its first input's row; further inputs open new rows below.

    If that row is already taken in the node's column (two consumers of one
    value), the node opens a new row instead, so no two nodes overlap.
    """
    row, taken, next_row = {}, set(), 0
    sinks = [n for n in graph.nodes if not graph.successors(n)]
    stack = [(n, False) for n in reversed(sinks)]
    while stack:  # iterative depth-first walk from the outputs back to the inputs
        n, expanded = stack.pop()
        if n in row:
            continue
        preds = list(dict.fromkeys(graph.predecessors(n)))
        unplaced = [p for p in preds if p not in row]
        if unplaced and not expanded:
            stack.append((n, True))
            stack.extend((p, False) for p in reversed(unplaced))
            continue
        wanted = row[preds[0]] if preds else None
        if wanted is None or (col[n], wanted) in taken:
            wanted, next_row = next_row, next_row + 1
        row[n] = wanted
        taken.add((col[n], wanted))
    return row


def draw_graph(graph, ax=None, fmt=format_value, title=None):
    """Draw ``graph`` with matplotlib and return the figure.

    Each edge gets a blue arrow forward with its value above, and (when the
    edge has a gradient) a red arrow backward with the gradient below. Op
    nodes are circles with their label; input and output nodes are bare text.
    """
    if not isinstance(graph, Graph):
        raise TypeError(f"draw_graph: expected a companion.viz.Graph, got {type(graph).__name__}")
    if not graph.nodes:
        raise ValueError("draw_graph: the graph has no nodes")
    if len(graph.nodes) > MAX_NODES:
        raise ValueError(
            f"draw_graph: {len(graph.nodes)} nodes is too many to draw legibly; expected at most {MAX_NODES}"
        )
    col = _columns(graph)
    row = _rows(graph, col)
    left = min(col.values())
    dx, dy, radius = 2.2, 1.2, 0.32
    pos = {n: ((col[n] - left) * dx, -row[n] * dy) for n in graph.nodes}

    width = (max(col.values()) - left) * dx
    height = max(row.values()) * dy
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(1.6 + width * 0.75, 14), min(1.0 + height * 0.75, 12)))
    else:
        fig = ax.figure

    for node in graph.nodes.values():
        x, y = pos[node.name]
        if node.kind == "op":
            ax.add_patch(plt.Circle((x, y), radius, fill=False, color="0.35", lw=1.5, gid=f"node:{node.name}"))
            ax.text(x, y, node.label, ha="center", va="center", fontsize=11, gid=f"label:{node.name}")
        else:
            ha = "right" if node.kind == "input" else "left"
            pad = radius - 0.1  # a small gap between the text and its arrow
            ax.text(x + (pad if ha == "right" else -pad), y, node.label, ha=ha, va="center",
                    fontsize=12, gid=f"label:{node.name}")

    gap = 0.09  # half the distance between the forward and the backward arrow
    for edge in graph.edges:
        (x0, y0), (x1, y1) = pos[edge.src], pos[edge.dst]
        length = math.hypot(x1 - x0, y1 - y0)
        ux, uy = (x1 - x0) / length, (y1 - y0) / length  # along the edge
        nx, ny = -uy, ux  # normal, pointing up for a left-to-right edge
        start = (x0 + ux * radius, y0 + uy * radius)
        end = (x1 - ux * radius, y1 - uy * radius)
        t = 0.5 if y0 == y1 else 0.3  # slanted edges: label near the source, away from the busy target
        mid = (x0 + t * (x1 - x0), y0 + t * (y1 - y0))
        tag = f"{edge.src}->{edge.dst}"
        has_grad = edge.grad is not None
        off = gap if has_grad else 0.0
        _arrow(ax, start, end, (nx * off, ny * off), VALUE_COLOR, f"forward:{tag}")
        lift = 0.28 + 0.25 * abs(nx)  # steep edges need room for the label's width
        ax.text(mid[0] + nx * lift, mid[1] + ny * lift, fmt(edge.value), color=VALUE_COLOR,
                ha="center", va="center", fontsize=11, bbox=_LABEL_BOX, gid=f"value:{tag}")
        if has_grad:
            _arrow(ax, end, start, (-nx * off, -ny * off), GRAD_COLOR, f"backward:{tag}")
            ax.text(mid[0] - nx * lift, mid[1] - ny * lift, fmt(edge.grad), color=GRAD_COLOR,
                    ha="center", va="center", fontsize=11, bbox=_LABEL_BOX, gid=f"grad:{tag}")

    ax.set_xlim(-1.6, width + 1.6)
    ax.set_ylim(-height - 0.8, 0.8)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return fig


def _arrow(ax, start, end, shift, color, gid):
    (sx, sy), (ex, ey), (ox, oy) = start, end, shift
    ax.annotate("", xy=(ex + ox, ey + oy), xytext=(sx + ox, sy + oy),
                arrowprops=dict(arrowstyle="->", color=color, lw=1.4, shrinkA=0, shrinkB=0), gid=gid)
