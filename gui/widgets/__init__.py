"""Reusable pieces: grids, probability bars, spin boxes, the runs comparison, PNG export."""
