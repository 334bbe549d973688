"""The runner's folders: removal at any depth, kept results, cancel flags, image eviction."""

from __future__ import annotations

import json
import os
from pathlib import Path

from runners.cancel import CancelFlags
from runners.files import remove_tree
from runners.housekeeping import ImageCache, remove_stale_work
from runners.outbox import Outbox


def test_a_folder_chain_thousands_deep_with_long_names_is_removed(tmp_path):
    top = tmp_path / "work"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for depth in range(3000):  # some 150,000 characters of path: past PATH_MAX and any recursion
        os.mkdir("d" * 50, dir_fd=fd)
        inner = os.open("d" * 50, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
        if depth % 500 == 0:
            os.close(os.open("file", os.O_CREAT | os.O_WRONLY, dir_fd=fd))
    os.close(fd)
    remove_tree(top)
    assert not top.exists()


def test_remove_tree_never_follows_a_link_out_of_the_tree(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("mine")
    top = tmp_path / "work"
    top.mkdir()
    (top / "link").symlink_to(outside)
    remove_tree(top)
    assert not top.exists() and (outside / "keep").read_text() == "mine"


def test_stale_work_folders_are_removed_and_nothing_else(tmp_path):
    (tmp_path / "run-3-a1-xyz" / "out").mkdir(parents=True)
    (tmp_path / "outbox").mkdir()
    assert remove_stale_work(tmp_path) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["outbox"]


def test_a_result_stays_on_disk_until_the_send_succeeds(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    kept = outbox.put({"run_id": 4, "attempt": 2, "status": "succeeded"})
    sent: list[dict] = []

    def broker_down(document: dict) -> None:
        raise ConnectionError("the broker is down")

    assert outbox.send(kept, broker_down) is False
    assert kept.exists() and outbox.pending() == [kept]
    assert outbox.flush(sent.append) == 1
    assert sent == [{"run_id": 4, "attempt": 2, "status": "succeeded"}] and outbox.pending() == []


def test_a_cancel_flag_is_seen_by_the_job_it_names_only(tmp_path):
    flags = CancelFlags(tmp_path)
    watch_7, watch_8 = flags.watcher(7), flags.watcher(8)
    assert watch_7() is None
    flags.request(7, "cancelled by ada")
    assert watch_7() == "cancelled by ada" and watch_8() is None
    flags.clear(7)
    assert watch_7() is None


class FakeImages:
    def __init__(self) -> None:
        self.removed: list[str] = []

    def remove(self, image_id: str, force: bool = False) -> None:
        self.removed.append(image_id)


class FakeClient:
    def __init__(self) -> None:
        self.images = FakeImages()

    def info(self) -> dict:
        return {"DockerRootDir": "/"}


class FakeSandbox:
    def __init__(self) -> None:
        self.client = FakeClient()


def test_least_recently_used_images_are_evicted_past_the_count_and_kept_ones_stay(tmp_path):
    cache = ImageCache(tmp_path / "images.json", max_images=2, min_free_bytes=0)
    for image_id in ("sha256:a", "sha256:b", "sha256:c", "sha256:d"):
        cache.used(image_id)
    sandbox = FakeSandbox()
    removed = cache.evict(sandbox, keep={"sha256:a"})
    assert removed == ["sha256:b"]  # a is kept (in use); c and d are the most recent
    assert set(json.loads((tmp_path / "images.json").read_text())) == {"sha256:a", "sha256:c", "sha256:d"}


def test_images_are_evicted_while_the_disk_is_short(tmp_path):
    cache = ImageCache(tmp_path / "images.json", max_images=10, min_free_bytes=1 << 62)
    for image_id in ("sha256:a", "sha256:b"):
        cache.used(image_id)
    assert cache.evict(FakeSandbox(), keep=set()) == ["sha256:a", "sha256:b"]
    assert Path(tmp_path / "images.json").exists()
