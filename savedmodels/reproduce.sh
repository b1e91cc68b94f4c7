#!/usr/bin/env bash
# Re-produces every trained model in savedmodels/ with the one training path: `tfzoo train` then
# `tfzoo export`. Run from the repository root; MNIST is read from $TFZOO_MNIST_DIR, else
# ../shared/data/mnist (see `tfzoo train --help`). Budgets are process CPU time, so a shared machine
# stretches the wall clock without changing what a budget buys. Each model's MODEL_CARD.md states the
# command that produced it and what the run measured.
#
#   bash savedmodels/reproduce.sh            # every model (about 90 CPU minutes)
#   bash savedmodels/reproduce.sh lenet-mnist realnvp-moons
#   TFZOO_REPRODUCE=train bash savedmodels/reproduce.sh   # train only; TFZOO_REPRODUCE=export: export only
set -euo pipefail
cd "$(dirname "$0")/.."

MODELS=(
  "realnvp-moons"
  "mog-2d"
  "mlp-mnist --cpu-budget 4m"
  "shadownet-mnist-small --epochs 3"
  "lenet-mnist --cpu-budget 6m"
  "issgd-mnist-small --cpu-budget 7m"
  "made-mnist --cpu-budget 4m"
  "vae-mnist --cpu-budget 5m"
  "convnet-mnist --cpu-budget 5m"
  "sparseae-mnist --cpu-budget 3m"
  "gan-mnist --cpu-budget 6m"
  "gsn-mnist --cpu-budget 25m"
  "lista-gaussian-m100"
  "lista-mnist-patches-m100"
  "nice-mnist-small --epochs 200 --cpu-budget 8m"
  "realnvp-mnist --cpu-budget 30m"
)

for line in "${MODELS[@]}"; do
  read -r -a args <<< "$line"
  name="${args[0]}"
  if [ "$#" -gt 0 ] && [[ ! " $* " == *" $name "* ]]; then continue; fi
  if [ "${TFZOO_REPRODUCE:-all}" != export ]; then tfzoo train "${args[@]}"; fi
  if [ "${TFZOO_REPRODUCE:-all}" != train ]; then tfzoo export "runs/$name" "savedmodels/$name"; fi
done
