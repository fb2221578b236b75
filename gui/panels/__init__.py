"""The window's panels, one module each: configuration, runs, curves and the views inside the network."""
