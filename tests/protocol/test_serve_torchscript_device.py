"""footprint-serve's device choice (FOOTPRINT_DEVICE) and its statistics file (FOOTPRINT_STATS_FILE)."""

from __future__ import annotations

import importlib.util
import json
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest
import torch

from runners import footprint_sdk
from runners.harness import HarnessError, measure_accuracy
from runners.meters.runtime_stats import read_runtime_stats

from .conftest import SERVE_TORCHSCRIPT
from .test_serve_torchscript import PixelArgmax, save_scripted

EXIT_DEVICE_UNAVAILABLE = 4


@pytest.fixture
def serve_module(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """serve_torchscript.py imported as it is in the image, where footprint_sdk is top-level."""
    monkeypatch.setitem(sys.modules, "footprint_sdk", footprint_sdk)
    spec = importlib.util.spec_from_file_location("footprint_serve_under_test", SERVE_TORCHSCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_it_writes_its_statistics_after_the_shutdown_and_the_runner_reads_them(start_server, short_dir) -> None:
    perm = [1, 3, 0, 2]
    model = save_scripted(PixelArgmax(perm), short_dir / "model.pt")
    stats_file = short_dir / "stats.json"
    server = start_server(
        argv=[str(SERVE_TORCHSCRIPT)],
        env={"FOOTPRINT_MODEL": model, "FOOTPRINT_THREADS": "2", "FOOTPRINT_STATS_FILE": str(stats_file)},
    )
    client = server.connect(ready_timeout_s=60)
    assert client.ready_info["server"] == f"footprint-serve (torch {torch.__version__}, cpu, 2 threads)"
    x = np.random.default_rng(2).random((20, 1, 2, 2), dtype=np.float32)
    y = np.array([perm.index(p) for p in x.reshape(20, -1).argmax(axis=1)])
    assert measure_accuracy(client, x, y, batch_size=8, num_classes=4).accuracy == 1.0
    assert not stats_file.exists()  # written once the harness is done, not before
    client.shutdown()
    assert server.wait() == 0
    assert read_runtime_stats(stats_file) == ({"device": "cpu", "torch_num_threads": 2}, "")


def test_it_serves_on_the_cpu_when_the_device_is_unset_and_writes_no_statistics_unasked(
    start_server, short_dir
) -> None:
    model = save_scripted(PixelArgmax([0, 1, 2, 3]), short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_DEVICE": ""})
    client = server.connect(ready_timeout_s=60)
    assert ", cpu, 1 threads)" in client.ready_info["server"]
    client.shutdown()
    assert server.wait() == 0
    assert {p.name for p in short_dir.iterdir()} - {"serve0.sock"} == {"model.pt"}


def test_a_statistics_file_it_cannot_write_does_not_fail_the_serve(start_server, short_dir) -> None:
    model = save_scripted(PixelArgmax([0, 1, 2, 3]), short_dir / "model.pt")
    target = short_dir / "no-such-folder" / "stats.json"
    server = start_server(
        argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_STATS_FILE": str(target)}
    )
    client = server.connect(ready_timeout_s=60)
    client.predict(np.zeros((1, 1, 2, 2), np.float32))
    client.shutdown()
    assert server.wait() == 0
    assert f"runtime statistics not written to {target}: " in server.stderr()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this torch has CUDA and a GPU")
def test_it_exits_4_when_cuda_is_asked_for_but_torch_has_none(start_server, short_dir) -> None:
    model = save_scripted(PixelArgmax([0, 1, 2, 3]), short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_DEVICE": "cuda"})
    with pytest.raises(HarnessError) as caught:
        server.connect(ready_timeout_s=60)
    assert caught.value.code == "serve_exited"
    assert server.wait() == EXIT_DEVICE_UNAVAILABLE
    stderr = server.stderr()
    if torch.version.cuda is None:
        assert f"FOOTPRINT_DEVICE=cuda but this runtime's torch {torch.__version__} was built without CUDA" in stderr
    else:
        assert "sees no usable GPU in this container" in stderr


def test_it_exits_4_on_a_device_it_does_not_know(start_server, short_dir) -> None:
    model = save_scripted(PixelArgmax([0, 1, 2, 3]), short_dir / "model.pt")
    server = start_server(argv=[str(SERVE_TORCHSCRIPT)], env={"FOOTPRINT_MODEL": model, "FOOTPRINT_DEVICE": "mps"})
    with pytest.raises(HarnessError):
        server.connect(ready_timeout_s=60)
    assert server.wait() == EXIT_DEVICE_UNAVAILABLE
    assert "FOOTPRINT_DEVICE='mps' is not a device footprint-serve knows: use cpu, cuda or cuda:<n>" in server.stderr()


def fake_torch(*, cuda_version: str | None, available: bool, count: int = 1) -> SimpleNamespace:
    """The attributes of torch that the device choice and the READY text read."""
    return SimpleNamespace(
        __version__="2.13.0+cu128" if cuda_version else "2.13.0+cpu",
        version=SimpleNamespace(cuda=cuda_version),
        device=torch.device,
        cuda=SimpleNamespace(
            is_available=lambda: available,
            device_count=lambda: count,
            current_device=lambda: 0,
            get_device_name=lambda device: "NVIDIA H100 80GB HBM3",
        ),
        backends=SimpleNamespace(cudnn=SimpleNamespace(is_available=lambda: True, version=lambda: 91002)),
        get_num_threads=lambda: 4,
    )


def test_cuda_resolves_to_the_first_visible_gpu(serve_module: ModuleType) -> None:
    device, problem = serve_module._device(fake_torch(cuda_version="12.8", available=True), "cuda")
    assert (device, problem) == (torch.device("cuda", 0), "")


def test_a_gpu_index_the_container_does_not_see_is_refused(serve_module: ModuleType) -> None:
    device, problem = serve_module._device(fake_torch(cuda_version="12.8", available=True, count=1), "cuda:1")
    assert device is None
    assert problem == "FOOTPRINT_DEVICE=cuda:1 but this container sees 1 GPU(s)"


def test_a_cuda_build_without_a_visible_gpu_says_where_to_look(serve_module: ModuleType) -> None:
    device, problem = serve_module._device(fake_torch(cuda_version="12.8", available=False), "cuda")
    assert device is None
    assert "torch 2.13.0+cu128 (CUDA 12.8) sees no usable GPU in this container" in problem
    assert "Docker device request" in problem


def test_the_ready_text_names_the_gpu_and_the_cuda_libraries(serve_module: ModuleType) -> None:
    text = serve_module._describe(fake_torch(cuda_version="12.8", available=True), torch.device("cuda", 0))
    expected = "torch 2.13.0+cu128, cuda:0 NVIDIA H100 80GB HBM3, CUDA 12.8, cuDNN 91002, 4 threads"
    assert text == f"footprint-serve ({expected})"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs torch with CUDA and a GPU")
def test_it_serves_on_a_real_gpu_and_reports_the_allocator_peaks(start_server, short_dir) -> None:
    perm = [2, 0, 3, 1]
    model = save_scripted(PixelArgmax(perm), short_dir / "model.pt")
    stats_file = short_dir / "stats.json"
    server = start_server(
        argv=[str(SERVE_TORCHSCRIPT)],
        env={"FOOTPRINT_MODEL": model, "FOOTPRINT_DEVICE": "cuda", "FOOTPRINT_STATS_FILE": str(stats_file)},
    )
    client = server.connect(ready_timeout_s=120)
    assert ", cuda:0 " in client.ready_info["server"] and ", CUDA " in client.ready_info["server"]
    x = np.random.default_rng(3).random((40, 1, 2, 2), dtype=np.float32)
    y = np.array([perm.index(p) for p in x.reshape(40, -1).argmax(axis=1)])
    assert measure_accuracy(client, x, y, batch_size=16, num_classes=4).accuracy == 1.0
    client.shutdown()
    assert server.wait() == 0
    stats, reason = read_runtime_stats(stats_file)
    assert stats is not None, reason
    assert stats["device"] == "cuda:0"
    assert 0 < stats["torch_cuda_max_allocated_bytes"] <= stats["torch_cuda_max_reserved_bytes"]
    assert json.loads(stats_file.read_text()) == stats
