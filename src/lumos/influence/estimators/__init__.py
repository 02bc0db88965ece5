"""The influence estimators, one file each; the influence registry imports every module here on its first
lookup."""
