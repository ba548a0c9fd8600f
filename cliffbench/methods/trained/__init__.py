"""Trained methods: the backbone's weights (or a network from scratch) trained on each trial's raw
inputs through the shared Lightning loop (``image_training``)."""
