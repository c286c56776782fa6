"""REDCap interoperability: a data dictionary from a protocol, record import, and the REDCap-compatible API."""
