"""k8s_common's connection options: option > K8S_AUTH_* > kubeconfig > in-cluster service account (pure logic)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import InvalidInput, ServiceUnreachable

HOME_KUBECONFIG = os.path.expanduser("~/.kube/config")
SA = "/sa"
POD = {"KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"}


@pytest.mark.parametrize(
    "params, environ, expected",
    [
        ({}, {}, {}),
        # the option wins over the environment
        ({"host": "https://a"}, {"K8S_AUTH_HOST": "https://b"}, {"host": ("https://a", "host")}),
        ({}, {"K8S_AUTH_HOST": "https://b"}, {"host": ("https://b", "K8S_AUTH_HOST")}),
        ({"api_key": "t1"}, {"K8S_AUTH_API_KEY": "t2"}, {"api_key": ("t1", "api_key")}),
        ({}, {"K8S_AUTH_API_KEY": "t2"}, {"api_key": ("t2", "K8S_AUTH_API_KEY")}),
        ({}, {"K8S_AUTH_KUBECONFIG": "/k", "K8S_AUTH_CONTEXT": "c"},
         {"kubeconfig": ("/k", "K8S_AUTH_KUBECONFIG"), "context": ("c", "K8S_AUTH_CONTEXT")}),
        # kubernetes.core reads K8S_AUTH_<option> first, then K8S_AUTH_<client attribute>
        ({}, {"K8S_AUTH_CA_CERT": "/a.crt", "K8S_AUTH_SSL_CA_CERT": "/b.crt"}, {"ca_cert": ("/a.crt", "K8S_AUTH_CA_CERT")}),
        ({}, {"K8S_AUTH_SSL_CA_CERT": "/b.crt"}, {"ca_cert": ("/b.crt", "K8S_AUTH_SSL_CA_CERT")}),
        ({}, {"K8S_AUTH_VALIDATE_CERTS": "false", "K8S_AUTH_VERIFY_SSL": "true"},
         {"validate_certs": (False, "K8S_AUTH_VALIDATE_CERTS")}),
        ({}, {"K8S_AUTH_VERIFY_SSL": "no"}, {"validate_certs": (False, "K8S_AUTH_VERIFY_SSL")}),
        ({}, {"K8S_AUTH_VERIFY_SSL": "Yes"}, {"validate_certs": (True, "K8S_AUTH_VERIFY_SSL")}),
        # a bool option set to false is set; empty options and variables are not
        ({"validate_certs": False}, {"K8S_AUTH_VALIDATE_CERTS": "true"}, {"validate_certs": (False, "validate_certs")}),
        ({"host": "", "kubeconfig": None}, {"K8S_AUTH_HOST": "", "K8S_AUTH_KUBECONFIG": "/k"},
         {"kubeconfig": ("/k", "K8S_AUTH_KUBECONFIG")}),
    ],
)
def test_auth_settings_option_then_environment(params, environ, expected):
    assert k8s_common.auth_settings(params, environ) == expected


def test_auth_settings_rejects_a_bool_variable_that_is_not_one():
    with pytest.raises(InvalidInput) as err:
        k8s_common.auth_settings({}, {"K8S_AUTH_VALIDATE_CERTS": "maybe"})
    assert str(err.value) == "K8S_AUTH_VALIDATE_CERTS: expected true or false, got 'maybe'"


def source(params, environ, files=()):
    settings = k8s_common.auth_settings(params, environ)
    return k8s_common.config_source(settings, environ, isfile=lambda path: path in files, service_account_dir=SA)


@pytest.mark.parametrize(
    "params, environ, files, expected",
    [
        # host + api_key: nothing else is read, not even an explicit kubeconfig (kubernetes.core)
        ({"host": "https://a", "api_key": "t"}, dict(POD, KUBECONFIG="/env"), (HOME_KUBECONFIG, SA + "/token"), ("none", None)),
        ({"kubeconfig": "/k"}, {}, (), ("kubeconfig", "/k")),
        ({}, {"K8S_AUTH_HOST": "https://a", "K8S_AUTH_API_KEY": "t"}, (), ("none", None)),
        ({"kubeconfig": "/opt"}, {"K8S_AUTH_KUBECONFIG": "/auth", "KUBECONFIG": "/env"}, (), ("kubeconfig", "/opt")),
        ({}, {"K8S_AUTH_KUBECONFIG": "/auth", "KUBECONFIG": "/env"}, (), ("kubeconfig", "/auth")),
        ({}, dict(POD, KUBECONFIG="/env"), (SA + "/token",), ("kubeconfig", "/env")),
        # ~/.kube/config when it exists, or when a context names one of its contexts
        ({}, POD, (HOME_KUBECONFIG, SA + "/token"), ("kubeconfig", HOME_KUBECONFIG)),
        ({"context": "c"}, POD, (SA + "/token",), ("kubeconfig", HOME_KUBECONFIG)),
        # else the pod's service account; host alone or api_key alone complete it
        ({}, POD, (SA + "/token",), ("in-cluster", SA)),
        ({"host": "https://a"}, POD, (SA + "/token",), ("in-cluster", SA)),
        ({}, dict(POD, K8S_AUTH_API_KEY="t"), (SA + "/token",), ("in-cluster", SA)),
    ],
)
def test_config_source_precedence(params, environ, files, expected):
    assert source(params, environ, files) == expected


@pytest.mark.parametrize(
    "params, environ, files, message",
    [
        ({}, {}, (), "no Kubernetes credentials: set host and api_key, and there is no kubeconfig (%s does not exist, KUBECONFIG is not set) "
                     "nor an in-cluster service account (KUBERNETES_SERVICE_HOST is not set)" % HOME_KUBECONFIG),
        ({"host": "https://a"}, {}, (), "host is set (host) but api_key is not, and there is no kubeconfig"),
        ({}, {"K8S_AUTH_HOST": "https://a"}, (), "host is set (K8S_AUTH_HOST) but api_key is not, and there is no kubeconfig"),
        ({"api_key": "s3cr3t"}, {}, (), "api_key is set (api_key) but host is not, and there is no kubeconfig"),
        ({}, {"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, (SA + "/token",), "nor an in-cluster service account (KUBERNETES_SERVICE_PORT is not set)"),
        ({}, POD, (), "nor an in-cluster service account (/sa/token does not exist)"),
    ],
)
def test_config_source_names_what_is_missing(params, environ, files, message):
    with pytest.raises(ServiceUnreachable) as err:
        source(params, environ, files)
    assert message in str(err.value)
    assert "s3cr3t" not in str(err.value)


def test_kubeconfig_path_option_then_environment():
    assert k8s_common.kubeconfig_path({"kubeconfig": "/k"}, {"K8S_AUTH_KUBECONFIG": "/a", "KUBECONFIG": "/e"}) == "/k"
    assert k8s_common.kubeconfig_path({}, {"K8S_AUTH_KUBECONFIG": "/a", "KUBECONFIG": "/e"}) == "/a"
    assert k8s_common.kubeconfig_path({}, {"KUBECONFIG": "/e"}) == "/e"
    assert k8s_common.kubeconfig_path({}, {}) == HOME_KUBECONFIG


def test_every_auth_variable_is_listed_for_the_runner():
    assert set(k8s_common.ENV_NAMES) == {
        "K8S_AUTH_KUBECONFIG", "K8S_AUTH_CONTEXT", "K8S_AUTH_HOST", "K8S_AUTH_API_KEY", "K8S_AUTH_CA_CERT",
        "K8S_AUTH_SSL_CA_CERT", "K8S_AUTH_VALIDATE_CERTS", "K8S_AUTH_VERIFY_SSL", "KUBERNETES_SERVICE_HOST",
        "KUBERNETES_SERVICE_PORT"}


# --- api_client: the configuration built (no request is sent) -----------------------------------

pytest.importorskip("kubernetes")

KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://kube.example:6443", certificate-authority: "%(ca)s"}
users:
- name: u
  user: {token: kubeconfig-token}
contexts:
- name: main
  context: {cluster: c, user: u}
- name: other
  context: {cluster: c, user: u, namespace: x}
current-context: main
"""


@pytest.fixture
def files(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.kube/config
    ca = tmp_path / "ca.crt"
    ca.write_text("-----BEGIN CERTIFICATE-----\nnot parsed until a request\n-----END CERTIFICATE-----\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG % {"ca": ca})
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token")
    (sa / "ca.crt").write_text(ca.read_text())
    return {"ca": str(ca), "kubeconfig": str(kubeconfig), "sa": str(sa), "other_ca": str(tmp_path / "ca.crt")}


def config(params, environ, sa=None):
    return k8s_common.api_client(params, environ=environ, service_account_dir=sa).configuration


def test_host_and_api_key_need_no_kubeconfig(files):
    conf = config({"host": "https://api.example:6443/", "api_key": "opt-token", "ca_cert": files["ca"]}, {})
    assert (conf.host, conf.api_key, conf.ssl_ca_cert, conf.verify_ssl, conf.retries) == (
        "https://api.example:6443", {"authorization": "Bearer opt-token"}, files["ca"], True, False)


def test_environment_only(files):
    conf = config({}, {"K8S_AUTH_HOST": "https://api.example", "K8S_AUTH_API_KEY": "env-token", "K8S_AUTH_VERIFY_SSL": "false"})
    assert (conf.host, conf.api_key, conf.verify_ssl) == ("https://api.example", {"authorization": "Bearer env-token"}, False)


def test_options_override_the_kubeconfig(files):
    conf = config({"kubeconfig": files["kubeconfig"]}, {})
    assert (conf.host, conf.api_key["authorization"], conf.ssl_ca_cert) == ("https://kube.example:6443", "Bearer kubeconfig-token", files["ca"])
    conf = config({"kubeconfig": files["kubeconfig"], "api_key": "opt-token", "validate_certs": False}, {"K8S_AUTH_HOST": "https://other"})
    assert (conf.host, conf.api_key, conf.verify_ssl) == ("https://other", {"authorization": "Bearer opt-token"}, False)


def test_in_cluster_service_account(files):
    conf = config({}, POD, sa=files["sa"])
    assert (conf.host, conf.ssl_ca_cert) == ("https://10.0.0.1:443", os.path.join(files["sa"], "ca.crt"))
    conf.refresh_api_key_hook(conf)
    assert conf.api_key["authorization"] == "bearer sa-token"
    # an option stays on top when the loader refreshes the token
    conf = config({"host": "https://127.0.0.1:6443", "api_key": "opt-token"}, dict(POD, KUBECONFIG=""), sa=files["sa"])
    assert conf.host == "https://127.0.0.1:6443"
    conf = config({"host": "https://127.0.0.1:6443"}, POD, sa=files["sa"])
    conf.refresh_api_key_hook(conf)
    assert (conf.host, conf.api_key["authorization"]) == ("https://127.0.0.1:6443", "bearer sa-token")
    conf = config({"api_key": "opt-token"}, POD, sa=files["sa"])
    for _ in range(3):  # the loader writes its token into api_key and re-installs its hook on every refresh
        assert conf.get_api_key_with_prefix("authorization") == "Bearer opt-token"
    assert conf.host == "https://10.0.0.1:443"


def test_missing_ca_cert_names_the_option_and_its_source(files):
    with pytest.raises(InvalidInput) as err:
        config({"host": "https://a", "api_key": "s3cr3t"}, {"K8S_AUTH_CA_CERT": "/nonexistent/ca.crt"})
    assert str(err.value) == "ca_cert: the CA file /nonexistent/ca.crt (K8S_AUTH_CA_CERT) does not exist"


def test_empty_service_account_token_is_unreachable_and_names_the_directory(files):
    open(os.path.join(files["sa"], "token"), "w").close()
    with pytest.raises(ServiceUnreachable) as err:
        config({}, POD, sa=files["sa"])
    assert str(err.value) == "cannot use the in-cluster service account %s: Token file exists but empty." % files["sa"]


def test_client_secrets_are_the_bearer_token(files):
    client = k8s_common.api_client({"host": "https://a", "api_key": "opt-token"}, environ={})
    assert k8s_common.client_secrets(client) == ["Bearer opt-token", "opt-token"]
