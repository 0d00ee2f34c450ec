"""The performance report of ``piano-eval score``: the 19-dimension profile as text, JSON, HTML and a chart."""

from __future__ import annotations

import base64
import html
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from piano_data.contracts import DIMENSIONS

from piano_eval.provenance import write_text_atomic


def _conf(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


@dataclass
class Report:
    performance: str
    score: str | None
    checkpoint: str
    experiment: str
    values: np.ndarray
    confidence: np.ndarray | None
    score_view: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        dims = []
        for i, name in enumerate(DIMENSIONS):
            dims.append(
                {
                    "dimension": name,
                    "value": round(float(self.values[i]), 4),
                    "rating_1_to_7": round(float(self.values[i]) * 7, 2),
                    "confidence": None if self.confidence is None else round(float(self.confidence[i]), 3),
                }
            )
        return {
            "performance": self.performance,
            "score": self.score,
            "checkpoint": self.checkpoint,
            "experiment": self.experiment,
            "dimensions": dims,
            "score_conditioned": self.score_view or None,
            "notes": self.notes,
        }

    def to_text(self) -> str:
        lines = [f"Performance: {self.performance}", f"Model: {self.experiment} ({self.checkpoint})"]
        if self.score:
            lines.append(f"Score: {self.score}")
        lines.append("")
        lines.append(f"{'dimension':<52} {'value':>6}  {'1-7':>4}  {'conf':>4}  profile")
        for row in self.to_dict()["dimensions"]:
            bar = "#" * round(row["value"] * 20)
            conf = _conf(row["confidence"])
            lines.append(f"{row['dimension']:<52} {row['value']:>6.3f}  {row['rating_1_to_7']:>4.1f}  {conf:>4}  {bar}")
        if self.score_view:
            lines.append("")
            lines.append("Against the score:")
            for key, value in self.score_view.items():
                lines.append(f"  {key}: {value}")
        for note in self.notes:
            lines.append(f"note: {note}")
        return "\n".join(lines)

    def chart_png(self) -> bytes:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(8, 7))
        y = np.arange(len(DIMENSIONS))[::-1]
        conf = self.confidence if self.confidence is not None else np.ones(len(DIMENSIONS))
        colors = plt.cm.viridis(0.25 + 0.6 * conf)
        ax.barh(y, self.values, color=colors)
        ax.axvline(0.5, color="grey", lw=0.8, ls="--")
        ax.set_yticks(y, [d.replace("_", " ") for d in DIMENSIONS], fontsize=7)
        ax.set_xlim(0, 1)
        ax.set_xlabel("predicted rating (0 = first pole, 1 = second pole); colour = confidence")
        ax.set_title(Path(self.performance).name, fontsize=9)
        fig.tight_layout()
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=110)
        plt.close(fig)
        return buf.getvalue()

    def to_html(self) -> str:
        png = base64.b64encode(self.chart_png()).decode()
        rows = "".join(
            f"<tr><td>{html.escape(r['dimension'])}</td><td>{r['value']:.3f}</td><td>{r['rating_1_to_7']:.1f}</td>"
            f"<td>{_conf(r['confidence'])}</td></tr>"
            for r in self.to_dict()["dimensions"]
        )
        view = "".join(f"<li>{html.escape(str(k))}: {html.escape(str(v))}</li>" for k, v in self.score_view.items())
        return (
            "<!doctype html><meta charset='utf-8'><title>piano-eval report</title>"
            "<style>body{font-family:sans-serif;max-width:900px;margin:auto}td{padding:2px 8px}</style>"
            f"<h1>{html.escape(Path(self.performance).name)}</h1><p>Model: {html.escape(self.experiment)}</p>"
            f"<img alt='profile' src='data:image/png;base64,{png}'>"
            f"<table><tr><th>dimension</th><th>value</th><th>1-7</th><th>confidence</th></tr>{rows}</table>"
            + (f"<h2>Against the score</h2><ul>{view}</ul>" if view else "")
        )

    def render(self, fmt: str) -> str:
        return {
            "text": self.to_text,
            "json": lambda: json.dumps(self.to_dict(), indent=2),
            "html": self.to_html,
        }[fmt]()

    def write_chart(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(self.chart_png())
        tmp.replace(path)
        return path


def write_report(report: Report, fmt: str, path: Path) -> Path:
    return write_text_atomic(path, report.render(fmt))
