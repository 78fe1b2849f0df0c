"""A user's mistake on the command line is one line that names it, exit code 2, no traceback
(unless --debug); lenslog local starts every part it announces or exits non-zero."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from lenslog.cli import main as cli
from lenslog.local.aws import free_port
from tests.images import jpeg

pytestmark = pytest.mark.xdist_group("embedded-aws")


def _run(args, capsys):
    code = cli(args)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "a.jpg"
    path.write_bytes(jpeg(1))
    return path


def _closed_port_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["ingest", "/no/such/folder", "--endpoint-url", "http://127.0.0.1:1"], "no such file or folder"),
        (["demo", "--images", "/no/such/folder"], "no such file or folder: /no/such/folder"),
        (
            ["ingest", "{photo}", "--cell", "mars", "--endpoint-url", "http://127.0.0.1:1"],
            "unknown cell 'mars'",
        ),
        (["demo", "--images", "{folder}", "--cell", "mars"], "unknown cell 'mars'"),
        (["ingest", "{photo}", "--meta", "camera_id", "--endpoint-url", "http://127.0.0.1:1"], "KEY=VALUE"),
        (["--config", "/no/such/config.toml", "ingest", "{photo}"], "config"),
        (["ingest", "{photo}", "--endpoint-url", "{closed}"], "cannot reach"),
        (["verify", "--cell", "mars"], "unknown cell 'mars'"),
        (["ingest", "{photo}", "--workers", "0", "--endpoint-url", "http://127.0.0.1:1"], "--workers"),
    ],
)
def test_a_user_mistake_is_one_line_with_exit_code_2(args, names, photo, capsys):
    args = [
        a.format(photo=photo, folder=photo.parent, closed=_closed_port_url()) if "{" in a else a for a in args
    ]
    code, err = _run(args, capsys)
    assert code == 2
    assert len(err) == 1, err
    assert names in err[0]
    assert "Traceback" not in err[0]


def test_an_invalid_config_names_the_field(tmp_path, photo, capsys):
    bad = tmp_path / "lenslog.toml"
    bad.write_text("[cells.eu]\nregion = 42\n")
    code, err = _run(["--config", str(bad), "ingest", str(photo)], capsys)
    assert code == 2
    assert err and "region" in " ".join(err)
    assert not any("Traceback" in line for line in err)


def test_a_real_process_prints_no_traceback_and_debug_shows_one(photo):
    base = [sys.executable, "-m", "lenslog.cli"]
    args = ["ingest", str(photo), "--endpoint-url", _closed_port_url()]
    plain = subprocess.run([*base, *args], capture_output=True, text=True, timeout=120)
    assert plain.returncode == 2
    assert "Traceback" not in plain.stderr
    assert plain.stderr.strip().startswith("lenslog ingest: cannot reach")
    debug = subprocess.run([*base, "--debug", *args], capture_output=True, text=True, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_lenslog_local_refuses_a_port_in_use_and_starts_nothing(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        code, err = _run(["local", "--port", str(free_port()), "--api-port", str(port)], capsys)
    assert code == 2
    assert err == [f"lenslog local: --api-port {port}: the port is in use on 127.0.0.1 (choose another)"]


def test_lenslog_local_announces_s3_and_the_api_and_both_answer(tmp_path):
    import json
    import time
    import urllib.request

    port, api_port = free_port(), free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "lenslog.cli", "local", "--port", str(port), "--api-port", str(api_port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(line.startswith("upload with") for line in lines):
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line.strip())
        assert f"S3 endpoint: http://127.0.0.1:{port}" in lines
        assert f"API: http://127.0.0.1:{api_port}" in lines
        with urllib.request.urlopen(f"http://127.0.0.1:{api_port}/cameras", timeout=30) as resp:
            assert resp.status == 200 and "items" in json.loads(resp.read())
    finally:
        proc.terminate()
        proc.wait(timeout=30)
