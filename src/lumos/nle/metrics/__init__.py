"""Metrics of natural-language explanations (registered in the metric registry; ``lumos.evaluate`` takes them
like any other): ``nle_counterfactual``, ``citation_agreement`` and ``simulatability``."""
