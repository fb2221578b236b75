"""The model of a run that every view subscribes to, the runs folder, and what is remembered."""
