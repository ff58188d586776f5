# GPU check, call 1 of 2: stage the assets in /tmp, then `spae bench --gpu` (search on CUDA + paper-preset step).
mkdir -p /tmp/site /tmp/gpu && cp -r .gpu1/site/* /tmp/site/ && cp .gpu1/p1 /tmp/gpu/p1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, transformers, sys; print(sys.version.split()[0], 'torch', torch.__version__, 'transformers', transformers.__version__, torch.cuda.get_device_name())"
timeout 400 python3 -m spae.cli bench --gpu --only gpu,search --max-batch 512 --json $OUT/bench_gpu.json 2>&1 | tee $OUT/bench_gpu.log
echo "bench rc ${PIPESTATUS[0]}"
