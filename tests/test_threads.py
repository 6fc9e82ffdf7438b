"""conv_lib runs its small matrix products on one BLAS thread (issue 13: no thread fights)."""

import numpy as np
from threadpoolctl import threadpool_info

from conv_lib import Solver, ThreeLayerConvNet, conv_forward_fast
from conv_lib._threads import one_blas_thread


def _blas_threads():
    return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}


def test_one_blas_thread_inside_nested_calls_and_the_old_setting_after():
    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() == {1}
        with one_blas_thread():
            assert _blas_threads() == {1}
        assert _blas_threads() == {1}  # the inner exit leaves the outer limit in place
    assert _blas_threads() == before


def test_the_fast_conv_and_the_solver_run_single_threaded(monkeypatch):
    seen = []

    def loss(X, y=None):
        seen.append(_blas_threads())
        return model_loss(X, y)

    model = ThreeLayerConvNet(input_dim=(1, 4, 4), num_filters=2, filter_size=3, hidden_dim=3,
                              num_classes=2, seed=0)
    model_loss, model.loss = model.loss, loss
    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((4, 1, 4, 4)), "y_train": np.array([0, 1, 0, 1]),
            "X_val": rng.standard_normal((2, 1, 4, 4)), "y_val": np.array([0, 1])}
    Solver(model, data, num_epochs=1, batch_size=2, progress=False).train()
    assert seen and all(threads == {1} for threads in seen)

    import conv_lib.conv

    monkeypatch.setattr(conv_lib.conv, "np", _Spy(np, seen))
    seen.clear()
    conv_forward_fast(rng.standard_normal((1, 1, 4, 4)), rng.standard_normal((1, 1, 3, 3)),
                      np.zeros(1), {"stride": 1, "pad": 1})
    assert seen and all(threads == {1} for threads in seen)


class _Spy:
    """numpy, recording the BLAS thread count whenever conv_lib.conv uses it."""

    def __init__(self, module, seen):
        self._module, self._seen = module, seen

    def __getattr__(self, name):
        self._seen.append(_blas_threads())
        return getattr(self._module, name)
