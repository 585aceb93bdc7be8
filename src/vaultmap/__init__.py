"""vaultmap: progress, gaps and two-way sync for Markdown checklists in an Obsidian-style vault."""

__version__ = "0.1.0"
