"""Reading a repository tarball safely: members are read in memory only, links, special files and
names that are not plain relative paths are skipped, a member over 1 MiB is never read, and the
archive is bounded compressed (while downloading, through the fake GitHub's 302 redirect) and
unpacked."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.github import tarball
from app.github.client import app_client, installation_client
from app.github.tarball import TarballTooLarge, read_members, repository_path
from tests.app.fake_github import FakeGitHub, start
from tests.gitrepo import git

TOP = "octo-shop-abc1234/"


def archive(members: list[tuple[tarfile.TarInfo, bytes]]) -> io.BytesIO:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isfile() else 0
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    out.seek(0)
    return out


def entry(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def test_only_plain_files_under_the_top_folder_are_read() -> None:
    data = archive(
        [
            (entry(TOP, tarfile.DIRTYPE), b""),
            (entry(TOP + "app/main.py"), b"print('ok')\n"),
            (entry(TOP + "link", tarfile.SYMTYPE, "../../etc/passwd"), b""),
            (entry(TOP + "hard", tarfile.LNKTYPE, TOP + "app/main.py"), b""),
            (entry(TOP + "big.sql"), b"x" * (1024 * 1024 + 1)),
            (entry(TOP + "web/yarn.lock"), b"# yarn lockfile v1\n" + b"x" * (1024 * 1024)),
            (entry(TOP + "../escape.py"), b"evil\n"),
            (entry(TOP + "app/./dot.py"), b"evil\n"),
            (entry("/etc/cron.d/x"), b"evil\n"),
            (entry(TOP + "pipe", tarfile.FIFOTYPE), b""),
        ]
    )
    read: dict[str, bytes] = {}
    skipped: dict[str, int] = {}
    read_members(data, lambda _p, _s: True, read.__setitem__, skipped)
    assert set(read) == {"app/main.py", "web/yarn.lock"}  # a lock file is kept however big
    assert read["app/main.py"] == b"print('ok')\n"
    assert skipped == {"symbolic link": 2, "larger than 1 MiB": 1, tarball.UNSAFE_NAME: 3}


def test_only_wanted_members_are_handed_over() -> None:
    data = archive([(entry(TOP + "a.py"), b"a\n"), (entry(TOP + "b.py"), b"b\n")])
    read: dict[str, bytes] = {}
    read_members(data, lambda p, _s: p == "b.py", read.__setitem__, {})
    assert read == {"b.py": b"b\n"}


def test_an_archive_that_unpacks_too_large_is_refused() -> None:
    data = archive([(entry(TOP + f"f{i}.txt"), b"y" * 4096) for i in range(10)])
    with pytest.raises(TarballTooLarge):
        read_members(data, lambda _p, _s: True, lambda _p, _d: None, {}, unpacked_limit=20_000)


def test_tar_metadata_counts_towards_the_limits() -> None:
    """A PAX header (or a GNU long name) is unpacked too: one of 2 MB, which tarfile reads whole
    before any member is seen, is refused like a member of that size, in all and between two
    members."""
    huge = entry(TOP + "a.py")
    huge.pax_headers = {"comment": "z" * 2_000_000}
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        huge.size = 2
        tar.addfile(huge, io.BytesIO(b"a\n"))
    for limits in ({"unpacked_limit": 1_000_000}, {"between_members": 1_000_000}):
        out.seek(0)
        with pytest.raises(TarballTooLarge):
            read_members(out, lambda _p, _s: True, lambda _p, _d: None, {}, **limits)
    out.seek(0)
    read: dict[str, bytes] = {}
    read_members(out, lambda _p, _s: True, read.__setitem__, {})  # within the defaults
    assert read == {"a.py": b"a\n"}


@pytest.mark.parametrize(
    ("name", "path"),
    [
        (TOP + "a/b.py", "a/b.py"),
        (TOP, None),
        (TOP + "a/../b", None),
        ("noslash", None),
        (TOP + "/abs", None),
        ("/etc/passwd", None),
        ("other-top/a.py", None),
    ],
)
def test_repository_paths(name: str, path: str | None) -> None:
    assert repository_path(name, TOP.rstrip("/")) == path


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FakeGitHub, str]]:
    root = tmp_path / "shop"
    root.mkdir()
    (root / "main.py").write_text("print('ok')\n" * 200)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    github = FakeGitHub(repo_dir=root)
    server = start(github)
    yield github, git(root, "rev-parse", "HEAD")
    server.shutdown()
    assert github.problems == [], github.problems


def client(url: str):  # type: ignore[no-untyped-def]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return installation_client(app_client(4242, pem, url), 77)


async def test_the_download_follows_the_redirect_and_is_bounded(
    served: tuple[FakeGitHub, str],
) -> None:
    fake, sha = served
    gh = client(fake.url)
    async with gh:
        spool = await tarball.download(gh, "octo", "shop", sha)
        read: dict[str, bytes] = {}
        read_members(spool, lambda _p, _s: True, read.__setitem__, {})
        assert read == {"main.py": b"print('ok')\n" * 200}
        with pytest.raises(TarballTooLarge):
            await tarball.download(gh, "octo", "shop", sha, limit=100)
    paths = [r.path for r in fake.requests if r.method == "GET"]
    assert paths.count(f"/repos/octo/shop/tarball/{sha}") == 2
    assert sum(p.startswith("/_codeload/octo/shop/legacy.tar.gz/") for p in paths) == 2
