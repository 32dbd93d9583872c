# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Send an incident message: a Slack-compatible webhook (POST ``{"text": ...}``) and e-mail over SMTP.

Each call has a timeout; a failure raises :class:`NotifyError` with a message free of the webhook URL
and the SMTP password (the caller turns it into an ``incident_notify`` finding).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import smtplib
import socket
import ssl

from ansible.module_utils.urls import open_url

from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import OpsbookError, scrub

try:
    from email.message import EmailMessage
except ImportError:  # pragma: no cover - Python 2 has no EmailMessage; opsbook needs 3
    EmailMessage = None


class NotifyError(OpsbookError):
    """A message could not be delivered."""


def webhook(config, text):
    """POST ``{"text": text}`` to ``config['url']``; the HTTP status on success."""
    url = config["url"]
    try:
        response = open_url(url, data=json.dumps({"text": text}).encode("utf-8"), method="POST",
                            headers={"Content-Type": "application/json"}, timeout=float(config.get("timeout") or 10),
                            validate_certs=config.get("validate_certs", True), ca_path=config.get("ca_path"))
        return response.getcode()
    except Exception as exc:  # urllib, ssl and socket errors alike: a finding, not a traceback
        raise NotifyError("webhook: %s" % scrub(str(exc), [url]))


def email(config, subject, text):
    """Send ``text`` to ``config['to']`` through ``config['host']:config['port']`` (STARTTLS/SSL, login when a user is set)."""
    secrets = [config.get("password")]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["sender"]
    message["To"] = ", ".join(config["to"])
    message.set_content(text)
    timeout = float(config.get("timeout") or 10)
    context = ssl.create_default_context(cafile=config.get("ca_path")) if config.get("ca_path") else ssl.create_default_context()
    try:
        if config.get("ssl"):
            client = smtplib.SMTP_SSL(config["host"], int(config["port"]), timeout=timeout, context=context)
        else:
            client = smtplib.SMTP(config["host"], int(config["port"]), timeout=timeout)
        try:
            if config.get("starttls") and not config.get("ssl"):
                client.starttls(context=context)
            if config.get("user"):
                client.login(config["user"], config.get("password") or "")
            refused = client.send_message(message)
        finally:
            try:
                client.quit()
            except (smtplib.SMTPException, socket.error):
                pass
    except (smtplib.SMTPException, socket.error, ssl.SSLError, ValueError) as exc:
        raise NotifyError("email via %s:%s: %s" % (config["host"], config["port"], scrub(str(exc), secrets)))
    if refused:
        raise NotifyError("email: refused recipient(s) %s" % ", ".join(sorted(refused)))
    return len(config["to"])
