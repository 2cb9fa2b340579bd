"""What every Redis adapter shares: the client, the key encoding, the failure rule.

The Redis stores (`adapters/storage/redis.py`) and the session directory
(`adapters/sessions/redis_directory.py`) each implement their own port; they import this
package and never each other (import-linter keeps the driven adapters independent).
"""
