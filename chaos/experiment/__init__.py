"""Experiments as code: the model (`model`), loading and validation."""
