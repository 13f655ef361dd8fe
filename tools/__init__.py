"""Tools that work on the book's sources; not part of the memrnn package."""
