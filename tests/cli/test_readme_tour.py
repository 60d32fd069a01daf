"""README.md's "A five-minute tour", run literally.

The demo runs first (``scripts/demo.py`` on a free port, ``TELCOCHAIN_DEMO_DIR`` a temp folder,
as ``make demo`` runs it in the project folder); then every command of the tour's ``sh`` block
runs, in order, in one ``bash`` in that folder: as written, with the README's environment
variables, ``$(...)`` and line continuations — except the gateway's port 8080, replaced by a free
one (the suite runs in parallel; 8080 may be anyone's). Password prompts are answered by the variables the
README names for scripts (``TELCOCHAIN_PASSWORD_FILE``, ``TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE``).

Each command must exit 0, print something, print no traceback, and print what it is there to
show (``EXPECTED``; a command without an entry only needs the rest). The marker rule for a
command that keeps running (a server): it ends with ``# tour: background``; it is started in
the background, the tour waits for its first output, and at the end it must still be running
(then it is stopped by its pid). Any other command that does not end fails the test (timeout).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from telcochain.node import free_port

from tests.support.paths import ROOT

BACKGROUND = "# tour: background"

#: What each command is there to show: a command prefix (the longest that matches) → texts its
#: output must contain.
EXPECTED: dict[str, tuple[str, ...]] = {
    "telcochain node --detach": ("state restored from", "running in the background"),
    "telcochain info": ("chain id", "Constitution"),
    "telcochain member list --json": ('"role"', '"Northwind Telecom"'),
    "telcochain member list": ("Northwind Telecom", "Umbrella Fibre"),
    "telcochain action list": ("addMember",),
    "telcochain action show addMember": ("addMember", "Northwind Telecom"),
    "telcochain proposal list": ("addMember", "bindSerial"),
    "telcochain order show CRM-1-SITES": ("CRM-1-SITES", "HQ-FIBRE", "ONT-HQ-1"),
    "telcochain order show CRM-1-REDESIGN": ("CRM-1-REDESIGN", "1-D1"),
    "telcochain stock reconcile": ("Globex Optical", "still out"),
    "telcochain invoice list": ("released", "OVERDUE", "TSD"),
    "telcochain asset history ONT-HQ-1 --verify": ("verified",),
    "telcochain asset show ONT-HQ-1": ("Initech Enterprise", "Acme Networks"),
    "telcochain watch": ("MemberAdded", "Initech Enterprise"),
    "telcochain index --once": ("events",),
    "telcochain index verify": ("0 mismatch",),
    "telcochain asset list": ("ONT-HQ-1",),
    "telcochain macd pending": (),
    "telcochain report": ("report.html",),
    "telcochain alerts": (),
    "TELCOCHAIN_PRIVATE_KEY=": ("acme", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"),
    "telcochain details list CRM-1-SITES": ("Acme Networks", "can read"),
    "telcochain details show SITE-1": ("Initech HQ, 12 Leeds Rd, floor 3", "matches its on-chain commitment"),
    "telcochain keys new acme.trustkeys": ("public key 0x",),
    "telcochain keys rotate": ("trust key of 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 is now",),
    "telcochain member add": ("proposal #", "waiting for votes"),
    "telcochain proposal list --status open": ("addMember", "open"),
    "telcochain node stop": ("node stopped", "state kept"),
}


@dataclass
class Command:
    text: str
    background: bool


def tour_commands(readme: str) -> list[Command]:
    """The commands of the tour's sh block(s): continuation lines joined, comment lines dropped."""
    section = readme.split("## A five-minute tour", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, "README.md's tour has no ```sh block"
    commands: list[Command] = []
    pending = ""
    for raw in "\n".join(blocks).splitlines():
        line = raw.rstrip()
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = pending + line
        pending = ""
        commands.append(Command(text.strip(), text.rstrip().endswith(BACKGROUND)))
    assert not pending, "the tour ends in a continuation line"
    return commands


def test_the_marker_rule_and_the_parser():
    """The parser joins continuations, drops comment lines and recognises the background marker."""
    readme = (
        "## A five-minute tour\n```sh\n# a comment\nA=1 \\\n  telcochain x   # why\n\n"
        f"telcochain serve --port 1   {BACKGROUND}\n```\n## Next\n```sh\nnot this\n```\n"
    )
    got = tour_commands(readme)
    assert [c.text for c in got] == ["A=1    telcochain x   # why", f"telcochain serve --port 1   {BACKGROUND}"]
    assert [c.background for c in got] == [False, True]


def _env(tmp: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TELCOCHAIN_") and k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")  # ~30 CLI runs: compile the sources once, outside the tree
    (tmp / "keystore.password").write_text("tour password\n")
    (tmp / "trustkeys.password").write_text("tour trust key password\n")
    env.update(
        PYTHONPATH=str(ROOT / "pysdk"),
        TELCOCHAIN_NODE_PORT=str(port),
        TELCOCHAIN_KEYSTORE_DIR=str(tmp / "keystores"),
        TELCOCHAIN_PASSWORD_FILE=str(tmp / "keystore.password"),
        TELCOCHAIN_TRUST_KEYS_PASSWORD_FILE=str(tmp / "trustkeys.password"),
        COLUMNS="200",
    )
    return env


@pytest.fixture(scope="module")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, str]:
    """A folder where `make demo` has just run (on a free port): (folder, port, its output)."""
    folder = tmp_path_factory.mktemp("tour")
    port = free_port()
    env = _env(folder, port)
    env.update(TELCOCHAIN_DEMO_PORT=str(port), TELCOCHAIN_DEMO_DIR=str(folder))
    demo = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "demo.py")],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
    (folder / ".venv").symlink_to(ROOT / ".venv")  # `source .venv/bin/activate`, as in the project folder
    return folder, port, demo.stdout


def test_the_demo_closing_hint_uses_the_chosen_port(demo_folder):
    folder, port, out = demo_folder
    hint = out.split("Explore it yourself", 1)[1]
    assert f"telcochain node --detach --port {port}" in hint
    assert f"TELCOCHAIN_NODE_PORT={port}" in hint
    assert f"cd {folder.resolve()}" in hint  # the demo ran in another folder: the hint goes there first
    assert "--detach\n" not in hint  # no bare `node --detach` (it would start on 8545)


def test_the_demo_closing_hint_on_the_default_port():
    """Run as `make demo` runs it: no --port, no cd."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import demo  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    if demo.PORT != demo.DEFAULT_PORT or demo.HOME != demo.ROOT:
        pytest.skip("TELCOCHAIN_DEMO_PORT/DIR set in this environment")
    assert demo.closing_hint() == ["  source .venv/bin/activate && telcochain node --detach"]


def _stop(pid: int) -> None:
    """SIGTERM, up to 10 s to finish, then SIGKILL: nothing the tour started outlives the test."""
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        time.sleep(0.1)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
    os.kill(pid, signal.SIGKILL)


def test_the_readme_tour_runs_literally(demo_folder):
    folder, port, _ = demo_folder
    readme = (ROOT / "README.md").read_text()
    # the tour's gateway port, 8080, may be taken on this machine (or by a moment's other program
    # while the suite runs in parallel): the gateway serves on a free port, the only change made
    gateway_port = free_port()
    readme = readme.replace("--port 8080", f"--port {gateway_port}").replace(
        "127.0.0.1:8080", f"127.0.0.1:{gateway_port}"
    )
    commands = tour_commands(readme)
    assert len(commands) >= 25 and commands[-1].text.startswith("telcochain node stop")
    outdir = folder / "tour-output"
    outdir.mkdir()
    script = [f"cd {shlex.quote(str(folder))}"]
    for i, command in enumerate(commands):
        out, err = outdir / f"{i}.out", outdir / f"{i}.err"
        if command.background:
            script += [  # in braces: the command's own trailing comment must not swallow the redirections;
                # `exec env`: $! is the server itself (not a subshell), so stopping it stops the server
                f"{{\nexec env {command.text}\n}} >{out} 2>{err} </dev/null &",
                f"echo $! >{outdir / f'{i}.pid'}",
                f"for _ in $(seq 100); do [ -s {out} ] || [ -s {err} ] && break; sleep 0.1; done",
                f"echo 0 >{outdir / f'{i}.rc'}",
            ]
        else:
            script += [
                f"{{\n{command.text}\n}} >{out} 2>{err} </dev/null",
                f"echo $? >{outdir / f'{i}.rc'}",
            ]
    try:
        run = subprocess.run(
            ["bash", "-c", "\n".join(script)], env=_env(folder, port), capture_output=True, text=True, timeout=240
        )
        assert run.returncode == 0, run.stderr
        for i, command in enumerate(commands):
            rc = (outdir / f"{i}.rc").read_text().strip()
            out = (outdir / f"{i}.out").read_text()
            err = (outdir / f"{i}.err").read_text()
            both = out + err
            where = f"tour command {i + 1}: {command.text}\n--- stdout\n{out[-2000:]}\n--- stderr\n{err[-2000:]}"
            assert rc == "0", where
            assert "Traceback" not in both, where
            if not command.text.startswith("source "):
                assert both.strip(), f"no output: {where}"
            prefix = max((k for k in EXPECTED if command.text.startswith(k)), key=len, default="")
            expected = EXPECTED.get(prefix, ())
            for text in expected:
                assert text in both, f"{text!r} missing: {where}"
            if command.background:
                pid = int((outdir / f"{i}.pid").read_text())
                os.kill(pid, 0)  # still running at the end of the tour (raises if it stopped)
    finally:
        for pid_file in outdir.glob("*.pid"):
            with contextlib.suppress(ProcessLookupError, ValueError):
                _stop(int(pid_file.read_text()))
        node_pid = folder / ".telcochain" / "node" / "node.pid"
        if node_pid.exists():  # a failed tour left the node running: stop it
            subprocess.run(
                [sys.executable, "-m", "telcochain.cli", "node", "stop"], cwd=folder, env=_env(folder, port), timeout=60
            )
    assert (folder / "report.html").exists() and (folder / "acme.trustkeys").exists()
