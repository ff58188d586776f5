"""Fail if `nbdev-export` or `nbdev-clean` would change the tree (notebooks and modules out of sync)."""
import hashlib, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

def snapshot():
    files = sorted([*ROOT.glob('nbs/*.ipynb'), *ROOT.glob('spae/**/*.py')])
    return {f.relative_to(ROOT).as_posix(): hashlib.sha256(f.read_bytes()).hexdigest() for f in files}

before = snapshot()
subprocess.run([BIN/'nbdev-export'], check=True, cwd=ROOT)
subprocess.run([BIN/'nbdev-clean'], check=True, cwd=ROOT)
after = snapshot()
changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
if changed:
    print('nbdev-export / nbdev-clean changed these files (notebooks and modules were out of sync):')
    print('\n'.join('  ' + c for c in changed))
    print('Commit the files as they are now.')
    sys.exit(1)
print(f'nbdev sync OK: {len(after)} notebooks/modules unchanged by nbdev-export and nbdev-clean')
