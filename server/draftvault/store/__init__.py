"""The encrypted vault: conversations, turns, drafts, signals and failures in SQLite.

`from draftvault.store import Vault`. Modules, one job each:

| module | job |
|---|---|
| vault | the facade: open, close, transactions, the public methods |
| db | the connection (also auth's) and its transactions (`Tx`: blobs freed are collected at commit) |
| migrations | the schema as numbered migrations (`PRAGMA user_version`) |
| records | sealed records: keyed hashes, row tags, blobs, every associated-data string |
| runs | the turn-run layout |
| chunked | runs in small zstd chunks against the vault's dictionary (kind D), opened a turn at a time |
| repack | the vault's compression dictionary, trained when it is large; older runs repacked with it (idle upkeep) |
| drafts | the draft-history policy |
| apply | frames and imports to rows; a new chat's page joining its conversation |
| versions | replaced and dropped turns kept as earlier versions (branches), why and when; kept turns packed |
| conversations | lookups, lists, one conversation read whole, deletion |
| branches | a conversation's earlier threads as the API shows them |
| attachments | images and files: bytes stored once by keyed hash, in sealed parts; their links to turns and their versions |
| failures | failures recorded, listed (with title and site), resolved |
| search, snippets | search hits (named structs), snippets (pure functions) |
| index | the sealed search index |
| ranking | BM25 over the index's postings, a word's list at a time; the best on demand |
| merge | the index's segment merges, in bounded steps |
| maintenance | verify, reindex, stats |
| consumers | the Protocols the rest of DraftVault is typed against (what each part uses) |
"""

from .consumers import AppVault, DetectorVault, ExportVault, ImportVault, IngestVault
from .errors import KeyMismatch, NeedFull, NewerSchema, Refused, Unavailable
from .maintenance import VerifyReport
from ..times import now_iso
from .records import new_id
from .vault import Applied, Vault

__all__ = [
    "Applied", "AppVault", "DetectorVault", "ExportVault", "ImportVault", "IngestVault", "KeyMismatch", "NeedFull",
    "NewerSchema", "Refused", "Unavailable", "Vault", "VerifyReport", "new_id", "now_iso",
]
