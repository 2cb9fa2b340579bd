"""What the folder adapters share: reading a file on disk in pieces, off the event loop.

The asset sources (`adapters/assets/filesystem.py`) and the folder stores
(`adapters/storage/filesystem.py`) each implement their own port; they import this
package and never each other (import-linter keeps the driven adapters independent).
"""
