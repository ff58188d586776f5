"""Offline docs build: every notebook through nbdev's own docs processing, then to HTML with nbconvert.

Quarto (what `nbdev-docs` and the GitHub deploy workflow use) cannot be installed offline, so this renders what
installs here, to check what a reader will see: a notebook that nbdev cannot process (nbdev re-executes `show_doc`,
export and import cells when it builds the docs), error outputs, and pages to open in a browser
(tests/test_docs.py opens each one in headless Chromium).

    python tools/render_docs.py                 # -> _docs_offline/*.html + report.json
    python tools/render_docs.py --out DIR --only '1*'
"""
import argparse, fnmatch, html, json, re, subprocess, sys, traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT/'nbs'


def process_one(src: str, dst: str):
    "nbdev's docs processing of one notebook (what nbdev_proc_nbs / nbdev-docs run), in this process."
    import os
    os.chdir(ROOT)
    from nbdev.serve_drv import exec_nb
    from nbdev.processors import FilterDefaults
    exec_nb(Path(src), Path(dst), FilterDefaults)


def page_name(nb_path: Path) -> str:
    "The page Quarto writes for a notebook: its `output-file` front matter, else the name with .html."
    nb = json.loads(nb_path.read_text())
    for cell in nb['cells'][:3]:
        m = re.search(r'^output-file:\s*(\S+)', ''.join(cell['source']), re.M)
        if m: return m.group(1)
    return nb_path.with_suffix('.html').name


def sidebar_order() -> list[str]:
    "Notebook file names in the sidebar's order (nbs/sidebar.yml), then any others by name."
    import yaml
    listed = []
    sb = NBS/'sidebar.yml'
    if sb.exists():
        def walk(items):
            for it in items:
                if isinstance(it, str): listed.append(it)
                elif isinstance(it, dict): walk(it.get('contents', []))
        walk(yaml.safe_load(sb.read_text())['website']['sidebar']['contents'])
    rest = sorted(p.name for p in NBS.glob('*.ipynb') if p.name not in listed)
    return [n for n in listed if (NBS/n).exists()] + rest


def error_outputs(nb: dict) -> list[str]:
    "Error outputs and tracebacks printed to a stream, as `cell N: first line`."
    found = []
    for i, cell in enumerate(nb['cells']):
        for out in cell.get('outputs', []):
            if out.get('output_type') == 'error': found.append(f'cell {i}: {out.get("ename")}: {out.get("evalue", "")[:200]}')
            elif out.get('output_type') == 'stream' and 'Traceback (most recent call last)' in ''.join(out.get('text', '')):
                found.append(f'cell {i}: traceback in {out.get("name")} output')
    return found


PANDOC_ATTRS = re.compile(r'\[([^\]\n]*)\]\(([^)\s]+)\)\{([^}\n]*)\}')  # [text](url){target="_blank" style="..."}


def pandoc_links(md: str) -> str:
    "Links with pandoc attributes as the HTML Quarto writes for them (the attributes applied, never shown as text)."
    def link(m):
        attrs = ' '.join(re.findall(r'\b[\w-]+="[^"]*"', m.group(3)))  # key="value" pairs; `.class`/`#id` forms dropped
        return f'<a href="{html.escape(m.group(2), quote=True)}" {attrs}>{m.group(1)}</a>'
    return PANDOC_ATTRS.sub(link, md)


def cell_options(source: str) -> tuple[dict, str]:
    "The leading `#| key: value` / `#| flag` lines of a cell as a dict, and the source without them (what Quarto shows)."
    lines, opts = source.splitlines(keepends=True), {}
    while lines and lines[0].startswith('#|'):
        line = lines.pop(0)[2:].strip()
        if ':' in line:
            k, v = line.split(':', 1); opts[k.strip()] = v.strip().lower()
        else: opts.update({flag: 'true' for flag in line.split()})
    return opts, ''.join(lines)


def quarto_cells(cells: list) -> list:
    "Cells as a Quarto page shows them: options applied and removed, show_doc as its output only, pandoc link attributes applied."
    shown = []
    for cell in cells:
        src = ''.join(cell['source'])
        if cell['cell_type'] == 'markdown':
            cell['source'] = pandoc_links(cell_options(src)[1])  # options (`#| export: true`) are read by Quarto, not shown
        elif cell['cell_type'] == 'code':
            opts, cell['source'] = cell_options(src)
            if opts.get('include') == 'false' or opts.get('hide') == 'true': continue
            if opts.get('output') == 'false': cell['outputs'] = []
            tags = cell.setdefault('metadata', {}).setdefault('tags', [])
            if opts.get('echo') == 'false' or cell['source'].lstrip().startswith('show_doc('): tags.append('remove_input')
            if not cell['source'].strip(): tags.append('remove_input')  # nothing left to show but its output
            for out in cell.get('outputs', []):
                md = out.get('data', {}).get('text/markdown')
                if md is not None: out['data']['text/markdown'] = pandoc_links(''.join(md))
        shown.append(cell)
    return shown


def to_html(nb_path: Path, pages: dict, nav: list[tuple[str, str]], site: str) -> str:
    "nbconvert's lab template with what Quarto does to a page (see `quarto_cells`), links rewritten as Quarto does (.ipynb -> page, site URLs -> relative), a sidebar."
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config
    c = Config()
    c.TagRemovePreprocessor.enabled = True
    c.TagRemovePreprocessor.remove_input_tags = {'remove_input'}
    c.HTMLExporter.exclude_input_prompt = c.HTMLExporter.exclude_output_prompt = True  # Quarto shows no In/Out prompts
    exporter = HTMLExporter(template_name='lab', config=c)
    nb = json.loads(nb_path.read_text())
    keep = {'cell_type', 'source', 'metadata', 'outputs', 'execution_count', 'id', 'attachments'}
    if nb['cells'] and nb['cells'][0]['cell_type'] == 'raw' and ''.join(nb['cells'][0]['source']).startswith('---'):
        import yaml  # Quarto's front matter: the page's title and description, not text
        fm = yaml.safe_load(''.join(nb['cells'][0]['source']).strip().strip('-')) or {}
        head = f"# {fm.get('title', '')}\n\n" + (f"> {fm['description']}" if fm.get('description') else '')
        nb['cells'][0] = {'cell_type': 'markdown', 'metadata': {}, 'source': head, 'id': 'front-matter'}
    for cell in nb['cells']:  # nbdev's processing leaves bookkeeping keys (has_sd, ...) that nbformat rejects
        for k in set(cell) - keep: del cell[k]
        cell.get('metadata', {}).pop('execution', None)
    nb['cells'] = quarto_cells(nb['cells'])
    body, _ = exporter.from_notebook_node(nbformat.reads(json.dumps(nb), as_version=4))
    def fix(m):
        attr, url = m.group(1), html.unescape(m.group(2))
        if site and url.startswith(site): url = url[len(site):].lstrip('/') or 'index.html'
        base, _, frag = url.partition('#')
        if base.endswith('.ipynb') and '/' not in base and base in pages: base = pages[base]
        if base.endswith('.html.md'): base = base[:-3]
        return f'{attr}="{html.escape(base + ("#" + frag if frag else ""), quote=True)}"'
    body = re.sub(r'(href)="([^"]*)"', fix, body)
    # Quarto (pandoc) writes heading ids in lower case, and nbdev's links use them: do the same
    body = re.sub(r'<(h[1-6]) id="([^"]+)"', lambda m: f'<{m.group(1)} id="{m.group(2).lower()}"', body)
    body = re.sub(r'class="anchor-link" href="#([^"]+)"', lambda m: f'class="anchor-link" href="#{m.group(1).lower()}"', body)
    links = ''.join(f'<li><a href="{p}">{html.escape(t)}</a></li>' for p, t in nav)
    sidebar = f'<nav id="spae-sidebar" style="padding:8px 16px;border-bottom:1px solid #ddd"><ul style="display:flex;flex-wrap:wrap;gap:12px;list-style:none;margin:0;padding:0">{links}</ul></nav>'
    return re.sub(r'(<body[^>]*>)', lambda m: m.group(1) + sidebar, body, count=1)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', default=str(ROOT/'_docs_offline'))
    p.add_argument('--only', default='*', help='glob of notebook names to render')
    p.add_argument('--workers', type=int, default=2)
    p.add_argument('--reuse', action='store_true', help='keep notebooks already processed into OUT/_proc (faster re-runs)')
    a = p.parse_args(argv)
    out = Path(a.out); proc = out/'_proc'; proc.mkdir(parents=True, exist_ok=True)
    names = [n for n in sidebar_order() if fnmatch.fnmatch(n, a.only)]
    def run(name):
        if a.reuse and (proc/name).exists() and (proc/name).stat().st_mtime > (NBS/name).stat().st_mtime: return name, 0, ''
        r = subprocess.run([sys.executable, __file__, '--process-one', str(NBS/name), str(proc/name)],
                           capture_output=True, text=True, cwd=ROOT)
        return name, r.returncode, (r.stderr or r.stdout)[-3000:]
    with ThreadPoolExecutor(a.workers) as ex: results = list(ex.map(run, names))
    failed = {n: err for n, rc, err in results if rc}
    done = [n for n, rc, _ in results if not rc]
    pages = {n: page_name(proc/n) for n in done}
    from nbdev.config import get_config
    cfg = get_config()
    site = f'{cfg.doc_host}{cfg.doc_baseurl}'.rstrip('/')
    titles = {}
    for n in done:
        nb = json.loads((proc/n).read_text())
        m = re.search(r'^title:\s*"?(.*?)"?\s*$', ''.join(nb['cells'][0]['source']), re.M) if nb['cells'] else None
        titles[n] = m.group(1) if m else n
    nav = [(pages[n], titles[n]) for n in done]
    report = {'pages': {}, 'failed': failed}
    for n in done:
        nb = json.loads((proc/n).read_text())
        (out/pages[n]).write_text(to_html(proc/n, pages, nav, site))
        report['pages'][pages[n]] = {'notebook': n, 'title': titles[n], 'errors': error_outputs(nb)}
    (out/'report.json').write_text(json.dumps(report, indent=1))
    for n, err in failed.items(): print(f'FAILED {n}: nbdev could not process it for the docs:\n{err}\n', file=sys.stderr)
    bad = {k: v['errors'] for k, v in report['pages'].items() if v['errors']}
    for k, v in bad.items(): print(f'ERROR OUTPUT in {k}: {v}', file=sys.stderr)
    print(f'{len(done)} pages in {out}; {len(failed)} notebooks failed; {len(bad)} pages with error outputs')
    return 1 if failed or bad else 0


if __name__ == '__main__':
    if len(sys.argv) == 4 and sys.argv[1] == '--process-one':
        try: process_one(sys.argv[2], sys.argv[3])
        except Exception:
            msg = traceback.format_exc()
            print(msg[msg.rfind('Exception: Error'):] if 'Exception: Error' in msg else msg, file=sys.stderr); sys.exit(1)
        sys.exit(0)
    sys.exit(main())
