"""The built-in repairs, one file each; the "repair" registry imports them on first lookup."""
