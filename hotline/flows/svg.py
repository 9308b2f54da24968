"""A flow drawn as SVG on the server (FLW-4): a layered layout, left to right.

Layers come from the longest path from the start over the graph without its back edges (found by a depth-first
search); steps in a layer are stacked. Forward flows are straight arrows, flows back (returns, redo) and self
loops are arcs below. Steps in `current` are highlighted (a case's position). Every text is escaped.
"""

from __future__ import annotations

from html import escape

from .definition import FlowDef, StepDef
from .models import StepKind

W, H, GAP_X, GAP_Y, PAD = 132, 46, 64, 26, 20
TONES: dict[str, tuple[str, str]] = {
    StepKind.END: ("#e9ecef", "#6c757d"),
    StepKind.SPLIT: ("#fff3cd", "#b58105"),
    StepKind.JOIN: ("#fff3cd", "#b58105"),
}


def _layers(flow: FlowDef) -> dict[str, int]:
    codes = [s.code for s in flow.steps]
    graph: dict[str, list[str]] = {c: [] for c in codes}
    for t in flow.transitions:
        if t.source in graph and t.target in graph:
            graph[t.source].append(t.target)
    back: set[tuple[str, str]] = set()
    state: dict[str, int] = {}

    def dfs(node: str) -> None:
        stack = [(node, iter(graph[node]))]
        state[node] = 1
        while stack:
            current, successors = stack[-1]
            nxt = next(successors, None)
            if nxt is None:
                state[current] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                back.add((current, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(graph[nxt])))

    for code in codes:
        if code not in state:
            dfs(code)
    layer = {c: 0 for c in codes}
    for _ in range(len(codes)):  # longest path on the acyclic rest (Bellman-Ford style, small graphs)
        changed = False
        for source, targets in graph.items():
            for target in targets:
                if (source, target) not in back and source != target and layer[target] < layer[source] + 1:
                    layer[target] = layer[source] + 1
                    changed = True
        if not changed:
            break
    return layer


def render(
    flow: FlowDef,
    *,
    current: set[str] | frozenset[str] = frozenset(),
    done: set[str] | frozenset[str] = frozenset(),
    compact: bool = False,
) -> str:
    """`current`: the case's steps (highlighted); `done`: those of them whose units have all finished (a parallel
    step waiting for its other branches), drawn as done with a tick."""
    if not flow.steps:
        return ""
    scale = 0.8 if compact else 1.0
    layer = _layers(flow)
    columns: dict[int, list[StepDef]] = {}
    for step in flow.steps:
        columns.setdefault(layer[step.code], []).append(step)
    pos: dict[str, tuple[float, float]] = {}
    for col, steps in columns.items():
        for row, step in enumerate(steps):
            pos[step.code] = (PAD + col * (W + GAP_X), PAD + row * (H + GAP_Y))
    width = PAD * 2 + (max(columns) + 1) * (W + GAP_X) - GAP_X
    rows = max(len(s) for s in columns.values())
    height = PAD * 2 + rows * (H + GAP_Y) - GAP_Y + 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="flow-graph" role="img" '
        f'width="{width * scale:.0f}" height="{height * scale:.0f}" viewBox="0 0 {width} {height}" '
        f'data-testid="flow-svg"><title>{escape(flow.name)}</title>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#6c757d"/></marker></defs>',
    ]
    seen_pairs: dict[tuple[str, str], int] = {}
    for t in flow.transitions:
        if t.source not in pos or t.target not in pos:
            continue
        (x1, y1), (x2, y2) = pos[t.source], pos[t.target]
        n = seen_pairs.get((t.source, t.target), 0)
        seen_pairs[(t.source, t.target)] = n + 1
        label = escape(t.title + (" ⟨条件⟩" if t.guard else ""))
        tip = f"<title>{label}{(' — ' + escape(t.guard)) if t.guard else ''}</title>"
        if t.source == t.target:
            cx, cy = x1 + W / 2, y1 + H
            d = f"M{cx - 14},{cy} C{cx - 30},{cy + 34} {cx + 30},{cy + 34} {cx + 14},{cy}"
            lx, ly = cx, cy + 30 + 11 * n
        elif layer[t.target] > layer[t.source]:
            sx, sy, ex, ey = x1 + W, y1 + H / 2, x2, y2 + H / 2
            d = f"M{sx},{sy} C{sx + GAP_X / 2},{sy} {ex - GAP_X / 2},{ey} {ex},{ey}"
            lx, ly = (sx + ex) / 2, (sy + ey) / 2 - 4 + 11 * n
        else:
            sx, sy, ex, ey = x1 + W / 2, y1 + H, x2 + W / 2, y2 + H
            depth = 30 + 14 * (n + abs(layer[t.source] - layer[t.target]) % 4)
            d = f"M{sx},{sy} C{sx},{sy + depth} {ex},{ey + depth} {ex},{ey}"
            lx, ly = (sx + ex) / 2, max(sy, ey) + depth * 0.75
        parts.append(
            f'<g class="flow-edge">{tip}<path d="{d}" fill="none" stroke="#6c757d" stroke-width="1.2" '
            f'marker-end="url(#arrow)"/>'
            f'<text x="{lx:.0f}" y="{ly:.0f}" font-size="10" text-anchor="middle" fill="#495057">{label}</text></g>'
        )
    for step in flow.steps:
        x, y = pos[step.code]
        fill, stroke = TONES.get(step.kind, ("#f8f9fa", "#0d6efd"))
        here = step.code in current
        finished = here and step.code in done
        if here:
            fill, stroke = ("#e9ecef", "#198754") if finished else ("#d1e7dd", "#198754")
        shape = (
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="{H / 2 if step.kind == StepKind.END else 8}" '
            f'fill="{fill}" stroke="{stroke}" stroke-width="{3 if here else 1.5}"/>'
        )
        detail = step.limit_text
        name = ("✓ " if finished else "") + step.name
        classes = "flow-step" + (" current" if here else "") + (" done" if finished else "")
        parts.append(
            f'<g class="{classes}" data-step="{escape(step.code)}">'
            f"<title>{escape(step.name)}（{escape(step.code)}）</title>{shape}"
            f'<text x="{x + W / 2}" y="{y + (19 if detail else 28)}" font-size="13" text-anchor="middle" '
            f'font-weight="{700 if here else 400}">{escape(name)}</text>'
            + (
                f'<text x="{x + W / 2}" y="{y + 36}" font-size="10" text-anchor="middle" fill="#6c757d">'
                f"{escape(detail)}</text>"
                if detail
                else ""
            )
            + "</g>"
        )
    parts.append("</svg>")
    return "".join(parts)
