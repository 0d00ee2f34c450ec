"""Execute the model-improvement notebooks top to bottom and fail on any error.

Each ``notebooks/model_improvement/NN_*.py`` (jupytext percent format) is converted to a notebook and run with
nbclient in a fresh ``python3`` kernel (ipykernel), in order 01..10, with its working directory set to
``notebooks/model_improvement`` and these environment variables, which the notebooks' parameter cells read:

- ``PIANO_NB_SIZE``: ``quick`` (default; 2 CPU cores, tiny models, one fold) or ``full`` (GPU, real size;
  audio notebooks read ``MUQ_WEIGHTS``, a local folder holding the real MuQ weights);
- ``PIANO_NB_OUT``: ``notebooks/outputs/<notebook>/``, where the notebook writes its results files, tables
  (markdown, CSV) and figures (PNG); the executed notebook is saved there too (``<notebook>.ipynb``);
- ``PIANO_NB_DATA_ROOT``: ``auto`` (default: ``piano_data.paths.find_data_root()``, else the synthetic
  corpus), ``synthetic``, or a folder.

Later notebooks reuse the results of earlier ones in the same output folder (07 reads 01-03, 08 reads 04-06,
10 reads 01-03). One chosen figure per notebook is copied to ``docs/figures/<notebook>.png`` (the README shows
them). Wall times go to ``notebooks/outputs/timings.json``. Exit status 1 when any notebook fails.

    python notebooks/run_notebooks.py                  # all ten, quick
    python notebooks/run_notebooks.py --only 04 08     # a subset (by number or name)
    python notebooks/run_notebooks.py --size full --data-root /data   # on a GPU machine
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
NOTEBOOKS = HERE / "model_improvement"
DEFAULT_OUT = HERE / "outputs"
FIGURES_DIR = ROOT / "docs" / "figures"

#: the figure of each notebook shown in the README (copied to docs/figures/<notebook>.png)
README_FIGURE = {
    "01_audio_A1_lora_finetune": "training_curves.png",
    "02_audio_A2_staged_adaptation": "training_curves.png",
    "03_audio_A3_full_unfreeze": "predicted_vs_rated.png",
    "04_symbolic_S1_transformer": "training_curves.png",
    "05_symbolic_S2_gnn": "per_dimension_r2.png",
    "06_symbolic_S3_continuous": "predicted_vs_rated.png",
    "07_audio_comparison": "per_dimension_r2.png",
    "08_symbolic_comparison": "per_dimension_r2.png",
    "09_fusion_experiments": "f3_gate_weights.png",
    "10_robustness_validation": "robustness_a1.png",
}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", choices=("quick", "full"), default="quick")
    p.add_argument("--only", nargs="+", default=None, metavar="NB", help="numbers or names, e.g. 01 10")
    p.add_argument("--data-root", default="auto", help="auto (default), synthetic, or a folder")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: notebooks/outputs")
    p.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell (default: 3600)")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    p.add_argument("--no-figures", action="store_true", help="do not copy the README figures to docs/figures")
    return p.parse_args(argv)


def select(only: list[str] | None) -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py"))
    if not only:
        return paths
    chosen = [p for p in paths if any(p.stem == o or p.stem.startswith(f"{o}_") for o in only)]
    unknown = [o for o in only if not any(p.stem == o or p.stem.startswith(f"{o}_") for p in paths)]
    if unknown:
        raise SystemExit(f"run_notebooks: no notebook {', '.join(unknown)} in {NOTEBOOKS}")
    return chosen


def execute(path: Path, out: Path, size: str, data_root: str, timeout: int) -> tuple[bool, str]:
    """Run one notebook; the executed notebook (also a failed one) is written to ``out/<stem>.ipynb``."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    out.mkdir(parents=True, exist_ok=True)
    nb = jupytext.read(path)
    os.environ.update({"PIANO_NB_SIZE": size, "PIANO_NB_OUT": str(out), "PIANO_NB_DATA_ROOT": data_root})
    os.environ.setdefault("MPLBACKEND", "Agg")
    # the kernel must be this interpreter (the environment holding the packages)
    os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    error = ""
    try:
        client.execute()
    except CellExecutionError as exc:
        lines = str(exc).strip().splitlines()
        error = f"{exc.ename}: {exc.evalue}\n" + "\n".join(lines[-25:])
    except Exception as exc:  # kernel died, timeout, ...
        error = f"{type(exc).__name__}: {exc}"
    tmp = out / f".{path.stem}.ipynb.tmp"
    nbformat.write(nb, tmp)
    tmp.replace(out / f"{path.stem}.ipynb")
    return not error, error


def copy_figure(stem: str, out: Path) -> str | None:
    name = README_FIGURE.get(stem)
    if name is None or not (out / name).is_file():
        return None
    FIGURES_DIR.mkdir(parents=True, exist_ok=True)
    target = FIGURES_DIR / f"{stem}.png"
    shutil.copyfile(out / name, target)
    return str(target.relative_to(ROOT))


def _children_cpu() -> float:
    """CPU seconds of finished child processes (the kernels, once shut down)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    paths = select(args.only)
    args.out.mkdir(parents=True, exist_ok=True)
    timings_path = args.out / "timings.json"
    timings = json.loads(timings_path.read_text()) if timings_path.is_file() else {}
    failed = []
    start = time.perf_counter()
    for path in paths:
        print(f"[{time.strftime('%H:%M:%S')}] {path.stem} ({args.size}) ...", flush=True)
        t0, cpu0 = time.perf_counter(), _children_cpu()
        ok, error = execute(path, args.out / path.stem, args.size, args.data_root, args.timeout)
        wall, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
        figure = copy_figure(path.stem, args.out / path.stem) if ok and not args.no_figures else None
        timings[path.stem] = {
            "ok": ok, "wall_s": round(wall, 1), "kernel_cpu_s": round(cpu, 1), "size": args.size,
            "data_root": args.data_root,
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S"), "figure": figure,
        }  # fmt: skip
        tmp = timings_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(timings, indent=2) + "\n")
        tmp.replace(timings_path)
        status = "ok" if ok else "FAILED"
        print(
            f"    {status} in {wall:.0f} s (kernel CPU {cpu:.0f} s)" + (f"; figure {figure}" if figure else ""),
            flush=True,
        )
        if not ok:
            failed.append(path.stem)
            print("    " + error.replace("\n", "\n    "), file=sys.stderr, flush=True)
            if args.fail_fast:
                break
    total = time.perf_counter() - start
    print(f"{len(paths) - len(failed)}/{len(paths)} notebooks ran in {total:.0f} s; outputs in {args.out}")
    if failed:
        print(
            f"FAILED: {', '.join(failed)} (the executed notebooks, errors included, are in {args.out})",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
