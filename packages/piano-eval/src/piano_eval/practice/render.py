"""The practice report as text (terminal), JSON (apps; schema ``piano-eval/score-report/2``) and HTML (figures inline).

Figures are drawn on :class:`matplotlib.figure.Figure` with the Agg canvas: no pyplot, no global backend change.
The JSON schema ships beside this module (``score_report.schema.json``) and is documented in
``docs/score_report_schema.md``.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
from importlib import resources
from typing import Any

import numpy as np
from piano_data.contracts import DIMENSIONS

from piano_eval.practice.report import AnalysisConfig, PracticeReport, clock

__all__ = ["SCHEMA_ID", "figures", "load_schema", "to_dict", "to_html", "to_json", "to_text"]

SCHEMA_ID = "piano-eval/score-report/2"


def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of :func:`to_dict` documents."""
    text = (resources.files("piano_eval.practice") / "score_report.schema.json").read_text()
    schema: dict[str, Any] = json.loads(text)
    return schema


def _r(x: float | None, nd: int = 4) -> float | None:
    if x is None:
        return None
    x = float(x)
    return None if not math.isfinite(x) else round(x, nd)


def _dims(values: np.ndarray | None) -> dict[str, float] | None:
    if values is None:
        return None
    return {name: float(round(float(v), 4)) for name, v in zip(DIMENSIONS, values, strict=True)}


def short_name(dim: str) -> str:
    """``Timing_Stable_Unstable`` -> ``Timing: Stable - Unstable`` (poles as PercePiano names them)."""
    head, _, rest = dim.partition("_")
    if head == "Emotion":  # Emotion_&_Mood_...
        head, rest = "Emotion & Mood", rest.partition("_")[2].partition("_")[2]
    if head == "Music":  # Music_Making_...
        head, rest = "Music making", rest.partition("_")[2]
    return f"{head}: {rest.replace('_', ' ')}"


def to_dict(report: PracticeReport) -> dict[str, Any]:
    """The report as a JSON-ready document following :data:`SCHEMA_ID`."""
    mean, std, minmax = report.overall()
    conf = report.overall_confidence()
    windows = []
    for w in report.windows:
        windows.append(
            {
                "bars": None if w.bars is None else [w.bars[0], w.bars[1]],
                "start_s": _r(w.start_s, 3),
                "end_s": _r(w.end_s, 3),
                "n_notes": w.n_notes,
                "dimensions": _dims(w.values),
                "outside_training_share": _r(w.outside_share),
            }
        )
    bars = []
    for b in report.bars:
        bars.append(
            {
                "bar": b.number,
                "index": b.index,
                "played": b.played,
                "start_s": _r(b.start_s, 3),
                "end_s": _r(b.end_s, 3),
                "score_start_s": _r(b.score_start, 3),
                "score_end_s": _r(b.score_end, 3),
                "n_score_notes": b.n_score_notes,
                "n_matched": b.n_matched,
                "missed": list(b.missed),
                "extra": list(b.extra),
                "wrong": [dict(w) for w in b.wrong],
                "ornaments": b.ornaments,
                "unsure": [dict(u) for u in b.unsure],
                "confidence": _r(b.confidence),
                "tempo_ratio": _r(b.tempo_ratio),
                "tempo_vs_piece": _r(b.tempo_vs_piece),
                **({"tempo_vs_references": _r(b.tempo_vs_references)} if report.references is not None else {}),
                "loudness": _r(b.loudness, 2),
                "flagged": b.flagged,
                "remarks": list(b.remarks),
            }
        )
    return {
        "schema": SCHEMA_ID,
        "performance": report.performance,
        "score": report.score,
        "model": {"name": report.model, **report.model_info},
        "duration_s": _r(report.duration_s, 3),
        "n_performed_notes": report.n_performed_notes,
        "trusted_alignment": report.trusted,
        "alignment": report.alignment,
        "overall": {
            "dimensions": _dims(mean) or {},
            "spread": _dims(std),
            "min": _dims(None if minmax is None else minmax[0]),
            "max": _dims(None if minmax is None else minmax[1]),
            "confidence": _dims(conf),
            "n_windows": len(report.scored_windows),
        },
        "windows": windows,
        "bars": bars,
        "departing_bars": [b.number for b in report.departing_bars()],
        "restarts": list(report.restarts),
        "notes": list(report.notes),
        **({"references": report.references} if report.references is not None else {}),
        **({"min_confidence": report.min_confidence} if report.min_confidence is not None else {}),
    }


def to_json(report: PracticeReport) -> str:
    return json.dumps(to_dict(report), indent=2)


# --- text ------------------------------------------------------------------------------------------------


def _flag_terms(report: PracticeReport) -> str:
    """The tail of the bar summary: which confidence made a departure a mistake (when it is not the default), and
    how many more bars depart only in ways the tool is unsure are mistakes (not flagged)."""
    out = ""
    level = report.min_confidence
    if level is not None and abs(level - AnalysisConfig.min_confidence) >= 1e-12:
        out += f" (a departure is a mistake at confidence {level:g} or more)"
    n = sum(1 for b in report.played_bars if b.unsure and not b.flagged)
    if n:
        kinds = "ornaments, chord notes, octave doublings"
        kinds += ", departures the references share" if report.references is not None else ""
        out += f"; {n} more with departures that may not be mistakes ({kinds}: 'not sure')"
    return out


def to_text(report: PracticeReport) -> str:
    doc = to_dict(report)
    lines = [f"Performance: {report.performance}  ({clock(report.duration_s)}, {report.n_performed_notes} notes)"]
    if report.score:
        lines.append(f"Score: {report.score}")
    metrics = report.model_info.get("metrics") or {}
    model_line = f"Model: {report.model}"
    if "r2" in metrics:
        model_line += f" (cross-validated R^2 {metrics['r2']:.2f} on PercePiano passages)"
    lines.append(model_line)
    if report.alignment:
        a = report.alignment
        lines.append(
            f"Alignment: {100 * a['matched_share_of_played_bars']:.0f}% of the score notes in the played bars found"
            + (f"; flags: {', '.join(a['flags'])}" if a["flags"] else "")
        )
    for note in report.notes:
        lines.append(f"note: {note}")
    mean, std, _ = report.overall()
    lines.append("")
    if mean is None:
        lines.append("No window could be scored.")
    else:
        n = len(report.scored_windows)
        unit = "windows" if n != 1 else "window"
        lines.append(f"Overall profile (mean of {n} {unit}; spread = std over windows; 1-7 scale as rated)")
        lines.append(f"{'dimension':<58} {'1-7':>4} {'spread':>6}  0 ........ 1")
        assert std is not None
        for name, v, s in zip(DIMENSIONS, mean, std, strict=True):
            bar = "#" * round(v * 12)
            lines.append(f"{short_name(name):<58} {7 * v:>4.1f} {7 * s:>6.2f}  {bar}")
    scored = report.scored_windows
    if len(scored) > 1:
        lines.append("")
        lines.append("Profile across the piece (1-7 per window)")
        shown = scored[:16]
        heads = [(f"{w.bars[0]}-{w.bars[1]}" if w.bars else clock(w.start_s)) for w in shown]
        lines.append(f"{'bars':<58} " + " ".join(f"{h:>7}" for h in heads))
        for d, name in enumerate(DIMENSIONS):
            vals = " ".join(f"{7 * w.values[d]:>7.1f}" for w in shown if w.values is not None)
            lines.append(f"{short_name(name):<58} {vals}")
        if len(scored) > len(shown):
            lines.append(f"... {len(scored) - len(shown)} more windows in the JSON/HTML report")
    if report.bars:
        played = report.played_bars
        flagged = [b for b in played if b.flagged]
        lines.append("")
        lines.append(
            f"Bars: {len(played)} played of {len(report.bars)}; {len(flagged)} with missed, extra or wrong notes"
            + _flag_terms(report)
        )
        top = report.departing_bars()
        if top:
            lines.append("Bars that depart most:")
            for b in top:
                lines.append(f"  bar {b.number:>4} at {clock(b.start_s)}: {'; '.join(b.remarks)}")
        lines.append("")
        lines.append(f"{'bar':>5} {'played at':>10} {'tempo':>6} {'loud':>5}  remarks")
        for b in played:
            if not b.remarks and b is not played[0] and b is not played[-1]:
                continue
            tempo = "-" if b.tempo_ratio is None else f"{b.tempo_ratio:.2f}"
            loud = "-" if b.loudness is None else f"{b.loudness:.0f}"
            lines.append(f"{b.number:>5} {clock(b.start_s):>10} {tempo:>6} {loud:>5}  {'; '.join(b.remarks)}")
        lines.append(
            "(tempo: played tempo / the score's tempo; loud: mean MIDI velocity; bars without remarks omitted)"
        )
    del doc
    return "\n".join(lines)


# --- figures ---------------------------------------------------------------------------------------------


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def figures(report: PracticeReport) -> dict[str, bytes]:
    """PNG figures: ``profile`` (overall with spread), ``windows`` (dimensions x bars), ``bars`` (tempo, loudness)."""
    from matplotlib.figure import Figure

    out: dict[str, bytes] = {}
    mean, std, minmax = report.overall()
    labels = [short_name(d) for d in DIMENSIONS]
    if mean is not None and std is not None and minmax is not None:
        fig = Figure(figsize=(8, 6.5))
        ax = fig.add_subplot()
        y = np.arange(len(DIMENSIONS))[::-1]
        ax.barh(y, 7 * mean, color="#4c72b0", height=0.65)
        ax.errorbar(7 * mean, y, xerr=7 * std, fmt="none", ecolor="black", lw=1, capsize=2)
        ax.scatter(7 * minmax[0], y, marker="|", color="#c44e52", s=60, zorder=3, label="lowest / highest window")
        ax.scatter(7 * minmax[1], y, marker="|", color="#c44e52", s=60, zorder=3)
        ax.set_yticks(y, labels, fontsize=7)
        ax.set_xlim(1, 7)
        ax.set_xlabel("rating (1-7: first pole to second pole); whisker = spread over windows")
        ax.legend(loc="lower right", fontsize=7)
        ax.set_title("Overall profile", fontsize=10)
        fig.tight_layout()
        out["profile"] = _png(fig)
    scored = report.scored_windows
    if len(scored) > 1:
        fig = Figure(figsize=(max(6.0, 1.0 + 0.45 * len(scored)), 6.5))
        ax = fig.add_subplot()
        grid = 7 * np.stack([w.values for w in scored if w.values is not None]).T
        im = ax.imshow(grid, aspect="auto", cmap="RdBu_r", vmin=1, vmax=7, interpolation="nearest")
        ax.set_yticks(range(len(DIMENSIONS)), labels, fontsize=7)
        ticks = [(f"{w.bars[0]}-{w.bars[1]}" if w.bars else clock(w.start_s)) for w in scored]
        ax.set_xticks(range(len(scored)), ticks, rotation=60, fontsize=7)
        ax.set_xlabel("bars" if scored[0].bars else "time")
        fig.colorbar(im, ax=ax, shrink=0.8, label="rating 1-7")
        ax.set_title("Profile across the piece (one column per window)", fontsize=10)
        fig.tight_layout()
        out["windows"] = _png(fig)
    played = report.played_bars
    if played:
        fig = Figure(figsize=(9, 4.5))
        ax1, ax2 = fig.subplots(2, 1, sharex=True)
        x = np.array([b.index for b in played])
        tempo = np.array([np.nan if b.tempo_ratio is None else b.tempo_ratio for b in played])
        loud = np.array([np.nan if b.loudness is None else b.loudness for b in played])
        ax1.plot(x, tempo, color="#4c72b0", lw=1.2, marker=".", ms=3)
        ax1.axhline(1.0, color="grey", lw=0.8, ls="--")
        ax1.set_ylabel("tempo / score's", fontsize=8)
        ax2.plot(x, loud, color="#55a868", lw=1.2, marker=".", ms=3)
        ax2.set_ylabel("loudness (velocity)", fontsize=8)
        ax2.set_ylim(0, 127)
        bad = np.array([b.flagged for b in played])
        if bad.any():
            for ax in (ax1, ax2):
                for xi in x[bad]:
                    ax.axvspan(xi - 0.5, xi + 0.5, color="#c44e52", alpha=0.18, lw=0)
        step = max(1, len(played) // 24)
        ax2.set_xticks(x[::step], [b.number for b in played][::step], fontsize=7)
        ax2.set_xlabel("bar (shaded: missed, extra or wrong notes)", fontsize=8)
        ax1.set_title("Tempo and loudness bar by bar", fontsize=10)
        fig.tight_layout()
        out["bars"] = _png(fig)
    return out


# --- HTML ------------------------------------------------------------------------------------------------

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1000px;margin:24px auto;
padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.4em;margin-bottom:4px} h2{font-size:1.1em;margin-top:28px;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9em} .note{background:#fff6dd;border-left:4px solid #e0a800;padding:6px 10px;margin:6px 0}
table{border-collapse:collapse;font-size:.85em} td,th{padding:3px 8px;border-bottom:1px solid #eee;text-align:left}
th{background:#f5f5f5} td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.flag td{background:#fdecea} img{max-width:100%;height:auto} .top li{margin:2px 0}
"""


def _img(png: bytes, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def to_html(report: PracticeReport) -> str:
    """A self-contained HTML page (figures inlined as base64 PNG, no external resources)."""
    esc = html.escape
    figs = figures(report)
    mean, std, _ = report.overall()
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>piano-eval: {esc(report.performance)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{esc(report.performance.rsplit('/', 1)[-1])}</h1>",
        "<p class='meta'>",
        f"Performance: {esc(report.performance)} ({clock(report.duration_s)}, {report.n_performed_notes} notes)<br>",
    ]
    if report.score:
        parts.append(f"Score: {esc(report.score)}<br>")
    metrics = report.model_info.get("metrics") or {}
    r2 = f" &middot; cross-validated R<sup>2</sup> {metrics['r2']:.2f}" if "r2" in metrics else ""
    parts.append(f"Model: {esc(report.model)}{r2}")
    if report.alignment:
        share = 100 * report.alignment["matched_share_of_played_bars"]
        parts.append(f"<br>Alignment: {share:.0f}% of the score notes in the played bars found")
    parts.append("</p>")
    for note in report.notes:
        parts.append(f"<div class='note'>{esc(note)}</div>")
    if report.bars:
        played = report.played_bars
        flagged = [b for b in played if b.flagged]
        parts.append("<h2>Bar by bar</h2>")
        parts.append(
            f"<p>{len(played)} of {len(report.bars)} bars played; {len(flagged)} with missed, extra or wrong notes"
            f"{esc(_flag_terms(report))}.</p>"
        )
        top = report.departing_bars()
        if top:
            items = "".join(
                f"<li><b>bar {esc(b.number)}</b> at {clock(b.start_s)}: {esc('; '.join(b.remarks))}</li>" for b in top
            )
            parts.append(f"<p>Bars that depart most:</p><ul class='top'>{items}</ul>")
        if "bars" in figs:
            parts.append(_img(figs["bars"], "tempo and loudness per bar"))
        rows_html = []
        for b in played:
            cls = " class='flag'" if b.flagged else ""
            tempo = "-" if b.tempo_ratio is None else f"{b.tempo_ratio:.2f}"
            loud = "-" if b.loudness is None else f"{b.loudness:.0f}"
            rows_html.append(
                f"<tr{cls}><td>{esc(b.number)}</td><td class='num'>{clock(b.start_s)}</td>"
                f"<td class='num'>{tempo}</td><td class='num'>{loud}</td><td>{esc('; '.join(b.remarks))}</td></tr>"
            )
        parts.append(
            "<table><tr><th>bar</th><th>played at</th><th>tempo / score</th><th>loudness</th><th>remarks</th></tr>"
            + "".join(rows_html)
            + "</table>"
        )
    parts.append("<h2>Overall profile</h2>")
    if mean is None or std is None:
        parts.append("<p>No window could be scored.</p>")
    else:
        if "profile" in figs:
            parts.append(_img(figs["profile"], "overall profile"))
        rows = "".join(
            f"<tr><td>{esc(short_name(d))}</td><td class='num'>{7 * v:.1f}</td><td class='num'>{7 * s:.2f}</td></tr>"
            for d, v, s in zip(DIMENSIONS, mean, std, strict=True)
        )
        parts.append(f"<table><tr><th>dimension</th><th>1-7</th><th>spread</th></tr>{rows}</table>")
    if "windows" in figs:
        parts.append("<h2>Profile across the piece</h2>")
        parts.append(_img(figs["windows"], "profile per window"))
    parts.append(
        "<p class='meta'>Ratings are on PercePiano's 1-7 scales (first pole = 1, second pole = 7). Tempo is the "
        "played tempo over the score's tempo (above 1: faster). Loudness is the mean MIDI velocity.</p>"
    )
    parts.append("</body></html>")
    return "".join(parts)
