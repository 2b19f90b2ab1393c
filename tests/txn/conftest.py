import pytest

from tests.pagecache.harness import Engine


@pytest.fixture
async def engine(tmp_path):
    e = await Engine.start(tmp_path)
    yield e
    await e.stop()
