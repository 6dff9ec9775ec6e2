"""Fake gateway servers speaking the providers' documented APIs on loopback."""
