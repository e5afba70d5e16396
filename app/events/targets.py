"""Where subscribers may be: public http(s) addresses only, unless allowed.

A subscription URL is checked when it is created and again before every
attempt, since what a name resolves to can change. The attempt then goes to
the very address that was checked (`pin`), so a name that resolves to a
public address for the check and to an internal one a moment later cannot
slip through.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

Resolver = Callable[[str, int], Awaitable[list[str]]]
"""Looks up a host name (and port); returns its addresses as text."""


class TargetError(ValueError):
    """A subscription URL that cannot or may not be sent to."""


async def system_resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, through the operating system."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_url(url: str) -> httpx.URL:
    """Check the form of a subscription URL.

    Raises:
        TargetError: Not http(s), no host, or credentials in it.
    """
    try:
        parsed = httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise TargetError(f"{url!r} is not a URL: {exc}") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise TargetError(
            f"the URL {url!r} must start with http:// or https:// and name a host"
        )
    if parsed.userinfo:
        raise TargetError(
            "the URL must not carry a user name or password; it is shown to "
            "anyone who can list subscriptions. Check the signature instead"
        )
    return parsed


def is_public(address: IPAddress) -> bool:
    """Whether an address is globally routable unicast."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Target:
    """A checked subscription URL and the address to send to."""

    url: httpx.URL
    address: IPAddress | None
    """None when private targets are allowed and nothing was looked up."""


async def check(url: str, *, allow_private: bool, resolve: Resolver) -> Target:
    """Check a subscription URL and resolve its host.

    Args:
        url: The subscription's URL.
        allow_private: Accept any address without looking it up.
        resolve: The name look-up to use.

    Returns:
        The URL and the first resolved address.

    Raises:
        TargetError: The URL is malformed, its host does not resolve, or any
            of its addresses is not public.
    """
    parsed = parse_url(url)
    if allow_private:
        return Target(parsed, None)

    host = parsed.host
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        found = await resolve(host, port)
    except OSError as exc:
        raise TargetError(f"cannot resolve {host!r}: {exc.strerror or exc}") from exc
    addresses = [ipaddress.ip_address(text.split("%", 1)[0]) for text in found]
    if not addresses:
        raise TargetError(f"{host!r} resolves to no address")

    blocked = [address for address in addresses if not is_public(address)]
    if blocked:
        raise TargetError(
            f"{host!r} resolves to {blocked[0]}, which is not a public address; "
            "okrsync sends only to public addresses unless "
            "OKRSYNC_WEBHOOK_ALLOW_PRIVATE_TARGETS is true"
        )
    return Target(parsed, addresses[0])


def pin(target: Target) -> tuple[httpx.URL, dict[str, str], dict[str, str]]:
    """The URL, extra headers and request extensions that reach the checked address.

    The host in the URL is replaced by the address; `Host` and, for https, the
    TLS server name (SNI, also used to verify the certificate) keep the name.
    """
    url = target.url
    if target.address is None:
        return url, {}, {}
    host = url.host
    pinned = url.copy_with(host=str(target.address))
    default_port = 443 if url.scheme == "https" else 80
    host_header = host if url.port in (None, default_port) else f"{host}:{url.port}"
    extensions = {"sni_hostname": host} if url.scheme == "https" else {}
    return pinned, {"host": host_header}, extensions
