"""Build the sample class in examples/submitted/: ``python examples/build.py``.

Every submission starts from the release notebook (as a real student's would)
with its solution cells filled in:

- ``ada``: the instructor's solutions: full marks;
- ``ben``, ``cleo``, ``dev``: the solutions with typical mistakes planted;
- ``eve``: the untouched release notebooks: zero.

PLANTINGS is also what the tests use to plant each known mistake.
"""

import copy
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
RELEASE = ROOT / "notebooks"
EXAMPLES = ROOT / "examples" / "submitted"


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_sources(assignment):
    """{grade_id: source} of every solution code cell in the instructor notebooks,
    with the BEGIN/END SOLUTION marker lines removed."""
    sources = {}
    for path in sorted((SOLUTIONS / assignment).glob("*.ipynb")):
        for cell in nbformat.read(str(path), as_version=4).cells:
            meta = _nbgrader(cell)
            if cell.cell_type == "code" and meta.get("solution") and not meta.get("grade"):
                lines = [line for line in cell.source.splitlines()
                         if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
                sources[meta["grade_id"]] = "\n".join(lines)
    return sources


def submission(assignment, notebook, sources=None):
    """The release notebook with solution cells replaced by ``sources`` {grade_id: code};
    cells not named keep the release stub."""
    release = nbformat.read(str(RELEASE / assignment / f"{notebook}.ipynb"), as_version=4)
    result = copy.deepcopy(release)
    for cell in result.cells:
        grade_id = _nbgrader(cell).get("grade_id")
        if sources and grade_id in sources and cell.cell_type == "code":
            cell.source = sources[grade_id]
    return result


def plant(source, mistake):
    """Apply one planting: a list of (old, new) text replacements that must all match."""
    for old, new in PLANTINGS[mistake]["edits"]:
        if old not in source:
            raise ValueError(f"planting {mistake!r}: {old!r} not found in the solution")
        source = source.replace(old, new, 1)
    return source


# mistake name -> the solution cell it goes into, the text edits (checked against the
# solution notebooks' code), and, when it differs from the name, the words the feedback
# must use to name it.
PLANTINGS = {
    "kernel flipped": {
        "function": "conv_forward_naive",
        "edits": [("np.sum(window * w[f])", "np.sum(window * w[f, :, ::-1, ::-1])")],
    },
    "bias missing": {
        "function": "conv_forward_naive",
        "edits": [("np.sum(window * w[f]) + b[f]", "np.sum(window * w[f])")],
    },
    "stride ignored": {
        "function": "conv_forward_naive",
        "edits": [("window = x_pad[n, :, i * S:i * S + HH, j * S:j * S + WW]",
                   "window = x_pad[n, :, i:i + HH, j:j + WW]")],
    },
    "padding missing": {
        "function": "conv_forward_naive",
        "edits": [("x_pad = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)), mode=\"constant\")",
                   "x_pad = x"),
                  ("H_out = 1 + (H + 2 * P - HH) // S", "H_out = 1 + (H - HH) // S"),
                  ("W_out = 1 + (W + 2 * P - WW) // S", "W_out = 1 + (W - WW) // S")],
    },
    "padding on the height axis only": {
        "function": "conv_forward_naive",
        "edits": [("(P, P), (P, P)), mode", "(P, P), (0, 0)), mode"),
                  ("W_out = 1 + (W + 2 * P - WW) // S", "W_out = 1 + (W - WW) // S")],
    },
    "output size rounded up": {
        "function": "conv_forward_naive",
        "edits": [("x_pad = np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)), mode=\"constant\")",
                   "x_pad = np.pad(x, ((0, 0), (0, 0), (P, P + S), (P, P + S)))"),
                  ("H_out = 1 + (H + 2 * P - HH) // S", "H_out = 1 - (-(H + 2 * P - HH) // S)"),
                  ("W_out = 1 + (W + 2 * P - WW) // S", "W_out = 1 - (-(W + 2 * P - WW) // S)")],
    },
    "gradient overwritten instead of accumulated (dx)": {
        "function": "conv_backward_naive",
        "edits": [("dx_pad[n, :, rows, cols] += dout[n, f, i, j] * w[f]",
                   "dx_pad[n, :, rows, cols] = dout[n, f, i, j] * w[f]")],
    },
    "dx not cropped back from the padded input": {
        "function": "conv_backward_naive",
        "edits": [("dx = dx_pad[:, :, P:P + H, P:P + W]", "dx = dx_pad")],
    },
    "db summed over the wrong axes": {
        "function": "conv_backward_naive",
        "edits": [("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(0, 1, 2))")],
    },
    "max-pool gradient spread over the window": {
        "function": "max_pool_backward_naive",
        "edits": [("dx[n, c, i * S + p, j * S + q] += dout[n, c, i, j]",
                   "dx[n, c, i * S:i * S + PH, j * S:j * S + PW] += dout[n, c, i, j]")],
    },
    "max-pool gradient overwritten where windows overlap": {
        "function": "max_pool_backward_naive",
        "edits": [("dx[n, c, i * S + p, j * S + q] += dout[n, c, i, j]",
                   "dx[n, c, i * S + p, j * S + q] = dout[n, c, i, j]")],
    },
    "average-pool gradient not divided by the window size": {
        "function": "avg_pool_backward_naive",
        "edits": [("+= dout[n, c, i, j] / (PH * PW)", "+= dout[n, c, i, j]")],
    },
    "regularisation missing from the loss": {
        "function": "convnet_loss",
        "edits": [("    loss += 0.5 * model.reg * sum(float(np.sum(p[k] * p[k])) for k in weights)\n", "")],
    },
    "dilation applied to the window start instead of to the taps": {
        "function": "conv_forward_dilated_naive",
        "edits": [("top, left = i * S, j * S", "top, left = i * S * D, j * S * D"),
                  ("taps = x_pad[n, :, top:top + HH_eff:D, left:left + WW_eff:D]",
                   "taps = x_pad[n, :, top:top + HH, left:left + WW]")],
    },
    "dilation ignored: the taps are read next to each other": {
        "function": "conv_forward_dilated_naive",
        "edits": [("taps = x_pad[n, :, top:top + HH_eff:D, left:left + WW_eff:D]",
                   "taps = x_pad[n, :, top:top + HH, left:left + WW]")],
    },
    "effective kernel size without the - 1": {
        "function": "conv_forward_dilated_naive",
        "edits": [("HH_eff = D * (HH - 1) + 1", "HH_eff = D * HH"),
                  ("WW_eff = D * (WW - 1) + 1", "WW_eff = D * WW")],
    },
    "bias missing (im2col)": {
        "function": "conv_forward_im2col",
        "edits": [("out = w.reshape(F, -1) @ cols + b[:, None]", "out = w.reshape(F, -1) @ cols")],
        "feedback": "bias missing",
    },
    "col2im forgotten: dx is the column gradient dcols": {
        "function": "conv_backward_im2col",
        "edits": [("dx = col2im(dcols, x.shape, HH, WW, stride=stride, pad=pad)", "dx = dcols")],
    },
    "dw reshaped back in the wrong tap order": {
        "function": "conv_backward_im2col",
        "edits": [(".sum(axis=0).reshape(w.shape)",
                   ".sum(axis=0).reshape(F, HH, WW, -1).transpose(0, 3, 1, 2)")],
    },
    "db summed over the wrong axes (im2col)": {
        "function": "conv_backward_im2col",
        "edits": [("db = dout_rows.sum(axis=(0, 2))", "db = dout_rows.sum(axis=(1, 2))")],
        "feedback": "db summed over the wrong axes",
    },
    "dx not cropped back from the padded input (im2col)": {
        "function": "conv_backward_im2col",
        "edits": [("dx = col2im(dcols, x.shape, HH, WW, stride=stride, pad=pad)",
                   "H, W = x.shape[2:]\n"
                   "    dx = col2im(dcols, (N, x.shape[1], H + 2 * pad, W + 2 * pad), HH, WW,\n"
                   "                stride=stride, pad=0)")],
        "feedback": "dx not cropped back from the padded input",
    },
    # Notebook 6 (issue 25).
    "x reshaped to (N * H * W, C) without moving the channels last": {
        "function": "spatial_batchnorm_forward",
        "edits": [("rows = x.transpose(0, 2, 3, 1).reshape(-1, C)", "rows = x.reshape(-1, C)"),
                  ("out = out_rows.reshape(N, H, W, C).transpose(0, 3, 1, 2)",
                   "out = out_rows.reshape(N, C, H, W)")],
    },
    "the variance is the unbiased one (divided by count - 1)": {
        "function": "spatial_groupnorm_forward",
        "edits": [("groups.var(axis=2, keepdims=True)", "groups.var(axis=2, keepdims=True, ddof=1)")],
    },
    "dx leaves out the gradient through the mean and variance of each group": {
        "function": "spatial_groupnorm_backward",
        "edits": [("dx = (g - g.mean(axis=2, keepdims=True)\n"
                   "          - x_hat * (g * x_hat).mean(axis=2, keepdims=True)) / std",
                   "dx = g / std")],
    },
}

SAMPLE_CLASS = {
    "ada": [],
    "ben": ["kernel flipped", "dilation applied to the window start instead of to the taps",
            "gradient overwritten instead of accumulated (dx)",
            "max-pool gradient spread over the window",
            "col2im forgotten: dx is the column gradient dcols",
            "x reshaped to (N * H * W, C) without moving the channels last"],
    "cleo": ["bias missing", "effective kernel size without the - 1",
             "dx not cropped back from the padded input",
             "average-pool gradient not divided by the window size", "bias missing (im2col)",
             "the variance is the unbiased one (divided by count - 1)"],
    "dev": ["output size rounded up", "db summed over the wrong axes",
            "max-pool gradient overwritten where windows overlap",
            "regularisation missing from the loss", "dw reshaped back in the wrong tap order",
            "dx leaves out the gradient through the mean and variance of each group"],
    "eve": None,  # untouched release notebooks
}


def assignments():
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir())


def build(target=EXAMPLES):
    for student, mistakes in SAMPLE_CLASS.items():
        for assignment in assignments():
            sources = None if mistakes is None else solution_sources(assignment)
            for mistake in mistakes or []:
                grade_id = PLANTINGS[mistake]["function"]
                if sources and grade_id in sources:
                    sources[grade_id] = plant(sources[grade_id], mistake)
            for path in sorted((RELEASE / assignment).glob("*.ipynb")):
                notebook = submission(assignment, path.stem, sources)
                out = Path(target) / student / assignment / path.name
                out.parent.mkdir(parents=True, exist_ok=True)
                nbformat.write(notebook, str(out))
    return target


if __name__ == "__main__":
    print(f"built the sample class in {build(Path(sys.argv[1]) if len(sys.argv) > 1 else EXAMPLES)}")
