"""A real SMTP server for the tests (aiosmtpd): accepts every message on 127.0.0.1:PORT and
writes each, decoded, as one JSON file in DIR, so the tests can read what arrived.

Usage: python3 smtp_sink.py PORT DIR
"""

import asyncio
import email
import email.policy
import json
import os
import sys
import uuid

from aiosmtpd.smtp import SMTP


class Sink:
    def __init__(self, out):
        self.out = out

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        body = msg.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(msg.get("From", "")),
            "to": str(msg.get("To", "")),
            "subject": str(msg.get("Subject", "")),
            "message_id": str(msg.get("Message-ID", "")),
            "content_language": str(msg.get("Content-Language", "")),
            "content_type": msg.get_content_type(),
            "charset": msg.get_content_charset() or "",
            "text": body.get_content() if body is not None else "",
            "calendar": None,
            "attachments": [],
        }
        for part in msg.walk():
            if part.get_content_type() == "text/calendar":
                record["calendar"] = {
                    "method": part.get_param("method") or "",
                    "content": part.get_content(),
                }
            elif part.get_filename():
                record["attachments"].append(
                    {"filename": part.get_filename(), "content_type": part.get_content_type()}
                )
        name = uuid.uuid4().hex
        tmp = os.path.join(self.out, "." + name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        # Renamed into place only when complete: a reader never sees half a message.
        os.rename(tmp, os.path.join(self.out, name + ".json"))
        return "250 Message accepted for delivery"


async def main(port, out):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(Sink(out), enable_SMTPUTF8=True), host="127.0.0.1", port=port
    )
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
