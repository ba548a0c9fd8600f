"""Backbones (config group ``backbone/``): turn a dataset's raw inputs into feature vectors."""
