"""Run folders: what a run writes as it trains, how it is listed, and its checkpoints."""
