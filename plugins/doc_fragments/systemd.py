# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  systemd_scope:
    description:
      - Whose units a V(systemd) workload is - V(system) units, or the V(user) units of the user the module runs as
        (C(systemctl --user), C(journalctl --user-unit)).
      - Usually set once per host in the inventory dictionary C(opsbook_systemd).
    type: str
    default: system
    choices: [system, user]
  systemd_sudo:
    description:
      - Run C(systemctl) and C(journalctl) through C(sudo -n) (non-interactive; a sudo that asks for a password fails
        with sudo's message instead of hanging).
      - Usually set in C(opsbook_systemd); for a task that runs as root anyway, use Ansible's C(become) instead.
    type: bool
    default: false
  systemd_unit_suffix:
    description: Suffix added to a unit name that has none (C(etl-service) becomes C(etl-service.service)).
    type: str
    default: .service
"""
