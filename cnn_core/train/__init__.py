"""Training: the run settings, the loop and the hooks that let the outside watch it."""
