"""Explanation methods, one file each; importing this package registers them all."""

from . import (  # noqa: F401
    attention,
    exact_shapley,
    gradcam,
    gradcam_pp,
    gradient_shap,
    input_x_gradient,
    integrated_gradients,
    kernel_shap,
    lime,
    occlusion,
    random_baseline,
    saliency,
    smoothgrad,
)
