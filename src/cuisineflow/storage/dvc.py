"""Driving DVC: the project's repository, its remote in the store, add/push/pull/status/repro."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cuisineflow.errors import ProjectError
from cuisineflow.settings import project_folder

if TYPE_CHECKING:  # finding the project must not load fsspec and pyarrow
    from cuisineflow.storage.store import Store

REMOTE_NAME = "store"


def _unreadable(dvc_file: str, why: str, conflict: bool = False) -> ProjectError:
    fix = "resolve the merge conflict" if conflict else f"`git checkout {dvc_file}`"
    return ProjectError(
        f"{dvc_file} is unreadable ({why}): {fix}, or run `cuisineflow data import` again"
    )


@dataclass(frozen=True)
class DvcRepo:
    """A DVC repository (the cuisineflow project) rooted at `root`."""

    root: Path

    @classmethod
    def find(cls, start: Path | None = None) -> DvcRepo:
        """The repository holding `start` (default: the current folder)."""
        folder = project_folder(start)
        if folder is not None:
            return cls(folder)
        here = (start or Path.cwd()).resolve()
        raise ProjectError(
            f"{here} is not inside a DVC project (no .dvc folder here or above): "
            "run cuisineflow from the project's folder, or `git init && dvc init` a new one"
        )

    @classmethod
    def root_or_cwd(cls) -> Path:
        """The project's root, where the store and caches are resolved; else the current folder."""
        try:
            return cls.find().root
        except ProjectError:
            return Path.cwd()

    def tracked_hash(self, dvc_file: str) -> str | None:
        """The content hash DVC recorded for a tracked file or folder (its .dvc file)."""
        out = self._tracked_out(dvc_file)
        return str(out["md5"]) if out and out.get("md5") else None

    def _tracked_out(self, dvc_file: str) -> dict[str, Any] | None:
        """The output a .dvc file records (None: no file, or no output in it); a file that
        is not what `dvc add` writes (a merge conflict, a hand edit) is a ProjectError."""
        path = self.root / dvc_file
        if not path.exists():
            return None
        data = path.read_bytes()
        lines = data.decode("utf-8", "replace").splitlines()
        if any(line.startswith(("<<<<<<< ", ">>>>>>> ")) for line in lines):
            raise _unreadable(dvc_file, "it holds git's merge-conflict markers", conflict=True)
        try:
            content = yaml.safe_load(data)
        except yaml.YAMLError as error:  # ReaderError too: bytes that are not UTF-8
            mark = getattr(error, "problem_mark", None)
            raise _unreadable(
                dvc_file, "not YAML" + (f" at line {mark.line + 1}" if mark else "")
            ) from None
        if content is None:  # cut off (`dvc add` never writes an empty one)
            raise _unreadable(dvc_file, "it is empty")
        if not isinstance(content, dict):
            raise _unreadable(dvc_file, "not a mapping holding `outs`")
        outs = content.get("outs")
        if not outs or not isinstance(outs, list) or not all(isinstance(o, dict) for o in outs):
            raise _unreadable(dvc_file, "`outs` is not a list of outputs")
        out: dict[str, Any] = outs[0]
        if not isinstance(out.get("path"), str) or not isinstance(out.get("md5", ""), str):
            raise _unreadable(dvc_file, "its output has no `path`, or a `md5` that is not text")
        return out

    @staticmethod
    def _cached_object(repo: Any, out: dict[str, Any]) -> Path:
        """Where the local cache keeps an output's object (DVC 3's files/md5, or DVC 2's)."""
        cache = repo.cache.local if out.get("hash") == "md5" else repo.cache.legacy
        return Path(cache.oid_to_path(str(out.get("md5", ""))))

    def remote_key(self, dvc_file: str) -> tuple[str, bool] | None:
        """The store key of a tracked output's object in the DVC remote, and whether the
        local cache holds it too (None: nothing tracked)."""
        from dvc.repo import Repo

        out = self._tracked_out(dvc_file)
        if not out or not out.get("md5"):
            return None
        digest = str(out["md5"])
        folder = "dvc/files/md5" if out.get("hash") == "md5" else "dvc"
        with Repo(str(self.root)) as repo:
            cached = self._cached_object(repo, out).is_file()
        return f"{folder}/{digest[:2]}/{digest[2:]}", cached

    def missing_in(self, store: Store, dvc_file: str) -> str | None:
        """Why pulling a tracked output would fail: neither the local cache nor the store's
        remote holds it (None: one of them does, or nothing is tracked)."""
        tracked = self.remote_key(dvc_file)
        if tracked is None or tracked[1] or store.exists(tracked[0]):
            return None
        return (
            f"the store, {store.describe()}, does not hold what {dvc_file} tracks "
            f"({self.tracked_hash(dvc_file)})"
        )

    def changes_since_added(self, dvc_file: str) -> list[str]:
        """How a tracked folder differs from what its .dvc file records ([] if it does not,
        or if nothing is tracked).

        Compared file by file with the folder listing in DVC's cache, hashed as DVC hashed
        them (DVC 2's layout reads text with CRLF as LF), leaving out what .dvcignore does;
        without that listing, by the file count and total size the .dvc file records. Read
        directly, not through `dvc status`: stages run under `dvc repro`'s lock.
        """
        from dvc.repo import Repo
        from dvc_data.hashfile.hash import file_md5

        out = self._tracked_out(dvc_file)
        if not out:
            return []
        folder = (self.root / dvc_file).parent / str(out.get("path", ""))
        if not folder.exists():
            return [f"{folder.relative_to(self.root).as_posix()} is missing"]
        with Repo(str(self.root)) as repo:
            found = repo.dvcignore.find(repo.fs, str(folder))
            files = {Path(f).relative_to(folder).as_posix(): Path(f) for f in sorted(found)}
            listing = self._cached_object(repo, out)
        if str(out.get("md5", "")).endswith(".dir") and listing.is_file():
            hashing = "md5" if out.get("hash") == "md5" else "md5-dos2unix"
            recorded = {e["relpath"]: e["md5"] for e in json.loads(listing.read_text())}
            changes = [f"added {name}" for name in files if name not in recorded]
            changes += [f"removed {name}" for name in recorded if name not in files]
            changes += [
                f"modified {name}"
                for name, file in files.items()
                if name in recorded and file_md5(str(file), name=hashing) != recorded[name]
            ]
            return changes
        size = sum(p.stat().st_size for p in files.values())
        if out.get("nfiles") not in (None, len(files)) or out.get("size") not in (None, size):
            return [f"{len(files)} files of {size} bytes, recorded {out.get('nfiles')} of "
                    f"{out.get('size')}"]  # fmt: skip
        return []

    def run(self, *args: str, quiet: bool = False, stream: bool = False) -> str:
        """Run a DVC command in the repository; its output is returned, failures raised.

        With `stream`, DVC writes straight to the terminal (progress of long commands).
        """
        command = [sys.executable, "-m", "dvc", *args]
        # Stage commands (`cuisineflow validate`, ...) must run from this same environment.
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
        env = {**os.environ, "DVC_NO_ANALYTICS": "1", "PATH": path}
        if stream:
            code = subprocess.run(command, cwd=self.root, env=env, check=False).returncode
            if code != 0:
                raise ProjectError(f"`dvc {' '.join(args)}` failed (exit {code}); see above")
            return ""
        result = subprocess.run(
            command, cwd=self.root, env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            message = (result.stderr.strip() or result.stdout.strip()).splitlines()
            detail = "\n".join(line for line in message if line.strip())[-2000:]
            raise ProjectError(f"`dvc {' '.join(args)}` failed:\n{detail}")
        if not quiet and result.stdout.strip():
            print(result.stdout.rstrip())
        return result.stdout

    def configure_remote(self, store: Store) -> str:
        """Point the default remote at <store>/dvc, in the untracked local config.

        Credentials are never written: DVC takes them from the standard AWS chain.
        Done in-process through DVC's config API: three `dvc remote` calls cost seconds.
        """
        from dvc.config import Config

        url = store.url("dvc")
        if not store.is_s3:
            Path(url).mkdir(parents=True, exist_ok=True)
        remote: dict[str, str] = {"url": url}
        if store.endpoint_url:
            remote["endpointurl"] = store.endpoint_url
        if store.region:
            remote["region"] = store.region
        config = Config(dvc_dir=str(self.root / ".dvc"))
        with config.edit("local") as local:
            local.setdefault("remote", {})[REMOTE_NAME] = remote
            local.setdefault("core", {})["remote"] = REMOTE_NAME
        return url

    def add(self, path: str) -> None:
        """Track a file or folder with DVC.

        A .dvc file left unreadable (a merge conflict) is replaced: `dvc add` refuses to
        read it, and records the path anew whatever it said.
        """
        try:
            self._tracked_out(f"{path}.dvc")
        except ProjectError:
            (self.root / f"{path}.dvc").unlink()
        self.run("add", path, quiet=True)

    def push(self, *targets: str) -> str:
        """Upload tracked data to the store's remote."""
        return self.run("push", "--remote", REMOTE_NAME, *targets, stream=True)

    def pull(self, *targets: str) -> str:
        """Download tracked data from the store's remote into the workspace."""
        return self.run("pull", "--remote", REMOTE_NAME, *targets, stream=True)

    def cloud_status(self) -> dict[str, str]:
        """What differs between the cache and the store's remote: {path: "new", ...}, "new"
        in the cache only, "deleted" in the store only; empty when they are in sync (DVC's
        JSON: its text is for people)."""
        shown = self.run("status", "--cloud", "--remote", REMOTE_NAME, "--json", quiet=True)
        status: dict[str, str] = json.loads(shown or "{}")
        return status

    def repro(self, *args: str) -> str:
        """Reproduce the pipeline's stages that are out of date."""
        return self.run("repro", *args, stream=True)
