# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-rulebook event source: Alertmanager's webhook receiver, one event per alert.

Only the HTTP server lives here; parsing, host mapping, dedup and the token check are
plugins/module_utils/alerts/alertmanager_webhook.py (unit-tested without aiohttp).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from typing import Any

from aiohttp import web

try:
    from ansible_collections.opsbook.runbooks.plugins.module_utils.alerts import alertmanager_webhook as webhook
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput
except ImportError:  # an installed collection (ansible-galaxy) is not on ansible-rulebook's sys.path
    _here = os.path.realpath(__file__)
    for _ in range(7):  # .../ansible_collections/opsbook/runbooks/extensions/eda/plugins/event_source/x.py
        _here = os.path.dirname(_here)
    sys.path.insert(0, _here)
    from ansible_collections.opsbook.runbooks.plugins.module_utils.alerts import alertmanager_webhook as webhook
    from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput

DOCUMENTATION = r"""
---
short_description: Receive Alertmanager's webhook, one event per alert.
description:
  - Listens for Alertmanager's webhook (payload version 4) and puts one event per alert on the
    queue, C({"alert": {status, labels, annotations, startsAt, endsAt, fingerprint, generatorURL},
    "receiver", "externalURL", "meta": {"hosts": [HOST]}}).
  - C(meta.hosts) becomes the --limit of the rule's action; it is always an inventory host from
    O(hosts) or O(default_host), never the raw C(instance) label.
  - A body that is not a version 4 payload gets 400 and one log line; a wrong or missing bearer
    token gets 401; the server keeps serving. The token is never logged.
options:
  host:
    description: Address to listen on.
    type: str
    default: 127.0.0.1
  port:
    description: TCP port to listen on.
    type: int
    default: 15050
  path:
    description: URL path Alertmanager posts to.
    type: str
    default: /alerts
  token:
    description: Bearer token the request must carry (Alertmanager's http_config.authorization).
    type: str
  token_file:
    description: File holding the bearer token (instead of O(token)).
    type: str
  dedup_window:
    description: Seconds within which the same fingerprint and status yield one event only (0 disables).
    type: float
    default: 300
  host_label:
    description: The alert label that names the host.
    type: str
    default: instance
  hosts:
    description: Mapping of that label's value (as given, or without its port) to an inventory host.
    type: dict
    default: {}
  default_host:
    description:
      - The host (or pattern) of an alert whose label is absent or not in O(hosts).
      - The default V(all) runs the alert's scenario against the whole inventory; V(localhost) works only
        with an inventory that defines localhost (ansible-playbook refuses a --limit matching no host).
    type: str
    default: all
"""

EXAMPLES = r"""
- name: Alerts to scenarios
  hosts: all
  sources:
    - opsbook.runbooks.alertmanager:
        port: 15050
        token_file: /etc/opsbook/eda-token
        hosts: {"10.0.0.5": db-1}
        default_host: all
"""

logger = logging.getLogger("opsbook.alertmanager")


def make_app(queue: asyncio.Queue, conf: dict) -> web.Application:
    """The aiohttp application receiving on ``conf['path']`` (``conf`` from webhook.check_args)."""
    dedup = webhook.Deduper(conf["dedup_window"])

    async def receive(request: web.Request) -> web.Response:
        peer = request.remote
        if not webhook.token_matches(request.headers.get("Authorization"), conf["token"]):
            logger.warning("alertmanager: 401 from %s: missing or wrong bearer token", peer)
            return web.json_response({"error": "unauthorized"}, status=401)
        try:
            payload = webhook.parse_payload(await request.read())
        except InvalidInput as exc:
            logger.warning("alertmanager: 400 from %s: %s", peer, exc)
            return web.json_response({"error": str(exc)}, status=400)
        queued = 0
        for event in webhook.alert_events(payload, conf["hosts"], conf["host_label"], conf["default_host"]):
            alert = event["alert"]
            name = alert["labels"].get("alertname")
            if not dedup.fresh(alert["fingerprint"], alert["status"]):
                logger.info("alertmanager: %s %s (%s) seen within %ss: dropped", name, alert["status"],
                            alert["fingerprint"], conf["dedup_window"])
                continue
            logger.info("alertmanager: %s %s (%s) -> host %s", name, alert["status"], alert["fingerprint"],
                        event["meta"]["hosts"][0])
            await queue.put(event)
            queued += 1
        return web.json_response({"events": queued}, status=202)

    app = web.Application(client_max_size=4 * 1024 * 1024)
    app.router.add_post(conf["path"], receive)
    return app


async def main(queue: asyncio.Queue, args: dict[str, Any]) -> None:
    """Serve until cancelled."""
    conf = webhook.check_args(args)
    runner = web.AppRunner(make_app(queue, conf), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, conf["host"], conf["port"])
    await site.start()
    logger.info("alertmanager: listening on http://%s:%d%s (token %s)", conf["host"], conf["port"], conf["path"],
                "required" if conf["token"] else "not required")
    try:
        await asyncio.Future()
    finally:
        await runner.cleanup()


if __name__ == "__main__":

    class _PrintQueue(asyncio.Queue):
        async def put(self, item):
            print(item)  # noqa: T201

    asyncio.run(main(_PrintQueue(), {"port": int(os.environ.get("PORT", "15050"))}))
