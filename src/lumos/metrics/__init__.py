"""Evaluation metrics, one file each; importing this package registers them all."""

from . import (  # noqa: F401
    agreement,
    aopc_comprehensiveness,
    aopc_sufficiency,
    auprc,
    citation_agreement,
    comprehensiveness,
    deletion_auc,
    effective_size,
    infidelity,
    insertion_auc,
    iou_f1,
    max_sensitivity,
    mprt,
    nle_counterfactual,
    road,
    simulatability,
    sparseness,
    sufficiency,
    taucorr_loo,
    token_f1,
)
