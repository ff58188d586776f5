"""The explorer as a student meets it: JupyterLab on localhost, the explorer notebook opened and run in a real headless
Chromium (Debian's `chromium`, driven by Playwright), the layers slider moved, the reconstruction checked to change.
Screenshots go to runs/test-artefacts/. Needs `chromium` (tools/install_system_deps.sh installs it) and the dev extras
(jupyterlab, playwright)."""
import json, os, shutil, socket, subprocess, sys, time, urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ARTEFACTS = ROOT/'runs'/'test-artefacts'


def chromium_path() -> str:
    "The system Chromium (SPAE_CHROMIUM overrides); a clear failure, not a skip, when it is missing."
    path = os.environ.get('SPAE_CHROMIUM') or shutil.which('chromium') or shutil.which('chromium-browser')
    assert path, 'Chromium is not installed: run `sh tools/install_system_deps.sh` (as root) or apt-get install chromium'
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    "JupyterLab serving a copy of the explorer notebook (a copy, so that autosave never writes into nbs/)."
    nb = json.loads((ROOT/'nbs'/'12_explorer.ipynb').read_text())
    nb['metadata']['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    (tmp_path/'12_explorer.ipynb').write_text(json.dumps(nb))
    port, token = free_port(), 'spae-test'
    env = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'JUPYTER_CONFIG_DIR': str(tmp_path/'cfg'),
           'JUPYTER_RUNTIME_DIR': str(tmp_path/'rt')}
    log = open(tmp_path/'lab.log', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1',
                             f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={tmp_path}',
                             '--LabApp.news_url=', '--ServerApp.allow_root=True'],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    base = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f'{base}/api/status?token={token}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise AssertionError('JupyterLab did not start:\n' + (tmp_path/'lab.log').read_text()[-3000:])
        yield base, token
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()


def test_student_runs_the_explorer_in_jupyterlab(lab):
    from playwright.sync_api import sync_playwright
    base, token = lab
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    errors = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), headless=True, args=['--no-sandbox'])
        page = browser.new_page(viewport={'width': 1400, 'height': 1000})
        page.on('pageerror', lambda e: errors.append(str(e)))
        page.goto(f'{base}/lab/tree/12_explorer.ipynb?token={token}')
        page.wait_for_selector('.jp-Notebook .jp-Cell', timeout=120_000)
        page.wait_for_selector('text=/\\| Idle/', timeout=120_000)  # the kernel is up
        page.click('.lm-MenuBar-item:has-text("Run")')
        page.click('.lm-Menu-item:has-text("Run All Cells")')
        # the explorer appears once the notebook has run up to its `explore(...)` cell (the last cells may scroll it
        # out of view, where JupyterLab hides it: wait for it in the page, then scroll to it)
        page.wait_for_selector('.spae-recon', state='attached', timeout=400_000)
        recon = page.locator('.spae-recon')
        recon.scroll_into_view_if_needed()
        page.wait_for_function("document.querySelector('.spae-status') && document.querySelector('.spae-status').innerText.includes('layers ≤5')",
                               timeout=60_000)
        before = recon.screenshot()
        page.screenshot(path=str(ARTEFACTS/'explorer-lab-before.png'))
        # move the slider: focus its handle, step two layers down with the keyboard
        handle = page.locator('.spae-layers .noUi-handle')
        handle.focus(); handle.press('ArrowLeft'); handle.press('ArrowLeft')
        page.wait_for_function("document.querySelector('.spae-status').innerText.includes('layers ≤3')", timeout=60_000)
        page.wait_for_timeout(500)  # let the new PNG paint
        after = recon.screenshot()
        page.screenshot(path=str(ARTEFACTS/'explorer-lab.png'))
        status = page.inner_text('.spae-status')
        browser.close()
    assert before != after, 'moving the layers slider did not change the reconstruction'
    assert 'layers ≤3 = 21 words' in status, status
    assert (ARTEFACTS/'explorer-lab.png').stat().st_size > 20_000
    assert not errors, errors
