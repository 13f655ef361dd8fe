"""The two commands set up a bare Debian or Ubuntu machine: what is missing comes through apt.

The scripts run for real, in a PATH that holds only what they need and an ``apt-get`` (and
``sudo``) that records what it is asked and installs a stand-in ``npm``, so that the test
changes nothing on the machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bare_path(tmp_path: Path, with_apt: bool) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "id", "dirname", "cat"):
        (bin_dir / tool).symlink_to(shutil.which(tool))
    if with_apt:
        (bin_dir / "apt-get").write_text(
            "#!/bin/bash\n"
            f'echo "$*" >> {tmp_path}/apt.log\n'
            'if [ "$1" = install ]; then\n'
            f'  printf "#!/bin/bash\\necho 9.2.0\\n" > {bin_dir}/npm; /bin/chmod +x {bin_dir}/npm\n'
            "fi\n")
        (bin_dir / "sudo").write_text('#!/bin/bash\nexec "$@"\n')
        (bin_dir / "apt-get").chmod(0o755)
        (bin_dir / "sudo").chmod(0o755)
    return bin_dir


def _run(script: str, bin_dir: Path):
    env = {"PATH": str(bin_dir), "HOME": os.environ.get("HOME", "/tmp")}
    return subprocess.run(["bash", str(ROOT / "scripts" / script)], env=env, capture_output=True,
                          text=True, timeout=60)


def test_a_missing_npm_is_installed_through_apt(tmp_path):
    bin_dir = _bare_path(tmp_path, with_apt=True)
    proc = _run("install-node.sh", bin_dir)
    assert proc.returncode == 0, proc.stderr
    log = (tmp_path / "apt.log").read_text().splitlines()
    assert log == ["update -qq", "install -y -qq npm"], log
    assert (bin_dir / "npm").is_file()
    # A second run finds npm and asks apt for nothing.
    assert _run("install-node.sh", bin_dir).returncode == 0
    assert (tmp_path / "apt.log").read_text().splitlines() == log


def test_without_apt_the_message_names_what_is_missing(tmp_path):
    proc = _run("install-node.sh", _bare_path(tmp_path, with_apt=False))
    assert proc.returncode == 1
    assert "Missing npm" in proc.stderr and "no apt-get" in proc.stderr, proc.stderr


def test_the_scripts_that_need_npm_or_venv_ask_for_them():
    """MathJax, axe-core, Pyodide and the set-up of .venv go through the installers, not a request
    to the user."""
    for script in ("fetch-npm.sh", "install-pyodide.sh"):
        text = (ROOT / "scripts" / script).read_text(encoding="utf-8")
        assert "install-node.sh" in text and "Install Node.js" not in text, script
    for script in ("install-mathjax.sh", "install-axe.sh"):
        assert "fetch-npm.sh" in (ROOT / "scripts" / script).read_text(encoding="utf-8"), script
    setup = (ROOT / "scripts" / "setup.sh").read_text(encoding="utf-8")
    assert "import ensurepip, venv" in setup and "install-system.sh" in setup
