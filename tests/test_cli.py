"""The `spae` command end to end, as a user runs it (subprocesses, real data, the committed demo tokenizer)."""
import json, os, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPAE = [sys.executable, '-m', 'spae.cli']
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1'}


def run(*args, cwd=ROOT, timeout=900):
    return subprocess.run([*SPAE, *args], capture_output=True, text=True, cwd=cwd, env=ENV, timeout=timeout)


def test_usage_and_unknown_command():
    r = run()
    assert r.returncode == 0 and 'demo' in r.stdout and 'train' in r.stdout and 'bench' in r.stdout
    r = run('frobnicate')
    assert r.returncode == 2 and "unknown command 'frobnicate'" in r.stderr


def test_demo_end_to_end(tmp_path):
    "`spae demo` (what `make demo` runs): words for every class, PSNR rising with every layer, a figure on disk."
    r = run('demo', '--out', str(tmp_path), '--n-eval', '300')
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    from spae.data import FASHION_MNIST_CLASSES
    for name in FASHION_MNIST_CLASSES: assert f'{name}:' in r.stdout
    report = json.loads((tmp_path/'report.json').read_text())
    psnr = report['psnr']
    assert len(psnr) == 5 and all(b > a for a, b in zip(psnr, psnr[1:])), psnr
    assert psnr[-1] > 17, psnr  # a trained tokenizer, not a random one (random weights give < 10 dB)
    assert set(report['words_layers_1_2']) == set(FASHION_MNIST_CLASSES)
    assert (tmp_path/'pyramid.png').stat().st_size > 10_000


def test_demo_with_a_missing_checkpoint_says_what_is_wrong(tmp_path):
    r = run('demo', '--checkpoint', str(tmp_path/'nothing'), '--out', str(tmp_path))
    assert r.returncode != 0 and 'nothing' in r.stderr and 'tokenizer' in r.stderr


def test_data_info():
    r = run('data', 'info')
    assert r.returncode == 0, r.stderr
    assert 'fashion' in r.stdout.lower()
