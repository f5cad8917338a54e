"""authsome: a credential manager for people and agents who work in shells."""

__version__ = "0.1.0"
