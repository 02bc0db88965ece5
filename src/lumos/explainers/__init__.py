"""Explanation methods, one file each. The explainer registry imports every module here on its first lookup,
so adding a method is adding its file."""
