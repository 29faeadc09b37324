"""Tor: torrc templates, onion-service and client-authorisation tooling, and the private Tor
network the tests run on."""
