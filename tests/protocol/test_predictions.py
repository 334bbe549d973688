"""predictions_from_reply: what a reply may hold, and the errors for what it may not."""

from __future__ import annotations

import numpy as np
import pytest

from runners.harness import HarnessError, predictions_from_reply


@pytest.mark.parametrize("dtype", ["<i8", "<i4", "|u1"])
def test_it_accepts_class_indices_of_any_integer_dtype(dtype: str) -> None:
    predictions = predictions_from_reply(np.array([3, 0, 9], dtype=dtype), 3, 10)
    assert predictions.dtype == np.int64
    assert predictions.tolist() == [3, 0, 9]


@pytest.mark.parametrize("dtype", ["<f2", "<f4", "<f8"])
def test_it_takes_the_argmax_of_scores(dtype: str) -> None:
    scores = np.array([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25]], dtype=dtype)
    predictions = predictions_from_reply(scores, 2, 3)
    assert predictions.dtype == np.int64
    assert predictions.tolist() == [1, 0]


@pytest.mark.parametrize(
    ("reply", "got"),
    [
        (np.zeros((2, 3), np.float32), "got shape [2, 3] of dtype float32"),  # wrong class count
        (np.zeros(3, np.int64), "got shape [3] of dtype int64"),  # wrong batch size
        (np.zeros(2, np.float32), "got shape [2] of dtype float32"),  # indices as floats
        (np.zeros((2, 10), np.int64), "got shape [2, 10] of dtype int64"),  # scores as integers
        (np.zeros((2, 10, 1), np.float32), "got shape [2, 10, 1] of dtype float32"),
        (np.array(1, np.int64), "got shape [] of dtype int64"),
    ],
    ids=["classes", "batch", "float-indices", "int-scores", "3d", "scalar"],
)
def test_it_rejects_a_reply_of_the_wrong_shape_or_dtype(reply: np.ndarray, got: str) -> None:
    with pytest.raises(HarnessError) as caught:
        predictions_from_reply(reply, 2, 10)
    assert caught.value.code == "serve_bad_reply"
    assert "must be class indices of shape [2] (integer dtype) or scores of shape [2, 10]" in caught.value.reason
    assert got in caught.value.reason


@pytest.mark.parametrize("bad", [10, -1])
def test_it_rejects_a_class_index_outside_the_classes(bad: int) -> None:
    with pytest.raises(HarnessError) as caught:
        predictions_from_reply(np.array([1, bad], np.int64), 2, 10)
    assert caught.value.code == "serve_bad_reply"
    assert f"class index {bad}, outside [0, 10)" in caught.value.reason
