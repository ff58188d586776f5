"""spae.bench end to end: the `spae bench` command (quick sizes), the memory probe, the GPU script on the CPU, bad input."""
import json, os, subprocess, sys
from pathlib import Path

import pytest

from spae.bench import GPU_NOT_MEASURED, BenchConfig, format_summary, run_bench, run_probe
from spae.cli import main

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1'}


def test_quick_bench_writes_every_section(tmp_path, capsys):
    out = tmp_path/'bench.json'
    returned = run_bench(BenchConfig(quick=True, threads=1, json=str(out)))
    res = json.loads(out.read_text())
    assert res == json.loads(json.dumps(returned))  # what it returns is what it wrote
    assert res['quick'] is True and res['machine']['torch'] and res['command'] == f'spae bench --json {out} --quick --threads 1'
    methods = {r['method'] for r in res['search']}
    assert {'matmul', 'nearest_word', 'cdist_argmin', 'vector_quantize_pytorch'} <= methods
    for r in res['search']:  # each number is what its timings say (so a wrong formula or unit fails here)
        assert min(r['times_s']) == r['min_s'] <= r['median_s'] <= max(r['times_s'])
        if r['method'] == 'matmul': assert r['frac_matmul'] == 1.0  # the reference against itself
        if r['method'] in ('matmul', 'cdist_argmin'):  # both write the N×V float32 score matrix: at least that much
            assert r['peak_bytes'] >= 0.9 * 4 * r['N'] * r['V'], r
        if r['method'] != 'matmul': assert r['agree_with_cdist'] == 1.0, r
    tok = res['tokenizer'][0]
    assert [t['preset'] for t in res['tokenizer']] == ['demo'] and tok['tokens_per_image'] == 149
    assert tok['encode_images_per_s'] == pytest.approx(tok['batch'] / tok['encode_s'])
    assert tok['decode_images_per_s'] == pytest.approx(tok['batch'] / tok['decode_s'])
    tr = res['train']
    assert tr['images_per_s'] == pytest.approx(tr['batch'] * tr['steps_per_s']) and tr['steps_per_s'] == pytest.approx(1 / tr['step_s'])
    assert 100 * 2**20 < res['train_rss']['peak_rss_bytes'] < 16 * 2**30  # a real process, not a unit slip
    assert res['gpu']['status'] == GPU_NOT_MEASURED  # never pretend to have GPU numbers
    printed = capsys.readouterr().out
    assert 'frac_matmul' in printed and 'encode img/s' in printed and GPU_NOT_MEASURED in printed


def test_the_peak_of_a_known_allocation_is_at_least_its_size():
    "A probe that allocates and touches 64 MiB in a fresh process needs at least that much, and not much more."
    extra = run_probe('alloc', mib=64)['extra_bytes']
    assert 64 * 2**20 <= extra < 96 * 2**20, extra


def test_gpu_script_runs_tiny_on_cpu(tmp_path):
    "`spae bench --gpu` on a machine without CUDA (hidden from a real subprocess) runs the GPU script tiny on the CPU."
    out = tmp_path/'gpu.json'
    env = {**ENV, 'CUDA_VISIBLE_DEVICES': ''}
    r = subprocess.run([sys.executable, '-m', 'spae.cli', 'bench', '--gpu', '--only', 'gpu', '--threads', '1', '--json', str(out)],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    g = json.loads(out.read_text())['gpu']
    assert g['tiny'] is True and g['device'] == 'cpu' and g['batch'] >= 1 and g['preset'] == 'paper'
    # MFU is achieved FLOP/s over the measured matmul peak (both from this run); a unit slip or wrong formula fails
    assert g['mfu'] == pytest.approx(g['flops_per_step'] * g['steps_per_s'] / (g['matmul_peak_tflops'] * 1e12), rel=1e-3)
    assert g['mfu'] > 0
    assert 'not yet measured' in g['status'] and 'not yet measured' in r.stderr  # said loudly
    assert 'GPU training step' in r.stdout and 'MFU' in r.stdout  # the summary table


def test_bad_section_is_a_clear_error(capsys):
    assert main(['bench', '--only', 'search,nope']) == 2
    err = capsys.readouterr().err
    assert "unknown section(s) ['nope']" in err and len(err.strip().splitlines()) == 1


def test_committed_results_are_complete():
    f = Path(__file__).resolve().parents[1]/'data'/'bench.json'
    if not f.exists(): pytest.skip('data/bench.json not committed yet')
    res = json.loads(f.read_text())
    assert res['quick'] is False and res['machine']['cpu']
    assert {r['V'] for r in res['search']} >= {8192, 21185, 49152}
    assert {r['N'] for r in res['search']} == {64 * 149, 8 * 597}
    assert {t['preset'] for t in res['tokenizer']} == {'demo', 'paper'}
    format_summary(res)  # the committed file still prints
