"""The provider fields the credential helpers read (git, docker, kubernetes), checked on load,
and the router that picks which connection answers a host."""

import pytest

from authsome.errors import ConfigError, UsageError
from authsome.factory import Context
from authsome.providers.schema import parse_provider
from authsome.services.serving import choose

BASE = {"name": "forge", "auth_type": "api_key"}


@pytest.mark.parametrize(
    "extra,field",
    [
        ({"git": ["github.com"]}, "git"),
        ({"git": {"hosts": ["github.com"]}}, "git.username"),
        ({"git": {"hosts": [], "username": "u"}}, "git.hosts"),
        ({"git": {"hosts": ["https://github.com"], "username": "u"}}, "git.hosts"),
        ({"git": {"hosts": ["GitHub.com"], "username": "u"}}, "git.hosts"),
        ({"git": {"hosts": ["github.com"], "username": "a\nb"}}, "git.username"),
        ({"git": {"hosts": ["github.com"], "username": "u", "path": "/"}}, "git.path"),
        ({"docker": {"registries": "ghcr.io", "username": "u"}}, "docker.registries"),
        ({"docker": {"registries": ["ghcr.io"], "username": ""}}, "docker.username"),
        ({"kubernetes": {"token": "refresh_token"}}, "kubernetes.token"),
        ({"kubernetes": "id_token"}, "kubernetes"),
    ],
)
def test_a_bad_helper_field_is_named_with_its_file(extra, field):
    with pytest.raises(ConfigError) as e:
        parse_provider({**BASE, **extra}, "/p/forge.json")
    assert str(e.value).startswith(f"/p/forge.json: field {field!r}")


def test_helper_fields_become_records_and_show_in_inspect_json():
    data = {
        **BASE,
        "git": {"hosts": ["git.example.com", "127.0.0.1:8443"], "username": "oauth2"},
        "docker": {"registries": ["registry.example.com"], "username": "oauth2"},
        "kubernetes": {"token": "id_token"},
    }
    provider = parse_provider(data, "forge.json")
    assert provider.git.hosts == ("git.example.com", "127.0.0.1:8443")
    assert provider.kubernetes.token == "id_token"
    shown = provider.to_dict()
    assert shown["git"] == {"hosts": ["git.example.com", "127.0.0.1:8443"], "username": "oauth2"}
    assert shown["docker"] == {"registries": ["registry.example.com"], "username": "oauth2"}
    assert shown["kubernetes"] == {"token": "id_token"}
    assert "kubernetes" not in parse_provider(BASE, "forge.json").to_dict()


def test_the_bundled_providers_serve_the_tools_they_support(env):
    registry = Context(env).registry
    github, gitlab = registry.get("github"), registry.get("gitlab")
    assert (github.git.hosts[0], github.git.username) == ("github.com", "x-access-token")
    assert github.docker.registries == ("ghcr.io",)
    assert (gitlab.git.hosts, gitlab.git.username) == (("gitlab.com",), "oauth2")
    assert gitlab.docker.registries == ("registry.gitlab.com",)
    assert "us-docker.pkg.dev" in registry.get("google").docker.registries
    assert registry.get("google").kubernetes.token == "access_token"
    assert registry.get("microsoft").kubernetes is not None
    assert registry.get("huggingface").git.hosts == ("huggingface.co",)


@pytest.mark.parametrize(
    "candidates,chosen",
    [
        ([], None),
        ([("github", "work")], ("github", "work")),
        ([("github", "work"), ("github", "default")], ("github", "default")),
        ([("gitlab", "default"), ("github", "work")], ("gitlab", "default")),
    ],
)
def test_choose_a_connection_for_a_host(candidates, chosen):
    assert choose("github.com", candidates, "setup-git") == chosen


@pytest.mark.parametrize(
    "candidates",
    [
        [("github", "work"), ("github", "home")],
        [("github", "default"), ("gitlab", "default")],
    ],
)
def test_several_connections_without_one_default_is_an_error_that_says_how_to_pin(candidates):
    with pytest.raises(UsageError) as e:
        choose("github.com", candidates, "setup-git")
    assert "serve github.com" in e.value.what and "authsome setup-git" in e.value.fix
