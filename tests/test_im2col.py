import numpy as np
from hypothesis import given

from conv_lib import col2im, im2col, output_size

from .loops import rel_error
from .strategies import conv_cases, pair


def geometry(x, w, param):
    return (w.shape[2], w.shape[3], param["stride"], param["pad"], param.get("dilation", 1))


@given(conv_cases())
def test_column_layout_is_as_documented(case):
    x, w, _, param = case
    hh, ww, stride, pad, dilation = geometry(x, w, param)
    (sh, sw), (ph, pw), (dh, dw) = pair(stride), pair(pad), pair(dilation)
    cols = im2col(x, hh, ww, stride, pad, dilation)
    n, c, h, wd = x.shape
    oh, ow = output_size(h, hh, sh, ph, dh), output_size(wd, ww, sw, pw, dw)
    assert cols.shape == (n, c * hh * ww, oh * ow)
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    for ch in range(c):
        for i in range(hh):
            for j in range(ww):
                row = (ch * hh + i) * ww + j
                window = xp[:, ch, i * dh : i * dh + sh * (oh - 1) + 1 : sh,
                            j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                np.testing.assert_array_equal(cols[:, row], window.reshape(n, -1))


@given(conv_cases())
def test_col2im_is_the_adjoint_of_im2col(case):
    x, w, _, param = case
    args = geometry(x, w, param)
    cols = im2col(x, *args)
    y = np.random.default_rng(0).standard_normal(cols.shape)
    # <im2col(x), y> == <x, col2im(y)> for every x, y defines the adjoint.
    assert rel_error(np.vdot(cols, y), np.vdot(x, col2im(y, x.shape, *args))) < 1e-12
