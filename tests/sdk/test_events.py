"""Log reading in bounded windows (Besu caps eth_getLogs at 1,000 blocks by default)."""

from __future__ import annotations

from telcochain.events import get_logs


def test_windows_of_any_size_return_the_same_logs_in_chain_order(client):
    for n in range(6):
        client.constitution.rotate_trust_key(bytes([n + 1]) * 32)
    address = client.constitution.address
    whole = get_logs(client.rpc, address, from_block=0)
    assert len(whole) >= 6
    for window in (1, 2, 3, 7):
        assert get_logs(client.rpc, address, from_block=0, max_range=window) == whole
    keys = [(log.block_number, log.log_index) for log in whole]
    assert keys == sorted(keys)


def test_topics_filter_by_indexed_argument(client, dev_accounts):
    client.constitution.rotate_trust_key(b"\x01" * 32)
    topic = client.contract("Constitution").topic("TrustKeyRefreshed")
    mine = "0x" + "00" * 12 + client.address[2:].lower()
    logs = get_logs(client.rpc, client.constitution.address, [topic, mine], max_range=2)
    assert logs and all(log.topics[1] == mine for log in logs)
