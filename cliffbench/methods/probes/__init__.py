"""Probes: a frozen backbone's features in, a small model fitted per trial on top (linear, k-NN, MLP)."""
