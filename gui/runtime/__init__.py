"""What the app sets up for the whole process: GC policy, torch threads, warm-up, plot theme,
and the check that Qt can open a window at all."""
