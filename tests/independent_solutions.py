"""Independently written correct solutions of notebook 01's solution cells, each in its own
style (as five students would write them without looking at each other), to calibrate the
similarity check: none of these pairs may be flagged. Each entry maps a solution cell's
grade_id to the code that replaces `# YOUR CODE HERE` / `raise NotImplementedError()` in the
released cell, and ``before`` to code a student put above a function (a helper)."""

SOLUTIONS = {
    "loops_over_windows": {
        "conv_forward_naive": '''
    N, C, H, W = x.shape
    F, C2, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    Hn = (H + 2 * pad - HH) // stride + 1
    Wn = (W + 2 * pad - WW) // stride + 1
    out = np.zeros((N, F, Hn, Wn))
    for img in range(N):
        for flt in range(F):
            for r in range(Hn):
                for c in range(Wn):
                    patch = xp[img, :, r * stride:r * stride + HH, c * stride:c * stride + WW]
                    out[img, flt, r, c] = (patch * w[flt]).sum() + b[flt]
''',
        "conv_forward_dilated_naive": '''
    N, C, H, W = x.shape
    F, C2, HH, WW = w.shape
    stride, pad, dil = conv_param["stride"], conv_param["pad"], conv_param["dilation"]
    span_h, span_w = dil * (HH - 1) + 1, dil * (WW - 1) + 1
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    Hn = (H + 2 * pad - span_h) // stride + 1
    Wn = (W + 2 * pad - span_w) // stride + 1
    out = np.zeros((N, F, Hn, Wn))
    for img in range(N):
        for flt in range(F):
            for r in range(Hn):
                for c in range(Wn):
                    r0, c0 = r * stride, c * stride
                    patch = xp[img, :, r0:r0 + span_h:dil, c0:c0 + span_w:dil]
                    out[img, flt, r, c] = (patch * w[flt]).sum() + b[flt]
''',
        "to_channels_first": '''
    x = x_nhwc.transpose(0, 3, 1, 2)
    w = w_hwcf.transpose(3, 2, 0, 1)
''',
    },
    "einsum_per_position": {
        "conv_forward_naive": '''
    s = conv_param['stride']
    p = conv_param['pad']
    n_img, _, height, width = x.shape
    n_filt, _, kh, kw = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode='constant')
    oh = 1 + (height + 2 * p - kh) // s
    ow = 1 + (width + 2 * p - kw) // s
    out = np.empty((n_img, n_filt, oh, ow))
    for y in range(oh):
        for z in range(ow):
            block = padded[:, :, y * s:y * s + kh, z * s:z * s + kw]
            out[:, :, y, z] = np.einsum('nchw,fchw->nf', block, w)
    out += b.reshape(1, -1, 1, 1)
''',
        "conv_forward_dilated_naive": '''
    s = conv_param['stride']
    p = conv_param['pad']
    d = conv_param['dilation']
    n_img, _, height, width = x.shape
    n_filt, _, kh, kw = w.shape
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode='constant')
    oh = 1 + (height + 2 * p - (d * (kh - 1) + 1)) // s
    ow = 1 + (width + 2 * p - (d * (kw - 1) + 1)) // s
    out = np.empty((n_img, n_filt, oh, ow))
    rows = np.arange(kh) * d
    cols = np.arange(kw) * d
    for y in range(oh):
        for z in range(ow):
            block = padded[:, :, (y * s + rows)[:, None], (z * s + cols)[None, :]]
            out[:, :, y, z] = np.einsum('nchw,fchw->nf', block, w)
    out += b.reshape(1, -1, 1, 1)
''',
        "to_channels_first": '''
    x = np.moveaxis(x_nhwc, -1, 1)
    w = np.moveaxis(np.moveaxis(w_hwcf, 3, 0), 3, 1)
''',
    },
    "six_scalar_loops": {
        "before": '''
def zero_pad(images, amount):
    """Zeros around the two last axes."""
    n, c, h, wd = images.shape
    result = np.zeros((n, c, h + 2 * amount, wd + 2 * amount))
    result[:, :, amount:amount + h, amount:amount + wd] = images
    return result

''',
        "conv_forward_naive": '''
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    S = conv_param["stride"]
    P = conv_param["pad"]
    padded_input = zero_pad(x, P)
    out_h = int(1 + (H + 2 * P - HH) // S)
    out_w = int(1 + (W + 2 * P - WW) // S)
    out = np.zeros((N, F, out_h, out_w))
    for n in range(N):
        for f in range(F):
            for oi in range(out_h):
                for oj in range(out_w):
                    acc = b[f]
                    for ch in range(C):
                        for ki in range(HH):
                            for kj in range(WW):
                                acc += padded_input[n, ch, oi * S + ki, oj * S + kj] * w[f, ch, ki, kj]
                    out[n, f, oi, oj] = acc
''',
        "conv_forward_dilated_naive": '''
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    S = conv_param["stride"]
    P = conv_param["pad"]
    D = conv_param["dilation"]
    padded_input = zero_pad(x, P)
    out_h = int(1 + (H + 2 * P - D * (HH - 1) - 1) // S)
    out_w = int(1 + (W + 2 * P - D * (WW - 1) - 1) // S)
    out = np.zeros((N, F, out_h, out_w))
    for n in range(N):
        for f in range(F):
            for oi in range(out_h):
                for oj in range(out_w):
                    acc = b[f]
                    for ch in range(C):
                        for ki in range(HH):
                            for kj in range(WW):
                                acc += (padded_input[n, ch, oi * S + ki * D, oj * S + kj * D]
                                        * w[f, ch, ki, kj])
                    out[n, f, oi, oj] = acc
''',
        "to_channels_first": '''
    N, H, W, C = x_nhwc.shape
    x = np.zeros((N, C, H, W))
    for ch in range(C):
        x[:, ch] = x_nhwc[..., ch]
    HH, WW, C, F = w_hwcf.shape
    w = np.zeros((F, C, HH, WW))
    for f in range(F):
        for ch in range(C):
            w[f, ch] = w_hwcf[:, :, ch, f]
''',
    },
    "flat_dot_products": {
        "conv_forward_naive": '''
    batch, channels, h_in, w_in = x.shape
    filters, _, k_h, k_w = w.shape
    step = conv_param.get("stride", 1)
    border = conv_param.get("pad", 0)
    big = np.pad(x, ((0, 0), (0, 0), (border, border), (border, border)))
    h_out = (h_in + 2 * border - k_h) // step + 1
    w_out = (w_in + 2 * border - k_w) // step + 1
    kernels = w.reshape(filters, -1)
    results = []
    for item in range(batch):
        maps = np.zeros((filters, h_out, w_out))
        for a in range(h_out):
            for c in range(w_out):
                piece = big[item, :, a * step:a * step + k_h, c * step:c * step + k_w].ravel()
                maps[:, a, c] = kernels @ piece + b
        results.append(maps)
    out = np.stack(results)
''',
        "conv_forward_dilated_naive": '''
    batch, channels, h_in, w_in = x.shape
    filters, _, k_h, k_w = w.shape
    step = conv_param.get("stride", 1)
    border = conv_param.get("pad", 0)
    gap = conv_param.get("dilation", 1)
    big = np.pad(x, ((0, 0), (0, 0), (border, border), (border, border)))
    reach_h = gap * (k_h - 1) + 1
    reach_w = gap * (k_w - 1) + 1
    h_out = (h_in + 2 * border - reach_h) // step + 1
    w_out = (w_in + 2 * border - reach_w) // step + 1
    kernels = w.reshape(filters, -1)
    results = []
    for item in range(batch):
        maps = np.zeros((filters, h_out, w_out))
        for a in range(h_out):
            for c in range(w_out):
                piece = big[item, :, a * step:a * step + reach_h:gap,
                            c * step:c * step + reach_w:gap].ravel()
                maps[:, a, c] = kernels @ piece + b
        results.append(maps)
    out = np.stack(results)
''',
        "to_channels_first": '''
    x = np.einsum("nhwc->nchw", x_nhwc)
    w = np.einsum("hwcf->fchw", w_hwcf)
''',
    },
    "itertools_product": {
        "before": '''
from itertools import product

''',
        "conv_forward_naive": '''
    cfg_stride = conv_param["stride"]
    cfg_pad = conv_param["pad"]
    xs = np.pad(x, ((0, 0), (0, 0), (cfg_pad,) * 2, (cfg_pad,) * 2))
    num, _, rows, cols = xs.shape
    nf, _, fr, fc = w.shape
    out_rows = (rows - fr) // cfg_stride + 1
    out_cols = (cols - fc) // cfg_stride + 1
    out = np.zeros((num, nf, out_rows, out_cols))
    for k, f, i, j in product(range(num), range(nf), range(out_rows), range(out_cols)):
        top, left = i * cfg_stride, j * cfg_stride
        out[k, f, i, j] = np.vdot(xs[k, :, top:top + fr, left:left + fc], w[f]) + b[f]
''',
        "conv_forward_dilated_naive": '''
    cfg_stride = conv_param["stride"]
    cfg_pad = conv_param["pad"]
    cfg_dil = conv_param["dilation"]
    xs = np.pad(x, ((0, 0), (0, 0), (cfg_pad,) * 2, (cfg_pad,) * 2))
    num, _, rows, cols = xs.shape
    nf, _, fr, fc = w.shape
    out_rows = (rows - cfg_dil * (fr - 1) - 1) // cfg_stride + 1
    out_cols = (cols - cfg_dil * (fc - 1) - 1) // cfg_stride + 1
    out = np.zeros((num, nf, out_rows, out_cols))
    for k, f, i, j in product(range(num), range(nf), range(out_rows), range(out_cols)):
        taps = xs[k, :, i * cfg_stride::cfg_dil, j * cfg_stride::cfg_dil][:, :fr, :fc]
        out[k, f, i, j] = np.vdot(taps, w[f]) + b[f]
''',
        "to_channels_first": '''
    x = np.ascontiguousarray(np.transpose(x_nhwc, (0, 3, 1, 2)))
    w = np.ascontiguousarray(np.transpose(w_hwcf, (3, 2, 0, 1)))
''',
    },
}

# A copy of six_scalar_loops: every name changed, the helper moved below the function that
# uses it, the loops' order inside kept (what a copier who renames does).
COPY_OF = "six_scalar_loops"
COPY = {
    "conv_forward_naive": '''
    batch, chans, height, width = x.shape
    nfilt, _, kh, kw = w.shape
    st = conv_param["stride"]
    pd = conv_param["pad"]
    xpad = add_border(x, pd)
    ho = int(1 + (height + 2 * pd - kh) // st)
    wo = int(1 + (width + 2 * pd - kw) // st)
    out = np.zeros((batch, nfilt, ho, wo))
    for bi in range(batch):
        for fi in range(nfilt):
            for r in range(ho):
                for q in range(wo):
                    total = b[fi]
                    for k in range(chans):
                        for u in range(kh):
                            for v in range(kw):
                                total += xpad[bi, k, r * st + u, q * st + v] * w[fi, k, u, v]
                    out[bi, fi, r, q] = total
''',
    "after": '''

def add_border(batch_in, size):
    """Zeros around the two last axes."""
    n, c, h, wd = batch_in.shape
    padded = np.zeros((n, c, h + 2 * size, wd + 2 * size))
    padded[:, :, size:size + h, size:size + wd] = batch_in
    return padded
''',
    "conv_forward_dilated_naive": '''
    batch, chans, height, width = x.shape
    nfilt, _, kh, kw = w.shape
    st = conv_param["stride"]
    pd = conv_param["pad"]
    dl = conv_param["dilation"]
    xpad = add_border(x, pd)
    ho = int(1 + (height + 2 * pd - dl * (kh - 1) - 1) // st)
    wo = int(1 + (width + 2 * pd - dl * (kw - 1) - 1) // st)
    out = np.zeros((batch, nfilt, ho, wo))
    for bi in range(batch):
        for fi in range(nfilt):
            for r in range(ho):
                for q in range(wo):
                    total = b[fi]
                    for k in range(chans):
                        for u in range(kh):
                            for v in range(kw):
                                total += (xpad[bi, k, r * st + u * dl, q * st + v * dl]
                                          * w[fi, k, u, v])
                    out[bi, fi, r, q] = total
''',
    "to_channels_first": '''
    N, H, W, C = x_nhwc.shape
    x = np.zeros((N, C, H, W))
    for k in range(C):
        x[:, k] = x_nhwc[..., k]
    HH, WW, C, F = w_hwcf.shape
    w = np.zeros((F, C, HH, WW))
    for fi in range(F):
        for k in range(C):
            w[fi, k] = w_hwcf[:, :, k, fi]
''',
}

STUB = "    # YOUR CODE HERE\n    raise NotImplementedError()\n"


def filled(release_source, grade_id, solution):
    """A released solution cell with ``solution``'s body for ``grade_id`` in place of the stub,
    and its helper code (``before``/``after``) around it."""
    body = solution.get(grade_id)
    if body is None:
        return release_source
    assert STUB in release_source, grade_id
    source = release_source.replace(STUB, body.lstrip("\n"))
    if grade_id == "conv_forward_naive":
        source = solution.get("before", "").lstrip("\n") + source + solution.get("after", "")
    return source
