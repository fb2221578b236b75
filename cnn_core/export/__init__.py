"""Exports of a run: CSV, ONNX, TensorBoard, bundles, and plots drawn without Qt."""
