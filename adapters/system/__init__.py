"""The process's own clock and randomness, behind the `Clock` and `IdSource` ports."""
