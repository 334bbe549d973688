"""runners.meters.cgroup on v1 and v2 layouts (fake trees; the sandbox tests read real ones)."""

from __future__ import annotations

from pathlib import Path

import pytest

from runners.meters import cgroup

PATH = "footprint/c-1"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def v1(tmp_path: Path) -> Path:
    _write(tmp_path / "memory" / PATH / "memory.max_usage_in_bytes", "209715200\n")
    _write(tmp_path / "memory" / PATH / "memory.usage_in_bytes", "1048576\n")
    _write(tmp_path / "cpuacct" / PATH / "cpuacct.usage", "1500000000\n")
    _write(tmp_path / "pids" / PATH / "pids.events", "max 3\n")
    _write(tmp_path / "pids" / PATH / "pids.peak", "32\n")
    return tmp_path


@pytest.fixture
def v2(tmp_path: Path) -> Path:
    _write(tmp_path / "cgroup.controllers", "cpu memory pids\n")
    _write(tmp_path / PATH / "memory.peak", "314572800\n")
    _write(tmp_path / PATH / "memory.current", "2097152\n")
    _write(tmp_path / PATH / "cpu.stat", "usage_usec 2500000\nuser_usec 2000000\nsystem_usec 500000\n")
    _write(tmp_path / PATH / "pids.events", "max 0\n")
    return tmp_path


def test_it_reads_the_v1_files(v1: Path) -> None:
    assert cgroup.cgroup_version(v1) == 1
    assert cgroup.memory_peak_bytes(PATH, mount=v1) == 200 << 20
    assert cgroup.memory_usage_bytes(PATH, mount=v1) == 1 << 20
    assert cgroup.cpu_time_s(PATH, mount=v1) == 1.5
    assert cgroup.pids_max_events(PATH, mount=v1) == 3
    assert cgroup.pids_peak(PATH, mount=v1) == 32


def test_it_reads_the_v2_files(v2: Path) -> None:
    assert cgroup.cgroup_version(v2) == 2
    assert cgroup.memory_peak_bytes(PATH, mount=v2) == 300 << 20
    assert cgroup.memory_usage_bytes(PATH, mount=v2) == 2 << 20
    assert cgroup.cpu_time_s(PATH, mount=v2) == 2.5
    assert cgroup.pids_max_events(PATH, mount=v2) == 0


def test_a_leading_slash_names_the_same_cgroup(v1: Path) -> None:
    assert cgroup.memory_peak_bytes("/" + PATH + "/", mount=v1) == 200 << 20


def test_an_unreadable_figure_is_none_not_an_error(v1: Path) -> None:
    assert cgroup.memory_peak_bytes("footprint/absent", mount=v1) is None
    assert cgroup.cpu_time_s("footprint/absent", mount=v1) is None
    assert cgroup.pids_max_events("footprint/absent", mount=v1) is None
    _write(v1 / "memory" / PATH / "memory.max_usage_in_bytes", "garbage\n")
    assert cgroup.memory_peak_bytes(PATH, mount=v1) is None
    _write(v1 / "pids" / PATH / "pids.events", "max lots\n")
    assert cgroup.pids_max_events(PATH, mount=v1) is None
    (v1 / "cpuacct" / PATH / "cpuacct.usage").unlink()
    (v1 / "cpuacct" / PATH / "cpuacct.usage").mkdir()  # a read that fails with EISDIR
    assert cgroup.cpu_time_s(PATH, mount=v1) is None


def test_remove_cgroup_removes_the_directories_in_every_hierarchy(tmp_path: Path) -> None:
    for hierarchy in ("memory", "cpuacct", "pids", "unified"):
        (tmp_path / hierarchy / PATH / "container-id").mkdir(parents=True)
    (tmp_path / "cpu,cpuacct").mkdir()
    (tmp_path / "cpuacct2").symlink_to(tmp_path / "cpuacct")  # linked hierarchies count once
    assert len(cgroup.cgroup_dirs(PATH, mount=tmp_path)) == 4
    assert cgroup.remove_cgroup(PATH, mount=tmp_path)
    assert cgroup.cgroup_dirs(PATH, mount=tmp_path) == []
    assert (tmp_path / "memory" / "footprint").is_dir()  # the root stays for the next job


def test_remove_cgroup_reports_a_cgroup_still_in_use_without_raising(tmp_path: Path) -> None:
    (tmp_path / "memory" / PATH).mkdir(parents=True)
    (tmp_path / "pids" / PATH).mkdir(parents=True)
    # A plain file makes rmdir fail, as a live process in a real cgroup does (EBUSY).
    (tmp_path / "pids" / PATH / "busy").write_text("")
    assert cgroup.remove_cgroup(PATH, mount=tmp_path) is False
    assert cgroup.cgroup_dirs(PATH, mount=tmp_path) == [tmp_path / "pids" / PATH]


def test_remove_cgroup_of_nothing_is_a_no_op(tmp_path: Path) -> None:
    assert cgroup.remove_cgroup("", mount=tmp_path)
    assert cgroup.remove_cgroup("footprint/absent", mount=tmp_path)
