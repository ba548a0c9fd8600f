"""Feature extraction with Lightning ``Trainer.predict``: preprocessing in DataLoader workers, the
encoder on the configured accelerator (bf16-mixed on GPU, 32-bit on CPU), float32 features out."""

from __future__ import annotations

from typing import Any

import numpy as np


def _embedder(module, channels_last: bool = False):
    import lightning as L
    import torch

    class Embedder(L.LightningModule):
        """Inference-only wrapper: ``predict_step`` returns the encoder's embeddings as float32."""

        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def predict_step(self, batch, batch_idx):
            if channels_last and batch.ndim == 4:
                batch = batch.contiguous(memory_format=torch.channels_last)
            return self.encoder(batch).float().flatten(1).cpu()

    embedder = Embedder(module)
    return embedder.to(memory_format=torch.channels_last) if channels_last else embedder


def extract_features(encoder, X: Any, *, settings=None, batch_size: int = 256,
                     num_workers: int = 0, progress: bool = True, desc: str = "") -> np.ndarray:
    """Embeddings (rows of ``X``, ``encoder.dim`` columns) of every input of ``X``, on the device
    ``settings`` (``TrainerSettings`` or a ``cfg.trainer`` mapping) choose."""
    import torch
    from torch.utils.data import DataLoader

    from cliffbench.image_inputs import Preprocessed
    from cliffbench.trainer import make_trainer, uses_gpu

    if len(X) == 0:
        return np.zeros((0, encoder.dim), dtype=np.float32)
    loader = DataLoader(Preprocessed(X, encoder.preprocess), batch_size=int(batch_size), shuffle=False,
                        num_workers=int(num_workers), pin_memory=uses_gpu(settings),
                        persistent_workers=False)
    trainer = make_trainer(settings, progress=progress)
    module = _embedder(encoder.module, getattr(encoder, "channels_last", False))
    module.eval()
    with torch.inference_mode():
        batches = trainer.predict(module, loader)
    feats = torch.cat(batches).numpy().astype(np.float32, copy=False)
    if desc:
        import logging

        logging.getLogger("cliffbench").info("extracted %s features: %s", desc, feats.shape)
    return feats
