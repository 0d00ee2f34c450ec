"""Sessions: tests(package), lint, typecheck(package), wheel(package), notebooks, bench.

Each session syncs the locked environment of one workspace package into its own virtualenv with uv, so a
package whose pyproject forgets a dependency fails here rather than on a user's machine.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv"
nox.options.sessions = ["tests", "lint"]
nox.options.reuse_venv = "yes"

ROOT = Path(__file__).parent
# dist name -> package folder
PACKAGES = {
    "piano-data": "piano-data",
    "piano-symbolic-encoders": "symbolic-encoders",
    "piano-fusion": "fusion",
    "piano-audio-encoders": "audio-encoders",
    "piano-eval": "piano-eval",
}
THREADS = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2"), "TOKENIZERS_PARALLELISM": "false"}


def _sync(session: nox.Session, package: str | None, *groups: str) -> None:
    env = {"UV_PROJECT_ENVIRONMENT": session.virtualenv.location}
    args = ["uv", "sync", "--locked"]
    args += ["--package", package] if package else ["--all-packages"]
    for group in groups:
        args += ["--group", group]
    session.run_install(*args, env=env, silent=True)


@nox.session(python="3.11")
@nox.parametrize("package", list(PACKAGES))
def tests(session: nox.Session, package: str) -> None:
    """Run one package's tests in an environment holding only that package and its dependencies."""
    _sync(session, package, "test")
    session.run(
        "pytest",
        f"packages/{PACKAGES[package]}/tests",
        "-q",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env=THREADS,
    )


@nox.session(python="3.11")
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check over the workspace."""
    session.run_install("uv", "pip", "install", "ruff>=0.8", silent=True)
    session.run("ruff", "check", "packages", "noxfile.py", "benchmarks")
    session.run("ruff", "format", "--check", "packages", "noxfile.py", "benchmarks")


@nox.session(python="3.11")
@nox.parametrize("package", list(PACKAGES))
def typecheck(session: nox.Session, package: str) -> None:
    """mypy over one package's sources."""
    _sync(session, package, "typing")
    src = ROOT / "packages" / PACKAGES[package] / "src"
    session.run("mypy", str(src), env={"MYPYPATH": str(src)})


@nox.session(python="3.11", venv_backend="none")
@nox.parametrize("package", list(PACKAGES))
def wheel(session: nox.Session, package: str) -> None:
    """Build the package's wheel, install it alone (plus its sibling wheels) in a fresh venv and import it."""
    tmp = Path(session.create_tmp())
    dist = tmp / "dist"
    venv = tmp / f"venv-{package}"
    session.run("rm", "-rf", str(dist), str(venv), external=True)
    for name in PACKAGES:  # siblings are declared as ranges; they come from local wheels, not the workspace
        session.run("uv", "build", "--package", name, "--wheel", "-o", str(dist), "-q", external=True)
    session.run("uv", "venv", "-q", "--python", "3.11", str(venv), external=True)
    py = str(venv / "bin" / "python")
    # tinysoundfont (the wheel-only renderer) requires pyaudio for live playback, which piano-eval never uses and
    # which has no Linux wheel: the same override as the workspace's [tool.uv] override-dependencies
    overrides = tmp / "overrides.txt"
    overrides.write_text("pyaudio; sys_platform == 'never'\n")
    session.run(
        "uv", "pip", "install", "-q", "--python", py, "--find-links", str(dist), "--override", str(overrides), package,
        external=True,
    )  # fmt: skip
    module = {
        "piano-data": "piano_data",
        "piano-symbolic-encoders": "piano_symbolic",
        "piano-fusion": "piano_fusion",
        "piano-audio-encoders": "piano_audio",
        "piano-eval": "piano_eval",
    }[package]
    session.run(
        py,
        "-c",
        f"import {module}; print({module}.__name__, 'imported from', {module}.__file__)",
        external=True,
    )
    if package == "piano-eval":
        session.run(str(venv / "bin" / "piano-eval"), "--help", external=True, silent=True)


@nox.session(python="3.11")
def notebooks(session: nox.Session) -> None:
    """Execute every notebook in notebooks/model_improvement in quick mode; fails on any error."""
    _sync(session, None, "dev")
    session.run("python", "notebooks/run_notebooks.py", *session.posargs, env=THREADS)


@nox.session(python="3.11")
def bench(session: nox.Session) -> None:
    """Benchmarks (not run by default): each script under benchmarks/ prints one JSON document."""
    _sync(session, None, "test")
    scripts = session.posargs or sorted(str(p) for p in (ROOT / "benchmarks").glob("bench_*.py"))
    for script in scripts:
        session.run("python", script)


@nox.session(python="3.11")
def default_model(session: nox.Session) -> None:
    """Rebuild the default model of `piano-eval score` from PercePiano, twice; fail unless the builds are identical.

    Needs the data root ($PIANO_EVAL_DATA or shared/data beside the checkout; or pass --data-root DIR after --).
    The identical build replaces packages/piano-eval/src/piano_eval/models/default/.
    """
    import filecmp
    import shutil

    _sync(session, "piano-eval")
    tmp = Path(session.create_tmp())
    single = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    builds = [tmp / "build-a", tmp / "build-b"]
    for out in builds:
        shutil.rmtree(out, ignore_errors=True)
        session.run("python", "-m", "piano_eval.practice.build_model", "--out", str(out), *session.posargs, env=single)
    names = sorted(p.name for p in builds[0].iterdir())
    same = [n for n in names if filecmp.cmp(builds[0] / n, builds[1] / n, shallow=False)]
    if names != sorted(p.name for p in builds[1].iterdir()) or same != names:
        session.error(f"two builds differ: {sorted(set(names) - set(same))}")
    target = ROOT / "packages" / "piano-eval" / "src" / "piano_eval" / "models" / "default"
    target.mkdir(parents=True, exist_ok=True)
    for n in names:
        shutil.copyfile(builds[0] / n, target / n)
    session.log(f"default model rebuilt bit for bit ({', '.join(names)}) -> {target}")
