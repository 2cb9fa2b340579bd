"""`MediaStore` and `UploadStore` implementations: in memory (the default) and on disk."""
