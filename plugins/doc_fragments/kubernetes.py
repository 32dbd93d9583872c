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
      - Default is the C(K8S_AUTH_KUBECONFIG) environment variable, else C(KUBECONFIG), else C(~/.kube/config) if it
        exists, else the in-cluster service account (see the notes).
      - Not read when O(host) and O(api_key) are both set.
    type: path
  context:
    description:
      - Kubeconfig context to use; default is the C(K8S_AUTH_CONTEXT) environment variable, else the kubeconfig's current
        context.
    type: str
  host:
    description:
      - URL of the API server, for example C(https://k8s.example.com:6443).
      - Default is the C(K8S_AUTH_HOST) environment variable, else the kubeconfig's or the service account's server.
      - With O(api_key) no kubeconfig is read; alone it replaces the server of the kubeconfig or service account.
    type: str
  api_key:
    description:
      - Bearer token to authenticate with (a ServiceAccount token), sent in the C(Authorization) header.
      - Default is the C(K8S_AUTH_API_KEY) environment variable, else the kubeconfig's or the service account's credentials.
      - Never logged, and scrubbed from every message.
    type: str
  ca_cert:
    description:
      - CA certificate file (PEM) that verifies the API server's certificate.
      - Default is the C(K8S_AUTH_CA_CERT) (or C(K8S_AUTH_SSL_CA_CERT)) environment variable, else the kubeconfig's or
        the service account's CA, else the system's trusted CAs. A file that does not exist is an error.
    type: path
    aliases: [ssl_ca_cert]
  validate_certs:
    description:
      - Whether to verify the API server's TLS certificate. V(false) is for lab clusters only.
      - Default is the C(K8S_AUTH_VALIDATE_CERTS) (or C(K8S_AUTH_VERIFY_SSL)) environment variable, else the kubeconfig's
        C(insecure-skip-tls-verify), else V(true).
    type: bool
    aliases: [verify_ssl]
  namespace:
    description: Namespace of the objects the module works on.
    type: str
    default: default
notes:
  - "Precedence, as in kubernetes.core: a module option, else its C(K8S_AUTH_*) environment variable (C(K8S_AUTH_KUBECONFIG),
    C(K8S_AUTH_CONTEXT), C(K8S_AUTH_HOST), C(K8S_AUTH_API_KEY), C(K8S_AUTH_CA_CERT), C(K8S_AUTH_VALIDATE_CERTS)); the values
    so found are applied on top of the configuration they complete."
  - "That configuration is: none when O(host) and O(api_key) are set; else the kubeconfig named by O(kubeconfig),
    C(K8S_AUTH_KUBECONFIG) or C(KUBECONFIG) (or C(~/.kube/config) when O(context) is set); else C(~/.kube/config) when
    it exists; else the in-cluster service account (C(/var/run/secrets/kubernetes.io/serviceaccount/token) and
    C(ca.crt), C(KUBERNETES_SERVICE_HOST) and C(KUBERNETES_SERVICE_PORT)), so a scenario runs from a pod (a CronJob, an
    AWX container group) with no credentials in the inventory. Unlike kubernetes.core, a C(KUBECONFIG) or
    C(~/.kube/config) found on the host is preferred to the service account."
  - With none of these the module reports which one is missing (for example O(host) without O(api_key) and no
    kubeconfig).
  - Every Kubernetes API request is bounded by a request timeout (at most 30 s); an API server that does not
    answer is reported as unreachable, never retried without bound.
requirements:
  - kubernetes (the Python client) on the host that runs the module
"""
