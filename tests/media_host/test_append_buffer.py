from __future__ import annotations

import asyncio

from media_host.append_buffer import AppendBuffer


class FlakyBlob:
    """An append target that fails the first `failures` appends, like a storage outage."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.data = b""
        self.calls = 0

    async def append(self, data: bytes, expected_offset: int | None) -> int:
        self.calls += 1
        await asyncio.sleep(0)
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("storage unavailable")
        assert expected_offset in (None, len(self.data))
        self.data += data
        return len(self.data)


def test_lines_are_retried_until_the_store_recovers() -> None:
    async def scenario() -> FlakyBlob:
        blob = FlakyBlob(failures=3)
        buffer = AppendBuffer(blob.append, retry_delays=(0.01,))
        buffer.add("one\n")
        buffer.add("two\n")
        await asyncio.sleep(0.1)
        buffer.add("three\n")
        assert await buffer.close(timeout=2.0)
        return blob

    blob = asyncio.run(scenario())
    assert blob.data == b"one\ntwo\nthree\n"
    assert blob.calls >= 4


def test_add_never_waits_for_storage() -> None:
    async def scenario() -> None:
        gate = asyncio.Event()

        async def slow_append(data: bytes, expected_offset: int | None) -> int:
            await gate.wait()
            return 0

        buffer = AppendBuffer(slow_append)
        for i in range(1000):
            buffer.add(f"{i}\n")  # returns at once although the store hangs
        assert buffer.pending_lines == 1000
        assert not await buffer.close(timeout=0.05)  # the deadline bounds the final flush

    asyncio.run(scenario())


def test_a_full_buffer_drops_the_oldest_lines() -> None:
    async def scenario() -> None:
        async def failing(data: bytes, expected_offset: int | None) -> int:
            raise ConnectionError("down")

        buffer = AppendBuffer(failing, max_buffered_bytes=20, retry_delays=(10.0,))
        for i in range(10):
            buffer.add(f"line{i}\n")  # 6 bytes each
        assert buffer.dropped_lines == 7 and buffer.pending_lines == 3
        await buffer.close(timeout=0.01)

    asyncio.run(scenario())


def test_a_retried_append_that_had_landed_is_not_written_twice(azurite_connection_string, container_name) -> None:
    from media_host.blob_store import CallBlobStore
    from shared.settings import StorageSettings

    async def scenario() -> bytes:
        store = CallBlobStore.from_settings(StorageSettings(azurite_connection_string, None, container_name))
        try:
            end = await store.append("calls/x/transcript.jsonl", b"one\n")
            end = await store.append("calls/x/transcript.jsonl", b"two\n", end)
            # The answer to this append was lost: the retry carries the same expected offset.
            await store.append("calls/x/transcript.jsonl", b"three\n", end)
            again = await store.append("calls/x/transcript.jsonl", b"three\n", end)
            # Another writer moved the end: a stale offset with different bytes still appends.
            await store.append("calls/x/transcript.jsonl", b"other\n", again)
            mine = await store.append("calls/x/transcript.jsonl", b"four\n", again)
            assert mine == len(b"one\ntwo\nthree\nother\nfour\n")
            blob = store._container.get_blob_client("calls/x/transcript.jsonl")
            return await (await blob.download_blob()).readall()
        finally:
            await store.close()

    assert asyncio.run(scenario()) == b"one\ntwo\nthree\nother\nfour\n"
