"""README.md is generated from nbs/index.ipynb (Quarto's nbdev-readme is not installable offline).

    python tools/readme.py          # write README.md (and the figures it shows, nbs/images/readme-*.png)
    python tools/readme.py --check  # exit 1 if README.md or its figures differ from what index.ipynb gives

What a Quarto site would hide stays hidden: `#|` directive lines, `#| hide` cells, the sources of `#| echo: false`
cells. Figures become PNG files next to the notebook, linked from README.md, instead of their `<Figure ...>` text.
"""
import base64, json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT/'nbs'/'images'


def _directives(src: str) -> tuple[dict, str]:
    "The `#| key: value` lines at the top of a cell as a dict, and the source without them."
    lines, opts = src.splitlines(), {}
    while lines and lines[0].startswith('#|'):
        key, _, value = lines.pop(0)[2:].strip().partition(':')
        if key.strip(): opts[key.strip().split()[0]] = value.strip() or 'true'
    return opts, '\n'.join(lines).strip()


def _outputs(cell, images: dict) -> list[str]:
    parts = []
    for k, out in enumerate(cell.get('outputs', [])):
        data = out.get('data', {})
        if 'image/png' in data:
            name = f"readme-{cell.get('id', 'cell')}-{k}.png"
            images[name] = base64.b64decode(''.join(data['image/png']))
            parts.append(f'![](nbs/images/{name})')
        elif 'text/markdown' in data: parts.append(''.join(data['text/markdown']).strip())
        else:
            text = ''.join(out.get('text', '') or data.get('text/plain', ''))
            if text.strip(): parts.append('```\n' + text.rstrip() + '\n```')
    return parts


def render() -> tuple[str, dict]:
    "(README text, {figure file name: PNG bytes})"
    nb = json.loads((ROOT/'nbs'/'index.ipynb').read_text())
    parts, images = [], {}
    for cell in nb['cells']:
        opts, src = _directives(''.join(cell['source']))
        if 'hide' in opts or (not src and not cell.get('outputs')): continue
        if cell['cell_type'] == 'markdown': parts.append(src); continue
        if cell['cell_type'] != 'code': continue
        if opts.get('echo') != 'false' and src: parts.append('```python\n' + src + '\n```')
        parts += _outputs(cell, images)
    header = '<!-- generated from nbs/index.ipynb by tools/readme.py: edit the notebook, not this file -->'
    return header + '\n\n' + '\n\n'.join(parts) + '\n', images


if __name__ == '__main__':
    text, images = render()
    if '--check' in sys.argv:
        stale = [n for n, b in images.items() if not (IMAGES/n).exists() or (IMAGES/n).read_bytes() != b]
        if (ROOT/'README.md').read_text() != text or stale:
            print(f'README.md or its figures {stale} are out of date with nbs/index.ipynb: run `python tools/readme.py`')
            sys.exit(1)
        print('README.md matches nbs/index.ipynb')
    else:
        IMAGES.mkdir(exist_ok=True)
        for old in IMAGES.glob('readme-*.png'):
            if old.name not in images: old.unlink()
        for n, b in images.items(): (IMAGES/n).write_bytes(b)
        (ROOT/'README.md').write_text(text); print(f'wrote README.md and {len(images)} figure(s) in {IMAGES.relative_to(ROOT)}')
