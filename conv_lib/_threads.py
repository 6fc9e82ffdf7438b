"""One BLAS thread for the small matrix products of this package.

OpenBLAS splits every product over all cores. On small matrices (a chunk of a
conv, a minibatch of 8x8 digits) the split gains little, and when another
process keeps a core busy the threads wait for each other: training the
digits network took 20 s that way against 2.5 s on one thread (issue 13).
threadpoolctl switches BLAS to one thread for the length of a call.
"""

import contextlib
import functools
import threading

from threadpoolctl import ThreadpoolController

_state = threading.local()
_controller = None


@contextlib.contextmanager
def one_blas_thread():
    """BLAS runs on one thread inside; nesting is free (only the outermost call switches)."""
    global _controller
    if getattr(_state, "inside", False):
        yield
        return
    if _controller is None:  # finding the loaded BLAS takes milliseconds: once
        _controller = ThreadpoolController()
    _state.inside = True
    try:
        with _controller.limit(limits=1, user_api="blas"):
            yield
    finally:
        _state.inside = False


def single_blas_thread(function):
    """Decorator: ``function`` runs inside ``one_blas_thread()``."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with one_blas_thread():
            return function(*args, **kwargs)

    return wrapper
