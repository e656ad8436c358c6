"""DraftVault: an encrypted local vault of your AI chat conversations and drafts."""

__version__ = "0.1.0"
