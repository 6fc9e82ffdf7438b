"""conv_lib: fast, documented reference layers for the ConvNet course."""

from .conv import conv_backward_fast, conv_forward_fast
from .im2col import col2im, im2col, output_size
from .pool import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
