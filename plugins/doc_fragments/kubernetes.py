# -*- coding: utf-8 -*-
# Copyright: (c) 2026, opsbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - Kubeconfig file with the API server, credentials and contexts.
      - Default is the C(KUBECONFIG) environment variable, else C(~/.kube/config).
    type: path
  context:
    description: Kubeconfig context to use; default is the kubeconfig's current context.
    type: str
  namespace:
    description: Namespace of the objects the module works on.
    type: str
    default: default
notes:
  - Every Kubernetes API request is bounded by a request timeout (at most 30 s); an API server that does not
    answer is reported as unreachable, never retried without bound.
requirements:
  - kubernetes (the Python client) on the host that runs the module
"""
