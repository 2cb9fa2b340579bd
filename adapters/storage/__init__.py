"""`MediaStore` and `UploadStore` implementations: in memory (the default), on disk, Redis."""
