"""Texts: templates, rendering and SMS encoding."""
