"""Wire formats, each over the library Streamlit itself uses: signed cookies
(itsdangerous), the provider token (joserfc) and multipart bodies (python-multipart).

The core keeps the rules around them (which cookie, which claims, the size limits, one
file part); these adapters only read and write the bytes. ADR 0021 says why.
"""
