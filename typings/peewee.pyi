# peewee creates model attributes (ids, foreign-key ids, backrefs, `.dicts()` rows) at run time,
# which its bundled hints cannot describe; the apps type-check peewee as dynamic.
from typing import Any

def __getattr__(name: str) -> Any: ...
