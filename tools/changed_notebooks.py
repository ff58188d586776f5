"""Print the notebooks that differ from the last commit (modified, added or untracked), one path a line.

`make test-fast` runs nbdev-test on just these, so the edit -> export -> test loop stays short."""
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == '__main__':
    out = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=all', '--', 'nbs/*.ipynb'],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        path = line[3:].split(' -> ')[-1]
        if line[:2].strip() != 'D' and (ROOT/path).exists(): print(path)
