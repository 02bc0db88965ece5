"""Explanation methods, one file each; importing this package registers them all."""

from . import (  # noqa: F401
    attention,
    exact_shapley,
    fastshap,
    gradcam,
    gradcam_pp,
    gradient_shap,
    input_x_gradient,
    integrated_gradients,
    kernel_shap,
    leverage_shap,
    lime,
    occlusion,
    permutation_shap,
    random_baseline,
    regression_shap,
    saliency,
    smoothgrad,
    stratified_shap,
)
