"""One HTTP POST from the local rules engine: HTTP actions and destination confirmation requests.

AWS IoT sends only to https:// URLs, and keyroll declares https:// URLs everywhere. Locally the key
service listens on plain http, with no certificate, so an https:// URL whose host is a loopback
address (127.0.0.1 and the rest of 127.0.0.0/8, localhost, ::1) is sent over plain http to the same
host and port. Any other https:// URL is sent over TLS with certificate checks, as AWS would.
Redirects are not followed: a 3xx is an answer like any other.
"""

from __future__ import annotations

import http.client
import ipaddress
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

# What a single attempt may take. AWS reports HTTP action timeouts "after 4000 ms".
TIMEOUT_SECONDS = 4.0
# Read at most this much of an answer; the rules engine only needs the status.
_MAX_ANSWER_BYTES = 64 * 1024


class SendFailed(Exception):
    """Nothing answered: refused connection, DNS failure, TLS failure or timeout."""


@dataclass(frozen=True)
class Target:
    scheme: str  # what is actually used: "http" or "https"
    host: str
    port: int
    path: str  # path and query string


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def target_of(url: str) -> Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise SendFailed(f"{url!r} is not an http(s) URL")
    scheme = "http" if parts.scheme == "https" and is_loopback(parts.hostname) else parts.scheme
    default_port = 443 if parts.scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme, parts.hostname, parts.port or default_port, path)


def post(url: str, headers: list[tuple[str, str]], body: bytes, timeout: float = TIMEOUT_SECONDS) -> int:
    """POSTs and returns the answer's status, or raises SendFailed when nothing answers."""
    target = target_of(url)
    if target.scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            target.host, target.port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        connection.putrequest("POST", target.path)
        for name, value in headers:
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        answer = connection.getresponse()
        answer.read(_MAX_ANSWER_BYTES)
        return answer.status
    except ValueError:
        # http.client quotes the offending header value in its message; it may be a key.
        raise SendFailed("a header name or value holds characters HTTP does not allow (such as a line break)") from None
    except (OSError, http.client.HTTPException) as error:
        # Only the error's kind and text: never the headers, which may carry a key.
        raise SendFailed(f"{type(error).__name__}: {error}") from None
    finally:
        connection.close()
