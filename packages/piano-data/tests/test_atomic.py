"""piano_data.atomic: the target appears whole or not at all, whatever happens mid-write."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from piano_data.atomic import atomic_dir, atomic_path, replaced_dirs, write_bytes_atomic, write_text_atomic


def _leftovers(folder: Path, target: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p != target)


def test_write_bytes_creates_parent_and_returns_path(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out.bin"
    assert write_bytes_atomic(target, b"\x00\x01payload") == target
    assert target.read_bytes() == b"\x00\x01payload"
    assert _leftovers(target.parent, target) == []


def test_write_text_encodes_without_newline_translation(tmp_path: Path) -> None:
    target = tmp_path / "t.txt"
    write_text_atomic(target, "é\r\nx\n")
    assert target.read_bytes() == "é\r\nx\n".encode()
    write_text_atomic(target, "é", encoding="latin-1")
    assert target.read_bytes() == b"\xe9"


def test_overwrite_replaces_whole_file(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_text_atomic(target, "x" * 1000)
    write_text_atomic(target, "short", fsync=True)
    assert target.read_text() == "short"


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_exception_mid_write_keeps_old_file_and_leaves_no_temp(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "model.bin"
    target.write_bytes(b"old complete content")
    with pytest.raises(type(error)), atomic_path(target) as tmp:
        with tmp.open("wb") as fh:
            fh.write(b"new half")
        raise error
    assert target.read_bytes() == b"old complete content"
    assert _leftovers(tmp_path, target) == []


@pytest.mark.parametrize("atomic", [atomic_path, atomic_dir])
def test_exception_before_first_write_leaves_nothing(tmp_path: Path, atomic: Callable[[Path], Any]) -> None:
    target = tmp_path / "new" / "f.txt"
    with pytest.raises(ValueError), atomic(target):
        raise ValueError("bad input")
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_temp_is_hidden_beside_target_and_unique(tmp_path: Path) -> None:
    target = tmp_path / "x.csv"
    with atomic_path(target) as a, atomic_path(target) as b:
        assert a.parent == b.parent == tmp_path
        assert a != b and a.exists() and b.exists()
        for tmp in (a, b):
            assert tmp.name.startswith(".x.csv.") and tmp.name.endswith(".tmp")
        a.write_text("a")
        b.write_text("b")
    assert target.read_text() == "a"  # the outer block renamed last
    assert _leftovers(tmp_path, target) == []


def test_suffix_ends_the_temp_name_for_format_picking_writers(tmp_path: Path) -> None:
    target = tmp_path / "arr.npy"
    with atomic_path(target, suffix=".npy") as tmp:
        assert tmp.name.startswith(".arr.npy.") and tmp.name.endswith(".tmp.npy")
        np.save(tmp, np.arange(5), allow_pickle=False)  # np.save appends .npy to any other name
    np.testing.assert_array_equal(np.load(target), np.arange(5))
    assert _leftovers(tmp_path, target) == []


def test_permissions_follow_the_umask_not_mkstemp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        target = write_bytes_atomic(tmp_path / "f", b"x")
    finally:
        os.umask(old)
    assert target.stat().st_mode & 0o777 == 0o644


def test_concurrent_writers_end_with_one_complete_file(tmp_path: Path) -> None:
    target = tmp_path / "shared.bin"
    payloads = [bytes([i]) * 50_000 for i in range(8)]
    seen: set[bytes] = set()
    stop = threading.Event()

    def write(data: bytes) -> None:
        for _ in range(5):
            with atomic_path(target) as tmp, tmp.open("wb") as fh:
                for k in range(0, len(data), 4096):  # small chunks: writers interleave
                    fh.write(data[k : k + 4096])
                    os.sched_yield()

    def read() -> None:
        while not stop.is_set():
            if target.exists():
                seen.add(target.read_bytes())

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(write, payloads))
    finally:
        stop.set()
        reader.join()
    assert target.read_bytes() in payloads
    assert seen <= set(payloads)  # a reader never saw a torn or empty file
    assert _leftovers(tmp_path, target) == []


def test_exported_lazily_and_imports_only_stdlib() -> None:
    import piano_data

    assert piano_data.atomic_path is atomic_path
    assert piano_data.atomic_dir is atomic_dir and piano_data.replaced_dirs is replaced_dirs
    assert "write_text_atomic" in piano_data.__all__
    code = (
        "import sys, piano_data.atomic; "
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('numpy', 'torch', 'soundfile', 'symusic')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _fill(folder: Path, **files: bytes) -> None:
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_atomic_dir_creates_parent_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "runs" / "ckpt"
    with atomic_dir(target) as tmp:
        assert tmp.parent == target.parent and tmp.is_dir() and list(tmp.iterdir()) == []
        assert tmp.name.startswith(".ckpt.") and tmp.name.endswith(".tmpdir")
        assert not target.exists()  # nothing at the name until the block succeeds
        _fill(tmp, **{"config.json": b"{}", "model.bin": b"w"})
    assert _tree(target) == {"config.json": b"{}", "model.bin": b"w"}
    assert _leftovers(target.parent, target) == []


def test_atomic_dir_replaces_whole_folder(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    target.mkdir()
    _fill(target, **{"model.bin": b"old", "stale.txt": b"from the old one"})
    (target / "sub").mkdir()
    with atomic_dir(target) as tmp:
        _fill(tmp, **{"model.bin": b"new"})
    assert _tree(target) == {"model.bin": b"new"}  # nothing of the old folder is kept
    assert _leftovers(tmp_path, target) == []
    assert replaced_dirs(target) == []


def test_atomic_dir_replaces_a_file_at_the_name(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    target.write_bytes(b"not a folder")
    with atomic_dir(target) as tmp:
        _fill(tmp, a=b"1")
    assert _tree(target) == {"a": b"1"}
    assert _leftovers(tmp_path, target) == []


@pytest.mark.parametrize("error", [RuntimeError("disk on fire"), KeyboardInterrupt()])
def test_atomic_dir_exception_mid_write_keeps_old_folder(tmp_path: Path, error: BaseException) -> None:
    target = tmp_path / "ckpt"
    target.mkdir()
    _fill(target, **{"model.bin": b"old complete", "config.json": b"{}"})
    with pytest.raises(type(error)), atomic_dir(target) as tmp:
        _fill(tmp, **{"model.bin": b"new half"})
        (tmp / "nested").mkdir()
        raise error
    assert _tree(target) == {"config.json": b"{}", "model.bin": b"old complete"}
    assert _leftovers(tmp_path, target) == []


def test_interrupted_swap_is_found_and_cleaned_by_the_next_success(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    # a swap killed after moving the old folder aside and before renaming the new one in:
    aside = tmp_path / ".ckpt.0123456789ab.replaced"
    aside.mkdir()
    _fill(aside, **{"model.bin": b"old"})
    killed_tmp = tmp_path / ".ckpt.ba9876543210.tmpdir"  # its complete new folder, never renamed in
    killed_tmp.mkdir()
    (tmp_path / ".ckpt.x.replaced").mkdir()  # not an aside copy of ckpt: other names are left alone
    (tmp_path / ".ckpt.v2.0123456789ab.replaced").mkdir()  # ... nor one of the sibling "ckpt.v2"
    assert not target.exists()
    assert replaced_dirs(target) == [aside]
    with atomic_dir(target) as tmp:
        _fill(tmp, **{"model.bin": b"new"})
    assert _tree(target) == {"model.bin": b"new"}
    assert replaced_dirs(target) == []
    # a temporary folder may be another writer's still in progress: only aside copies are removed
    assert _leftovers(tmp_path, target) == sorted(
        [".ckpt.ba9876543210.tmpdir", ".ckpt.x.replaced", ".ckpt.v2.0123456789ab.replaced"]
    )


def test_replaced_dirs_newest_first_and_missing_parent(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    older, newer = tmp_path / ".ckpt.000000000000.replaced", tmp_path / ".ckpt.ffffffffffff.replaced"
    newer.mkdir()
    older.mkdir()
    os.utime(older, (1_000_000, 1_000_000))
    assert replaced_dirs(target) == [newer, older]
    assert replaced_dirs(tmp_path / "no" / "such" / "ckpt") == []


def test_failed_rename_in_puts_the_old_folder_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "ckpt"
    target.mkdir()
    _fill(target, **{"model.bin": b"old"})
    real_replace = os.replace

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        if Path(src).name.endswith(".tmpdir"):
            raise PermissionError(13, "denied", str(dst))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(PermissionError), atomic_dir(target) as tmp:
        _fill(tmp, **{"model.bin": b"new"})
    assert _tree(target) == {"model.bin": b"old"}
    assert _leftovers(tmp_path, target) == []


def test_concurrent_folder_writers_end_with_one_complete_folder(tmp_path: Path) -> None:
    target = tmp_path / "ckpt"
    payloads = [bytes([i]) * 20_000 for i in range(6)]

    def write(data: bytes) -> None:
        for _ in range(5):
            with atomic_dir(target) as tmp:
                for name in ("a", "b", "c"):
                    (tmp / name).write_bytes(data)
                    os.sched_yield()

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(write, payloads))
    files = _tree(target)
    assert sorted(files) == ["a", "b", "c"] and len(set(files.values())) == 1  # one writer's whole folder
    assert files["a"] in payloads
    assert _leftovers(tmp_path, target) == []
