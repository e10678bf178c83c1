"""Draw the Gemini kernel's logos into kernel/: logo-svg.svg, logo-32x32.png, logo-64x64.png.

The three files come from one geometry (a white four-point sparkle on a rounded blue
square) so that the SVG JupyterLab shows in its launcher and the PNGs classic front ends
use cannot drift apart.  The PNGs are committed; run this script again only when the
design changes:  ``python scripts/make_logos.py``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from matplotlib.patches import FancyBboxPatch, PathPatch
from matplotlib.path import Path as MplPath

KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernel"

# Geometry in a 64 x 64 box, y pointing down as in SVG.
SIZE = 64
CORNER = 14
BACKGROUND = "#1a73e8"
STAR = "#ffffff"
# (x, y) tips of the sparkle and the control point that pinches each side towards the centre.
TIPS = [(32, 7), (57, 32), (32, 57), (7, 32)]
PINCH = 4


def _control(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    """Control point of the curved side from tip ``a`` to tip ``b``: near the centre."""
    cx, cy = SIZE / 2, SIZE / 2
    mx, my = (a[0] + b[0]) / 2, (a[1] + b[1]) / 2
    # Move from the centre a little towards the side's midpoint, giving concave sides.
    dx, dy = mx - cx, my - cy
    norm = (dx * dx + dy * dy) ** 0.5
    return cx + PINCH * dx / norm, cy + PINCH * dy / norm


def _sides() -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """(control, end) of each quadratic side, starting from the top tip."""
    return [(_control(TIPS[i], TIPS[(i + 1) % 4]), TIPS[(i + 1) % 4]) for i in range(len(TIPS))]


def svg() -> str:
    """The SVG logo as text."""
    d = [f"M{TIPS[0][0]:g} {TIPS[0][1]:g}"]
    d += [f"Q{c[0]:.2f} {c[1]:.2f} {e[0]:g} {e[1]:g}" for c, e in _sides()]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" '
        f'viewBox="0 0 {SIZE} {SIZE}">\n'
        f'  <rect width="{SIZE}" height="{SIZE}" rx="{CORNER}" fill="{BACKGROUND}"/>\n'
        f'  <path d="{" ".join(d)} Z" fill="{STAR}"/>\n'
        "</svg>\n"
    )


def png(path: Path, pixels: int) -> None:
    """Render the same drawing with Matplotlib to a ``pixels`` square PNG."""
    fig = plt.figure(figsize=(1, 1), dpi=pixels)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, SIZE)
    ax.set_ylim(SIZE, 0)
    ax.axis("off")
    fig.patch.set_alpha(0)
    ax.add_patch(
        FancyBboxPatch(
            (CORNER, CORNER),
            SIZE - 2 * CORNER,
            SIZE - 2 * CORNER,
            boxstyle=f"round,pad={CORNER}",
            facecolor=BACKGROUND,
            edgecolor="none",
        )
    )
    vertices = [TIPS[0]]
    codes = [MplPath.MOVETO]
    for control, end in _sides():
        vertices += [control, end]
        codes += [MplPath.CURVE3, MplPath.CURVE3]
    ax.add_patch(PathPatch(MplPath(vertices, codes), facecolor=STAR, edgecolor="none"))
    fig.savefig(path, dpi=pixels, transparent=True)
    plt.close(fig)


def main() -> None:
    """Write the three logo files into kernel/."""
    KERNEL_DIR.mkdir(exist_ok=True)
    (KERNEL_DIR / "logo-svg.svg").write_text(svg(), encoding="utf-8")
    for pixels in (32, 64):
        png(KERNEL_DIR / f"logo-{pixels}x{pixels}.png", pixels)


if __name__ == "__main__":
    main()
