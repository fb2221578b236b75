"""Networks: the from-scratch layers and the built-in models."""
