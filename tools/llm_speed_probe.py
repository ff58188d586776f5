"""How fast does the packaged SmolLM2 read and write on this CPU, in fp32 and with int8 dynamic quantisation?

    PYTHONPATH=. python tools/llm_speed_probe.py [THREADS]

Prefill tokens/s for a 1,000-token prompt and ms per written token after it (the two costs of `spae generate`), then
the same after `torch.ao.quantization.quantize_dynamic` on every Linear layer, and how far the logits moved; first, fp32
decoding after 100 and 2,000 cached tokens (does the context length or the weights bound a written word?).
Developer probe for a follow-up (int8 is not an option of spae.llm yet: its effect on generation quality is
unmeasured, and torch.ao's dynamic quantisation is deprecated in favour of torchao).
"""
import sys, time
import torch
from spae.llm import HFLM

def bench(lm, tag, n_prompt=1000, n_written=15):
    ids = list(range(1000, 1000 + n_prompt))
    t = time.time(); p = lm.prefill(ids); prefill = time.time() - t
    out = lm._run(torch.tensor([[5]]), n_prompt, lm._repeat_cache(p.cache, 1))
    t = time.time()
    for i in range(n_written): out = lm._run(torch.tensor([[5]]), n_prompt + 1 + i, out.past_key_values)
    print(f'{tag}: prefill {n_prompt / prefill:.0f} tokens/s, decoding {(time.time() - t) / n_written * 1000:.0f} ms/token', flush=True)
    return out.logits[0, -1]

if __name__ == '__main__':
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    lm = HFLM.load('smollm2', device='cpu')
    bench(lm, 'fp32, 100-token prompt', n_prompt=100)
    a = bench(lm, 'fp32, 1,000-token prompt')
    bench(lm, 'fp32, 2,000-token prompt', n_prompt=2000)
    lm.model = torch.ao.quantization.quantize_dynamic(lm.model, {torch.nn.Linear}, dtype=torch.qint8)
    b = bench(lm, 'int8 dynamic')
    print(f'same next token: {a.argmax().item() == b.argmax().item()}; largest logit change {(a - b).abs().max().item():.2f}')
