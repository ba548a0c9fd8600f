"""Finetuning and from-scratch training on CPU with tiny models and data: the readout starts as
scikit-learn's linear probe, the best-validation-loss weights are the ones kept, and whole jobs
run through the runner."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from cliffbench.contract import TrainerSettings
from cliffbench.errors import ConfigError
from cliffbench.methods.trained.finetune import probe_readout
from tests.test_backbones_models import tiny_clip  # noqa: F401 - fixture

STAND_IN = ["backbone=digits_cnn_0to4", "backbone.epochs=1", "dataset.classes=[5,6,7,8,9]",
            "logger=none", "progress=false", "trials=2", "grid.n=[20]", "trainer.max_epochs=2",
            "trainer.accelerator=cpu"]


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny CPU fits: one intra-op thread avoids contention on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("classes", [[0, 1, 2, 3], [1, 3]])
def test_probe_readout_is_the_sklearn_linear_probe(classes):
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 6))
    y = rng.choice(classes, size=40)
    W, b = probe_readout(X, y, n_classes=5, C=100.0, max_iter=1000)
    probe = LogisticRegression(C=100.0, max_iter=1000).fit(X, y)
    Xt = rng.normal(size=(200, 6))
    logits = Xt @ W.T + b
    np.testing.assert_array_equal(logits.argmax(1), probe.predict(Xt))  # absent classes never win
    present = np.unique(y)
    p = np.exp(logits[:, present] - logits[:, present].max(1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(1, keepdims=True), probe.predict_proba(Xt), rtol=1e-4, atol=1e-6)


def test_initialised_classifier_predicts_like_the_probe(tmp_path):
    """Before any training step, backbone + readout is exactly the linear probe on its features."""
    from sklearn.linear_model import LogisticRegression

    from cliffbench.backbones.digits_cnn import DigitsCNN
    from cliffbench.datasets.digits import Digits
    from cliffbench.methods.trained.image_training import ImageClassifier

    enc = DigitsCNN(epochs=1).build({"cache_dir": str(tmp_path)})
    X, y = Digits(classes=[5, 6, 7]).arrays()
    with torch.no_grad():
        inputs = torch.stack([enc.preprocess(x) for x in X])
        feats = enc.module(inputs).numpy()
    pos = y - 5
    W, b = probe_readout(feats[:30], pos[:30], 3, 100.0, 1000)
    model = ImageClassifier(enc.module, enc.dim, 3, lr=1e-3, readout_init=(W, b)).eval()
    with torch.no_grad():
        pred = model(inputs[30:]).argmax(1).numpy()
    probe = LogisticRegression(C=100.0, max_iter=1000).fit(feats[:30], pos[:30])
    np.testing.assert_array_equal(pred, probe.predict(feats[30:]))


def test_best_validation_weights_are_kept(tmp_path):
    """The returned module's validation loss is the best one seen during the fit."""
    import torch.nn.functional as F

    from cliffbench.methods.trained.scratch import SmallImageInput
    from cliffbench.datasets.digits import Digits
    from cliffbench.methods.trained.image_training import ImageClassifier, TrainData, fit_classifier

    X, y = Digits(classes=[0, 1, 2]).arrays()
    pos = y.astype(np.int64)
    prep = SmallImageInput()
    net = lambda: torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 16), torch.nn.ReLU())  # noqa: E731
    module, facts = fit_classifier(lambda: ImageClassifier(net(), 16, 3, lr=0.05),
                                   prep, TrainData(X, np.arange(30), pos[:30]),
                                   TrainData(X, np.arange(30, 130), pos[30:130]),
                                   settings=TrainerSettings(accelerator="cpu", max_epochs=15, patience=3),
                                   seed=0, batch_size=8)
    module.eval()
    with torch.no_grad():
        val_in = torch.stack([prep(x) for x in X[30:130]])
        loss = F.cross_entropy(module(val_in), torch.as_tensor(pos[30:130])).item()
    assert loss == pytest.approx(facts["best_val_loss"], rel=1e-4)
    assert 0 <= facts["best_epoch"] <= facts["epochs"]


def test_finetune_job_on_the_stand_in(tmp_path, compose_cfg):
    from cliffbench.results import load
    from cliffbench.api import run_job

    run_job(compose_cfg([*STAND_IN, "method=finetune", "method.lr=1e-3"]), tmp_path / "job")
    df = load(tmp_path / "job")
    assert len(df) == 2 and (df["status"] == "ok").all(), df["message"].tolist()
    assert df["test_error"].between(0, 0.8).all()
    assert {"best_val_loss", "epochs", "steps"} <= set(df.columns)


def test_scratch_job_resnet18_on_digits(tmp_path, compose_cfg):
    from cliffbench.results import load
    from cliffbench.api import run_job

    run_job(compose_cfg(["method=scratch", "dataset.classes=[5,6]", "dataset.test_size=30",
                         "dataset.val_size=10", "logger=none", "progress=false",
                         "trials=2", "grid.n=[20]", "trainer.max_epochs=1", "trainer.accelerator=cpu"]),
            tmp_path / "job")
    df = load(tmp_path / "job")
    assert len(df) == 2 and (df["status"] == "ok").all(), df["message"].tolist()
    assert df["steps"].tolist() == [1, 1]  # one epoch of one batch of 20


def test_scratch_backbone_arch_is_random_init_of_that_backbone(tmp_path, compose_cfg):
    from cliffbench.results import load
    from cliffbench.api import run_job

    run_job(compose_cfg([*STAND_IN, "method=scratch", "method.arch=backbone"]), tmp_path / "job")
    assert (load(tmp_path / "job")["status"] == "ok").all()
    assert not (tmp_path / "cache" / "pretrained").exists()  # never pretrained: random init only


def test_small_resnet18_keeps_small_images_resolution():
    from cliffbench.methods.trained.scratch import small_resnet18

    net = small_resnet18(1)
    assert net.conv1.stride == (1, 1) and isinstance(net.maxpool, torch.nn.Identity)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 512)


@pytest.mark.parametrize("method", ["finetune", "scratch"])
def test_needs_validation_set_and_trainable_backbone(tmp_path, compose_cfg, method):
    from cliffbench.api import run_job

    with pytest.raises(ConfigError, match="validation set"):
        run_job(compose_cfg([*STAND_IN, f"method={method}", "dataset.val_size=0"]), tmp_path / "a")
    if method == "finetune":
        with pytest.raises(ConfigError, match="has none"):
            run_job(compose_cfg(["method=finetune", "logger=none", "trials=1", "grid.n=[20]"]), tmp_path / "b")


def test_finetune_tiny_open_clip_on_cifar_images(tmp_path, monkeypatch, compose_cfg, tiny_clip):  # noqa: F811
    """Raw PIL images through open_clip's own preprocessing; the readout init reads the cached features."""
    from cliffbench.results import load
    from cliffbench.api import run_job
    from tests.image_fixtures import write_cifar10

    write_cifar10(tmp_path / "data", monkeypatch)
    run_job(compose_cfg(["dataset=cifar10", "dataset.val_size=10", "backbone=open_clip",
                         f"backbone.model={tiny_clip}", "backbone.pretrained=null", "backbone.num_workers=0",
                         "method=finetune", "method.lr=1e-3", "trials=1", "grid.n=[30]", "logger=none",
                         "progress=false", "trainer.max_epochs=2", "trainer.accelerator=cpu"]), tmp_path / "job")
    df = load(tmp_path / "job")
    assert (df["status"] == "ok").all(), df["message"].tolist()
    assert len(list((tmp_path / "cache" / "features").glob("*.npy"))) == 3  # pool, val, test
