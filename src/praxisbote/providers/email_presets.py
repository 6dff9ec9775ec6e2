"""E-mail provider presets (MAIL-2, MAIL-5): seed 000's table as data.

SMTP host and ports come from seed 000's provider table (first port = the one we suggest).
``note`` is the table's special remark, in German as practices read it. The IMAP host for the
Sent-folder copy (MAIL-10) is not in the seed: where given, it is the provider's documented
value, and ``imap_source`` says so. ``sessions`` is how many SMTP sessions we open in
parallel; providers limit parallel logins, so it stays at our default of 2 unless a provider
documents more.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

SEED = "seed 000"
DOCS = "provider documentation (not in seed 000)"


@dataclass(frozen=True)
class EmailPreset:
    key: str
    name: str
    website: str
    host: str
    ports: tuple[int, ...]
    note: str = ""
    #: An app password (not the mailbox password) is needed for SMTP (MAIL-5).
    app_password: bool = False
    #: Sending via SMTP must first be switched on in the mailbox settings.
    enable_smtp: bool = False
    imap_host: str = ""
    imap_port: int | None = None
    imap_source: str = ""
    sessions: int = 2
    max_messages_per_connection: int = 100
    source: str = SEED

    @property
    def port(self) -> int:
        return self.ports[0]

    def as_dict(self) -> dict:
        data = asdict(self)
        data["ports"] = list(self.ports)
        data["port"] = self.port
        return data


PRESETS: tuple[EmailPreset, ...] = (
    EmailPreset(
        "proton",
        "Proton Mail",
        "https://proton.me",
        "smtp.protonmail.ch",
        (587,),
        "Proton Mail ist der Klassiker unter den verschlüsselten E-Mail-Postfächern. Für den "
        "SMTP-Zugriff muss ein eigenes App-Passwort (SMTP-Token) erzeugt werden.",
        app_password=True,
    ),
    EmailPreset(
        "posteo",
        "Posteo",
        "https://posteo.de",
        "posteo.de",
        (587, 465),
        "Postfach ebenfalls privat verschlüsselbar (Krypto-Mailbox).",
        imap_host="posteo.de",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "mailfence",
        "Mailfence",
        "https://mailfence.com",
        "smtp.mailfence.com",
        (465,),
        "Anbieter aus Belgien mit guten Datenschutzeinstellungen und flottem Support.",
        imap_host="imap.mailfence.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "mailbox-org",
        "mailbox.org",
        "https://mailbox.org",
        "smtp.mailbox.org",
        (587, 465),
        "Postfach-Verschlüsselung und Auftragsverarbeitungsvertrag verfügbar.",
        imap_host="imap.mailbox.org",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "gmx",
        "GMX",
        "https://www.gmx.net",
        "mail.gmx.net",
        (587, 465),
        "Der Versand über SMTP muss ausdrücklich erlaubt werden unter „POP3/IMAP Abruf“.",
        enable_smtp=True,
        imap_host="imap.gmx.net",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "webde",
        "WEB.DE",
        "https://web.de",
        "smtp.web.de",
        (587,),
        "Der Versand über SMTP muss ausdrücklich erlaubt werden unter „POP3/IMAP Abruf“.",
        enable_smtp=True,
        imap_host="imap.web.de",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "hotmail",
        "Hotmail (jetzt Outlook.com)",
        "https://outlook.com",
        "smtp-mail.outlook.com",
        (587,),
        "Der Hotmail-Dienst ist von Outlook.com abgelöst worden; es gelten dessen Daten.",
        imap_host="outlook.office365.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "yahoo",
        "Yahoo Mail",
        "https://www.yahoo.com",
        "smtp.mail.yahoo.com",
        (465, 587),
        "Konto mit aktivierter Zwei-Faktor-Authentifizierung und zusätzlichem App-Passwort nötig.",
        app_password=True,
        imap_host="imap.mail.yahoo.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "world4you",
        "World4You",
        "https://www.world4you.com",
        "smtp.world4you.com",
        (587,),
        "Beispiel für einen österreichischen Webhoster.",
    ),
    EmailPreset("drei", "Drei", "https://www.drei.at", "smtp.drei.at", (465,)),
    EmailPreset("a1", "A1", "https://www.a1.net", "securemail.a1.net", (587,)),
    EmailPreset(
        "telekom",
        "Telekom (t-online.de)",
        "https://www.telekom.de",
        "securesmtp.t-online.de",
        (465, 587),
        imap_host="secureimap.t-online.de",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "outlook",
        "Outlook.com",
        "https://outlook.com",
        "smtp-mail.outlook.com",
        (587,),
        "Microsoft-Konto nötig.",
        imap_host="outlook.office365.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "office365",
        "Microsoft 365 (Office 365)",
        "https://www.office.com",
        "smtp.office365.com",
        (587,),
        "Microsoft-Office-Konto nötig; SMTP-Authentifizierung muss für das Postfach "
        "erlaubt sein. (Laut Seed nicht getestet.)",
        enable_smtp=True,
        imap_host="outlook.office365.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "icloud",
        "iCloud Mail (Apple)",
        "https://www.apple.com",
        "smtp.mail.me.com",
        (587,),
        "App-spezifisches Passwort verwenden (unter appleid.apple.com erstellt). "
        "(Laut Seed nicht getestet.)",
        app_password=True,
        imap_host="imap.mail.me.com",
        imap_port=993,
        imap_source=DOCS,
    ),
    EmailPreset(
        "gmail",
        "Gmail (Google)",
        "https://mail.google.com",
        "smtp.gmail.com",
        (587,),
        "Google-Konto mit aktivierter Zwei-Faktor-Authentifizierung und zusätzlichem "
        "App-Passwort nötig. Google blockiert den Versand trotzdem gelegentlich.",
        app_password=True,
        imap_host="imap.gmail.com",
        imap_port=993,
        imap_source=DOCS,
    ),
)

BY_KEY: dict[str, EmailPreset] = {p.key: p for p in PRESETS}


def preset(key: str) -> EmailPreset | None:
    return BY_KEY.get(key)


def preset_for_host(host: str) -> EmailPreset | None:
    host = host.strip().lower()
    return next((p for p in PRESETS if p.host == host), None)
