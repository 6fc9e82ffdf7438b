"""The checks a notebook's check cells call: ``from grader.checks import check_conv_forward, grade``.

This is the door released notebooks use; the checks themselves live in
``grader.diagnosis.checks``.
"""

from .diagnosis.checks import (  # noqa: F401 - re-exported for the notebooks
    quiet,
    call,
    run_case,
    run,
    report,
    forbidden_uses,
    check_conv_forward,
    check_conv_forward_dilated,
    check_conv_backward,
    check_max_pool_forward,
    check_max_pool_backward,
    check_avg_pool_forward,
    check_avg_pool_backward,
    check_conv_forward_im2col,
    check_conv_backward_im2col,
    check_convnet_loss,
    check_spatial_batchnorm_forward,
    check_spatial_batchnorm_backward,
    check_spatial_groupnorm_forward,
    check_spatial_groupnorm_backward,
    grade,
    score,
    NotPassingYet,
)
from .diagnosis.layouts import check_channels_last  # noqa: F401 - re-exported

