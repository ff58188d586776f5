"""Repository-level promises: the two README commands, CI entry point, settings documentation."""
import configparser, re, subprocess, sys
from dataclasses import fields
from pathlib import Path

from spae.core import Settings, get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT/'README.md').read_text()
    ci = (ROOT/'.ci'/'run').read_text()
    assert 'make test' in readme and 'make demo' in readme
    cmds = [l.strip() for l in ci.splitlines() if l.strip() and not l.startswith('#')]
    assert cmds[-1] == 'exec make test', cmds


def test_readme_is_generated_from_index_notebook():
    r = subprocess.run([sys.executable, str(ROOT/'tools'/'readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_every_setting_is_in_settings_ini_and_documented():
    text = (ROOT/'settings.ini').read_text()
    cp = configparser.ConfigParser(); cp.read_string(text)
    keys = set(cp['spae'])
    assert keys == {f.name for f in fields(Settings) if f.init}
    lines = text.splitlines()
    for k in keys:
        i = next(i for i, l in enumerate(lines) if re.match(rf'{k}\s*=', l))
        assert lines[i-1].startswith('#'), f'{k} in settings.ini has no comment line above it'
    # the file's values are what get_settings returns (no env overrides in the test)
    s = get_settings(ROOT/'settings.ini')
    from spae.core import PRESETS
    assert s.preset == cp['spae']['preset']
    for k in ('image_size', 'vocab_size'):  # empty = the preset's value; a number is taken as is
        v = cp['spae'][k].strip()
        assert getattr(s, k) == (int(v) if v else PRESETS[s.preset][k]) and (k in s.from_preset) == (not v)


def test_unknown_key_in_settings_file_is_a_clear_error(tmp_path):
    f = tmp_path/'settings.ini'
    f.write_text('[spae]\nimagesize = 3\n')
    try: get_settings(f)
    except ValueError as e: assert 'unknown key' in str(e) and 'image_size' in str(e)
    else: raise AssertionError('expected ValueError')
