# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Galaxy artifact and the execution environment definition, built the way users build them.

The collection is built from a copy of the working tree in which a file is planted in every path galaxy.yml must keep
out of the artifact, installed into a temporary collections path, and listed with ansible-doc; the execution
environment's build context is generated with ansible-builder (no container engine needed).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GALAXY = yaml.safe_load((REPO / "galaxy.yml").read_text())
TARBALL = "{namespace}-{name}-{version}.tar.gz".format(**GALAXY)
FQCN = "{namespace}.{name}".format(**GALAXY)

# Paths planted in the build copy that must not reach the artifact (the emulator, benchmarks, CI, tooling,
# environments, test output, caches, old builds).
DECOYS = [
    "azure_emulator/__main__.py",
    "bench/decoy_bench.py",
    ".ci/run",
    "tools/setup.sh",
    "Makefile",
    "requirements-dev.txt",
    "pyproject.toml",
    ".venv/bin/python",
    "tests/output/junit.xml",
    "tests/emulator/test_decoy.py",
    "tests/integration/test_decoy.py",
    "tests/build/test_decoy.py",
    "tests/azure_cli/test_decoy.py",
    "dist/managed_identity-azure-0.0.1.tar.gz",
    "managed_identity-azure-0.0.1.tar.gz",
    ".ansible/collections/x",
    ".pytest_cache/v/cache",
    "tests/unit/.pytest_cache/v/cache",
    ".ruff_cache/x",
    "plugins/module_utils/__pycache__/_errors.cpython-311.pyc",
    "plugins/module_utils/stale.pyc",
    "changelogs/.plugin-cache.yaml",
    ".tmp/scratch",
]
# Top-level entries a user of the built collection needs.
REQUIRED = [
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "LICENSE",
    "meta/runtime.yml",
    "bindep.txt",
    "execution-environment.yml",
    "changelogs/changelog.yaml",
    "plugins/module_utils/_errors.py",
    "plugins/module_utils/_retry.py",
]
# Plugin types ansible-doc lists (module_utils and doc_fragments are not plugins of their own).
DOC_TYPES = {
    "modules": "module",
    "lookup": "lookup",
    "inventory": "inventory",
    "filter": "filter",
    "test": "test",
    "callback": "callback",
    "connection": "connection",
    "action": None,
}
COPY_IGNORE = shutil.ignore_patterns(
    ".venv", ".git", "dist", "output", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".ansible", "*.tar.gz"
)


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def tool_env(collections: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="False",
        ANSIBLE_HOME=str(collections.parent / "ansible_home"),
        ANSIBLE_NOCOLOR="True",
    )
    return env


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the working tree with a decoy in every excluded path."""
    tree = tmp_path_factory.mktemp("source") / "azure"
    shutil.copytree(REPO, tree, ignore=COPY_IGNORE, symlinks=True)
    for decoy in DECOYS:
        path = tree / decoy
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            path.write_text("decoy\n")
    return tree


@pytest.fixture(scope="module")
def tarball(source, tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    run(
        BIN / "ansible-galaxy",
        "collection",
        "build",
        "--output-path",
        str(dist),
        str(source),
        env=tool_env(dist / "unused"),
    )
    path = dist / TARBALL
    assert path.is_file()
    return path


@pytest.fixture(scope="module")
def members(tarball) -> dict:
    with tarfile.open(tarball) as archive:
        return {m.name: m for m in archive.getmembers()}


@pytest.fixture(scope="module")
def installed(tarball, tmp_path_factory) -> Path:
    collections = tmp_path_factory.mktemp("installed") / "collections"
    run(
        BIN / "ansible-galaxy",
        "collection",
        "install",
        "--offline",
        "-p",
        str(collections),
        str(tarball),
        env=tool_env(collections),
    )
    return collections


def plugin_files(root: Path) -> list:
    return sorted(
        str(p.relative_to(root))
        for p in (root / "plugins").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    )


def test_excluded_paths_are_not_in_the_artifact(members):
    excluded = re.compile(
        r"^(azure_emulator|bench|\.ci|tools|dist|\.venv|\.ansible|\.tmp|\.ruff_cache|\.pytest_cache"
        r"|tests/(output|emulator|integration|build|azure_cli))(/|$)|(^|/)(__pycache__|\.pytest_cache)(/|$)"
        r"|\.pyc$|\.tar\.gz$|^(Makefile|requirements-dev\.txt|pyproject\.toml)$"
        r"|^changelogs/\.plugin-cache\.yaml$"
    )
    leaked = sorted(name for name in members if excluded.search(name))
    assert leaked == []


def test_artifact_has_metadata_and_every_plugin_file(source, members):
    expected = set(REQUIRED) | set(plugin_files(source))
    assert sorted(expected - set(members)) == []


def test_manifest_describes_the_collection(installed):
    root = installed / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    info = json.loads((root / "MANIFEST.json").read_text())["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == ("managed_identity", "azure", "0.1.0")
    assert info["license"] == ["GPL-3.0-or-later"]
    assert info["dependencies"] == {}
    assert info["repository"] and info["documentation"] and info["issues"]

    files = json.loads((root / "FILES.json").read_text())["files"]
    for entry in files:
        path = root / entry["name"]
        if entry["ftype"] == "file":
            assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["chksum_sha256"], entry["name"]
        else:
            assert path.is_dir(), entry["name"]
    listed = {e["name"] for e in files if e["ftype"] == "file"}
    on_disk = {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} - {"MANIFEST.json", "FILES.json"}
    assert listed == on_disk


def test_installed_collection_is_complete(source, installed):
    root = installed / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    assert plugin_files(root) == plugin_files(source)
    runtime = yaml.safe_load((root / "meta" / "runtime.yml").read_text())
    assert runtime["requires_ansible"].startswith(">=")
    assert "azure" in runtime["action_groups"]

    listed = run(
        BIN / "ansible-galaxy",
        "collection",
        "list",
        FQCN,
        "--format",
        "json",
        "-p",
        str(installed),
        env=tool_env(installed),
    )
    versions = [c for path in json.loads(listed.stdout).values() for c in path.items()]
    assert versions == [(FQCN, {"version": GALAXY["version"]})]


def test_ansible_doc_lists_every_plugin(source, installed):
    for directory, doc_type in DOC_TYPES.items():
        plugin_dir = source / "plugins" / directory
        if doc_type is None or not plugin_dir.is_dir():
            continue
        expected = {f"{FQCN}.{p.stem}" for p in plugin_dir.glob("*.py") if p.stem != "__init__"}
        result = run(BIN / "ansible-doc", "-t", doc_type, "-l", FQCN, "--json", env=tool_env(installed))
        assert set(json.loads(result.stdout)) == expected, f"ansible-doc -t {doc_type}: {result.stderr}"


def test_action_group_names_existing_modules(source):
    group = yaml.safe_load((source / "meta" / "runtime.yml").read_text())["action_groups"]["azure"]
    modules = {p.stem for p in (source / "plugins" / "modules").glob("*.py")}
    names = [name.removeprefix(f"{FQCN}.") for name in group]
    assert sorted(set(names) - modules) == []
    assert len(names) == len(set(names))


def test_plugins_need_nothing_but_ansible_core_and_the_standard_library():
    """No Python requirement: every import of every plugin is the standard library, ansible-core or the collection;
    an optional import must sit in a try block that handles ImportError."""
    allowed = set(sys.stdlib_module_names) | {"ansible", "ansible_collections"}
    found = []
    for path in sorted((REPO / "plugins").rglob("*.py")):
        tree = ast.parse(path.read_text())
        optional = {
            id(node)
            for handler_owner in ast.walk(tree)
            if isinstance(handler_owner, ast.Try)
            and any(
                isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                for h in handler_owner.handlers
            )
            for statement in handler_owner.body
            for node in ast.walk(statement)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in allowed and id(node) not in optional:
                    found.append("%s: %s" % (path.relative_to(REPO), name))
    assert found == []
    assert not (REPO / "requirements.txt").exists()
    assert "python" not in yaml.safe_load((REPO / "execution-environment.yml").read_text())["dependencies"]


def test_execution_environment_context(tarball, tmp_path):
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    work = tmp_path / "ee"
    (work / "dist").mkdir(parents=True)
    for name in ("execution-environment.yml", "bindep.txt"):
        shutil.copy(REPO / name, work / name)
    shutil.copy(tarball, work / "dist" / TARBALL)
    context = tmp_path / "context"

    run(
        BIN / "ansible-builder",
        "create",
        "-f",
        "execution-environment.yml",
        "-c",
        str(context),
        "--output-filename",
        "Containerfile",
        cwd=work,
    )

    build = context / "_build"
    assert not (build / "requirements.txt").exists()  # no Python package to install
    assert (build / "bindep.txt").read_text() == (REPO / "bindep.txt").read_text()
    galaxy = yaml.safe_load((build / "requirements.yml").read_text())
    assert galaxy == {"collections": [{"name": f"/build/dist/{TARBALL}", "type": "file"}]}
    assert (build / "dist" / TARBALL).read_bytes() == tarball.read_bytes()
    assert ee["additional_build_files"] == [{"src": f"dist/{TARBALL}", "dest": "dist"}]
    containerfile = (context / "Containerfile").read_text()
    assert f'EE_BASE_IMAGE="{ee["images"]["base_image"]["name"]}"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert "introspect" in containerfile
