"""Training: the run settings, the loop, the hooks that let the outside watch it, and the
one way to start, resume or branch a run (launch)."""
