"""The contact book (Qt-free): contacts, their SQLite store and search, CSV and vCard files.

Split by concern: ``model`` (the values, text folding), ``store`` (SQLite), ``search`` (the
in-memory search index and why), ``csvio`` and ``vcard`` (files), ``demo`` (sample data).
"""

from dialer.core.contacts.csvio import (
    CsvMapping,
    CsvPreview,
    export_csv,
    guess_mapping,
    import_csv,
    preview_csv,
)
from dialer.core.contacts.demo import demo_contacts
from dialer.core.contacts.files import ImportReport, stored_number
from dialer.core.contacts.model import DEFAULT_LABEL, Contact, ContactNumber, normalise
from dialer.core.contacts.store import SCHEMA_VERSION, ContactStore
from dialer.core.contacts.vcard import import_vcard

__all__ = [
    "DEFAULT_LABEL",
    "SCHEMA_VERSION",
    "Contact",
    "ContactNumber",
    "ContactStore",
    "CsvMapping",
    "CsvPreview",
    "ImportReport",
    "demo_contacts",
    "export_csv",
    "guess_mapping",
    "import_csv",
    "import_vcard",
    "normalise",
    "preview_csv",
    "stored_number",
]
