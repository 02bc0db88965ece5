"""The counterfactual searches, one file each; the counterfactual registry imports every module here on its
first lookup."""
