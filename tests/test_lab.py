"""The README's way of running a chapter yourself: JupyterLab opens it as a notebook.

A real JupyterLab server, from the ``lab`` extra that ``scripts/setup.sh lab``
installs, is started on 127.0.0.1 with the repository as its root. Through its
REST API (what the JupyterLab page itself calls) each chapter's ``.md`` is
opened as a notebook by jupytext's contents manager, and the notebook's cells
are the chapter's; then a kernel of that server imports memrnn from this
checkout and draws a batch, as a chapter's first cells do.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import jupytext
import pytest

from bookpages import NOTEBOOK_PAGES, ROOT

pytestmark = pytest.mark.book

TOKEN = "memrnn-test-token"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port = _free_port()
    home = tmp_path_factory.mktemp("lab-home")
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "HOME": str(home)}
    env.pop("MPLBACKEND", None)
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--ServerApp.root_dir={ROOT}", f"--IdentityProvider.token={TOKEN}",
         "--ServerApp.port_retries=0", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                _get(base, "/api/status")
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (home / "lab.log").read_text())
                time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _get(base, path, method="GET", body=None):
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read() or b"null")


def test_jupyterlab_has_the_jupytext_extension(lab):
    # The extension that adds "Open With > Jupytext Notebook" to the file browser.
    listing = subprocess.run([sys.executable, "-m", "jupyter", "labextension", "list"],
                             capture_output=True, text=True, check=True)
    assert "jupyterlab-jupytext" in listing.stdout + listing.stderr
    assert "enabled" in listing.stdout + listing.stderr


@pytest.mark.parametrize("page_name", NOTEBOOK_PAGES)
def test_jupyterlab_opens_the_chapter_as_a_notebook(lab, page_name):
    model = _get(lab, f"/api/contents/{page_name}.md?type=notebook&content=1")
    assert model["type"] == "notebook", model["type"]
    cells = model["content"]["cells"]
    expected = jupytext.read(ROOT / f"{page_name}.md")
    assert [c["source"] for c in cells if c["cell_type"] == "code"] == \
        [c.source for c in expected.cells if c.cell_type == "code"]
    assert model["content"]["metadata"]["kernelspec"]["name"] == "python3"


def test_a_lab_kernel_runs_a_chapter_cell(lab):
    """The server's own kernel imports memrnn from this checkout and draws a batch."""
    kernel = _get(lab, "/api/kernels", method="POST", body={"name": "python3"})
    try:
        code = "import memrnn, numpy as np\n" \
                       "x, y = next(memrnn.generate_samples(4, 7, seed=0))\n" \
                       "print(memrnn.__file__, x.shape, bool(np.all(y == x[0])))"
        output = _run_in_kernel(lab, kernel["id"], code)
        assert str(ROOT / "memrnn") in output, output
        assert "(7, 4, 1) True" in output, output
    finally:
        with urllib.request.urlopen(urllib.request.Request(
                f"{lab}/api/kernels/{kernel['id']}", method="DELETE",
                headers={"Authorization": f"token {TOKEN}"}), timeout=30):
            pass


def _run_in_kernel(base, kernel_id, code):
    """Execute code over the server's kernel websocket; return what it printed."""
    import uuid

    from tornado.httpclient import HTTPRequest
    from tornado.websocket import websocket_connect

    async def run():
        url = base.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        conn = await websocket_connect(HTTPRequest(
            url, headers={"Authorization": f"token {TOKEN}"}))
        try:
            msg_id = uuid.uuid4().hex
            conn.write_message(json.dumps({
                "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": "test",
                           "session": uuid.uuid4().hex, "version": "5.3"},
                "parent_header": {}, "metadata": {}, "channel": "shell",
                "content": {"code": code, "silent": False, "store_history": False,
                            "user_expressions": {}, "allow_stdin": False}}))
            printed = []
            while True:
                message = json.loads(await conn.read_message())
                if message.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind = message["msg_type"]
                if kind == "stream":
                    printed.append(message["content"]["text"])
                elif kind == "error":
                    printed.append("\n".join(message["content"]["traceback"]))
                elif kind == "status" and message["content"]["execution_state"] == "idle":
                    return "".join(printed)
        finally:
            conn.close()
            # Wait for the server's half of the closing handshake: a socket still open when
            # this event loop ends is left to the garbage collector, and pytest's
            # ResourceWarning-as-error then fails the session at exit.
            while await conn.read_message() is not None:
                pass

    # In its own thread and event loop: another test module's fixtures (Playwright's
    # sync API) may keep an event loop running in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(asyncio.wait_for(run(), timeout=120))).result()
