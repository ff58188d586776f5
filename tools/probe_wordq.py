"""Word quality of a tokenizer folder: class overlap of layers 1-2 (first 1,000 test images, k=3) and 5-way 3-shot few-shot.

    PYTHONPATH=. python tools/probe_wordq.py runs/probe/VARIANT/tokenizer NAME   # writes runs/probe/NAME-wordq.json

Developer tool beside tools/probe_pyramid.py (notebook 08a reads the results from data/pyramid-probe/wordq/).
"""
import json, subprocess, sys
from pathlib import Path
import torch
from spae.model import SPAE
from spae.data import load_dataset
from spae.metrics import encode_indices
from spae.ablation import class_word_overlap
folder, name = sys.argv[1], sys.argv[2]
test = load_dataset('test')
tok = SPAE.load(folder).eval()
ov = class_word_overlap(encode_indices(tok, test.images[:1000])[:2], test.labels[:1000], tok.codebook.words, k=3)
mean_shared = sum(v['shared'] for v in ov.values()) / len(ov)
l1 = encode_indices(tok, test.images[:1000])[0][:, 0]
l2 = encode_indices(tok, test.images[:1000])[1]
repeat = float((l2 == l1[:, None]).any(1).float().mean())  # images whose layer-2 words repeat their layer-1 word
out = Path('runs/probe')/f'{name}-fewshot.json'
subprocess.run([sys.executable, '-m', 'spae.cli', 'fewshot', '--tokenizer', folder, '--rows', 'spae-l1', 'spae-l2',
                '--ways', '5', '--shots', '3', '--episodes', '20', '--no-progress', '--json', str(out)], check=True)
fs = json.loads(out.read_text())['rows']
r = dict(name=name, mean_shared=round(mean_shared, 3), layer2_repeats_layer1=round(repeat, 3),
         fewshot_l1=fs['spae-l1']['5-way 3-shot']['accuracy'], fewshot_l2=fs['spae-l2']['5-way 3-shot']['accuracy'],
         top={test.classes[c]: [w for w, _ in v['top']] for c, v in ov.items()})
print(json.dumps(r)); (Path('runs/probe')/f'{name}-wordq.json').write_text(json.dumps(r))
