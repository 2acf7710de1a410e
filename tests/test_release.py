"""`make release VERSION=vX.Y.Z`: an annotated tag with the changelog since the previous tag, pushed to the
remote; a dirty tree, a bad version or an existing tag is refused; nothing is ever committed. Run against a
clone of a bare repository in tmp_path."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

MAKEFILE = Path(__file__).resolve().parents[1] / "Makefile"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
    "GIT_CONFIG_GLOBAL": "/dev/null",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, **IDENTITY}
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True).stdout


def release(clone: Path, version: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "-s", "-f", str(MAKEFILE), "release", f"VERSION={version}"],
        cwd=clone, env={**os.environ, **IDENTITY}, capture_output=True, text=True, check=False,
    )  # fmt: skip


def commit(clone: Path, name: str, subject: str) -> None:
    (clone / name).write_text(subject)
    git(clone, "add", name)
    git(clone, "commit", "-q", "-m", subject)


@pytest.fixture()
def clone(tmp_path: Path) -> Path:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", str(remote), str(work))
    commit(work, "a", "first change")
    git(work, "push", "-q", "origin", "HEAD")
    return work


def test_release_tags_with_the_changelog_and_pushes_the_tag_alone(clone: Path) -> None:
    head = git(clone, "rev-parse", "HEAD")
    run = release(clone, "v0.1.0")
    assert run.returncode == 0, run.stderr
    assert git(clone, "cat-file", "-t", "v0.1.0").strip() == "tag"  # annotated
    assert git(clone, "rev-parse", "HEAD") == head  # nothing committed
    assert git(clone, "for-each-ref", "--format=%(contents)", "refs/tags/v0.1.0").startswith(
        "awscost v0.1.0\n\nChanges:\n\n- first change ("
    )
    remote = clone.parent / "remote.git"
    assert git(remote, "rev-parse", "v0.1.0^{commit}") == head

    commit(clone, "b", "second change")
    commit(clone, "c", "third change")
    git(clone, "push", "-q", "origin", "HEAD")
    run = release(clone, "v0.2.0")
    assert run.returncode == 0, run.stderr
    message = git(clone, "for-each-ref", "--format=%(contents)", "refs/tags/v0.2.0")
    lines = message.splitlines()
    assert lines[:4] == ["awscost v0.2.0", "", "Changes since v0.1.0:", ""]
    assert [line.split(" (")[0] for line in lines[4:] if line] == ["- third change", "- second change"]
    assert git(remote, "tag").split() == ["v0.1.0", "v0.2.0"]


def test_release_refuses_a_dirty_tree_a_bad_version_and_an_existing_tag(clone: Path) -> None:
    (clone / "a").write_text("edited")
    run = release(clone, "v0.1.0")
    assert run.returncode != 0 and "the tree is dirty" in run.stderr
    git(clone, "checkout", "-q", "a")
    (clone / "untracked").write_text("x")
    assert "the tree is dirty" in release(clone, "v0.1.0").stderr
    (clone / "untracked").unlink()

    assert "VERSION=vX.Y.Z, not '0.1'" in release(clone, "0.1").stderr
    assert release(clone, "v0.1.0").returncode == 0
    assert "tag v0.1.0 exists" in release(clone, "v0.1.0").stderr
    # A tag another clone pushed is refused too, before anything is tagged here.
    git(clone, "tag", "-d", "v0.1.0")
    again = release(clone, "v0.1.0")
    assert again.returncode != 0 and "tag v0.1.0 exists on origin" in again.stderr
    assert git(clone, "tag") == ""
    assert git(clone, "log", "--format=%s").splitlines() == ["first change"]
