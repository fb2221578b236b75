"""The one way to run work off the GUI thread (tasks on lanes), and the tasks that are not a run."""
