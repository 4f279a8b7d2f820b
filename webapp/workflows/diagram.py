"""Draw a declared process as a state diagram (Graphviz `dot` → SVG), straight from its declaration."""
from __future__ import annotations

import subprocess
from functools import lru_cache

from ..models import ROLE_LABELS
from .engine import Process


def to_dot(process: Process) -> str:
    """DOT source: states as boxes (final ones doubled), transitions labelled with who may fire them."""
    # Short processes read left to right; long ones top-down so the page needs no sideways scroll.
    direction = "LR" if len(process.states) <= 4 else "TB"
    lines = ['digraph G {', f'rankdir={direction}; bgcolor="transparent";',
             'node [shape=box style="rounded,filled" fillcolor="#f4f6fa" fontname="Noto Sans CJK SC"];',
             'edge [fontname="Noto Sans CJK SC" fontsize=10];',
             '__start [shape=point width=0.15 label=""];',
             f'__start -> "{process.initial}";']
    for state, label in process.states.items():
        spec = process.tasks.get(state)
        extra = f"\\n→ {ROLE_LABELS[spec.role]}:{spec.label}" if spec else ""
        shape = ' peripheries=2' if state in process.final else ""
        lines.append(f'"{state}" [label="{label}{extra}"{shape}];')
    for t in process.transitions:
        roles = "/".join(ROLE_LABELS[r] for r in sorted(t.roles, key=lambda r: r.value))
        for source in t.source:
            lines.append(f'"{source}" -> "{t.target}" [label="{t.label}\\n({roles})"];')
    lines.append("}")
    return "\n".join(lines)


@lru_cache(maxsize=32)
def _render(dot: str) -> str:
    try:
        return subprocess.run(["dot", "-Tsvg"], input=dot.encode(), capture_output=True,
                              check=True, timeout=20).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        return ('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="30">'
                '<text x="5" y="20">Graphviz (dot) 未安装</text></svg>')


def process_svg(process: Process) -> str:
    return _render(to_dot(process))
