"""Feature-extraction throughput on a GPU: cliffbench's extraction path (DataLoader over raw PIL
images with the backbone's own preprocessing, Lightning ``Trainer.predict`` in bf16-mixed) against
a bare bf16 forward loop of the same model on already-preprocessed tensors in GPU memory.

The model is a CLIP ViT-B/16-sized open_clip image tower, randomly initialised (no download);
the images are synthetic 32x32 RGB (CIFAR-sized) PIL images. Target: cliffbench >= 80% of bare.
Without a GPU it runs the same comparison on the CPU in float32 (CPUs without bf16 units emulate
it slowly), meant only for checking the script on a tiny size
(``--model ViT-B-32 --images 16 --batch-size 8 --workers 0``).

    uv run python benchmarks/extraction_throughput.py --images 20000 --batch-size 256 --workers 8

Prints one JSON line: images/s of both and their ratio.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def bare_loop(module, batch_size: int, n_images: int, image_size: int, device: str) -> float:
    """Images/s of ``module`` in bf16 autocast on one preprocessed batch repeated in device memory."""
    import torch

    x = torch.randn(batch_size, 3, image_size, image_size, device=device)
    steps = max(1, n_images // batch_size)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    with torch.inference_mode(), torch.autocast(device, dtype=torch.bfloat16, enabled=device == "cuda"):
        for _ in range(3):
            module(x)
        sync()
        t0 = time.perf_counter()
        for _ in range(steps):
            module(x).float().cpu()
        sync()
    return steps * batch_size / (time.perf_counter() - t0)


def main() -> None:
    import torch
    from PIL import Image

    from cliffbench.backbones.extract import extract_features
    from cliffbench.backbones.open_clip_model import OpenClip

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="ViT-B-16")
    ap.add_argument("--images", type=int, default=20000)
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=8)
    args = ap.parse_args()
    device = "cuda" if torch.cuda.is_available() else "cpu"
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    torch.manual_seed(0)
    enc = OpenClip(model=args.model, pretrained=None).build({"weights_dir": "."}, random_init=True)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(256, 32, 32, 3), dtype=np.uint8)
    images = [Image.fromarray(pixels[i % 256]) for i in range(args.images)]
    image_size = int(enc.preprocess(images[0]).shape[-1])
    settings = {"accelerator": "gpu" if device == "cuda" else "cpu",
                "precision": "bf16-mixed" if device == "cuda" else "32-true"}

    extract_features(enc, images[: args.batch_size * 2], settings=settings,
                     batch_size=args.batch_size, num_workers=args.workers, progress=False)  # warm-up
    sync()
    t0 = time.perf_counter()
    feats = extract_features(enc, images, settings=settings, batch_size=args.batch_size,
                             num_workers=args.workers, progress=False)
    sync()
    ours = len(images) / (time.perf_counter() - t0)
    module = enc.module.to(device).eval()
    bare = bare_loop(module, args.batch_size, args.images, image_size, device)
    print(json.dumps({"model": args.model, "images": len(images), "feature_shape": list(feats.shape),
                      "batch_size": args.batch_size, "workers": args.workers,
                      "device": torch.cuda.get_device_name() if device == "cuda" else "cpu", "cliffbench_images_per_s": round(ours, 1),
                      "bare_bf16_images_per_s": round(bare, 1), "ratio": round(ours / bare, 3)}))


if __name__ == "__main__":
    main()
