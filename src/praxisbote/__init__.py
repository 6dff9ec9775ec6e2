"""praxisbote: messaging service for healthcare and therapy practices."""

__version__ = "0.1.0"
