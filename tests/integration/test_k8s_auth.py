"""k8s_common's authentication against the lab's API server with a real ServiceAccount token.

A ServiceAccount in a scratch namespace, allowed to read Deployments and their pods there (RBAC),
gets a token from the TokenRequest API; the workload module then reads a Deployment with that token
given as options (host, api_key, ca_cert), as K8S_AUTH_* variables, and as an in-cluster service
account directory - each time with no KUBECONFIG and no ~/.kube/config to fall back on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest
import yaml

pytestmark = pytest.mark.lab

pytest.importorskip("kubernetes")
from kubernetes import client  # noqa: E402

from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common  # noqa: E402
from ansible_collections.opsbook.runbooks.plugins.module_utils.common.errors import ServiceError  # noqa: E402
from tests.helpers import poll, run_module  # noqa: E402
from tests.integration.k8s_seed import scratch_namespace  # noqa: E402

SA = "opsbook-reader"
READ_RULES = [
    {"apiGroups": ["apps"], "resources": ["deployments", "statefulsets", "replicasets", "controllerrevisions"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
]


@pytest.fixture(scope="module")
def reader(k8s_lab):
    """A scratch namespace with a 1-replica Deployment ``api`` and a ServiceAccount token that may read it."""
    api = k8s_lab["api_client"]
    core, apps, rbac = client.CoreV1Api(api), client.AppsV1Api(api), client.RbacAuthorizationV1Api(api)
    with scratch_namespace(k8s_lab, "k8sauth") as ns:
        labels = {"app.kubernetes.io/name": "api"}
        apps.create_namespaced_deployment(ns, {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "api"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "api", "image": "lab.local/api:1"}]}}}}, _request_timeout=10)
        core.create_namespaced_service_account(ns, {"metadata": {"name": SA}}, _request_timeout=10)
        rbac.create_namespaced_role(ns, {"metadata": {"name": SA}, "rules": READ_RULES}, _request_timeout=10)
        rbac.create_namespaced_role_binding(ns, {
            "metadata": {"name": SA}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": SA},
            "subjects": [{"kind": "ServiceAccount", "name": SA, "namespace": ns}]}, _request_timeout=10)
        token = core.create_namespaced_service_account_token(
            SA, ns, {"spec": {"expirationSeconds": 3600}}, _request_timeout=10).status.token
        poll(lambda: (apps.read_namespaced_deployment("api", ns, _request_timeout=5).status.ready_replicas or 0) == 1, timeout=60)
        kubeconfig = yaml.safe_load(open(k8s_lab["kubeconfig"]))
        ca = kubeconfig["clusters"][0]["cluster"]["certificate-authority"]
        yield {"namespace": ns, "token": token, "ca": ca, "server": k8s_lab["server"]}


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No kubeconfig anywhere: KUBECONFIG and K8S_AUTH_* unset, HOME without ~/.kube, not in a pod."""
    for name in k8s_common.ENV_NAMES + ("KUBECONFIG",):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def status_args(reader, **extra):
    return dict({"kind": "kubernetes", "name": "api", "namespace": reader["namespace"], "timeout": 20}, **extra)


def assert_read_with_token(result, reader):
    assert result.get("failed") is not True, result
    assert (result["status"], result["desired"], result["ready_replicas"]) == ("ok", 1, 1), result
    assert reader["token"] not in json.dumps(result)


def test_host_api_key_ca_cert_options(reader, bare_env):
    result = run_module("workload", status_args(reader, host=reader["server"], api_key=reader["token"], ca_cert=reader["ca"]))
    assert_read_with_token(result, reader)
    # the token only reads its own namespace: RBAC is the service account's, not an admin's
    other = run_module("workload", dict(status_args(reader, host=reader["server"], api_key=reader["token"], ca_cert=reader["ca"]),
                                        namespace="kube-system"))
    # a refusal is a finding (docs/permissions.md), not a failed task
    assert other.get("failed") is not True, other
    [finding] = other["findings"]
    assert (finding["status"], finding["state"]) == ("critical", "permission_denied")
    assert finding["message"].startswith(
        "permission denied on kubernetes/api: Kubernetes API error 403 (Forbidden): deployments.apps \"api\" is "
        f"forbidden: User \"system:serviceaccount:{reader['namespace']}:{SA}\" cannot get resource")


def test_k8s_auth_environment_without_kubeconfig(reader, bare_env, monkeypatch):
    monkeypatch.setenv("K8S_AUTH_HOST", reader["server"])
    monkeypatch.setenv("K8S_AUTH_API_KEY", reader["token"])
    monkeypatch.setenv("K8S_AUTH_SSL_CA_CERT", reader["ca"])
    result = run_module("workload", status_args(reader))
    assert_read_with_token(result, reader)
    kube = k8s_common.Kube({"namespace": reader["namespace"]}, timeout=10)
    assert kube.server == reader["server"]
    assert kube.call(kube.apps.read_namespaced_deployment, "api", reader["namespace"]).spec.replicas == 1


def test_validate_certs_false_skips_verification_and_true_enforces_it(reader, bare_env, monkeypatch):
    args = status_args(reader, host=reader["server"], api_key=reader["token"])
    # without the lab CA the system's CAs cannot verify the lab's certificate: unreachable, not ok
    unverified = run_module("workload", args)
    assert unverified["status"] == "critical" and unverified["reachable"] is False, unverified
    assert "SSLError" in unverified["findings"][0]["message"]
    assert_read_with_token(run_module("workload", dict(args, validate_certs=False)), reader)
    monkeypatch.setenv("K8S_AUTH_VALIDATE_CERTS", "false")
    assert_read_with_token(run_module("workload", args), reader)


def test_wrong_token_is_a_401_without_the_token(reader, bare_env, monkeypatch):
    wrong = reader["token"][:-8] + "AAAAAAAA"
    result = run_module("workload", status_args(reader, host=reader["server"], api_key=wrong, ca_cert=reader["ca"]))
    assert result["failed"] is True
    assert result["msg"] == ("Kubernetes API error 401 (Unauthorized): Unauthorized (the API server refused the credentials: "
                             "check api_key / the kubeconfig's user)")
    assert wrong not in json.dumps(result) and wrong not in result["_stderr"]
    # the same from the environment: the token is no module option, k8s_common scrubs it itself
    monkeypatch.setenv("K8S_AUTH_API_KEY", wrong)
    kube = k8s_common.Kube({"host": reader["server"], "ca_cert": reader["ca"]}, timeout=10)
    assert kube.secrets == ["Bearer " + wrong, wrong]
    with pytest.raises(ServiceError) as err:
        kube.call(kube.core.list_node)
    assert str(err.value).startswith("Kubernetes API error 401 (Unauthorized)") and wrong not in str(err.value)


def test_host_without_api_key_and_no_kubeconfig_is_named(reader, bare_env):
    result = run_module("workload", status_args(reader, host=reader["server"], ca_cert=reader["ca"]))
    assert result["status"] == "critical" and result["reachable"] is False
    assert result["findings"][0]["message"] == (
        "host is set (host) but api_key is not, and there is no kubeconfig (%s/.kube/config does not exist, KUBECONFIG is not set) "
        "nor an in-cluster service account (KUBERNETES_SERVICE_HOST is not set)" % bare_env)


def test_missing_ca_cert_file_is_named(reader, bare_env):
    result = run_module("workload", status_args(reader, host=reader["server"], api_key=reader["token"], ca_cert=str(bare_env / "no-ca.crt")))
    assert result["failed"] is True
    assert result["msg"] == "ca_cert: the CA file %s/no-ca.crt (ca_cert) does not exist" % bare_env
    assert reader["token"] not in json.dumps(result)


@pytest.fixture
def pod_env(reader, bare_env, monkeypatch):
    """What a pod sees: a service-account directory with the token and the cluster CA, KUBERNETES_SERVICE_HOST/PORT."""
    sa_dir = bare_env / "serviceaccount"
    sa_dir.mkdir()
    (sa_dir / "token").write_text(reader["token"])
    (sa_dir / "ca.crt").write_text(open(reader["ca"]).read())
    (sa_dir / "namespace").write_text(reader["namespace"])
    host, port = reader["server"].rsplit("//", 1)[1].rsplit(":", 1)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", host)
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", port)
    return sa_dir


def run_module_in_pod(name, args, sa_dir):
    """run_module with k8s_common.SERVICE_ACCOUNT_DIR pointed at ``sa_dir`` in the module's process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=False, _ansible_no_log=False)}, handle)
    code = ("import runpy, sys\n"
            "from ansible_collections.opsbook.runbooks.plugins.module_utils.kubernetes import common as k8s_common\n"
            "k8s_common.SERVICE_ACCOUNT_DIR = sys.argv.pop(1)\n"
            "runpy.run_module('ansible_collections.opsbook.runbooks.plugins.modules.%s', run_name='__main__')\n" % name)
    try:
        proc = subprocess.run([sys.executable, "-c", code, str(sa_dir), handle.name], capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(handle.name)
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


def test_in_cluster_service_account_fallback(reader, pod_env, monkeypatch):
    result = run_module_in_pod("workload", status_args(reader), pod_env)
    assert_read_with_token(result, reader)
    monkeypatch.setattr(k8s_common, "SERVICE_ACCOUNT_DIR", str(pod_env))
    kube = k8s_common.Kube({"namespace": reader["namespace"]}, timeout=10)
    assert kube.server == reader["server"]
    assert kube.call(kube.apps.read_namespaced_deployment, "api", reader["namespace"]).spec.replicas == 1
    # an explicit option still wins over the service account: a wrong api_key is used, and refused
    refused = k8s_common.Kube({"api_key": "not-a-token"}, timeout=10)
    for _ in range(2):  # the service account's token refresh before each request must not put its token back
        with pytest.raises(ServiceError) as err:
            refused.call(refused.apps.read_namespaced_deployment, "api", reader["namespace"])
        assert "401" in str(err.value)


def test_without_the_service_account_the_default_path_is_named(reader, bare_env, monkeypatch):
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "1")
    result = run_module("workload", status_args(reader))
    assert result["status"] == "critical"
    assert result["findings"][0]["message"].endswith(
        "nor an in-cluster service account (/var/run/secrets/kubernetes.io/serviceaccount/token does not exist)")
