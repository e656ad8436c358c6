"""The Protocols each part of DraftVault is typed against (store/consumers.py) are met by the Vault."""

import pytest

from draftvault.store import AppVault, DetectorVault, ExportVault, ImportVault, IngestVault


@pytest.mark.parametrize("protocol", [IngestVault, DetectorVault, ExportVault, ImportVault, AppVault])
def test_the_vault_offers_what_each_part_uses(vault, protocol):
    assert isinstance(vault, protocol)


def test_a_part_that_lacks_a_method_is_told_apart():
    class ReadOnly:
        def get_conversation(self, id): ...
        def list_conversations(self, *, limit=100, offset=0): ...
        def attachment(self, id): ...

    assert isinstance(ReadOnly(), ExportVault) and not isinstance(ReadOnly(), IngestVault)
