"""A training run as a task: the engine's callbacks turned into typed messages, and its controls."""
