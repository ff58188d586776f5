"""Repository-level promises: the two README commands, CI entry point, settings documentation, a project that
stands alone, one door per thing, the habits of a kept project, and a wheel that carries its tokenizers."""
import configparser, json, re, statistics, subprocess, sys, zipfile
from dataclasses import fields
from pathlib import Path

import pytest

from spae.core import PRESETS, Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT/'nbs').glob('*.ipynb'))
MODULES = sorted(p.stem for p in (ROOT/'spae').glob('*.py') if not p.name.startswith('_'))


def _readme_commands() -> list[str]:
    "The commands of the README's `sh` block under '## Two commands'."
    readme = (ROOT/'README.md').read_text()
    section = readme.split('## Two commands', 1)[1]
    block = section.split('```sh', 1)[1].split('```', 1)[0]
    return [l.split('#')[0].strip() for l in block.strip().splitlines()]


def test_ci_runs_exactly_the_readme_test_command():
    assert _readme_commands() == ['make demo', 'make test']
    ci = (ROOT/'.ci'/'run').read_text()
    cmds = [l.strip() for l in ci.splitlines() if l.strip() and not l.startswith('#')]
    assert cmds[-1] == 'exec make test', cmds
    make = subprocess.run(['make', '-n', '-p', 'test'], cwd=ROOT, capture_output=True, text=True).stdout
    assert re.search(r'^test: .*\bsetup\b', make, re.M), 'make test must do the set-up itself'


def test_readme_is_generated_from_index_notebook():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_shows_no_nbdev_plumbing_and_its_figures_are_pictures():
    readme = (ROOT/'README.md').read_text()
    assert not [l for l in readme.splitlines() if l.startswith('#|')], 'a `#|` directive line leaked into README.md'
    assert '<Figure size' not in readme, 'a figure is shown as text instead of a picture'
    images = re.findall(r'!\[[^\]]*\]\(([^)]+\.png)\)', readme)
    assert images, 'README.md should show the pyramid as a picture'
    for img in images: assert (ROOT/img).stat().st_size > 1000, img


def test_every_setting_is_in_settings_ini_and_documented():
    text = (ROOT/'settings.ini').read_text()
    cp = configparser.ConfigParser(); cp.read_string(text)
    keys = set(cp['spae'])
    assert keys == {f.name for f in fields(Settings) if f.init}
    lines = text.splitlines()
    for k in keys:
        i = next(i for i, l in enumerate(lines) if re.match(rf'{k}\s*=', l))
        assert lines[i-1].startswith('#'), f'{k} in settings.ini has no comment line above it'
    s = get_settings(ROOT/'settings.ini')  # the file's values are what get_settings returns
    assert s.preset == cp['spae']['preset']
    for k in ('image_size', 'vocab_size'):  # empty = the preset's value; a number is taken as is
        v = cp['spae'][k].strip()
        assert getattr(s, k) == (int(v) if v else PRESETS[s.preset][k]) and (k in s.from_preset) == (not v)


def test_settings_comments_agree_with_the_presets():
    text = (ROOT/'settings.ini').read_text()
    from spae.quantizer import PyramidSpec
    for name, p in PRESETS.items():
        words = 'every whole word' if p['vocab_size'] == 0 else f"{p['vocab_size']:,} words"
        tokens = sum(PyramidSpec.preset(name).tokens_per_layer)
        assert f"{name} ({p['image_size']} px, {tokens} tokens, {words}" in text, (name, words, tokens)
    sizes = ', '.join(f"{n} {p['vocab_size']}" for n, p in PRESETS.items())
    assert f"the preset's ({sizes})" in text


def test_unknown_key_in_settings_file_is_a_clear_error(tmp_path):
    f = tmp_path/'settings.ini'
    f.write_text('[spae]\nimagesize = 3\n')
    with pytest.raises(ValueError, match=r"unknown key.*'imagesize'.*did you mean 'image_size'") as e: get_settings(f)
    assert str(f) in str(e.value) and '\n' not in str(e.value)


def test_package_docstring_and_llms_txt_list_every_module():
    import spae
    llms = (ROOT/'nbs'/'llms.txt').read_text()
    for m in MODULES:
        assert f'`spae.{m}`' in spae.__doc__, f'spae/__init__.py does not list spae.{m}'
        assert f'[spae.{m}]' in llms, f'nbs/llms.txt does not list spae.{m}'


def test_the_project_stands_alone():
    "No reference to a design document that is not in the repository."
    tracked = subprocess.run(['git', 'ls-files'], cwd=ROOT, capture_output=True, text=True).stdout.split()
    hits = [f for f in tracked if f.endswith(('.ipynb', '.py', '.md', '.yml', '.yaml', '.ini', '.toml'))
            and re.search(r'DESIGN(\.md| §)', (ROOT/f).read_text(errors='ignore')) and f != 'tests/test_repo.py']
    assert not hits, f'these files refer to a document outside the repository: {hits}'


def test_command_line_parsing_lives_only_in_the_cli():
    users = [p.name for p in (ROOT/'spae').glob('*.py') if p.name != 'cli.py' and re.search(r'^\s*import argparse|argparse\.', p.read_text(), re.M)]
    assert not users, f'argparse used outside spae/cli.py: {users}'


def _code_cells(nb: Path):
    for c in json.loads(nb.read_text())['cells']:
        if c['cell_type'] == 'code': yield ''.join(c['source'])


def test_no_exported_cell_is_over_60_lines():
    big = [(nb.name, len(src.splitlines())) for nb in NOTEBOOKS for src in _code_cells(nb)
           if src.startswith('#| export') and len(src.splitlines()) > 60]
    assert not big, f'exported cells over 60 lines (split them, one function or method a cell): {big}'


def _exported_cell_sizes(nb: Path) -> list[int]:
    "Lines of code (not blank, not `#|`) of each exported cell."
    sizes = []
    for src in _code_cells(nb):
        lines = src.splitlines()
        if any(re.match(r'#\|\s*export', l) for l in lines if l.startswith('#|')):
            sizes.append(sum(1 for l in lines if l.strip() and not l.startswith('#|')))
    return sizes


def test_exported_cells_are_small():
    "The course's habit: one definition a cell, so the median exported cell of every notebook is at most 12 lines."
    big = {nb.name: statistics.median(s) for nb in NOTEBOOKS if (s := _exported_cell_sizes(nb)) and statistics.median(s) > 12}
    assert not big, f'median exported-cell size over 12 lines (split cells, one definition each; @patch methods): {big}'


def test_every_notebook_opens_with_the_project_kernel():
    for nb in NOTEBOOKS:
        spec = json.loads(nb.read_text())['metadata'].get('kernelspec', {})
        assert spec.get('name') == 'python3' and spec.get('language') == 'python', f'{nb.name}: kernelspec {spec}'


def test_every_make_target_has_a_rule():
    make = (ROOT/'Makefile').read_text()
    phony = re.search(r'^\.PHONY:(.*)$', make, re.M).group(1).split()
    for t in phony: assert re.search(rf'^{re.escape(t)}:', make, re.M), f'Makefile declares {t} without a rule'


def test_habits_of_a_kept_project():
    lic = (ROOT/'LICENSE').read_text()
    assert 'Apache License' in lic and 'Version 2.0' in lic
    assert re.search(r'license = "Apache-2.0"', (ROOT/'pyproject.toml').read_text())
    assert '## Unreleased' in (ROOT/'CHANGELOG.md').read_text()
    contributing = (ROOT/'CONTRIBUTING.md').read_text()
    for step in ('nbdev-export', 'make test-fast', 'make test', 'render_docs.py'): assert step in contributing
    workflows = {p.name: p.read_text() for p in (ROOT/'.github'/'workflows').glob('*.y*ml')}
    assert any('make test' in w for w in workflows.values()), f'no test workflow among {list(workflows)}'


def test_ruff_is_clean():
    r = subprocess.run([sys.executable, '-m', 'ruff', 'check', 'spae', 'tests', 'tools'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]


def test_a_built_wheel_carries_the_shipped_tokenizers(tmp_path):
    "`pip install spae` outside a checkout must still find `SPAE.load('demo')`'s files."
    r = subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(tmp_path), str(ROOT)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    (wheel,) = tmp_path.glob('spae-*.whl')
    names = set(zipfile.ZipFile(wheel).namelist())
    from spae.core import shipped_tokenizers
    assert 'demo' in shipped_tokenizers()
    for name in shipped_tokenizers():
        for f in ('config.json', 'model.safetensors'): assert f'spae/tokenizers/{name}/{f}' in names, (name, f)
