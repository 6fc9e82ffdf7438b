"""conv_lib: fast, documented reference layers for the ConvNet course.

Submodules: ``gradient_check`` (numerical gradients), ``data`` (bundled digits
and photos), ``vis`` (filter grids and feature maps), ``optim`` (update rules).
"""

from .cnn import ThreeLayerConvNet
from .conv import conv_backward_fast, conv_forward_fast
from .im2col import col2im, im2col, output_size
from .layer_utils import (
    ConvReluPool,
    affine_relu_backward,
    affine_relu_forward,
    conv_relu_backward,
    conv_relu_forward,
    conv_relu_pool_backward,
    conv_relu_pool_forward,
)
from .layers import (
    affine_backward,
    affine_forward,
    batchnorm_backward,
    batchnorm_forward,
    relu_backward,
    relu_forward,
    softmax_loss,
)
from .normalization import (
    spatial_batchnorm_backward,
    spatial_batchnorm_forward,
    spatial_groupnorm_backward,
    spatial_groupnorm_forward,
)
from .pool import (
    avg_pool_backward_fast,
    avg_pool_forward_fast,
    global_avg_pool_backward,
    global_avg_pool_forward,
    max_pool_backward_fast,
    max_pool_forward_fast,
)
from .solver import Solver
