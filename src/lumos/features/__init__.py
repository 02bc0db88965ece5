"""What a feature is per modality, and how to remove it (shared by explainers and metrics)."""
