# -*- coding: utf-8 -*-
# Copyright (c) managed_identity.azure contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A controller-side access-token cache shared by every module run, lookup and play of one user.

Why: each module run is a process of its own, so without a shared cache a fleet run asks Entra ID for a new
token per task, which Entra ID answers with 429 AADSTS50196 (client request loop) once it sees too many identical
requests; Microsoft's confidential-client troubleshooting guide names the missing token cache as the cause.

One file per key (authority, tenant, client, scope), named by a hash of the key, in a directory only its owner can
enter (0700; files 0600). It holds access tokens and non-secret IDs only, never a secret or a federated assertion.
Writers replace a file atomically (a temporary file and ``os.replace``), so a reader never sees half a file; a
fetch happens under an exclusive ``fcntl`` lock of the key's ``.lock`` file, so on a cold cache one process fetches
while the others wait for it and then read its token. Controllers are POSIX, so ``fcntl`` is always there.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

from ansible_collections.managed_identity.azure.plugins.module_utils._errors import ConfigurationError

ENV_ENABLED = "ANSIBLE_AZURE_TOKEN_CACHE"
ENV_DIR = "ANSIBLE_AZURE_TOKEN_CACHE_DIR"
# Under Ansible's own per-user directory, next to its collections and temp files; not a shared temp directory.
DEFAULT_DIR = os.path.join("~", ".ansible", "managed_identity_azure", "token_cache")
# azure-identity and MSAL refresh 5 minutes before expiry; short-lived tokens at half their life.
REFRESH_MARGIN = 300.0
# How long a process waits for another one that is fetching the same token before it fetches on its own.
LOCK_WAIT = 120.0
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


@dataclass(frozen=True)
class CacheKey:
    """What a token is for. ``authority`` is the Entra ID authority host, or the managed identity endpoint."""

    authority: str
    tenant: str
    client: str
    scope: str

    def file_stem(self) -> str:
        text = "\n".join((self.authority.rstrip("/").lower(), self.tenant.lower(), self.client.lower(), self.scope))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:40]

    def as_dict(self) -> Dict[str, str]:
        return {"authority": self.authority, "tenant": self.tenant, "client": self.client, "scope": self.scope}


@dataclass(frozen=True)
class CachedToken:
    token: str  # secret: never in messages, never in repr
    expires_on: int  # epoch seconds; 0 when unknown
    obtained: float  # epoch seconds

    def __repr__(self) -> str:
        return "CachedToken(expires_on=%d)" % self.expires_on

    def fresh(self, now: float) -> bool:
        """Usable until a few minutes before it expires (half its life when it lives less than 10 minutes)."""
        if not self.expires_on:
            return False  # expiry unknown: not worth sharing
        lifetime = max(0.0, self.expires_on - self.obtained)
        return now < self.expires_on - min(REFRESH_MARGIN, lifetime / 2.0)


Fetch = Callable[[], Tuple[str, int]]


def enabled(option: Optional[bool], environ: Mapping[str, str]) -> bool:
    """The ``token_cache`` option, else ANSIBLE_AZURE_TOKEN_CACHE, else on."""
    if option is not None:
        return bool(option)
    value = (environ.get(ENV_ENABLED) or "").strip().lower()
    if not value or value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(
        "%s=%r is not a boolean; set it to true or false (false turns the token cache off)" % (ENV_ENABLED, value)
    )


def directory(option: Optional[str], environ: Mapping[str, str]) -> str:
    """The ``token_cache_dir`` option, else ANSIBLE_AZURE_TOKEN_CACHE_DIR, else DEFAULT_DIR; ``~`` expanded."""
    path = option or environ.get(ENV_DIR) or DEFAULT_DIR
    return os.path.abspath(os.path.expanduser(path))


def _widened(st: os.stat_result) -> bool:
    return st.st_uid != os.geteuid() or bool(stat.S_IMODE(st.st_mode) & 0o077)


class TokenCache:
    def __init__(
        self,
        path: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        lock_wait: float = LOCK_WAIT,
    ) -> None:
        self.path = path
        self._clock = clock
        self._sleep = sleep
        self._lock_wait = lock_wait
        self._checked = False

    # The directory -------------------------------------------------------------------------------------------
    def _refuse(self, what: str, path: str, st: os.stat_result) -> ConfigurationError:
        return ConfigurationError(
            "refusing to use the token cache: %s %s has mode %04o and owner uid %d, but it must be readable by its "
            "owner only (%s) and owned by uid %d. Fix it with 'chmod %s %s' (or remove it), set token_cache_dir "
            "(or %s) to a private directory, or turn the cache off with token_cache=false (or %s=false)"
            % (
                what,
                path,
                stat.S_IMODE(st.st_mode),
                st.st_uid,
                "0700" if what == "directory" else "0600",
                os.geteuid(),
                "700" if what == "directory" else "600",
                path,
                ENV_DIR,
                ENV_ENABLED,
            )
        )

    def _ensure_dir(self) -> None:
        if self._checked:
            return
        try:
            os.makedirs(self.path, mode=0o700, exist_ok=True)
            st = os.lstat(self.path)
        except OSError as exc:
            raise ConfigurationError(
                "the token cache directory %s cannot be created (%s); set token_cache_dir (or %s) to a directory "
                "you own, or token_cache=false" % (self.path, exc.strerror or exc.__class__.__name__, ENV_DIR)
            ) from None
        if not stat.S_ISDIR(st.st_mode):
            raise ConfigurationError(
                "the token cache directory %s is not a directory (a symbolic link or a file); set token_cache_dir "
                "(or %s) to a private directory" % (self.path, ENV_DIR)
            )
        if _widened(st):
            raise self._refuse("directory", self.path, st)
        self._checked = True

    # One entry ----------------------------------------------------------------------------------------------
    def _file(self, key: CacheKey) -> str:
        return os.path.join(self.path, key.file_stem() + ".json")

    def _read(self, key: CacheKey) -> Optional[CachedToken]:
        path = self._file(key)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ELOOP):
                return None
            raise
        with os.fdopen(fd, "r", encoding="utf-8") as handle:
            st = os.fstat(handle.fileno())
            if _widened(st):
                raise self._refuse("file", path, st)
            try:
                entry = json.load(handle)
                if entry.get("key") != key.as_dict():
                    return None  # a hash collision, or an entry written by hand for something else
                return CachedToken(str(entry["access_token"]), int(entry["expires_on"]), float(entry["obtained"]))
            except (ValueError, TypeError, KeyError, AttributeError):
                return None  # unreadable: fetch again and replace it

    def _write(self, key: CacheKey, token: CachedToken) -> None:
        entry: Dict[str, Any] = {
            "key": key.as_dict(),
            "expires_on": token.expires_on,
            "obtained": token.obtained,
            "access_token": token.token,
        }
        # mkstemp creates the file 0600, in the 0700 directory: the token is never readable by anyone else.
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=self.path)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(entry, handle)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self._file(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def _lock(self, key: CacheKey) -> Optional[int]:
        """The key's lock, held until the fd is closed; None when another process held it for too long."""
        path = os.path.join(self.path, key.file_stem() + ".lock")
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        deadline = self._clock() + self._lock_wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
            if self._clock() >= deadline:
                os.close(fd)
                return None
            self._sleep(0.05)

    def _io(self, operation: Callable[..., Any], *args: Any) -> Any:
        """``operation(*args)`` with file system errors (not the token request's) as a ConfigurationError."""
        try:
            return operation(*args)
        except OSError as exc:
            raise ConfigurationError(
                "the token cache %s cannot be used (%s: %s); fix it, set token_cache_dir (or %s) to another "
                "directory, or turn the cache off with token_cache=false"
                % (
                    self.path,
                    exc.filename if isinstance(exc.filename, str) else self.path,
                    exc.strerror or exc.__class__.__name__,
                    ENV_DIR,
                )
            ) from None

    # Public API -------------------------------------------------------------------------------------------
    def get(self, key: CacheKey, fetch: Fetch, rejected: Optional[str] = None) -> CachedToken:
        """A fresh token for ``key``: the cached one, or one from ``fetch`` (which returns (token, expires_on)).

        ``rejected`` is a token the caller saw refused (401 expired or revoked): if the cache still holds it, it is
        dropped and fetched again; if another process has already replaced it, that replacement is used.
        """
        self._ensure_dir()
        cached = self._io(self._read, key)
        if cached is not None and cached.fresh(self._clock()) and cached.token != rejected:
            return cached
        fd = self._io(self._lock, key)
        try:
            if fd is not None:
                # Whoever held the lock may just have written the token we need.
                cached = self._io(self._read, key)
                if cached is not None and cached.fresh(self._clock()) and cached.token != rejected:
                    return cached
            obtained = self._clock()
            token, expires_on = fetch()
            fetched = CachedToken(token, int(expires_on), obtained)
            if fd is not None:
                self._io(self._write, key, fetched)
            return fetched
        finally:
            if fd is not None:
                os.close(fd)
