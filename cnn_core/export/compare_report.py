"""Two runs compared inside, as one HTML page that opens in any browser with no server:
curves, the settings that differ, filters matched pair by pair, the change of each class's
accuracy, and the test images one run gets right and the other wrong.

Every picture is a PNG inside the page (``data:`` URI); there is no script, stylesheet or
other file to lose, so the page can be mailed or kept next to a lab note.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np
from PIL import Image

from ..data.bundle import ProgressFn
from ..inspect.compare import comparable, match_filters
from ..runs.atomic import atomic_write_text
from . import render
from .compare_data import ComparedRuns, ReportRun, gather
from .exporters import check_target
from .plots import curves_png
from .settings_diff import settings_diff

MAX_PAIRS = 64  # filter pairs drawn per layer (the mean similarity is over all of them)
MAX_DISAGREEMENTS = 48  # thumbnails drawn each way
KERNEL_PX = 60  # a kernel's side on the page, whatever its size in weights
THUMB_PX = 84  # a test image's side on the page (3x an MNIST digit)

_STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;
 margin:0 auto;padding:24px 32px 48px;max-width:1180px;background:#fff}
h1{font-size:26px;margin:0 0 12px}h2{font-size:20px;margin:36px 0 10px;
 border-bottom:1px solid #ddd;padding-bottom:4px}h3{font-size:16px;margin:22px 0 6px}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #ddd;padding:4px 10px;
 text-align:left;vertical-align:top}th{background:#f4f4f4}td.num,th.num{text-align:right;
 font-variant-numeric:tabular-nums}.up{color:#1b7a2f}.down{color:#b3261e}
.note{color:#666;margin:4px 0}.a{color:#1565c0}.b{color:#c62828}
.curves img{display:block;width:100%;max-width:900px;height:auto;margin:8px 0}
.tiles{display:flex;flex-wrap:wrap;gap:10px;margin:8px 0}
figure{margin:0;padding:6px;border:1px solid #e2e2e2;border-radius:4px;text-align:center;
 background:#fafafa}figcaption{font-size:13px;line-height:1.35;margin-top:4px}
img.px{image-rendering:pixelated;image-rendering:crisp-edges;display:inline-block;
 vertical-align:top;border:1px solid #ccc}figure.pair img{border:2px solid #1565c0}
figure.pair img+img{margin-left:6px;border-color:#c62828}
.sim{font-weight:600;font-size:14px}
"""


# -- pictures ----------------------------------------------------------------------------


def _png(pixels: np.ndarray) -> bytes:
    """uint8 (H, W) greyscale or (H, W, 3|4) colour as PNG bytes."""
    buf = io.BytesIO()
    image = Image.fromarray(pixels[..., :3] if pixels.ndim == 3 else pixels)
    image.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def _img(png: bytes, alt: str, *, size: tuple[int, int] | None = None, cls: str = "") -> str:
    """An <img> whose picture is inside the page."""
    data = base64.b64encode(png).decode("ascii")
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<img{klass}{dims} alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _kernel_pngs(weights: np.ndarray, rgb: bool) -> list[bytes]:
    """Each kernel as a PNG, in the window's colours on one scale for the whole layer."""
    tiles = render.colour(render.kernel_tiles(np.asarray(weights, np.float32),
                                              rgb_input=rgb))
    return [_png(tile) for tile in tiles]


def _kernel_size(weights: np.ndarray) -> tuple[int, int]:
    """Page pixels for a kernel: ``KERNEL_PX`` along its longer side."""
    kh, kw = weights.shape[2:]
    scale = KERNEL_PX / max(kh, kw)
    return round(kw * scale), round(kh * scale)


# -- sections ----------------------------------------------------------------------------


def _e(text: object) -> str:
    return html.escape(str(text))


def _percent(value: float) -> str:
    return "—" if not math.isfinite(value) else f"{value:.1%}"


def _points(change: float) -> str:
    """A change of accuracy in percentage points, signed and coloured."""
    if not math.isfinite(change):
        return "—"
    points = round(100 * change, 1)
    if points == 0:
        return "0.0 pt"
    cls, sign = ("up", "+") if points > 0 else ("down", "−")
    return f'<span class="{cls}">{sign}{abs(points):.1f} pt</span>'


def _run_row(tag: str, run: ReportRun) -> str:
    last = run.metrics[-1].epoch if run.metrics else run.epoch
    return (f'<tr><th class="{tag.lower()}">{tag}</th><td>{_e(run.name)}</td>'
            f"<td>{_e(run.config.arch)} on {_e(run.config.dataset)}</td>"
            f'<td class="num">{run.epoch} of {last}</td>'
            f'<td class="num"><b>{_percent(run.accuracy)}</b></td><td>{_e(run.source)}</td></tr>')


def _header(runs: ComparedRuns) -> str:
    a, b = runs.a, runs.b
    return (f"<h1>{_e(a.name)} <span class='note'>vs</span> {_e(b.name)}</h1>"
            "<table><tr><th></th><th>run</th><th>network and data</th>"
            "<th class='num'>checkpoint epoch</th><th class='num'>test accuracy</th>"
            f"<th>from</th></tr>{_run_row('A', a)}{_run_row('B', b)}</table>"
            f"<p class='note'>Each run is evaluated at its best checkpoint on the same "
            f"{len(runs.labels):,} test images.</p>")


def _curves(runs: ComparedRuns) -> str:
    parts = ["<h2>Curves</h2><div class='curves'>"]
    for tag, run in (("A", runs.a), ("B", runs.b)):
        if run.metrics:
            title = f"{tag}: {run.name} ({run.config.arch})"
            parts.append(_img(curves_png(run.metrics, title), f"{tag}'s loss and accuracy"))
        else:
            parts.append(f"<p class='note'>{tag}: no finished epoch recorded.</p>")
    return "".join(parts) + "</div>"


def _settings(runs: ComparedRuns) -> str:
    rows = settings_diff(runs.a.config, runs.b.config)
    if not rows:
        return "<h2>Settings that differ</h2><p>None: both runs had the same settings.</p>"
    body = "".join(f"<tr><th>{_e(r.name)}</th><td>{_e(r.a)}</td><td>{_e(r.b)}</td></tr>"
                   for r in rows)
    return ("<h2>Settings that differ</h2><table><tr><th>setting</th>"
            f"<th class='a'>A</th><th class='b'>B</th></tr>{body}</table>")


def _shape(weights: np.ndarray) -> str:
    n, channels, kh, kw = weights.shape
    return f"{n} filters {kh}x{kw} reading {channels} channel{'s' if channels > 1 else ''}"


def _layer_pairs(name: str, wa: np.ndarray, wb: np.ndarray, rgb: bool) -> str:
    """One layer both runs have: the headline, and B's filters in A's order beside A's."""
    shapes = f"A: {_shape(wa)}; B: {_shape(wb)}"
    reason = comparable(wa, wb)
    if reason:
        return (f"<h3>{_e(name)}: not matched</h3><p class='note'>{_e(shapes)}. "
                f"{_e(reason)}, so their kernels cannot be compared.</p>")
    perm, similarity = match_filters(wa, wb)
    mean = float(np.nanmean(similarity)) if np.isfinite(similarity).any() else float("nan")
    notes = [shapes + "."]
    if wa.shape[2:] != wb.shape[2:]:
        notes.append("Kernels of different sizes are compared with the smaller one "
                     "zero-padded to the larger (it computes the same).")
    if len(wb) > len(wa):
        notes.append(f"{len(wb) - len(wa)} of B's filters have no partner in A.")
    if len(wa) > len(wb):
        notes.append(f"{len(wa) - len(wb)} of A's filters have no partner in B.")
    shown = min(len(wa), MAX_PAIRS)
    if shown < len(wa):
        notes.append(f"The first {shown} of {len(wa)} pairs are drawn; the similarity is "
                     "the mean over all of them.")
    pngs_a, pngs_b = _kernel_pngs(wa, rgb), _kernel_pngs(wb, rgb)
    size_a, size_b = _kernel_size(wa), _kernel_size(wb)
    cards = []
    for i in range(shown):
        j = int(perm[i])
        tile_b = _img(pngs_b[j], f"B's filter {j}", size=size_b, cls="px") if j >= 0 else ""
        caption = (f"A {i} · B {j}<br><span class='sim'>{similarity[i]:.2f}</span>"
                   if j >= 0 else f"A {i}<br><span class='note'>no partner</span>")
        tile_a = _img(pngs_a[i], f"A's filter {i}", size=size_a, cls="px")
        cards.append(f"<figure class='pair'>{tile_a}{tile_b}"
                     f"<figcaption>{caption}</figcaption></figure>")
    scale = ("each kernel's RGB weights as a colour" if rgb else
             "red &gt; 0 &gt; blue, one scale per run and layer"
             + (f", mean over the {wa.shape[1]} input channels" if wa.shape[1] > 1 else ""))
    return (f"<h3>{_e(name)}: {mean:.2f} matched similarity</h3>"
            f"<p class='note'>{_e(' '.join(notes))} Each pair: A's filter, then the filter "
            f"of B matched to it, and their cosine similarity ({scale}).</p>"
            f"<div class='tiles'>{''.join(cards)}</div>")


def _filters(runs: ComparedRuns) -> str:
    fa, fb = runs.a.filters, runs.b.filters
    parts = ["<h2>Filters, matched</h2><p class='note'>For each conv layer both networks "
             "have, B's filters are matched one to one to A's by the Hungarian method on "
             "the cosine similarity of their kernels: 1 is the same filter, 0 unrelated, "
             "−1 the opposite.</p>"]
    first = next(iter(fa), None)
    for name, wa in fa.items():
        if name in fb:
            rgb = name == first and wa.shape[1] == 3 and fb[name].shape[1] == 3
            parts.append(_layer_pairs(name, wa, fb[name], rgb))
    alone = ([f"{name}: only in A" for name in fa if name not in fb]
             + [f"{name}: only in B" for name in fb if name not in fa])
    if not (set(fa) & set(fb)):
        parts.append("<p>The two networks have no conv layer of the same name.</p>")
    if alone:
        parts.append("<h3>Layers with no counterpart</h3><ul>"
                     + "".join(f"<li>{_e(line)}</li>" for line in alone) + "</ul>")
    return "".join(parts)


def _classes(runs: ComparedRuns) -> str:
    c = runs.comparison
    rows = []
    for k in c.by_change():
        rows.append(f"<tr><th>{_e(runs.class_names[k])}</th><td class='num'>{c.counts[k]:,}"
                    f"</td><td class='num'>{_percent(c.accuracy_a[k])}</td>"
                    f"<td class='num'>{_percent(c.accuracy_b[k])}</td>"
                    f"<td class='num'>{_points(c.change[k])}</td></tr>")
    overall = runs.b.accuracy - runs.a.accuracy
    rows.append(f"<tr><th>all</th><td class='num'>{len(runs.labels):,}</td>"
                f"<td class='num'>{_percent(runs.a.accuracy)}</td>"
                f"<td class='num'>{_percent(runs.b.accuracy)}</td>"
                f"<td class='num'>{_points(overall)}</td></tr>")
    return ("<h2>Class changes</h2><p class='note'>Each class's test accuracy, the largest "
            "change first.</p><table class='classes'><tr><th>class</th>"
            "<th class='num'>test images</th><th class='num a'>A</th><th class='num b'>B</th>"
            f"<th class='num'>change (B − A)</th></tr>{''.join(rows)}</table>")


def _thumbnails(runs: ComparedRuns, indices: np.ndarray, title: str) -> str:
    shown = indices[:MAX_DISAGREEMENTS]
    count = (f"{len(indices):,} image{'s' if len(indices) != 1 else ''}"
             + ("" if len(shown) == len(indices) else f", the first {len(shown)} shown"))
    names = runs.class_names
    cards = []
    for i in shown:
        label = names[runs.labels[i]]
        pred_a, pred_b = names[runs.a.predictions[i]], names[runs.b.predictions[i]]
        picture = _img(_png(runs.pictures[i]), f"test image {i}", size=(THUMB_PX, THUMB_PX),
                       cls="px")
        cards.append(f"<figure>{picture}<figcaption>label <b>{_e(label)}</b><br>"
                     f"<span class='a'>A: {_e(pred_a)}</span> · "
                     f"<span class='b'>B: {_e(pred_b)}</span></figcaption></figure>")
    body = f"<div class='tiles'>{''.join(cards)}</div>" if cards else ""
    return f"<h3>{_e(title)}: {count}</h3>{body}"


def _disagreements(runs: ComparedRuns) -> str:
    c = runs.comparison
    return ("<h2>Disagreements</h2><p class='note'>Test images that one run gets right and "
            "the other wrong, with the true label and each run's answer.</p>"
            + _thumbnails(runs, c.only_a_right, "A right, B wrong")
            + _thumbnails(runs, c.only_b_right, "B right, A wrong"))


def compare_report_html(runs: ComparedRuns) -> str:
    """The whole page, every picture inside it."""
    title = f"{runs.a.name} vs {runs.b.name}: CNN Studio comparison"
    body = "".join((_header(runs), _curves(runs), _settings(runs), _filters(runs),
                    _classes(runs), _disagreements(runs)))
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{_e(title)}</title><style>{_STYLE}</style></head>"
            f"<body>{body}</body></html>\n")


def write_compare_report(source_a: str | Path, source_b: str | Path, path: str | Path, *,
                         replace: bool = False, progress: ProgressFn | None = None
                         ) -> ComparedRuns:
    """Compare run A with run B (run folders or checkpoints, each at its best checkpoint)
    and write the page to ``path`` (never in a run folder; over a file only with
    ``replace``). Returns what was compared, for a summary line."""
    check_target(path, replace=replace)
    runs = gather(source_a, source_b, progress)
    atomic_write_text(path, compare_report_html(runs))
    return runs
