"""Authoring helper for the notebooks (developer tool, not part of the package).

    python tools/nb.py build 03_quantizer   # .nbsrc/03_quantizer.py (jupytext percent) -> nbs/03_quantizer.ipynb, run, clean, export
    python tools/nb.py run 03_quantizer     # re-execute nbs/03_quantizer.ipynb in place, keeping outputs (figures), clean, export
    python tools/nb.py src 03_quantizer     # nbs/03_quantizer.ipynb -> .nbsrc/03_quantizer.py to edit as text

The notebooks in nbs/ are the source of truth; .nbsrc/ is an ignored scratch copy for editing as text.
Execution uses execnb (what nbdev-test uses), so figures and printed numbers in the committed notebooks come
from running the code. Cells flagged slow/gpu are executed too unless --skip-flags is given.
"""
import argparse, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _nb_path(name): return ROOT/'nbs'/(name if name.endswith('.ipynb') else name + '.ipynb')
def _src_path(name): return ROOT/'.nbsrc'/(Path(name).stem + '.py')


def to_ipynb(name):
    src, dst = _src_path(name), _nb_path(name)
    subprocess.run([BIN/'jupytext', '--to', 'ipynb', '--output', str(dst), str(src)], check=True)


def to_src(name):
    src, dst = _nb_path(name), _src_path(name)
    dst.parent.mkdir(exist_ok=True)
    subprocess.run([BIN/'jupytext', '--to', 'py:percent', '--output', str(dst), str(src)], check=True)


def execute(name, skip_flags=()):
    from execnb.shell import CaptureShell
    from fastcore.nbio import read_nb, write_nb
    path = _nb_path(name)
    nb = read_nb(path)
    # export first so the notebook imports the current code of lower-numbered notebooks
    subprocess.run([BIN/'nbdev-export'], check=True, cwd=ROOT)
    shell = CaptureShell(path=path.parent)
    skip = set(skip_flags)
    def directives(cell):
        "flags in the leading `#| flag` lines of a code cell"
        out = set()
        for line in cell.source.splitlines():
            if not line.startswith('#|'): break
            out.update(line[2:].split())
        return out
    def preproc(cell):  # True = do not execute
        return cell.cell_type == 'code' and bool(skip & directives(cell))
    t = time.time()
    shell.run_all(nb, exc_stop=True, preproc=preproc)
    write_nb(nb, path)
    print(f'{path.name}: executed in {time.time()-t:.0f}s')
    subprocess.run([BIN/'nbdev-clean', '--fname', str(path)], check=True, cwd=ROOT)
    subprocess.run([BIN/'nbdev-export'], check=True, cwd=ROOT)


if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('cmd', choices=['build', 'run', 'src'])
    p.add_argument('name')
    p.add_argument('--skip-flags', default='', help='space-separated nbdev flags whose cells are not executed')
    a = p.parse_args()
    if a.cmd == 'src': to_src(a.name)
    else:
        if a.cmd == 'build': to_ipynb(a.name)
        execute(a.name, a.skip_flags.split())
