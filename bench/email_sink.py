"""A local SMTP sink for bench_email.py: aiosmtpd with STARTTLS required and AUTH, own process.

    python bench/email_sink.py PORT CERT_PEM KEY_PEM USER PASSWORD

Prints ``ready`` once it listens; on SIGTERM prints ``received N`` (mails accepted) and exits.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import ssl
import sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


class Sink:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received += 1
        return "250 OK queued"


def main() -> int:
    # aiosmtpd logs a deprecation warning about its own attribute on every login.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    port, cert, key, user, password = sys.argv[1:6]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = Sink()
    login = (user.encode(), password.encode())

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == login
        return AuthResult(success=ok, handled=False)

    def factory() -> SMTP:
        return SMTP(
            sink,
            hostname="sink.bench.example",
            tls_context=context,
            require_starttls=True,
            authenticator=authenticator,
            auth_required=True,
            auth_require_tls=True,
        )

    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(factory, "127.0.0.1", int(port)))
    loop.add_signal_handler(signal.SIGTERM, loop.stop)
    print("ready", flush=True)
    loop.run_forever()
    server.close()
    print(f"received {sink.received}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
