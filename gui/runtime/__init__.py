"""What the app does to its process once: GC policy, torch threads, warm-up, plot theme, platform check."""
