"""Standard Webhooks signatures, and which addresses may be sent to."""

from __future__ import annotations

import asyncio
import base64
import ipaddress
from typing import Any

import pytest

from app.events import signing, targets
from app.service import Service


class TestSigning:
    def test_the_specifications_published_vector(self) -> None:
        signature = signing.signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            b'{"test": 2432232314}',
        )

        assert signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

    def test_new_secrets_are_whsec_and_32_random_bytes(self) -> None:
        secrets = {signing.new_secret() for _ in range(20)}

        assert len(secrets) == 20
        for secret in secrets:
            assert secret.startswith("whsec_")
            assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 32

    @pytest.mark.parametrize("secret", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!"])
    def test_a_malformed_secret_is_refused(self, secret: str) -> None:
        with pytest.raises(ValueError, match="whsec_"):
            signing.secret_key(secret)

    def test_headers_carry_id_timestamp_signature_and_json(self) -> None:
        secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

        headers = signing.headers(secret, "msg_1", 1700000000, b"{}")

        assert headers == {
            "content-type": "application/json",
            "webhook-id": "msg_1",
            "webhook-timestamp": "1700000000",
            "webhook-signature": signing.signature(secret, "msg_1", 1700000000, b"{}"),
        }


def resolving(*addresses: str) -> targets.Resolver:
    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


class TestTargets:
    @pytest.mark.parametrize(
        "address",
        [
            "10.0.0.1",
            "172.16.5.4",
            "192.168.1.1",
            "127.0.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "224.0.0.1",
            "240.0.0.1",
            "::1",
            "fe80::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "2001:db8::1",
        ],
    )
    def test_non_public_addresses_are_not_public(self, address: str) -> None:
        assert not targets.is_public(ipaddress.ip_address(address))

    @pytest.mark.parametrize("address", ["93.184.215.14", "2606:4700::1111"])
    def test_public_addresses_are_public(self, address: str) -> None:
        assert targets.is_public(ipaddress.ip_address(address))

    async def test_every_resolved_address_must_be_public(self) -> None:
        with pytest.raises(targets.TargetError, match="10.0.0.1"):
            await targets.check(
                "https://hooks.example.com/x",
                allow_private=False,
                resolve=resolving("93.184.215.14", "10.0.0.1"),
            )

    async def test_resolution_uses_the_urls_port(self) -> None:
        asked: list[tuple[str, int]] = []

        async def resolve(host: str, port: int) -> list[str]:
            asked.append((host, port))
            return ["93.184.215.14"]

        for url in ("https://a.example/", "http://a.example/", "http://a.example:81/"):
            await targets.check(url, allow_private=False, resolve=resolve)

        assert asked == [("a.example", 443), ("a.example", 80), ("a.example", 81)]

    async def test_system_resolver_reads_an_address_literal_without_dns(
        self,
    ) -> None:
        assert await targets.system_resolve("127.0.0.1", 80) == ["127.0.0.1"]

    def test_pin_keeps_name_port_and_path(self) -> None:
        target = targets.Target(
            targets.parse_url("https://hooks.example.com:8443/a?b=1"),
            ipaddress.ip_address("2606:4700::1111"),
        )

        url, headers, extensions = targets.pin(target)

        assert str(url) == "https://[2606:4700::1111]:8443/a?b=1"
        assert headers == {"host": "hooks.example.com:8443"}
        assert extensions == {"sni_hostname": "hooks.example.com"}

    def test_plain_http_pins_without_a_tls_name(self) -> None:
        target = targets.Target(
            targets.parse_url("http://hooks.example.com/a"),
            ipaddress.ip_address("93.184.215.14"),
        )

        url, headers, extensions = targets.pin(target)

        assert (str(url), headers, extensions) == (
            "http://93.184.215.14/a",
            {"host": "hooks.example.com"},
            {},
        )


async def test_start_schedule_runs_the_sender_and_close_stops_it(
    outgoing: Any,
) -> None:
    await outgoing.subscribe(["key_result.progress_changed"])
    outgoing.configure(webhook_poll_interval=30.0)
    service: Service = outgoing.service

    service.start_schedule()
    background = set(service._tasks)
    # A sync wakes the sender at once instead of after the poll interval.
    await outgoing.sync(**{"q-web": 20.0})
    for _ in range(200):
        if outgoing.subscriber.requests:
            break
        await asyncio.sleep(0.01)

    [request] = outgoing.subscriber.requests
    assert request.headers["webhook-signature"].startswith("v1,")
    assert background
    await service.close()
    assert all(task.done() for task in background)
