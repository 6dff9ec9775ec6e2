"""Patient pages without login: the express appointment slip (APT-10, APT-11)."""
