"""Agent mode: post a finished run to an Assay server's API, so a fleet reports in without the
server holding SSH keys. The server decides, from the token, who submits and for which
organization, and checks that the asset exists there.

Standard library HTTP only (urllib): certificate verification stays on, every request has a
timeout, and the server's problem document is shown when it refuses.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assay.errors import AssayError

if TYPE_CHECKING:
    from assay.audit.runner import AuditRun

TIMEOUT_SECONDS = 60.0
MAX_RESPONSE_BYTES = 1024 * 1024


class SubmitFailed(AssayError):
    """The server could not be reached or refused the run."""


def host_name(root: Path | None) -> str:
    """The audited host's name: /etc/hostname of the root (or of this machine), else the name
    this machine reports."""
    from assay.audit.roots import LocalSource, RootSource
    from assay.audit.source import SourceError

    source = LocalSource() if root is None else RootSource(root)
    try:
        name = source.read_bytes("/etc/hostname", limit=1024).decode("utf-8", "replace").strip()
    except SourceError:
        name = ""
    if name:
        return name.splitlines()[0].strip()
    if root is None:
        return socket.gethostname()
    raise SubmitFailed(f"{root} has no /etc/hostname: name the asset with --asset")


def _request(url: str, token: str, *, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked in `submit`
        url,
        data=data,
        method="GET" if body is None else "POST",
        headers={
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            **({"Content-Type": "application/json"} if body is not None else {}),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            return dict(json.loads(response.read(MAX_RESPONSE_BYTES)))
    except urllib.error.HTTPError as exc:
        raise SubmitFailed(f"{url}: {exc.code} {_problem(exc)}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SubmitFailed(f"{url}: cannot reach the server: {reason}") from None
    except ValueError:
        raise SubmitFailed(f"{url}: the server did not answer with JSON") from None


def _problem(error: urllib.error.HTTPError) -> str:
    try:
        problem = json.loads(error.read(MAX_RESPONSE_BYTES))
        return str(problem.get("detail") or problem.get("title") or error.reason)
    except (ValueError, AttributeError, OSError):
        return str(error.reason)


def submit(base_url: str, token: str, org: str | None, asset: str, run: AuditRun) -> dict[str, Any]:
    """Post the run; returns the stored run as the server describes it. Without `org`, the
    token's own organization (an IT operator's or an agent's token of the client)."""
    parsed = urllib.parse.urlsplit(base_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SubmitFailed(f"--submit needs an http(s) URL, not {base_url!r}")
    api = base_url.rstrip("/") + "/api/v1"
    if org is None:
        org = str(_request(f"{api}/me", token)["organization"]["slug"])
    target = f"{api}/orgs/{urllib.parse.quote(org, safe='')}/audit-runs"
    return _request(target, token, body={"asset": asset, "run": run.to_dict()})
