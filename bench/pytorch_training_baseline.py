#!/usr/bin/python3
"""A plain PyTorch training loop: the baseline for Tracker's trainer (bench/Tracker.TrainingBench).

Trains torchvision's MobileNetV2, or EfficientNetV2-B0 built from torchvision's EfficientNet blocks, on the .npy
files the C# bench writes (the same images, labels and validation split), with the same batch size, optimizer and
thread count, and prints one JSON line per epoch. Usage:

    /usr/bin/python3 bench/pytorch_training_baseline.py --check
    /usr/bin/python3 bench/pytorch_training_baseline.py --data DIR --model mobilenet-v2 --threads 1 --epochs 3

Debian's python3-torch and python3-torchvision (apt) provide the modules; the pyenv python on PATH does not.
"""

import argparse
import functools
import json
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, TensorDataset
from torchvision.models import mobilenet_v2
from torchvision.models.efficientnet import FusedMBConvConfig, MBConvConfig, _efficientnet


def efficientnet_v2_b0(num_classes, dropout=0.2, stochastic_depth_prob=0.2):
    """EfficientNetV2-B0: torchvision ships only S/M/L, but builds them from these blocks; this is the B0 table."""
    setting = [
        FusedMBConvConfig(1, 3, 1, 32, 16, 1),
        FusedMBConvConfig(4, 3, 2, 16, 32, 2),
        FusedMBConvConfig(4, 3, 2, 32, 48, 2),
        MBConvConfig(4, 3, 2, 48, 96, 3),
        MBConvConfig(6, 3, 1, 96, 112, 5),
        MBConvConfig(6, 3, 2, 112, 192, 8),
    ]
    return _efficientnet(setting, dropout, 1280, None, False, num_classes=num_classes,
                         stochastic_depth_prob=stochastic_depth_prob,
                         norm_layer=functools.partial(torch.nn.BatchNorm2d, eps=1e-03))


MODELS = {
    # The defaults of Tracker's plugins: width 1.0, dropout 0.2, stochastic depth 0.2.
    "mobilenet-v2": lambda classes: mobilenet_v2(num_classes=classes),
    "efficientnetv2-b0": lambda classes: efficientnet_v2_b0(classes),
    # Next to no arithmetic: an epoch's time is the loop's own cost (batching, optimizer step, loss, metrics).
    "tiny-linear": lambda classes: torch.nn.Sequential(torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(3, classes)),
}

# Tracker's plugins document these counts at 1000 classes; equal counts mean equal architectures.
EXPECTED_PARAMETERS = {"mobilenet-v2": 3_504_872, "efficientnetv2-b0": 7_139_704}


def parameter_count(model):
    return sum(p.numel() for p in model.parameters())


def check():
    backends = torch.backends
    config = (f"oneDNN {'yes' if backends.mkldnn.is_available() else 'no'}, MKL {'yes' if backends.mkl.is_available() else 'no'}, "
              f"OpenMP {'yes' if backends.openmp.is_available() else 'no'}")
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "config": config}))
    ok = True
    for name, expected in EXPECTED_PARAMETERS.items():
        count = parameter_count(MODELS[name](1000))
        ok &= count == expected
        print(json.dumps({"check": name, "parameters": count, "expected": expected}))
    return 0 if ok else 1


def phases(name, size, batch, steps=12, skipped=2):
    """CPU milliseconds of forward with loss, backward and Adam step on one fixed batch (medians), as the bench's Phases.cs."""
    torch.manual_seed(0)
    model = MODELS[name](8)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(batch, 3, size, size), torch.randint(0, 8, (batch,))
    model.train()
    times = {"forward": [], "backward": [], "step": []}
    for i in range(steps):
        c0 = time.process_time()
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y)
        c1 = time.process_time()
        loss.backward()
        c2 = time.process_time()
        optimizer.step()
        loss.item()
        c3 = time.process_time()
        if i >= skipped:
            for key, value in zip(times, (c1 - c0, c2 - c1, c3 - c2)):
                times[key].append(1000 * value)
    print(json.dumps({key: sorted(values)[len(values) // 2] for key, values in times.items()}))
    return 0


def load(folder, split):
    x = torch.from_numpy(np.load(f"{folder}/{split}_x.npy"))
    y = torch.from_numpy(np.load(f"{folder}/{split}_y.npy")).long()
    return x, y


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true", help="only check the models' parameter counts")
    parser.add_argument("--phases", type=int, metavar="SIZE", help="only time forward, backward and optimizer step on one batch")
    parser.add_argument("--data", help="folder with train_x.npy, train_y.npy, val_x.npy, val_y.npy")
    parser.add_argument("--model", choices=sorted(MODELS))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=3, help="epochs in all, warm-up included")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        return check()
    if args.phases:
        return phases(args.model, args.phases, args.batch)

    train_x, train_y = load(args.data, "train")
    val_x, val_y = load(args.data, "val")
    # As Tracker's trainer: standardise per channel with the training split's statistics, once, before training.
    mean = train_x.mean(dim=(0, 2, 3), keepdim=True)
    std = train_x.std(dim=(0, 2, 3), keepdim=True).clamp_min(1e-6)
    train_x, val_x = (train_x - mean) / std, (val_x - mean) / std
    classes = int(max(train_y.max(), val_y.max())) + 1

    torch.manual_seed(args.seed)
    model = MODELS[args.model](classes)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    # Tracker drops a trailing batch of one (batch norm cannot train on it); so does this, for the same reason.
    drop_last = len(train_y) % args.batch == 1
    train_loader = DataLoader(TensorDataset(train_x, train_y), batch_size=args.batch, shuffle=True, num_workers=0, drop_last=drop_last)
    val_loader = DataLoader(TensorDataset(val_x, val_y), batch_size=256, shuffle=False, num_workers=0)
    print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": torch.get_num_threads(),
                      "model": args.model, "classes": classes, "train": len(train_y), "validation": len(val_y),
                      "parameters": parameter_count(model)}), flush=True)

    for epoch in range(1, args.epochs + 1):
        start, cpu = time.perf_counter(), time.process_time()
        model.train()
        wait, loss_sum, seen = 0.0, 0.0, 0
        batches = iter(train_loader)
        while True:
            fetch = time.perf_counter()
            batch = next(batches, None)
            wait += time.perf_counter() - fetch
            if batch is None:
                break
            x, y = batch
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            # Recording the training loss, as Tracker does (item() is no sync on the CPU).
            loss_sum += loss.item() * len(y)
            seen += len(y)
        train_seconds = time.perf_counter() - start

        validation_start = time.perf_counter()
        model.eval()
        val_loss, predicted, confidence = 0.0, [], []
        with torch.no_grad():
            for x, y in val_loader:
                logits = model(x)
                val_loss += F.cross_entropy(logits, y, reduction="sum").item()
                top, index = F.softmax(logits, 1).max(1)
                predicted.append(index)
                confidence.append(top.double())
        predicted = torch.cat(predicted)
        confusion = torch.bincount(val_y * classes + predicted, minlength=classes * classes).view(classes, classes)
        accuracy = float(confusion.diag().sum()) / len(val_y)
        validation_seconds = time.perf_counter() - validation_start

        print(json.dumps({"epoch": epoch, "train_s": train_seconds, "val_s": validation_seconds,
                          "epoch_s": time.perf_counter() - start, "cpu_s": time.process_time() - cpu, "data_wait_s": wait,
                          "train_loss": loss_sum / seen, "val_loss": val_loss / len(val_y), "val_accuracy": accuracy}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
