"""Array encoding of the contract: dtype string, ndim, uint32 dimensions, C-order data."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from runners.footprint_sdk import ALLOWED_DTYPES, ProtocolError, decode_array, encode_array

SHAPES = [(), (0,), (3,), (2, 3), (1, 1, 8, 8), (2, 0, 4), (1,) * 8]


def raw_array(dtype: str, shape: tuple[int, ...], data: bytes) -> bytes:
    return struct.pack(f">B{len(dtype)}sB{len(shape)}I", len(dtype), dtype.encode(), len(shape), *shape) + data


@pytest.mark.parametrize("dtype", ALLOWED_DTYPES)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_it_round_trips_every_allowed_dtype_and_shape(dtype: str, shape: tuple[int, ...]) -> None:
    a = (np.arange(int(np.prod(shape)), dtype=np.float64) * 3 - 7).astype(dtype).reshape(shape)
    decoded = decode_array(encode_array(a))
    assert decoded.dtype.str == dtype
    assert decoded.shape == shape
    np.testing.assert_array_equal(decoded, a)


def test_it_writes_the_documented_byte_layout() -> None:
    a = np.array([[1, 2, 3]], dtype="<i4")
    expected = b"\x03<i4" + b"\x02" + b"\x00\x00\x00\x01\x00\x00\x00\x03" + a.tobytes()
    assert encode_array(a) == expected


def test_it_encodes_non_contiguous_arrays_in_c_order() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3).T
    np.testing.assert_array_equal(decode_array(encode_array(a)), a)


def test_it_decodes_the_same_header_twice_from_its_cache() -> None:
    first = encode_array(np.array([1.5, 2.5], np.float32))
    second = encode_array(np.array([3.5, 4.5], np.float32))
    np.testing.assert_array_equal(decode_array(first), [1.5, 2.5])
    np.testing.assert_array_equal(decode_array(second), [3.5, 4.5])
    with pytest.raises(ProtocolError, match="trailing"):
        decode_array(second + b"\0")  # a known header still checks the data length


def test_it_decodes_a_memoryview_of_any_format() -> None:
    payload = encode_array(np.arange(3, dtype=np.int64))
    np.testing.assert_array_equal(decode_array(memoryview(bytearray(payload))), [0, 1, 2])


def test_it_decodes_into_writable_memory_from_a_bytearray() -> None:
    decoded = decode_array(bytearray(encode_array(np.zeros(4, np.float32))))
    assert decoded.flags.writeable


def test_it_rejects_an_unknown_dtype() -> None:
    with pytest.raises(ProtocolError, match="unknown dtype '<c8'"):
        decode_array(raw_array("<c8", (1,), b"\0" * 8))


def test_it_rejects_a_big_endian_dtype() -> None:
    with pytest.raises(ProtocolError, match="unknown dtype '>f4'"):
        decode_array(raw_array(">f4", (1,), b"\0" * 4))


def test_it_rejects_more_than_eight_dimensions() -> None:
    with pytest.raises(ProtocolError, match="ndim 9"):
        decode_array(raw_array("<f4", (1,) * 9, b"\0" * 4))


def test_it_rejects_trailing_bytes_after_the_data() -> None:
    with pytest.raises(ProtocolError, match="needs 17 bytes, the payload has 18 .trailing"):
        decode_array(raw_array("<f4", (2,), b"\0" * 9))


def test_it_rejects_data_shorter_than_the_shape_needs() -> None:
    with pytest.raises(ProtocolError, match="missing bytes"):
        decode_array(raw_array("<f4", (2, 2), b"\0" * 12))


@pytest.mark.parametrize("payload", [b"", b"\x00"])
def test_it_rejects_a_payload_too_short_for_a_dtype_and_ndim(payload: bytes) -> None:
    with pytest.raises(ProtocolError, match="too short for a dtype string and ndim"):
        decode_array(payload)


def test_it_rejects_a_payload_cut_inside_the_dtype_string() -> None:
    with pytest.raises(ProtocolError, match="cut inside its dtype string"):
        decode_array(b"\x03<f")


def test_it_rejects_a_payload_cut_inside_the_dimensions() -> None:
    with pytest.raises(ProtocolError, match="cut inside its 2 dimensions"):
        decode_array(b"\x03<f4\x02\x00\x00\x00\x01")


def test_it_rejects_a_dtype_string_that_is_not_ascii() -> None:
    with pytest.raises(ProtocolError, match="not ASCII"):
        decode_array(b"\x02\xff\xfe\x00")


def test_it_rejects_huge_dimensions_without_allocating() -> None:
    with pytest.raises(ProtocolError, match="missing bytes"):
        decode_array(raw_array("<f8", (0xFFFFFFFF, 0xFFFFFFFF), b""))


@pytest.mark.parametrize("a", [np.array([True]), np.array([1j]), np.array([1], dtype=np.int16)], ids=str)
def test_it_refuses_to_encode_dtypes_outside_the_contract(a: np.ndarray) -> None:
    with pytest.raises(ProtocolError, match="cannot be sent; convert to one of"):
        encode_array(a)


def test_it_refuses_to_encode_more_than_eight_dimensions() -> None:
    with pytest.raises(ProtocolError, match="9 dimensions"):
        encode_array(np.zeros((1,) * 9, np.float32))
