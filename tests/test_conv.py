import numpy as np
import pytest
from hypothesis import given
from scipy import signal

from conv_lib import conv_backward_fast, conv_forward_fast

from .loops import conv_forward_loops, gradient_error, numerical_gradient, rel_error
from .strategies import conv_cases, pair

# Conv is linear in x, w and b, so centred differences carry no truncation
# error and a large step only shrinks the roundoff.
LINEAR_H = 1e-3


def loops(x, w, b, param):
    return conv_forward_loops(
        x, w, b, pair(param["stride"]), pair(param["pad"]), pair(param.get("dilation", 1))
    )


def assert_gradients_match_numerical(x, w, b, param, cache, dout):
    """dx, dw and db from conv_backward_fast against centred differences."""
    dx, dw, db = conv_backward_fast(dout, cache)

    def forward():
        return conv_forward_fast(x, w, b, param)[0]

    for grad, wrt in ((dx, x), (dw, w), (db, b)):
        assert gradient_error(grad, numerical_gradient(forward, wrt, dout, h=LINEAR_H)) < 1e-9


@given(conv_cases())
def test_forward_matches_loops(case):
    x, w, b, param = case
    out, _ = conv_forward_fast(x, w, b, param)
    expected = loops(x, w, b, param)
    assert type(out) is np.ndarray and out.shape == expected.shape
    assert rel_error(out, expected) < 1e-11


@given(conv_cases())
def test_backward_matches_numerical_gradient(case):
    x, w, b, param = case
    out, cache = conv_forward_fast(x, w, b, param)
    dout = np.random.default_rng(1).standard_normal(out.shape)
    assert_gradients_match_numerical(x, w, b, param, cache, dout)


@pytest.mark.parametrize("seed", range(5))
def test_forward_matches_scipy_correlate(seed):
    rng = np.random.default_rng(seed)
    n, c, f = rng.integers(1, 4, 3)
    x = rng.standard_normal((n, c, *rng.integers(5, 12, 2)))
    w = rng.standard_normal((f, c, *rng.integers(1, 5, 2)))
    b = rng.standard_normal(f)
    pad = int(rng.integers(0, 3))
    out, _ = conv_forward_fast(x, w, b, {"stride": 1, "pad": pad})
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    expected = np.stack(
        [
            np.stack([signal.correlate(xp[i], w[k], mode="valid")[0] + b[k] for k in range(f)])
            for i in range(n)
        ]
    )
    assert rel_error(out, expected) < 1e-11


@pytest.mark.parametrize(
    "x_shape, w_shape, param",
    [
        ((2, 3, 5, 7), (4, 3, 1, 1), {"stride": 1, "pad": 0}),  # 1x1 kernel
        ((2, 3, 5, 7), (4, 3, 1, 1), {"stride": 2, "pad": 1}),
        ((2, 2, 4, 3), (3, 2, 6, 5), {"stride": 1, "pad": 1}),  # kernel == padded input
        ((1, 1, 3, 3), (1, 1, 7, 7), {"stride": 3, "pad": 2}),
        ((2, 1, 7, 8), (2, 1, 3, 2), {"stride": (2, 3), "pad": (0, 2)}),
        ((2, 2, 9, 9), (2, 2, 3, 3), {"stride": 2, "pad": 2, "dilation": 2}),
        ((1, 1, 8, 8), (1, 1, 3, 3), {"stride": 3, "pad": 0}),  # floor: (8-3)//3
    ],
)
def test_edge_geometries(x_shape, w_shape, param):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal(w_shape), rng.standard_normal(
        w_shape[0]
    )
    out, cache = conv_forward_fast(x, w, b, param)
    assert rel_error(out, loops(x, w, b, param)) < 1e-11
    dout = rng.standard_normal(out.shape)
    assert_gradients_match_numerical(x, w, b, param, cache, dout)


def test_output_size_is_floored_like_pytorch():
    x = np.zeros((1, 1, 8, 8))
    out, _ = conv_forward_fast(x, np.zeros((1, 1, 3, 3)), np.zeros(1), {"stride": 2, "pad": 0})
    assert out.shape == (1, 1, 3, 3)  # 1 + (8 - 3) // 2, not ceil


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_is_dtype_out(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 6, 5)).astype(dtype)
    w = rng.standard_normal((4, 3, 3, 3)).astype(dtype)
    b = rng.standard_normal(4).astype(dtype)
    param = {"stride": 2, "pad": 1}
    out, cache = conv_forward_fast(x, w, b, param)
    grads = conv_backward_fast(np.ones_like(out), cache)
    assert out.dtype == dtype and all(g.dtype == dtype for g in grads)
    exact = loops(x.astype(np.float64), w.astype(np.float64), b.astype(np.float64), param)
    assert rel_error(out, exact) < (1e-4 if dtype == np.float32 else 1e-12)


def test_integer_input_gives_float64():
    out, _ = conv_forward_fast(
        np.ones((1, 1, 3, 3), dtype=np.int64), np.ones((1, 1, 2, 2)), np.zeros(1),
        {"stride": 1, "pad": 0},
    )
    assert out.dtype == np.float64 and np.all(out == 4)


def test_inputs_are_not_modified():
    rng = np.random.default_rng(4)
    x, w, b = rng.standard_normal((2, 3, 5, 5)), rng.standard_normal((2, 3, 3, 3)), np.ones(2)
    param = {"stride": 1, "pad": 1}
    copies = [a.copy() for a in (x, w, b)]
    out, cache = conv_forward_fast(x, w, b, param)
    dout = np.ones_like(out)
    conv_backward_fast(dout, cache)
    for before, after in zip(copies, (x, w, b)):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(dout, np.ones_like(out))
    assert param == {"stride": 1, "pad": 1}


@pytest.mark.parametrize("stride, pad", [(1, 0), (2, 1), (3, 2)])
def test_benchmark_baselines_agree_with_loops(stride, pad):
    from conv_lib.baselines import (
        conv_forward_loops as bench_loops,
    )
    from conv_lib.baselines import (
        textbook_conv_backward,
        textbook_conv_forward,
    )

    rng = np.random.default_rng(stride)
    x, w, b = rng.standard_normal((2, 3, 7, 6)), rng.standard_normal((4, 3, 3, 2)), np.ones(4)
    expected = conv_forward_loops(x, w, b, (stride, stride), (pad, pad))
    out, cache = textbook_conv_forward(x, w, b, stride, pad)
    assert rel_error(out, expected) < 1e-11
    assert rel_error(bench_loops(x, w, b, stride, pad), expected) < 1e-11
    dout = rng.standard_normal(out.shape)
    fast = conv_backward_fast(dout, conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})[1])
    for got, want in zip(textbook_conv_backward(dout, cache), fast):
        assert rel_error(got, want) < 1e-11


@pytest.mark.parametrize(
    "param",
    [
        {"stride": 1, "pad": 1},
        {"stride": 2, "pad": 1},
        {"stride": (1, 3), "pad": (2, 0), "dilation": (1, 2)},
        {"stride": 1, "pad": 0},  # rows longer than W': the junk columns are cropped
    ],
)
@pytest.mark.parametrize("chunk_bytes", [1, 6000])
def test_batches_split_into_chunks_match_loops(monkeypatch, param, chunk_bytes):
    # One image per chunk, then chunks of a few images with a smaller last one.
    import conv_lib.conv

    monkeypatch.setattr(conv_lib.conv, "CHUNK_BYTES", chunk_bytes)
    rng = np.random.default_rng(3)
    x, w, b = rng.standard_normal((7, 2, 6, 7)), rng.standard_normal((3, 2, 3, 3)), rng.standard_normal(3)
    out, cache = conv_forward_fast(x, w, b, param)
    assert rel_error(out, loops(x, w, b, param)) < 1e-11
    dout = rng.standard_normal(out.shape)
    assert_gradients_match_numerical(x, w, b, param, cache, dout)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("param", [{"stride": 1, "pad": 1}, {"stride": 2, "pad": 2}, {"stride": 1, "pad": 3}])
def test_tap_copies_keep_clear_of_slow_memcpy_distances(dtype, param):
    # On AMD CPUs memcpy slows down 10-20x when its target lies a few bytes past
    # its source modulo 4096; the column view is placed so that no tap copy does.
    from conv_lib._tap_columns import TapColumns
    from conv_lib.conv import _conv_geometry, _Workspace

    x_shape, w_shape = (16, 8, 16, 16), (8, 8, 5, 5)
    plan = TapColumns(x_shape, _conv_geometry(param, x_shape, w_shape))
    work = _Workspace(plan, x_shape[0], w_shape[0], np.dtype(dtype), backward=False)
    for count in {work.step, 1}:
        _, runs, _ = work.views(count)[0]
        distances = [(target.ctypes.data - source.ctypes.data) % 4096 for target, source in runs]
        assert not [d for d in distances if 0 < d < 64]


@pytest.mark.parametrize("n", [3, 8, 32])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_extra_memory_stays_below_one_column_matrix(n, dtype):
    # The benchmark's shapes (batch size varied): the forward pass builds its columns
    # a chunk at a time, so beyond its output it never holds more than one column
    # matrix of the whole batch.
    import tracemalloc

    from conv_lib.bench import CONV_SHAPES

    rng = np.random.default_rng(0)
    for x_shape, w_shape, stride, pad in CONV_SHAPES.values():
        x = rng.standard_normal((n, *x_shape[1:])).astype(dtype)
        w = rng.standard_normal(w_shape).astype(dtype)
        b = np.zeros(w_shape[0], dtype)
        tracemalloc.start()
        try:
            out, _ = conv_forward_fast(x, w, b, {"stride": stride, "pad": pad})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        column_matrix = np.prod(w_shape[1:]) * n * out.shape[2] * out.shape[3] * x.itemsize
        assert (peak - out.nbytes) / column_matrix < 1.0, (x_shape, w_shape, dtype)
