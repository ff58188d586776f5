#!/bin/sh
# The GPU check: the CUDA paths of spae in about ten minutes on one NVIDIA GPU, after `make setup`.
#
#   sh tools/gpu_check.sh [OUT]          # OUT defaults to runs/gpu-check; NPROC=4 sh tools/gpu_check.sh for 4 GPUs
#
# It writes the same files as data/gpu-check/ (what one H200 gave is in data/README.md, section gpu-check):
#   bench_gpu.json        the paper preset's bf16 training step at the largest batch that fits: images/s, MFU
#   paper/                a short paper-preset run under torchrun (NCCL), GAN + LeCam from step 3, checkpoints every
#                         4 steps, then resumed under torch.compile (the first compiled step takes minutes)
#   fewshot_gpu.json      the few-shot table's SPAE rows with the LLM on the GPU
#   bench_llm_gpu.json    few-shot episodes/s and one 149-word generation on the GPU
set -eu
OUT=${1:-runs/gpu-check}
BIN=${BIN:-.venv/bin}
NPROC=${NPROC:-1}
mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
$BIN/spae bench --gpu --only gpu,search --max-batch 512 --json "$OUT/bench_gpu.json"
TRAIN="$BIN/torchrun --standalone --nproc_per_node=$NPROC -m spae.cli train --preset paper --batch-size 64 \
  --out $OUT/paper --sample-every 0 --log-every 1 --train-size 4096 --loss gan_start=3 --num-workers 4 --no-progress"
$TRAIN --steps 8 --ckpt-every 4
$TRAIN --steps 12 --ckpt-every 2 --compile --resume
$BIN/spae fewshot --rows spae-l1 spae-l2 oracle-5 random-5 --ways 5 --shots 3 --no-progress --json "$OUT/fewshot_gpu.json"
$BIN/spae bench --only fewshot,generation --json "$OUT/bench_llm_gpu.json"
echo "done: $OUT"
