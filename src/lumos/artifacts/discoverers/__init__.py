"""The built-in artifact discoverers, one file each; the "discoverer" registry imports them on first lookup."""
