"""`AssetSource` implementations."""
