"""The server: the reporter app and the auditor gateway (two WSGI apps, two onion services),
the server database and the encrypted store. Holds public keys only; never plaintext at rest."""
