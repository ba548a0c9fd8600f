"""Datasets (config group ``dataset/``): each gives a fixed training pool, an optional validation
set and a fixed test set, as raw inputs the backbone turns into features."""
