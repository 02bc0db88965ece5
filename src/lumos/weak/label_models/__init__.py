"""The built-in label models, one module each, registered in ``lumos.registry.LABEL_MODELS`` (kind
"label_model"): majority, weighted_majority, dawid_skene, matrix_completion, triplet, stacked."""
