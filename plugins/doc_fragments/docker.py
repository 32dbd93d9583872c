# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  docker_host:
    description:
      - Address of the Docker engine API, C(unix:///path/to/docker.sock) or C(tcp://host:port) (plain HTTP, no TLS).
      - Default is the C(DOCKER_HOST) environment variable, else C(unix:///var/run/docker.sock).
    type: str
notes:
  - The engine is reached with the Python standard library only (no Docker SDK); every request has a timeout.
"""
