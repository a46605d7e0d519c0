#!/usr/bin/env bash
# Training throughput of Tracker's trainer against a plain PyTorch loop (see docs/benchmarks.md, "Training throughput").
# Builds bench/Tracker.TrainingBench in Release and runs it; arguments go to the bench, e.g.
#   bench/run-training-bench.sh --sizes 32 --threads 1 --rounds 2
# Needs Debian's python3-torch and python3-torchvision: apt-get install -y python3-torch python3-torchvision
set -euo pipefail
cd "$(dirname "$0")/.."
python=/usr/bin/python3   # Debian's, which has torch; a pyenv python3 earlier on PATH has not
if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "$python cannot import torch/torchvision: apt-get install -y python3-torch python3-torchvision" >&2
  exit 1
fi
dotnet build -c Release -m:1 bench/Tracker.TrainingBench/Tracker.TrainingBench.csproj -nologo -v q
exec dotnet bench/Tracker.TrainingBench/bin/Release/net10.0/Tracker.TrainingBench.dll --python "$python" "$@"
