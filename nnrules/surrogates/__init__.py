"""Readable models. Nothing in here touches a network or a file."""
