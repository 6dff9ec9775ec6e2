"""A real IMAP server for the Sent-folder tests: Dovecot on loopback, unprivileged.

Started with a throw-away config in a temporary directory: passwd-file authentication,
maildirs in that directory, TLS with a certificate of the tests' trustme CA, one listener
with implicit TLS (IMAPS) and one with STARTTLS (plain IMAP, login only after STARTTLS).
As root, Dovecot is started as ``nobody`` through ``setpriv``; it then runs entirely as
that user, the way Dovecot documents running without root.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import trustme

DOVECOT_PATHS = ("/usr/sbin/dovecot", "/usr/local/sbin/dovecot")


def dovecot_binary() -> str | None:
    found = shutil.which("dovecot")
    if found:
        return found
    return next((p for p in DOVECOT_PATHS if os.access(p, os.X_OK)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = """\
protocols = imap
listen = 127.0.0.1
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
{ssl}
disable_plaintext_auth = yes
auth_mechanisms = plain login
mail_location = maildir:{dir}/mail/%u
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {dir}/passwd
  default_fields = uid={uid} gid={gid} home={dir}/home/%u
}}
namespace inbox {{
  inbox = yes
  separator = /
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
{imaps}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
service auth {{
  user = {user}
}}
service auth-worker {{
  user = {user}
}}
"""
SSL = """\
ssl = yes
ssl_cert = <{dir}/cert.pem
ssl_key = <{dir}/key.pem
ssl_min_protocol = TLSv1.2"""
IMAPS = """\
  inet_listener imaps {{
    address = 127.0.0.1
    port = {port}
    ssl = yes
  }}"""


@dataclass
class Dovecot:
    dir: Path
    process: subprocess.Popen
    imap_port: int
    imaps_port: int
    host: str = "127.0.0.1"

    def log(self) -> str:
        try:
            return (self.dir / "dovecot.log").read_text(errors="replace")
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


def start(ca: trustme.CA, users: dict[str, str], *, tls: bool = True) -> Dovecot:
    """Dovecot up and answering; ``tls=False``: no TLS at all (no IMAPS, no STARTTLS)."""
    binary = dovecot_binary()
    if binary is None:
        raise FileNotFoundError("dovecot")
    root = os.geteuid() == 0
    account = pwd.getpwnam("nobody") if root else pwd.getpwuid(os.geteuid())
    base = Path(tempfile.mkdtemp(prefix="praxisbote-dovecot-"))
    for sub in ("run", "state", "mail", "home"):
        (base / sub).mkdir()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(base / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(base / "cert.pem"))
    (base / "passwd").write_text(
        "".join(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users.items())
    )
    imap_port, imaps_port = _free_port(), _free_port()

    (base / "dovecot.conf").write_text(
        CONFIG.format(
            dir=base,
            user=account.pw_name,
            group=grp.getgrgid(account.pw_gid).gr_name,
            uid=account.pw_uid,
            gid=account.pw_gid,
            imap_port=imap_port,
            ssl=SSL.format(dir=base) if tls else "ssl = no",
            imaps=IMAPS.format(port=imaps_port) if tls else "",
        )
    )
    command = [binary, "-F", "-c", str(base / "dovecot.conf")]
    if root:
        for path in [base, *base.rglob("*")]:
            os.chown(path, account.pw_uid, account.pw_gid)
        command = [
            "setpriv",
            f"--reuid={account.pw_uid}",
            f"--regid={account.pw_gid}",
            "--clear-groups",
            "--reset-env",
            *command,
        ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=base,
    )
    server = Dovecot(base, process, imap_port, imaps_port)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            err = process.stderr.read().decode(errors="replace") if process.stderr else ""
            log = server.log()
            server.stop()
            raise RuntimeError(f"dovecot exited ({process.returncode}): {err}\n{log}")
        if (not tls or _accepts(imaps_port, ca)) and _accepts(imap_port, None):
            return server
        time.sleep(0.05)
    log = server.log()
    server.stop()
    raise RuntimeError(f"dovecot did not come up:\n{log}")


def _accepts(port: int, ca: trustme.CA | None) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            if ca is None:
                return sock.recv(100).startswith(b"* OK")
            context = ssl.create_default_context()
            ca.configure_trust(context)
            with context.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
                return tls.recv(100).startswith(b"* OK")
    except OSError:
        return False
