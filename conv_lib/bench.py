"""Benchmark conv_lib's fast layers: ``python -m conv_lib.bench``.

Absolute times drift on shared machines, so every figure that matters is a
ratio of two timings taken in the same run:

- conv: fast forward+backward against the three plain matrix multiplies it maps
  to (cols.W, cols^T.dout, dout.W^T) at the same sizes, against the textbook
  im2col, and against naive loops (timed on a small batch and scaled up);
- peak extra memory of a conv forward (tracemalloc), in column matrices;
- pooling: forward and backward against one plain ``x.copy()``.

``--quick`` runs the cs231n and mid shapes in float64 only; ``--png PATH``
writes a bar chart of the ratios.
"""

import argparse
import os
import platform
import time
import tracemalloc
from functools import partial

import numpy as np

from .baselines import conv_forward_loops, textbook_conv_backward, textbook_conv_forward
from .conv import conv_backward_fast, conv_forward_fast
from .pool import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    max_pool_backward_fast,
    max_pool_forward_fast,
)

CONV_SHAPES = {
    "cs231n": ((100, 3, 31, 31), (25, 3, 3, 3), 2, 1),
    "7x7 stem": ((50, 3, 32, 32), (32, 3, 7, 7), 1, 3),
    "mid": ((64, 64, 16, 16), (64, 64, 3, 3), 1, 1),
    "5x5 s2": ((32, 16, 32, 32), (32, 16, 5, 5), 2, 2),
}
POOL_SHAPE = (64, 32, 32, 32)
POOL_WINDOWS = {"2x2 s2": (2, 2, 2), "3x3 s2 (overlap)": (3, 3, 2), "3x3 s1 (overlap)": (3, 3, 1)}
NAIVE_BATCH = 2


def best_times(functions, repeat):
    """Best time of each function over ``repeat`` rounds that run them all in turn.

    Shared machines drift between fast and slow spells lasting seconds; taking
    turns puts every function through the same spells, so the ratios hold even
    when the absolute times do not.
    """
    for fn in functions.values():
        fn()  # warm caches and allocator
    best = dict.fromkeys(functions, float("inf"))
    for _ in range(repeat):
        for name, fn in functions.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def peak_memory(fn):
    tracemalloc.start()
    tracemalloc.reset_peak()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak, result


def bench_conv(name, dtype, repeat):
    x_shape, w_shape, stride, pad = CONV_SHAPES[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(dtype)
    w = rng.standard_normal(w_shape).astype(dtype)
    b = rng.standard_normal(w_shape[0]).astype(dtype)
    param = {"stride": stride, "pad": pad}
    out, cache = conv_forward_fast(x, w, b, param)
    dout = rng.standard_normal(out.shape).astype(dtype)
    n, f = x_shape[0], w_shape[0]
    k = int(np.prod(w_shape[1:]))
    positions = n * out.shape[2] * out.shape[3]

    # The three plain products of the same sizes, on fresh contiguous operands.
    w_rows = rng.standard_normal((f, k)).astype(dtype)
    cols = rng.standard_normal((k, positions)).astype(dtype)
    grad = rng.standard_normal((f, positions)).astype(dtype)
    _, book_cache = textbook_conv_forward(x, w, b, stride, pad)
    t = best_times(
        {
            "cols.W": lambda: w_rows @ cols,
            "dout.cols^T": lambda: grad @ cols.T,
            "W^T.dout": lambda: w_rows.T @ grad,
            "fwd": lambda: conv_forward_fast(x, w, b, param),
            "bwd": lambda: conv_backward_fast(dout, cache),
            "book fwd": lambda: textbook_conv_forward(x, w, b, stride, pad),
            "book bwd": lambda: textbook_conv_backward(dout, book_cache),
        },
        repeat,
    )
    t_mm_fwd, t_mm_bwd = t["cols.W"], t["dout.cols^T"] + t["W^T.dout"]
    t_fwd, t_bwd, t_book = t["fwd"], t["bwd"], t["book fwd"] + t["book bwd"]
    small = x[:NAIVE_BATCH].copy()
    start = time.perf_counter()  # once: the loops take seconds and have nothing to warm
    conv_forward_loops(small, w, b, stride, pad)
    t_naive = (time.perf_counter() - start) * n / NAIVE_BATCH

    col_bytes = k * positions * np.dtype(dtype).itemsize
    peak_fast, result = peak_memory(lambda: conv_forward_fast(x, w, b, param))
    out_bytes = result[0].nbytes
    del result
    peak_book, result = peak_memory(lambda: textbook_conv_forward(x, w, b, stride, pad))
    del result

    flops = 2.0 * f * k * positions
    return {
        "shape": name,
        "dtype": np.dtype(dtype).name,
        "naive fwd ms": 1e3 * t_naive,
        "fwd ms": 1e3 * t_fwd,
        "bwd ms": 1e3 * t_bwd,
        "speedup vs naive": t_naive / t_fwd,
        "fwd GFLOP/s": flops / t_fwd / 1e9,
        "bwd GFLOP/s": 2 * flops / t_bwd / 1e9,
        "fwd / matmul": t_fwd / t_mm_fwd,
        "bwd / matmuls": t_bwd / t_mm_bwd,
        "fwd+bwd / matmuls": (t_fwd + t_bwd) / (t_mm_fwd + t_mm_bwd),
        "vs textbook": (t_fwd + t_bwd) / t_book,
        # The output itself is not "extra": any implementation must return it.
        "fwd peak extra / cols": (peak_fast - out_bytes) / col_bytes,
        "textbook peak extra / cols": (peak_book - out_bytes) / col_bytes,
    }


def bench_pool(window_name, dtype, repeat):
    height, width, stride = POOL_WINDOWS[window_name]
    x = np.random.default_rng(0).standard_normal(POOL_SHAPE).astype(dtype)
    param = {"pool_height": height, "pool_width": width, "stride": stride}
    functions = {"copy": x.copy}
    for kind, forward, backward in (
        ("max", max_pool_forward_fast, max_pool_backward_fast),
        ("avg", avg_pool_forward_fast, avg_pool_backward_fast),
    ):
        out, cache = forward(x, param)
        functions[f"{kind} fwd"] = partial(forward, x, param)
        functions[f"{kind} bwd"] = partial(backward, np.ones_like(out), cache)
    t = best_times(functions, repeat)
    row = {"window": window_name, "dtype": np.dtype(dtype).name, "copy ms": 1e3 * t["copy"]}
    for name in functions:
        if name != "copy":
            row[f"{name} / copy"] = t[name] / t["copy"]
    return row


def format_table(rows):
    columns = list(rows[0])
    cells = [[_fmt(row[c]) for c in columns] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    lines = [" | ".join(c.rjust(wd) for c, wd in zip(columns, widths))]
    lines.append("-+-".join("-" * wd for wd in widths))
    lines += [" | ".join(v.rjust(wd) for v, wd in zip(r, widths)) for r in cells]
    return "\n".join(lines)


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.2f}" if value < 1000 else f"{value:.0f}"
    return str(value)


def machine_description():
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{i['internal_api']} {i['version']} ({i['num_threads']} threads)"
            for i in threadpool_info()
            if i.get("user_api") == "blas"
        )
    except ImportError:  # threadpoolctl comes with scikit-learn, but stay optional
        blas = "unknown BLAS"
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"NumPy {np.__version__}, {blas or 'BLAS not reported'}"
    )


def plot(conv_rows, pool_rows, path):
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_conv, ax_pool) = plt.subplots(1, 2, figsize=(13, 4.5))
    labels = [f"{r['shape']}\n{r['dtype']}" for r in conv_rows]
    positions = np.arange(len(conv_rows))
    for offset, key, label in (
        (-0.2, "fwd+bwd / matmuls", "fwd+bwd / the three plain matmuls"),
        (0.2, "vs textbook", "fwd+bwd / textbook im2col"),
    ):
        ax_conv.bar(positions + offset, [r[key] for r in conv_rows], 0.4, label=label)
    ax_conv.axhline(1.3, color="k", ls="--", lw=1, label="target 1.3x matmuls")
    ax_conv.set_xticks(positions, labels, fontsize=8)
    ax_conv.set_ylabel("time ratio (lower is faster)")
    ax_conv.set_title("conv forward + backward")
    ax_conv.legend(fontsize=8)

    keys = ["max fwd / copy", "max bwd / copy", "avg fwd / copy", "avg bwd / copy"]
    positions = np.arange(len(pool_rows))
    for i, key in enumerate(keys):
        ax_pool.bar(positions + (i - 1.5) * 0.2, [r[key] for r in pool_rows], 0.2, label=key)
    ax_pool.axhline(3, color="k", ls="--", lw=1, label="forward target 3x")
    ax_pool.axhline(5, color="gray", ls=":", lw=1, label="backward target 5x")
    ax_pool.set_xticks(positions, [f"{r['window'].replace(' (', chr(10) + '(')}\n{r['dtype']}"
                                   for r in pool_rows], fontsize=8)
    ax_pool.set_yscale("log")  # the ratios span two orders of magnitude
    highest = max(r[key] for r in pool_rows for key in keys)
    ticks = [t for t in (1, 2, 3, 5, 10, 20, 50, 100, 200) if t <= 1.5 * highest]
    ax_pool.set_yticks(ticks, [str(t) for t in ticks])
    ax_pool.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax_pool.set_ylabel("time / x.copy() (log scale, lower is faster)")
    ax_pool.set_title(f"pooling, x of shape {POOL_SHAPE}")
    ax_pool.legend(fontsize=8)
    fig.suptitle(machine_description(), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="two shapes, float64, fewer repeats")
    parser.add_argument("--repeat", type=int, default=None, help="timing repeats (best is kept)")
    parser.add_argument("--png", default=None, help="write a bar chart of the ratios here")
    args = parser.parse_args(argv)
    repeat = args.repeat or (5 if args.quick else 15)
    shapes = ["cs231n", "mid"] if args.quick else list(CONV_SHAPES)
    dtypes = [np.float64] if args.quick else [np.float64, np.float32]

    print(f"machine: {machine_description()}\n")
    conv_rows = [bench_conv(s, d, repeat) for d in dtypes for s in shapes]
    print("convolution (x, w, stride, pad):")
    for name in shapes:
        x_shape, w_shape, stride, pad = CONV_SHAPES[name]
        print(f"  {name}: x {x_shape}, w {w_shape}, stride {stride}, pad {pad}")
    print(format_table(conv_rows))
    pool_rows = [bench_pool(wn, d, repeat) for d in dtypes for wn in POOL_WINDOWS]
    print(f"\npooling, x of shape {POOL_SHAPE}:")
    print(format_table(pool_rows))
    if args.png:
        plot(conv_rows, pool_rows, args.png)
        print(f"\nwrote {args.png}")
    return conv_rows, pool_rows


if __name__ == "__main__":
    main()
